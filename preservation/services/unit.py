"""The unit of work a use case runs in: a session, who acts, and a clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from preservation.domain.errors import NotFound

# Ids are 32-bit integers on PostgreSQL; a larger one names no row and must not reach the database.
MAX_ID = 2**31 - 1


def system_clock() -> dt.datetime:
    """The current UTC time."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Unit:
    """What every use case needs; the caller opens the transaction and commits it."""

    session: Session
    actor: str
    clock: Callable[[], dt.datetime] = field(default=system_clock)

    def get(self, model: type[Any], ident: int) -> Any:
        """Load one row by id or raise NotFound naming its kind."""
        row = self.session.get(model, ident) if 1 <= ident <= MAX_ID else None
        if row is None:
            raise NotFound(model.__name__, ident)
        return row


def jsonable(value: Any) -> Any:
    """A value as it appears in audit details: dates in ISO 8601, everything else as is."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def apply_changes(row: Any, changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Set the given attributes and return what changed as {field: {"from": old, "to": new}}."""
    diff: dict[str, dict[str, Any]] = {}
    for name, new in changes.items():
        old = getattr(row, name)
        if old != new:
            setattr(row, name, new)
            diff[name] = {"from": jsonable(old), "to": jsonable(new)}
    return diff


def snapshot(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of a row, ready for audit details."""
    return {name: jsonable(getattr(row, name)) for name in names}
