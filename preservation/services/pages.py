"""Paginated reads with a stable order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Page:
    """One page of rows and where it sits in the whole list."""

    items: list[Any]
    total: int
    page: int
    per_page: int


def paginate(session: Session, query: Select[Any], page: int, per_page: int) -> Page:
    """Run a query ordered by the caller, returning one page and the total count."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, total=total, page=page, per_page=per_page)


def escape_like(text: str) -> str:
    """A search text with LIKE's wildcards taken literally (the escape character is a backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
