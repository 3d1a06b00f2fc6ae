"""Where a data source's steward notices stand: sent, confirmed ("auto-deletion suspended"), overdue, escalated.

The steward's confirmation is recorded beside the source's status, never in place of it: the status
comes from checking the storage (or, for a manual source, from attestations), because a steward's word
that the overwrite loop was stopped is not proof that the data is still there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select

from preservation.models import CustodianHold, HoldNotice
from preservation.services import order_chain
from preservation.services.custodian_notices import acknowledgement_state
from preservation.services.notice_mail import NoticePolicy
from preservation.services.unit import Unit

# The worst state among a source's live steward notices is the source's; "confirmed" only when all are.
_RANK = ("confirmed", "awaiting", "overdue", "escalated")


def _live_steward_notices(unit: Unit, source_ids: Sequence[int]) -> dict[int, list[HoldNotice]]:
    """Per source, the latest steward notice about it on each hold still binding under an active order (or an
    order modified by an active one that still holds the steward)."""
    binding = order_chain.binding_orders()
    notices = unit.session.scalars(
        select(HoldNotice)
        .join(CustodianHold, HoldNotice.hold_id == CustodianHold.id)
        .join(binding, binding.c.order_id == CustodianHold.order_id)
        .where(
            HoldNotice.data_source_id.in_(source_ids),
            HoldNotice.kind == "steward",
            CustodianHold.status != "released",
            order_chain.still_binding(binding),
        )
        .order_by(HoldNotice.id)
    )
    latest: dict[int, dict[int, HoldNotice]] = {}
    for notice in notices:
        if notice.data_source_id is None:  # never: the query selects on it
            continue
        latest.setdefault(notice.data_source_id, {})[notice.hold_id] = notice
    return {source_id: list(by_hold.values()) for source_id, by_hold in latest.items()}


def _last_confirmations(unit: Unit, source_ids: Sequence[int]) -> dict[int, dt.datetime]:
    """Per source, when a steward last confirmed that its auto-deletion is suspended."""
    rows = unit.session.execute(
        select(HoldNotice.data_source_id, func.max(HoldNotice.acknowledged_at))
        .where(
            HoldNotice.data_source_id.in_(source_ids),
            HoldNotice.kind == "steward",
            HoldNotice.acknowledged_at.is_not(None),
        )
        .group_by(HoldNotice.data_source_id)
    )
    return {source_id: at for source_id, at in rows if source_id is not None and at is not None}


def _state(
    notices: list[HoldNotice], confirmed_at: dt.datetime | None, now: dt.datetime, policy: NoticePolicy
) -> dict[str, Any]:
    shown = []
    for notice in notices:
        state = acknowledgement_state(notice, now, policy)
        if state == "silent":
            continue  # steward notices are never silent; nothing to show if one were
        shown.append(
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
    states = [str(n["state"]) for n in shown]
    overall = max(states, key=_RANK.index) if states else "none"
    return {"state": overall, "confirmed_at": confirmed_at, "notices": shown}


def steward_notice_states(unit: Unit, source_ids: Iterable[int], policy: NoticePolicy) -> dict[int, dict[str, Any]]:
    """Each source's steward notices (the overall state, the last confirmation, each live notice), in two
    queries however many sources: a page of them costs what one does."""
    ids = sorted(set(source_ids))
    if not ids:
        return {}
    now = unit.clock()
    live = _live_steward_notices(unit, ids)
    confirmed = _last_confirmations(unit, ids)
    return {source_id: _state(live.get(source_id, []), confirmed.get(source_id), now, policy) for source_id in ids}


def steward_notice_state(unit: Unit, source_id: int, policy: NoticePolicy) -> dict[str, Any]:
    """One source's steward notices: the overall state, the last confirmation, and each live notice."""
    return steward_notice_states(unit, [source_id], policy)[source_id]
