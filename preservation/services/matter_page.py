"""What a matter's page shows: its orders, obligations, custodians and timeline, each searched a page at a time.

Each list is paginated on its own and loads its related rows eagerly (joined for the one row each item
points to, one more query for a collection), so the page costs the same statements however large the matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from preservation.models import AuditEvent, Custodian, CustodianHold, Matter, Obligation, PreservationOrder
from preservation.services.pages import Page, escape_like, paginate
from preservation.services.unit import Unit

TIMELINE_ROWS = 50


@dataclass(frozen=True)
class ListFilter:
    """Which page of a list, the text searched for, and the status wanted (empty: any)."""

    page: int = 1
    search: str = ""
    status: str = ""


@dataclass
class MatterPage:
    """A matter with a page of each of its lists."""

    matter: Matter
    orders: Page
    obligations: Page
    holds: Page
    # Newest first; `total` is a lower bound (one past this page when an older page exists).
    timeline: Page


def matter_page(  # noqa: PLR0917  (one filter per list on the page)
    unit: Unit,
    matter_id: int,
    orders: ListFilter,
    obligations: ListFilter,
    holds: ListFilter,
    timeline: ListFilter,
    per_page: int,
) -> MatterPage:
    """A matter and a page of each of its orders, obligations, custodians' holds and audit events."""
    matter: Matter = unit.get(Matter, matter_id)
    return MatterPage(
        matter=matter,
        orders=_orders(unit, matter.id, orders, per_page),
        obligations=_obligations(unit, matter.id, obligations, per_page),
        holds=_holds(unit, matter.id, holds, per_page),
        timeline=_timeline(unit, matter.id, timeline),
    )


def _filtered(query: Select[Any], wanted: ListFilter, status: Any, *searched: Any) -> Select[Any]:
    """The query narrowed to the status wanted and to rows with the text searched for in any `searched` column."""
    if wanted.search and searched:
        pattern = f"%{escape_like(wanted.search)}%"
        query = query.where(or_(*(column.ilike(pattern, escape="\\") for column in searched)))
    if wanted.status:
        query = query.where(status == wanted.status)
    return query


def _orders(unit: Unit, matter_id: int, wanted: ListFilter, per_page: int) -> Page:
    """The matter's orders, oldest first, searched by title, docket entry or issuer, filtered by status."""
    query = select(PreservationOrder).where(PreservationOrder.matter_id == matter_id).order_by(PreservationOrder.id)
    query = _filtered(
        query,
        wanted,
        PreservationOrder.status,
        PreservationOrder.title,
        PreservationOrder.docket_entry,
        PreservationOrder.issued_by,
    )
    return paginate(unit.session, query, wanted.page, per_page)


def _obligations(unit: Unit, matter_id: int, wanted: ListFilter, per_page: int) -> Page:
    """The obligations of every order of the matter with the sources that satisfy them, searched by description."""
    query = (
        select(Obligation)
        .join(Obligation.order)
        .where(PreservationOrder.matter_id == matter_id)
        .options(contains_eager(Obligation.order), selectinload(Obligation.data_sources))
        .order_by(Obligation.order_id, Obligation.id)
    )
    query = _filtered(query, wanted, Obligation.status, Obligation.description, PreservationOrder.title)
    return paginate(unit.session, query, wanted.page, per_page)


def _holds(unit: Unit, matter_id: int, wanted: ListFilter, per_page: int) -> Page:
    """The custodians every order of the matter binds, searched by name or email, filtered by hold status."""
    query = (
        select(CustodianHold)
        .join(CustodianHold.custodian)
        .join(CustodianHold.order)
        .where(PreservationOrder.matter_id == matter_id)
        .options(contains_eager(CustodianHold.custodian), contains_eager(CustodianHold.order))
        .order_by(CustodianHold.order_id, CustodianHold.id)
    )
    query = _filtered(query, wanted, CustodianHold.status, Custodian.name, Custodian.email)
    return paginate(unit.session, query, wanted.page, per_page)


def _timeline(unit: Unit, matter_id: int, wanted: ListFilter) -> Page:
    """The matter's audit events, newest first, filtered by action; one extra row says whether older ones exist."""
    query = select(AuditEvent).where(AuditEvent.matter_id == matter_id).order_by(AuditEvent.matter_seq.desc())
    query = _filtered(query, wanted, AuditEvent.action)
    rows = list(unit.session.scalars(query.limit(TIMELINE_ROWS + 1).offset((wanted.page - 1) * TIMELINE_ROWS)))
    total = (wanted.page - 1) * TIMELINE_ROWS + len(rows)
    return Page(items=rows[:TIMELINE_ROWS], total=total, page=wanted.page, per_page=TIMELINE_ROWS)
