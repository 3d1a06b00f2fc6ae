"""Periodic re-affirmation: custodians who acknowledged a hold are asked to confirm it again (say quarterly).

An order's `reaffirm_every_days` sets the period. Once it has passed since a custodian's last
acknowledgement, a re-affirmation notice supersedes the acknowledged one, through the same outbox and
personal link: the custodian must acknowledge again, and the reminders and escalation of any
unacknowledged notice apply until they do. A re-affirmation names the acknowledged notice it follows
(`reaffirms_id`, unique), so however often the job runs, each acknowledgement is followed up once.
Released holds, orders no longer active, and silent holds (never acknowledged) are never asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select

from preservation.models import CustodianHold, HoldNotice, PreservationOrder
from preservation.services import audit
from preservation.services.custodian_notices import email_body
from preservation.services.notice_mail import NoticePolicy, queue_email
from preservation.services.unit import Unit


def reaffirmations_owed(unit: Unit, notice_ids: Sequence[int] | None = None) -> list[HoldNotice]:
    """Acknowledged, current notices on live holds of active orders whose re-affirmation period has passed
    (only among the given notices, when given)."""
    now = unit.clock()
    query = (
        select(HoldNotice, PreservationOrder.reaffirm_every_days)
        .join(CustodianHold, HoldNotice.hold_id == CustodianHold.id)
        .join(PreservationOrder, CustodianHold.order_id == PreservationOrder.id)
        .where(
            PreservationOrder.status == "active",
            PreservationOrder.reaffirm_every_days.is_not(None),
            CustodianHold.status != "released",
            HoldNotice.kind.in_(("hold", "steward")),
            HoldNotice.silent.is_(False),
            HoldNotice.acknowledged_at.is_not(None),
            HoldNotice.superseded_at.is_(None),
        )
        .order_by(HoldNotice.id)
    )
    if notice_ids is not None:
        query = query.where(HoldNotice.id.in_(notice_ids))
    rows = unit.session.execute(query)
    return [
        notice
        for notice, every_days in rows
        if notice.acknowledged_at is not None
        and every_days is not None
        and now - notice.acknowledged_at >= dt.timedelta(days=every_days)
    ]


def request_reaffirmation(unit: Unit, acknowledged: HoldNotice, policy: NoticePolicy) -> HoldNotice:
    """Send a re-affirmation of an acknowledged notice; it supersedes that notice and asks for a new acknowledgement."""
    now = unit.clock()
    hold = acknowledged.hold
    acknowledged_at = acknowledged.acknowledged_at or now
    acknowledged_on = acknowledged_at.date().isoformat()
    steward = acknowledged.kind == "steward"
    intro = (
        f"This is the periodic re-affirmation of the notice below, which you acknowledged on {acknowledged_on}. "
        + (
            "Auto-deletion on this system must stay suspended: please confirm that it still is."
            if steward
            else "The hold still binds you: please read it again and re-affirm that you comply."
        )
    )
    notice = HoldNotice(
        hold_id=hold.id,
        custodian_id=acknowledged.custodian_id,
        order_id=acknowledged.order_id,
        kind=acknowledged.kind,
        template_id=acknowledged.template_id,
        template_version=acknowledged.template_version,
        data_source_id=acknowledged.data_source_id,
        silent=False,
        subject=f"Re-affirm: {acknowledged.subject}"[:500],
        body=f"{intro}\n\n{acknowledged.body}",
        issued_at=now,
        issued_by=unit.actor,
        reminder_count=0,
        reaffirms_id=acknowledged.id,
    )
    unit.session.add(notice)
    unit.session.flush()
    acknowledged.superseded_at = now
    acknowledged.superseded_by_id = notice.id
    custodian = acknowledged.custodian
    queue_email(
        unit,
        f"reaffirm:{acknowledged.id}",
        notice.subject,
        email_body(notice, policy, "To confirm" if steward else "To re-affirm"),
        targets=[custodian.email],
        label="reaffirm",
    )
    hold.notice_sent_at = now
    hold.acknowledged_at = None
    hold.status = "notified"
    audit.record(
        unit,
        "custodian_notice.reaffirmation_requested",
        "custodian_hold",
        hold.id,
        matter_id=hold.order.matter_id,
        details={
            "notice_id": notice.id,
            "reaffirms_notice_id": acknowledged.id,
            "acknowledged_at": acknowledged_at.isoformat(),
            "every_days": hold.order.reaffirm_every_days,
            "template_version": notice.template_version,
            "data_source_id": notice.data_source_id,
            "sent_to": custodian.email,
        },
    )
    return notice


def send_reaffirmations(unit: Unit, policy: NoticePolicy, notice_ids: Sequence[int] | None = None) -> list[HoldNotice]:
    """Every re-affirmation owed now (of the given acknowledged notices, when given); flushes."""
    sent = [request_reaffirmation(unit, notice, policy) for notice in reaffirmations_owed(unit, notice_ids)]
    unit.session.flush()
    return sent
