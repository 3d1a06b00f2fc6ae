"""Custodians and data stewards, and the holds that bind them to orders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from preservation.domain import rules
from preservation.domain.errors import Conflict, FieldError
from preservation.models import Custodian, CustodianHold, PreservationOrder
from preservation.services import audit
from preservation.services.pages import Page, paginate
from preservation.services.unit import Unit, apply_changes, snapshot

CUSTODIAN_FIELDS = ("name", "email", "title", "department", "manager_id", "employment_status", "end_date")


def _email_key(unit: Unit, email: str, current_id: int | None = None) -> str:
    key = rules.check_email(email)
    holder = unit.session.scalar(select(Custodian.id).where(Custodian.email_normalized == key))
    if holder is not None and holder != current_id:
        raise Conflict(f"custodian {holder} already has the email {email}", "email")
    return key


def _check_manager(unit: Unit, manager_id: int | None, custodian_id: int | None = None) -> None:
    seen: set[int] = set()
    current = manager_id
    while current is not None:
        if current == custodian_id:
            raise FieldError("manager_id", "a custodian cannot be their own manager, directly or up the chain")
        if current in seen:
            return
        seen.add(current)
        manager = unit.session.get(Custodian, current)
        if manager is None:
            raise FieldError("manager_id", f"custodian {current} does not exist")
        current = manager.manager_id


def create_custodian(unit: Unit, fields: dict[str, Any]) -> Custodian:
    """Record a custodian; emails are unique regardless of case."""
    key = _email_key(unit, fields["email"])
    _check_manager(unit, fields.get("manager_id"))
    custodian = Custodian(email_normalized=key, **fields)
    unit.session.add(custodian)
    unit.session.flush()
    audit.record(
        unit,
        "custodian.created",
        "custodian",
        custodian.id,
        matter_id=None,
        details=snapshot(custodian, CUSTODIAN_FIELDS),
    )
    return custodian


def update_custodian(unit: Unit, custodian_id: int, changes: dict[str, Any]) -> Custodian:
    """Change a custodian's details (a departure date, a new manager)."""
    custodian: Custodian = unit.get(Custodian, custodian_id)
    if "email" in changes:
        changes = {**changes, "email_normalized": _email_key(unit, changes["email"], custodian.id)}
    if "manager_id" in changes:
        _check_manager(unit, changes["manager_id"], custodian.id)
    diff = apply_changes(custodian, changes)
    diff.pop("email_normalized", None)
    if diff:
        audit.record(unit, "custodian.updated", "custodian", custodian.id, matter_id=None, details={"changes": diff})
    return custodian


def list_custodians(unit: Unit, page: int, per_page: int, email: str | None = None) -> Page:
    """Custodians, oldest first."""
    query = select(Custodian).order_by(Custodian.id)
    if email:
        query = query.where(Custodian.email_normalized == email.lower())
    return paginate(unit.session, query, page, per_page)


def place_custodian_hold(
    unit: Unit, order_id: int, custodian_id: int, role: str = "custodian", carried_from: CustodianHold | None = None
) -> CustodianHold:
    """Bind a custodian (or a data steward) to an active order; `carried_from`: their hold on the order it modifies."""
    order: PreservationOrder = unit.get(PreservationOrder, order_id)
    if order.status != "active":
        raise Conflict(f"order {order.id} is {order.status}; custodians are held by active orders")
    if unit.session.get(Custodian, custodian_id) is None:
        raise FieldError("custodian_id", f"custodian {custodian_id} does not exist")
    existing = unit.session.scalar(
        select(CustodianHold.id).where(CustodianHold.order_id == order.id, CustodianHold.custodian_id == custodian_id)
    )
    if existing is not None:
        raise Conflict(f"custodian {custodian_id} is already on order {order.id} (hold {existing})", "custodian_id")
    hold = CustodianHold(order_id=order.id, custodian_id=custodian_id, role=role, status="pending")
    unit.session.add(hold)
    unit.session.flush()
    details: dict[str, Any] = {"order_id": order.id, "custodian_id": custodian_id, "role": role}
    if carried_from is not None:
        details |= {"carried_from_hold_id": carried_from.id, "carried_from_order_id": carried_from.order_id}
    audit.record(
        unit,
        "custodian_hold.created",
        "custodian_hold",
        hold.id,
        matter_id=order.matter_id,
        details=details,
    )
    return hold


def carry_over_holds(unit: Unit, order: PreservationOrder) -> list[CustodianHold]:
    """Hold everyone the modified order held (and was not released from) under the order that modifies it."""
    earlier = order.supersedes
    if earlier is None:
        return []
    held = {hold.custodian_id for hold in order.custodian_holds}
    carried = [
        place_custodian_hold(unit, order.id, hold.custodian_id, hold.role, carried_from=hold)
        for hold in earlier.custodian_holds
        if hold.status != "released" and hold.custodian_id not in held
    ]
    unit.session.expire(order, ["custodian_holds"])
    return carried


def list_custodian_holds(unit: Unit, order_id: int, page: int, per_page: int) -> Page:
    """The custodians held by an order, in the order they were added."""
    unit.get(PreservationOrder, order_id)
    query = select(CustodianHold).where(CustodianHold.order_id == order_id).order_by(CustodianHold.id)
    return paginate(unit.session, query, page, per_page)
