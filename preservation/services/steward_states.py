"""Where a data source's steward notices stand: sent, confirmed ("auto-deletion suspended"), overdue, escalated.

The steward's confirmation is recorded beside the source's status, never in place of it: the status
comes from checking the storage (or, for a manual source, from attestations), because a steward's word
that the overwrite loop was stopped is not proof that the data is still there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from preservation.models import CustodianHold, HoldNotice
from preservation.services import order_chain
from preservation.services.custodian_notices import acknowledgement_state
from preservation.services.notice_mail import NoticePolicy
from preservation.services.unit import Unit

# The worst state among a source's live steward notices is the source's; "confirmed" only when all are.
_RANK = ("confirmed", "awaiting", "overdue", "escalated")


def _live_steward_notices(unit: Unit, source_id: int) -> list[HoldNotice]:
    """The latest steward notice about this source on each hold still binding under an active order (or an
    order modified by an active one that still holds the steward)."""
    binding = order_chain.binding_orders()
    notices = unit.session.scalars(
        select(HoldNotice)
        .join(CustodianHold, HoldNotice.hold_id == CustodianHold.id)
        .join(binding, binding.c.order_id == CustodianHold.order_id)
        .where(
            HoldNotice.data_source_id == source_id,
            HoldNotice.kind == "steward",
            CustodianHold.status != "released",
            order_chain.still_binding(binding),
        )
        .order_by(HoldNotice.id)
    )
    latest: dict[int, HoldNotice] = {}
    for notice in notices:
        latest[notice.hold_id] = notice
    return list(latest.values())


def steward_notice_state(unit: Unit, source_id: int, policy: NoticePolicy) -> dict[str, Any]:
    """The source's steward notices: the overall state, the last confirmation, and each live notice."""
    now = unit.clock()
    confirmed_at = unit.session.scalar(
        select(HoldNotice.acknowledged_at)
        .where(
            HoldNotice.data_source_id == source_id,
            HoldNotice.kind == "steward",
            HoldNotice.acknowledged_at.is_not(None),
        )
        .order_by(HoldNotice.acknowledged_at.desc())
        .limit(1)
    )
    notices = []
    for notice in _live_steward_notices(unit, source_id):
        state = acknowledgement_state(notice, now, policy)
        if state == "silent":
            continue  # steward notices are never silent; nothing to show if one were
        notices.append(
            {
                "notice_id": notice.id,
                "order_id": notice.order_id,
                "steward_id": notice.custodian_id,
                "state": "confirmed" if state == "acknowledged" else state,
                "issued_at": notice.issued_at,
                "confirmed_at": notice.acknowledged_at,
                "escalated_at": notice.escalated_at,
            }
        )
    states = [str(n["state"]) for n in notices]
    overall = max(states, key=_RANK.index) if states else "none"
    return {"state": overall, "confirmed_at": confirmed_at, "notices": notices}
