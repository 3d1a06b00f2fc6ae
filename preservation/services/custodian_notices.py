"""Hold notices to custodians: issue (or hold back), re-issue, acknowledge, questions, and release."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection

from sqlalchemy import select

from preservation.domain.errors import Conflict, FieldError
from preservation.models import Custodian, CustodianHold, DataSource, HoldNotice, PreservationOrder
from preservation.services import audit, notice_links
from preservation.services.custodians import carry_over_holds, place_custodian_hold
from preservation.services.notice_mail import NoticePolicy, counsel_addresses, queue_email
from preservation.services.notice_templates import latest_template, notice_context, render_notice
from preservation.services.order_chain import order_and_earlier, was_told
from preservation.services.unit import Unit

QUESTION_MAX_CHARS = 5000


def email_body(notice: HoldNotice, policy: NoticePolicy, action: str) -> str:
    """A notice's email: its text, then the personal link to acknowledge it or ask a question."""
    token = notice_links.sign(policy.secret, notice)
    return (
        f"{notice.body.rstrip()}\n\n"
        f"{action}, or to ask the legal team a question, open your personal link:\n"
        f"{policy.notice_url(token)}\n\n"
        f"The link is yours alone and works for {policy.link_valid_days} days.\n"
    )


def open_notices(unit: Unit, hold_id: int) -> list[HoldNotice]:
    """The notices on a hold still waiting for (or holding) an answer: not superseded, not a release."""
    return list(
        unit.session.scalars(
            select(HoldNotice)
            .where(HoldNotice.hold_id == hold_id, HoldNotice.kind != "release", HoldNotice.superseded_at.is_(None))
            .order_by(HoldNotice.id)
        )
    )


def _earlier_holds(order: PreservationOrder) -> dict[int, list[int]]:
    """Each custodian's holds on the orders this one modifies (however many amendments back)."""
    earlier: dict[int, list[int]] = {}
    for older in order_and_earlier(order)[1:]:
        for hold in older.custodian_holds:
            earlier.setdefault(hold.custodian_id, []).append(hold.id)
    return earlier


def _supersede(unit: Unit, hold_ids: list[int], new_notice: HoldNotice) -> list[int]:
    superseded = []
    for hold_id in hold_ids:
        for old in open_notices(unit, hold_id):
            if old.id == new_notice.id:
                continue
            old.superseded_at = new_notice.issued_at
            old.superseded_by_id = new_notice.id
            superseded.append(old.id)
    return superseded


def issue_notices(
    unit: Unit,
    order_id: int,
    policy: NoticePolicy,
    *,
    template_id: int | None = None,
    custodian_ids: Collection[int] | None = None,
    silent_custodian_ids: Collection[int] = (),
) -> list[HoldNotice]:
    """Send the order's notice to each custodian it holds (or record it as silent); a re-issue supersedes."""
    order: PreservationOrder = unit.get(PreservationOrder, order_id)
    if order.status != "active":
        raise Conflict(f"order {order.id} is {order.status}; notices are issued for active orders")
    # Holds move when the order is recorded; this catches orders modified before they did.
    carry_over_holds(unit, order)
    holds = [h for h in order.custodian_holds if h.status != "released"]
    if custodian_ids is not None:
        unknown = set(custodian_ids) - {h.custodian_id for h in holds}
        if unknown:
            raise FieldError("custodian_ids", f"order {order.id} does not hold custodians {sorted(unknown)}")
        holds = [h for h in holds if h.custodian_id in set(custodian_ids)]
    if not holds:
        raise Conflict(f"order {order.id} holds no custodians to notify")
    template = latest_template(unit, "hold", template_id)
    earlier_holds = _earlier_holds(order)
    return [
        _issue_one(
            unit,
            order,
            hold,
            template_id=template.id,
            policy=policy,
            silent=hold.custodian_id in silent_custodian_ids,
            earlier_holds=earlier_holds,
        )
        for hold in holds
    ]


def _issue_one(
    unit: Unit,
    order: PreservationOrder,
    hold: CustodianHold,
    *,
    template_id: int,
    policy: NoticePolicy,
    silent: bool,
    earlier_holds: dict[int, list[int]],
    source: DataSource | None = None,
) -> HoldNotice:
    kind = "steward" if source is not None else "hold"
    template = latest_template(unit, kind, template_id)
    now = unit.clock()
    custodian = hold.custodian
    subject, body = render_notice(template, notice_context(kind, order, custodian, source=source), custodian)
    notice = HoldNotice(
        hold_id=hold.id,
        custodian_id=custodian.id,
        order_id=order.id,
        kind=kind,
        template_id=template.id,
        template_version=template.version,
        data_source_id=source.id if source is not None else None,
        silent=silent,
        subject=subject,
        body=body,
        issued_at=now,
        issued_by=unit.actor,
        reminder_count=0,
    )
    unit.session.add(notice)
    unit.session.flush()
    superseded = _supersede(unit, [hold.id, *earlier_holds.get(custodian.id, [])], notice)
    details = {
        "notice_id": notice.id,
        "order_id": order.id,
        "custodian_id": custodian.id,
        "template_id": template.id,
        "template_name": template.name,
        "template_version": template.version,
        "data_source_id": notice.data_source_id,
        "superseded_notices": superseded,
    }
    if silent:
        audit.record(
            unit, "custodian_notice.silent", "custodian_hold", hold.id, matter_id=order.matter_id, details=details
        )
        return notice
    action = "To confirm" if source is not None else "To acknowledge"
    queue_email(
        unit,
        f"notice:{notice.id}",
        subject,
        email_body(notice, policy, action),
        targets=[custodian.email],
        label="notice",
    )
    hold.notice_sent_at = now
    hold.acknowledged_at = None
    hold.status = "notified"
    audit.record(
        unit,
        "custodian_notice.issued",
        "custodian_hold",
        hold.id,
        matter_id=order.matter_id,
        details=details | {"sent_to": custodian.email, "subject": subject},
    )
    return notice


def issue_steward_notice(
    unit: Unit, order_id: int, data_source_id: int, policy: NoticePolicy, template_id: int | None = None
) -> HoldNotice:
    """Tell a data source's steward to suspend auto-deletion on that system, and ask for confirmation."""
    order: PreservationOrder = unit.get(PreservationOrder, order_id)
    if order.status != "active":
        raise Conflict(f"order {order.id} is {order.status}; notices are issued for active orders")
    source: DataSource = unit.get(DataSource, data_source_id)
    if source.steward_id is None:
        raise Conflict(f"data source {source.id} has no steward; name one first", "data_source_id")
    hold = unit.session.scalar(
        select(CustodianHold).where(CustodianHold.order_id == order.id, CustodianHold.custodian_id == source.steward_id)
    )
    if hold is None:
        hold = place_custodian_hold(unit, order.id, source.steward_id, "data_steward")
    elif hold.status == "released":
        raise Conflict(f"custodian {source.steward_id} was released from order {order.id}")
    template = latest_template(unit, "steward", template_id)
    return _issue_one(
        unit, order, hold, template_id=template.id, policy=policy, silent=False, earlier_holds={}, source=source
    )


def open_by_link(unit: Unit, token: str, policy: NoticePolicy) -> HoldNotice:
    """The notice a personal link opens; BadLink if the link is expired, forged or not this notice's."""
    claims = notice_links.read(policy.secret, token, policy.link_max_age_seconds)
    notice = notice_links.check_matches(claims, unit.session.get(HoldNotice, claims.notice_id))
    if notice.kind == "release" or notice.silent:
        raise notice_links.BadLink("mismatch", "This link does not open a notice.")
    return notice


def acknowledge(unit: Unit, notice: HoldNotice) -> bool:
    """Record the custodian's acknowledgement of this notice version; False if it was recorded before."""
    if notice.acknowledged_at is not None:
        return False
    hold = notice.hold
    if notice.superseded_at is not None:
        raise Conflict("a newer notice replaced this one; acknowledge the newer notice")
    if hold.status == "released":
        raise Conflict("this hold has been released; there is nothing to acknowledge")
    now = unit.clock()
    notice.acknowledged_at = now
    hold.acknowledged_at = now
    hold.status = "acknowledged"
    audit.record(
        unit,
        "custodian_notice.acknowledged",
        "custodian_hold",
        hold.id,
        matter_id=hold.order.matter_id,
        details={
            "notice_id": notice.id,
            "kind": notice.kind,
            "template_id": notice.template_id,
            "template_version": notice.template_version,
            "data_source_id": notice.data_source_id,
            "acknowledged_at": now.isoformat(),
        },
    )
    if notice.kind == "steward" and notice.data_source_id is not None:
        # On the source's own record too; its status still comes from checking the storage.
        audit.record(
            unit,
            "data_source.steward_confirmed",
            "data_source",
            notice.data_source_id,
            matter_id=hold.order.matter_id,
            details={
                "notice_id": notice.id,
                "order_id": hold.order_id,
                "steward": notice.custodian.email,
                "confirmed_at": now.isoformat(),
            },
        )
    return True


def ask_question(unit: Unit, notice: HoldNotice, question: str) -> None:
    """Pass a custodian's question about a notice to counsel, through the outbox, and record it."""
    text = question.strip()
    if not text:
        raise FieldError("question", "write your question")
    if len(text) > QUESTION_MAX_CHARS:
        raise FieldError("question", f"keep the question under {QUESTION_MAX_CHARS} characters")
    custodian = notice.custodian
    order = notice.hold.order
    digest = hashlib.sha256(f"{unit.clock().isoformat()}:{text}".encode()).hexdigest()[:16]
    body = (
        f"{custodian.name} <{custodian.email}> asks about the notice {notice.subject!r} "
        f"(notice {notice.id}, order {order.id}, matter {order.matter_id}):\n\n{text}\n\n"
        f"Answer them directly at {custodian.email}.\n"
    )
    queue_email(
        unit,
        f"notice-question:{notice.id}:{digest}",
        f"Question from a custodian: {custodian.name}",
        body,
        targets=counsel_addresses(unit),
        label="question",
    )
    audit.record(
        unit,
        "custodian_notice.question",
        "custodian_hold",
        notice.hold_id,
        matter_id=order.matter_id,
        details={"notice_id": notice.id, "question": text},
    )


def remaining_holds(unit: Unit, custodian_id: int, except_hold_id: int) -> list[CustodianHold]:
    """The custodian's other holds that still bind: not released, on an active order."""
    return list(
        unit.session.scalars(
            select(CustodianHold)
            .join(PreservationOrder, CustodianHold.order_id == PreservationOrder.id)
            .where(
                CustodianHold.custodian_id == custodian_id,
                CustodianHold.id != except_hold_id,
                CustodianHold.status != "released",
                PreservationOrder.status == "active",
            )
            .order_by(CustodianHold.id)
        )
    )


def send_release_notice(unit: Unit, hold: CustodianHold) -> HoldNotice | None:
    """Tell a released custodian, naming the holds that still bind them; None if already done.

    A custodian who was never told of the hold (a silent hold, or no notice yet) is not told of its
    release either: the release is recorded as silent. Likewise the holds that remain are listed only
    if the custodian was told of them; the audit event keeps every one.
    """
    already = unit.session.scalar(
        select(HoldNotice.id).where(HoldNotice.hold_id == hold.id, HoldNotice.kind == "release")
    )
    if already is not None:
        return None
    order = hold.order
    custodian: Custodian = hold.custodian
    # Told of this hold, or of the earlier version of its order that it was carried from.
    told = was_told(unit, hold)
    remaining = remaining_holds(unit, custodian.id, hold.id)
    listed = [h for h in remaining if was_told(unit, h)]
    template = latest_template(unit, "release")
    context = notice_context("release", order, custodian, remaining=[h.order for h in listed])
    subject, body = render_notice(template, context, custodian)
    now = unit.clock()
    notice = HoldNotice(
        hold_id=hold.id,
        custodian_id=custodian.id,
        order_id=order.id,
        kind="release",
        template_id=template.id,
        template_version=template.version,
        silent=not told,
        subject=subject,
        body=body,
        issued_at=now,
        issued_by=unit.actor,
        reminder_count=0,
    )
    unit.session.add(notice)
    unit.session.flush()
    for old in open_notices(unit, hold.id):
        if old.id != notice.id and old.acknowledged_at is None:
            old.superseded_at = now
            old.superseded_by_id = notice.id
    if told:
        queue_email(unit, f"release:{notice.id}", subject, body, targets=[custodian.email], label="release")
    audit.record(
        unit,
        "custodian_notice.released",
        "custodian_hold",
        hold.id,
        matter_id=order.matter_id,
        details={
            "notice_id": notice.id,
            "silent": not told,
            "template_version": template.version,
            "remaining_hold_ids": [h.id for h in remaining],
            "listed_hold_ids": [h.id for h in listed],
        },
    )
    return notice


def release_custodian(unit: Unit, order_id: int, custodian_id: int, reason: str) -> CustodianHold:
    """Release one custodian from an order and send their release notice."""
    if not reason.strip():
        raise FieldError("reason", "say why the custodian is released")
    hold = unit.session.scalar(
        select(CustodianHold).where(CustodianHold.order_id == order_id, CustodianHold.custodian_id == custodian_id)
    )
    if hold is None:
        unit.get(PreservationOrder, order_id)
        raise FieldError("custodian_id", f"order {order_id} does not hold custodian {custodian_id}")
    if hold.status == "released":
        raise Conflict(f"custodian {custodian_id} was already released from order {order_id}")
    hold.status = "released"
    hold.released_at = unit.clock()
    audit.record(
        unit,
        "custodian_hold.released",
        "custodian_hold",
        hold.id,
        matter_id=hold.order.matter_id,
        details={"order_id": order_id, "custodian_id": custodian_id, "reason": reason},
    )
    send_release_notice(unit, hold)
    return hold


def release_notices_owed(unit: Unit) -> list[int]:
    """Holds released (with their order, say) whose release notice is not yet written; their ids."""
    told = select(HoldNotice.hold_id).where(HoldNotice.kind == "release")
    return list(
        unit.session.scalars(
            select(CustodianHold.id)
            .where(CustodianHold.status == "released", CustodianHold.id.not_in(told))
            .order_by(CustodianHold.id)
        )
    )


def acknowledgement_state(notice: HoldNotice | None, now: dt.datetime, policy: NoticePolicy) -> str:
    """How a hold stands: silent, not_notified, acknowledged, escalated, overdue or awaiting."""
    if notice is None:
        return "not_notified"
    if notice.silent:
        return "silent"
    if notice.acknowledged_at is not None:
        return "acknowledged"
    if notice.escalated_at is not None:
        return "escalated"
    if now - notice.issued_at >= dt.timedelta(days=policy.reminder_every_days):
        return "overdue"
    return "awaiting"
