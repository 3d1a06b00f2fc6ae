"""Where each hold's acknowledgement stands: per order, and per custodian across every matter.

The holds come with their custodian, order and matter in one query and their latest notices in one more,
so a page costs the same number of statements however many custodians an order binds.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager

from preservation.models import Custodian, CustodianHold, HoldNotice, PreservationOrder
from preservation.services.custodian_notices import acknowledgement_state
from preservation.services.notice_mail import NoticePolicy
from preservation.services.order_chain import told_of_an_earlier_version
from preservation.services.pages import Page, escape_like, paginate
from preservation.services.unit import Unit

# Every acknowledgement state a hold can be in (custodian_notices.acknowledgement_state, and released).
# reissue_owed: carried through an amendment of the order, told of the earlier version, not yet sent this one.
ACKNOWLEDGEMENT_STATES = (
    "not_notified",
    "reissue_owed",
    "silent",
    "awaiting",
    "overdue",
    "escalated",
    "acknowledged",
    "released",
)


def current_notice(unit: Unit, hold_id: int) -> HoldNotice | None:
    """The latest hold or steward notice on a hold (the one that asks for acknowledgement now)."""
    return current_notices(unit, [hold_id]).get(hold_id)


def current_notices(unit: Unit, hold_ids: Sequence[int] | Select[Any]) -> dict[int, HoldNotice]:
    """The latest hold or steward notice of each hold, by hold id, in one query."""
    latest = (
        select(func.max(HoldNotice.id))
        .where(HoldNotice.hold_id.in_(hold_ids), HoldNotice.kind != "release")
        .group_by(HoldNotice.hold_id)
    )
    return {
        notice.hold_id: notice for notice in unit.session.scalars(select(HoldNotice).where(HoldNotice.id.in_(latest)))
    }


def hold_state(unit: Unit, hold: CustodianHold, policy: NoticePolicy) -> dict[str, Any]:
    """A hold and its acknowledgement state, as the API shows it."""
    owed = hold.id in told_of_an_earlier_version(unit, [hold.id])
    return _state(hold, current_notice(unit, hold.id), unit.clock(), policy, reissue_owed=owed)


def acknowledgements(unit: Unit, holds: Sequence[CustodianHold], policy: NoticePolicy) -> dict[int, str]:
    """Each hold's acknowledgement state, by hold id, in two queries however many holds."""
    hold_ids = [hold.id for hold in holds]
    if not hold_ids:
        return {}
    notices = current_notices(unit, hold_ids)
    owed = told_of_an_earlier_version(unit, hold_ids)
    now = unit.clock()
    return {
        hold.id: _acknowledgement(hold, notices.get(hold.id), now, policy, reissue_owed=hold.id in owed)
        for hold in holds
    }


def _acknowledgement(
    hold: CustodianHold, notice: HoldNotice | None, now: dt.datetime, policy: NoticePolicy, *, reissue_owed: bool
) -> str:
    if hold.status == "released":
        return "released"
    if reissue_owed:
        return "reissue_owed"
    return acknowledgement_state(notice, now, policy)


def _state(
    hold: CustodianHold, notice: HoldNotice | None, now: dt.datetime, policy: NoticePolicy, *, reissue_owed: bool
) -> dict[str, Any]:
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
        "acknowledgement": _acknowledgement(hold, notice, now, policy, reissue_owed=reissue_owed),
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


def _states(
    unit: Unit, holds: Sequence[CustodianHold], policy: NoticePolicy, hold_ids: Select[Any]
) -> list[dict[str, Any]]:
    # The ids as a subquery: an order may hold more custodians than a statement may carry parameters.
    notices = current_notices(unit, hold_ids)
    now = unit.clock()
    # One query whatever the holds, so a page's statement count does not depend on its data.
    owed = told_of_an_earlier_version(unit, hold_ids)
    return [_state(hold, notices.get(hold.id), now, policy, reissue_owed=hold.id in owed) for hold in holds]


def _holds_with_order() -> Select[CustodianHold]:
    """Holds with their custodian, order and matter loaded by the same query."""
    return (
        select(CustodianHold)
        .join(CustodianHold.custodian)
        .join(CustodianHold.order)
        .join(PreservationOrder.matter)
        .options(
            contains_eager(CustodianHold.custodian),
            contains_eager(CustodianHold.order).contains_eager(PreservationOrder.matter),
        )
    )


def order_states(unit: Unit, order_id: int, policy: NoticePolicy) -> list[dict[str, Any]]:
    """Who on an order has acknowledged, who is overdue, who was escalated (every hold, for the API)."""
    unit.get(PreservationOrder, order_id)
    whose = CustodianHold.order_id == order_id
    holds = list(unit.session.scalars(_holds_with_order().where(whose).order_by(CustodianHold.id)))
    return _states(unit, holds, policy, select(CustodianHold.id).where(whose))


def custodian_states(unit: Unit, custodian_id: int, policy: NoticePolicy) -> list[dict[str, Any]]:
    """A custodian's holds across every matter (every hold, for the API)."""
    unit.get(Custodian, custodian_id)
    whose = CustodianHold.custodian_id == custodian_id
    holds = list(unit.session.scalars(_holds_with_order().where(whose).order_by(CustodianHold.id)))
    return _states(unit, holds, policy, select(CustodianHold.id).where(whose))


def order_state_page(
    unit: Unit, order_id: int, policy: NoticePolicy, page: int, per_page: int, *, search: str = "", state: str = ""
) -> tuple[Page, dict[str, int]]:
    """A page of an order's holds, searched by custodian name or email and filtered by state, and the order's
    count of holds in each state.

    Every hold of the order is judged (in two queries, whatever their number) so that the counts and the
    filter use the one definition of a state, acknowledgement_state; only a page of them is shown.
    """
    states = order_states(unit, order_id, policy)
    counts = dict(Counter(s["acknowledgement"] for s in states))
    return _page(states, ("custodian_name", "custodian_email"), search, state, page, per_page), counts


def custodian_state_page(
    unit: Unit, custodian_id: int, policy: NoticePolicy, page: int, per_page: int, *, search: str = "", state: str = ""
) -> Page:
    """A page of a custodian's holds across matters, searched by matter caption or order title, filtered by state."""
    states = custodian_states(unit, custodian_id, policy)
    return _page(states, ("matter_caption", "order_title"), search, state, page, per_page)


def _page(  # noqa: PLR0917  (the list and the page's filters)
    states: list[dict[str, Any]], searched: tuple[str, ...], search: str, state: str, page: int, per_page: int
) -> Page:
    needle = search.casefold()
    found = [
        s
        for s in states
        if (not needle or any(needle in str(s[name]).casefold() for name in searched))
        and (not state or s["acknowledgement"] == state)
    ]
    start = (page - 1) * per_page
    return Page(items=found[start : start + per_page], total=len(found), page=page, per_page=per_page)


def order_notices(unit: Unit, order_id: int) -> list[HoldNotice]:
    """Every notice of an order, oldest first: the history of versions and acknowledgements (for the API)."""
    unit.get(PreservationOrder, order_id)
    return list(unit.session.scalars(select(HoldNotice).where(HoldNotice.order_id == order_id).order_by(HoldNotice.id)))


def order_notice_page(unit: Unit, order_id: int, page: int, per_page: int, search: str = "") -> Page:
    """A page of an order's notices, oldest first, searched by the custodian's name or email."""
    unit.get(PreservationOrder, order_id)
    query = (
        select(HoldNotice)
        .join(HoldNotice.custodian)
        .where(HoldNotice.order_id == order_id)
        .options(contains_eager(HoldNotice.custodian))
        .order_by(HoldNotice.id)
    )
    if search:
        pattern = f"%{escape_like(search)}%"
        query = query.where(
            or_(Custodian.name.ilike(pattern, escape="\\"), Custodian.email.ilike(pattern, escape="\\"))
        )
    return paginate(unit.session, query, page, per_page)
