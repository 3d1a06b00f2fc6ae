"""Where each hold's acknowledgement stands: per order, and per custodian across every matter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from preservation.models import Custodian, CustodianHold, HoldNotice, PreservationOrder
from preservation.services.custodian_notices import acknowledgement_state
from preservation.services.notice_mail import NoticePolicy
from preservation.services.unit import Unit


def current_notice(unit: Unit, hold_id: int) -> HoldNotice | None:
    """The latest hold or steward notice on a hold (the one that asks for acknowledgement now)."""
    return unit.session.scalar(
        select(HoldNotice)
        .where(HoldNotice.hold_id == hold_id, HoldNotice.kind != "release")
        .order_by(HoldNotice.id.desc())
        .limit(1)
    )


def hold_state(unit: Unit, hold: CustodianHold, policy: NoticePolicy) -> dict[str, Any]:
    """A hold and its acknowledgement state, as the API shows it."""
    notice = current_notice(unit, hold.id)
    order = hold.order
    return {
        "hold_id": hold.id,
        "order_id": order.id,
        "matter_id": order.matter_id,
        "matter_caption": order.matter.caption,
        "order_title": order.title,
        "custodian_id": hold.custodian_id,
        "custodian_name": hold.custodian.name,
        "custodian_email": hold.custodian.email,
        "role": hold.role,
        "status": hold.status,
        "acknowledgement": "released"
        if hold.status == "released"
        else acknowledgement_state(notice, unit.clock(), policy),
        "notice_id": notice.id if notice else None,
        "notice_version": notice.template_version if notice else None,
        "notice_sent_at": None if notice is None or notice.silent else notice.issued_at,
        "acknowledged_at": notice.acknowledged_at if notice else None,
        "escalated_at": notice.escalated_at if notice else None,
        "escalated_to": notice.escalated_to if notice else None,
        "reaffirmation": notice is not None and notice.reaffirms_id is not None,
        "reminder_count": notice.reminder_count if notice else 0,
        "released_at": hold.released_at,
    }


def order_states(unit: Unit, order_id: int, policy: NoticePolicy) -> list[dict[str, Any]]:
    """Who on an order has acknowledged, who is overdue, who was escalated."""
    order: PreservationOrder = unit.get(PreservationOrder, order_id)
    return [hold_state(unit, hold, policy) for hold in order.custodian_holds]


def custodian_states(unit: Unit, custodian_id: int, policy: NoticePolicy) -> list[dict[str, Any]]:
    """A custodian's holds across every matter."""
    unit.get(Custodian, custodian_id)
    holds = unit.session.scalars(
        select(CustodianHold).where(CustodianHold.custodian_id == custodian_id).order_by(CustodianHold.id)
    )
    return [hold_state(unit, hold, policy) for hold in holds]


def order_notices(unit: Unit, order_id: int) -> list[HoldNotice]:
    """Every notice of an order, oldest first: the history of versions and acknowledgements."""
    unit.get(PreservationOrder, order_id)
    return list(unit.session.scalars(select(HoldNotice).where(HoldNotice.order_id == order_id).order_by(HoldNotice.id)))
