"""Preservation orders and their obligations: recording, modifying, releasing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from preservation.domain import rules
from preservation.domain.court_days import Closures
from preservation.domain.errors import Conflict, FieldError
from preservation.models import DataSource, Matter, Obligation, PreservationOrder, obligation_data_source
from preservation.services import audit, custodians
from preservation.services.due_dates import resolve_due_date
from preservation.services.pages import Page, paginate
from preservation.services.unit import Unit, apply_changes, jsonable, snapshot

ORDER_FIELDS = (
    "kind",
    "title",
    "docket_entry",
    "issued_by",
    "signed_on",
    "filed_on",
    "entered_on",
    "effective_on",
    "compliance_due_on",
    "scope",
    "reaffirm_every_days",
    "status",
    "supersedes_id",
)
OBLIGATION_FIELDS = ("order_id", "description", "due_on", "preserve_from", "preserve_until", "status")


def create_order(unit: Unit, matter_id: int, fields: dict[str, Any]) -> PreservationOrder:
    """Record an order on a matter; naming `supersedes_id` marks that earlier order as modified and holds its
    custodians under the new order."""
    matter: Matter = unit.get(Matter, matter_id)
    if matter.status == "closed":
        raise Conflict(f"matter {matter.id} is closed; reopen it before recording orders")
    rules.check_order_dates(fields.get("signed_on"), fields.get("entered_on"))
    superseded = _superseded_order(unit, matter, fields.get("supersedes_id"))
    order = PreservationOrder(matter_id=matter.id, status="active", **fields)
    unit.session.add(order)
    unit.session.flush()
    audit.record(unit, "order.created", "order", order.id, matter_id=matter.id, details=snapshot(order, ORDER_FIELDS))
    if superseded is not None:
        superseded.status = "modified"
        audit.record(
            unit,
            "order.superseded",
            "order",
            superseded.id,
            matter_id=matter.id,
            details={"superseded_by": order.id, "status": {"from": "active", "to": "modified"}},
        )
        # The custodians stay held through the amendment: their holds move now, each audited with the hold it
        # came from, rather than when the new notice is issued (which may be days later, or never).
        custodians.carry_over_holds(unit, order)
    return order


def _superseded_order(unit: Unit, matter: Matter, supersedes_id: int | None) -> PreservationOrder | None:
    if supersedes_id is None:
        return None
    earlier = unit.session.get(PreservationOrder, supersedes_id)
    if earlier is None or earlier.matter_id != matter.id:
        raise FieldError("supersedes_id", f"order {supersedes_id} is not an order of matter {matter.id}")
    if earlier.status != "active":
        raise Conflict(
            f"order {supersedes_id} is {earlier.status}; only an active order can be modified", "supersedes_id"
        )
    return earlier


def update_order(unit: Unit, order_id: int, changes: dict[str, Any]) -> PreservationOrder:
    """Correct an order's recorded facts (dates, scope, title); released orders are frozen."""
    order: PreservationOrder = unit.get(PreservationOrder, order_id)
    if order.status == "released":
        raise Conflict(f"order {order.id} was released on {order.released_on}; it can no longer change")
    rules.check_order_dates(changes.get("signed_on", order.signed_on), changes.get("entered_on", order.entered_on))
    diff = apply_changes(order, changes)
    if diff:
        audit.record(unit, "order.updated", "order", order.id, matter_id=order.matter_id, details={"changes": diff})
    return order


def release_order(unit: Unit, order_id: int, reason: str, released_on: dt.date | None = None) -> PreservationOrder:
    """Release an order with a reason: its obligations and custodian holds are released with it."""
    order: PreservationOrder = unit.get(PreservationOrder, order_id)
    if order.status != "active":
        raise Conflict(f"order {order.id} is {order.status}; only an active order can be released")
    if not reason.strip():
        raise FieldError("reason", "say why the order is released")
    now = unit.clock()
    order.status = "released"
    order.released_on = released_on or now.date()
    order.release_reason = reason
    order.released_by = unit.actor
    released_obligations = [o.id for o in order.obligations if o.status != "released"]
    for obligation in order.obligations:
        obligation.status = "released"
    released_holds = []
    for hold in order.custodian_holds:
        if hold.status != "released":
            hold.status = "released"
            hold.released_at = now
            released_holds.append(hold.id)
    audit.record(
        unit,
        "order.released",
        "order",
        order.id,
        matter_id=order.matter_id,
        details={
            "reason": reason,
            "released_on": jsonable(order.released_on),
            "released_obligations": released_obligations,
            "released_custodian_holds": released_holds,
        },
    )
    return order


def list_orders(unit: Unit, matter_id: int, page: int, per_page: int) -> Page:
    """A matter's orders, oldest first."""
    unit.get(Matter, matter_id)
    query = (
        select(PreservationOrder)
        .options(selectinload(PreservationOrder.superseded_by))
        .where(PreservationOrder.matter_id == matter_id)
        .order_by(PreservationOrder.id)
    )
    return paginate(unit.session, query, page, per_page)


def _open_order(unit: Unit, order_id: int) -> PreservationOrder:
    order: PreservationOrder = unit.get(PreservationOrder, order_id)
    if order.status != "active":
        raise Conflict(f"order {order.id} is {order.status}; obligations belong on an active order")
    return order


def create_obligation(
    unit: Unit, order_id: int, fields: dict[str, Any], court_closures: Closures | None = None
) -> Obligation:
    """Carve a concrete duty out of an active order; a due period is counted in court days."""
    order = _open_order(unit, order_id)
    fields = resolve_due_date(fields, None, court_closures)
    rules.check_preservation_range(fields.get("preserve_from"), fields.get("preserve_until"))
    if fields.get("status") == "released":
        raise FieldError("status", "an obligation is released with its order, not created released")
    obligation = Obligation(order_id=order.id, **fields)
    unit.session.add(obligation)
    unit.session.flush()
    audit.record(
        unit,
        "obligation.created",
        "obligation",
        obligation.id,
        matter_id=order.matter_id,
        details=snapshot(obligation, OBLIGATION_FIELDS)
        | ({"due_computation": obligation.due_computation} if obligation.due_computation else {}),
    )
    return obligation


def update_obligation(
    unit: Unit, obligation_id: int, changes: dict[str, Any], court_closures: Closures | None = None
) -> Obligation:
    """Change an obligation's description, dates, range or status; a due period is counted in court days."""
    obligation: Obligation = unit.get(Obligation, obligation_id)
    if obligation.status == "released":
        raise Conflict(f"obligation {obligation.id} was released; it can no longer change")
    rules.check_preservation_range(
        changes.get("preserve_from", obligation.preserve_from),
        changes.get("preserve_until", obligation.preserve_until),
    )
    changes = resolve_due_date(changes, obligation, court_closures)
    diff = apply_changes(obligation, changes)
    if diff:
        action = "obligation.released" if changes.get("status") == "released" else "obligation.updated"
        audit.record(
            unit, action, "obligation", obligation.id, matter_id=obligation.order.matter_id, details={"changes": diff}
        )
    return obligation


def list_obligations(unit: Unit, order_id: int, page: int, per_page: int) -> Page:
    """An order's obligations, oldest first."""
    unit.get(PreservationOrder, order_id)
    query = (
        select(Obligation)
        .options(selectinload(Obligation.data_sources))
        .where(Obligation.order_id == order_id)
        .order_by(Obligation.id)
    )
    return paginate(unit.session, query, page, per_page)


def link_data_source(unit: Unit, obligation_id: int, data_source_id: int) -> tuple[Obligation, bool]:
    """Map a data source to an obligation it satisfies; returns (obligation, created)."""
    obligation: Obligation = unit.get(Obligation, obligation_id)
    if obligation.status == "released":
        raise Conflict(f"obligation {obligation.id} was released")
    source = unit.session.get(DataSource, data_source_id)
    if source is None:
        raise FieldError("data_source_id", f"data source {data_source_id} does not exist")
    if source.retired_at is not None:
        raise Conflict(f"data source {source.id} is retired", "data_source_id")
    already = unit.session.execute(
        select(obligation_data_source.c.obligation_id).where(
            obligation_data_source.c.obligation_id == obligation.id,
            obligation_data_source.c.data_source_id == source.id,
        )
    ).first()
    if already:
        return obligation, False
    unit.session.execute(
        obligation_data_source.insert().values(
            obligation_id=obligation.id, data_source_id=source.id, linked_at=unit.clock()
        )
    )
    unit.session.expire(obligation, ["data_sources"])
    audit.record(
        unit,
        "obligation.source_linked",
        "obligation",
        obligation.id,
        matter_id=obligation.order.matter_id,
        details={"data_source_id": source.id, "location": source.location},
    )
    return obligation, True
