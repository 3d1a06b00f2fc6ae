"""Reminders until a notice is acknowledged, one message per custodian, and escalation to the manager.

The reconcile asks "what is owed now?" of the tables, so running it twice, or after a day it did not
run, sends each reminder and each escalation once: a reminder is owed when the cadence has passed since
the custodian was last told, and a notice is escalated once. The same run sends the periodic
re-affirmations (`notice_reaffirmation`), before the reminders.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from preservation.domain.errors import DomainError
from preservation.models import Custodian, CustodianHold, HoldNotice
from preservation.services import audit, custodian_notices, notice_links, notice_reaffirmation, order_chain
from preservation.services.notice_mail import NoticePolicy, counsel_addresses, queue_email
from preservation.services.unit import Unit

log = logging.getLogger(__name__)


@dataclass
class ReminderRun:
    """What one reconcile did."""

    reminders: int = 0
    escalations: int = 0
    release_notices: int = 0
    reaffirmations: int = 0
    # Counted by the job, which warns of departures in the same run.
    departure_alerts: int = 0
    reminded_custodians: list[int] = field(default_factory=list)
    release_failures: list[int] = field(default_factory=list)

    def add(self, other: ReminderRun) -> None:
        """Count in what another part of the run did."""
        self.reminders += other.reminders
        self.escalations += other.escalations
        self.release_notices += other.release_notices
        self.reaffirmations += other.reaffirmations
        self.departure_alerts += other.departure_alerts
        self.reminded_custodians += other.reminded_custodians
        self.release_failures += other.release_failures

    def as_dict(self) -> dict[str, int | list[int]]:
        """For the job run's record."""
        return {
            "reminders": self.reminders,
            "escalations": self.escalations,
            "release_notices": self.release_notices,
            "reaffirmations": self.reaffirmations,
            "reminded_custodians": self.reminded_custodians,
            "release_failures": self.release_failures,
            "departure_alerts": self.departure_alerts,
        }


def unacknowledged(unit: Unit, custodian_ids: Sequence[int] | None = None) -> list[HoldNotice]:
    """Notices still owed an acknowledgement: sent, current, on a live hold of an active order, or of an order
    modified by an active one that still holds the custodian (until the new version is issued to them).
    Only those of the given custodians, when given."""
    binding = order_chain.binding_orders()
    query = (
        select(HoldNotice)
        .join(CustodianHold, HoldNotice.hold_id == CustodianHold.id)
        .join(binding, binding.c.order_id == CustodianHold.order_id)
        .where(
            HoldNotice.kind.in_(("hold", "steward")),
            HoldNotice.silent.is_(False),
            HoldNotice.acknowledged_at.is_(None),
            HoldNotice.superseded_at.is_(None),
            CustodianHold.status != "released",
            order_chain.still_binding(binding),
        )
        .order_by(HoldNotice.custodian_id, HoldNotice.id)
    )
    if custodian_ids is not None:
        query = query.where(HoldNotice.custodian_id.in_(custodian_ids))
    return list(unit.session.scalars(query))


def custodians_unacknowledged(unit: Unit) -> list[int]:
    """The custodians with a notice still owed an acknowledgement, by id: those a reminder run looks at."""
    return sorted({notice.custodian_id for notice in unacknowledged(unit)})


def _last_told(notice: HoldNotice) -> dt.datetime:
    return notice.last_reminded_at or notice.issued_at


def _listing(notices: list[HoldNotice], policy: NoticePolicy) -> str:
    lines = []
    for notice in notices:
        order = notice.hold.order
        token = notice_links.sign(policy.secret, notice)
        lines += [
            f"  - {order.matter.caption}: {order.title} (sent {notice.issued_at.date().isoformat()})",
            f"    {policy.notice_url(token)}",
        ]
    return "\n".join(lines)


def _remind(unit: Unit, custodian: Custodian, notices: list[HoldNotice], policy: NoticePolicy) -> bool:
    now = unit.clock()
    count = len(notices)
    subject = f"Reminder: {count} legal hold notice{'s' if count > 1 else ''} to acknowledge"
    body = (
        f"Dear {custodian.name},\n\n"
        f"You have not yet acknowledged {'these notices' if count > 1 else 'this notice'}. "
        "Open each link, read the notice, and acknowledge it (or ask the legal team a question):\n\n"
        f"{_listing(notices, policy)}\n"
    )
    key = f"reminder:{custodian.id}:{now.isoformat(timespec='seconds')}"
    if queue_email(unit, key, subject, body, targets=[custodian.email], label="reminder") is None:
        return False
    for notice in notices:
        notice.reminder_count += 1
        notice.last_reminded_at = now
    audit.record(
        unit,
        "custodian_notice.reminded",
        "custodian",
        custodian.id,
        matter_id=None,
        details={"notice_ids": [n.id for n in notices], "sent_to": custodian.email},
    )
    return True


def _escalate(unit: Unit, custodian: Custodian, notices: list[HoldNotice], policy: NoticePolicy) -> None:
    now = unit.clock()
    manager = custodian.manager
    targets = [manager.email] if manager is not None else counsel_addresses(unit)
    escalated_to = manager.email if manager is not None else "counsel (no manager on record)"
    addressee = manager.name if manager is not None else "legal team"
    body = (
        f"Dear {addressee},\n\n"
        f"{custodian.name} <{custodian.email}> has not acknowledged "
        f"{'these legal hold notices' if len(notices) > 1 else 'this legal hold notice'} "
        f"after {policy.escalate_after_days} days:\n\n"
        + "\n".join(
            f"  - {n.hold.order.matter.caption}: {n.hold.order.title} (sent {n.issued_at.date().isoformat()})"
            for n in notices
        )
        + "\n\nPlease make sure they read and acknowledge it.\n"
    )
    key = f"escalation:{custodian.id}:" + ",".join(str(n.id) for n in notices)
    queue_email(unit, key, f"Unacknowledged legal hold: {custodian.name}", body, targets=targets, label="escalation")
    for notice in notices:
        notice.escalated_at = now
        notice.escalated_to = escalated_to[:320]
        audit.record(
            unit,
            "custodian_notice.escalated",
            "custodian_hold",
            notice.hold_id,
            matter_id=notice.hold.order.matter_id,
            details={"notice_id": notice.id, "escalated_to": escalated_to, "days": policy.escalate_after_days},
        )


def remind_and_escalate(unit: Unit, policy: NoticePolicy) -> ReminderRun:
    """Send every reminder, escalation and re-affirmation owed now, and the release notices not yet written."""
    run = ReminderRun()
    # Re-affirmations first: a re-affirmation just sent is not yet due a reminder.
    run.reaffirmations = len(notice_reaffirmation.send_reaffirmations(unit, policy))
    send_release_notices(unit, custodian_notices.release_notices_owed(unit), run)
    remind_custodians(unit, policy, None, run)
    return run


def send_release_notices(unit: Unit, hold_ids: Sequence[int], run: ReminderRun) -> None:
    """Write the release notices of these released holds not yet written; counted in `run`."""
    for hold_id in hold_ids:
        hold = unit.session.get(CustodianHold, hold_id)
        if hold is None:
            continue
        try:
            sent = custodian_notices.send_release_notice(unit, hold)
        except DomainError as error:
            # A release template that cannot be rendered for this hold writes nothing; the notice stays owed
            # (and is tried again each run) while the other work of the run goes on.
            log.error("release notice for hold %s not sent: %s", hold_id, error.message)
            run.release_failures.append(hold_id)
            continue
        if sent is not None:
            run.release_notices += 1
    unit.session.flush()


def remind_custodians(unit: Unit, policy: NoticePolicy, custodian_ids: Sequence[int] | None, run: ReminderRun) -> None:
    """Remind and escalate the custodians given (every one, for None) as owed now; counted in `run`."""
    now = unit.clock()
    cadence = dt.timedelta(days=policy.reminder_every_days)
    patience = dt.timedelta(days=policy.escalate_after_days)
    by_custodian: dict[int, list[HoldNotice]] = defaultdict(list)
    for notice in unacknowledged(unit, custodian_ids):
        by_custodian[notice.custodian_id].append(notice)
    for custodian_id, notices in by_custodian.items():
        custodian = notices[0].custodian
        # One message lists every open notice, once any of them is due a reminder.
        if any(now - _last_told(n) >= cadence for n in notices) and _remind(unit, custodian, notices, policy):
            run.reminders += 1
            run.reminded_custodians.append(custodian_id)
        overdue = [n for n in notices if n.escalated_at is None and now - n.issued_at >= patience]
        if overdue:
            _escalate(unit, custodian, overdue, policy)
            run.escalations += len(overdue)
    unit.session.flush()
