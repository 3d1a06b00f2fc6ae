"""Reminders until acknowledged, one message per custodian across holds, and escalation, under a frozen clock."""

from __future__ import annotations

from sqlalchemy import select

from preservation.models import AuditEvent, HoldNotice
from preservation.services import custodian_notices, custodians
from preservation.services.notice_mail import NoticePolicy
from preservation.services.notice_reminders import remind_and_escalate
from preservation.services.unit import Unit
from tests.custodians.conftest import FrozenClock, World, outbox


def _hold_and_notify(unit: Unit, world: World, policy: NoticePolicy) -> None:
    for custodian in (world.ana, world.ben):
        custodians.place_custodian_hold(unit, world.order_id, custodian.id)
    custodians.place_custodian_hold(unit, world.other_order_id, world.ana.id)
    custodian_notices.issue_notices(unit, world.order_id, policy)
    custodian_notices.issue_notices(unit, world.other_order_id, policy)
    unit.session.commit()


def test_no_reminder_before_the_cadence(frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock) -> None:
    _hold_and_notify(frozen, world, policy)
    clock.advance(days=2, hours=23)
    run = remind_and_escalate(frozen, policy)
    assert run.reminders == 0
    assert outbox(frozen.session, "reminder") == []


def test_one_reminder_per_custodian_lists_every_hold(
    frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock
) -> None:
    _hold_and_notify(frozen, world, policy)
    assert len(outbox(frozen.session, "notice")) == 3
    clock.advance(days=3)
    run = remind_and_escalate(frozen, policy)
    frozen.session.commit()
    assert run.reminders == 2
    reminders = outbox(frozen.session, "reminder")
    assert sorted(targets[0] for _alert, targets in reminders) == ["ana@example.org", "ben@example.org"]
    ana_reminder = next(alert for alert, targets in reminders if targets == ["ana@example.org"])
    assert "2 legal hold notices" in ana_reminder.subject
    assert "Order to preserve camera footage" in ana_reminder.body
    assert "Hold on email" in ana_reminder.body
    assert ana_reminder.body.count("http://localhost/notices/") == 2
    # Running again at the same moment owes nothing more: idempotent.
    again = remind_and_escalate(frozen, policy)
    assert again.reminders == 0
    assert len(outbox(frozen.session, "reminder")) == 2
    # The next reminder comes a cadence later.
    clock.advance(days=2)
    assert remind_and_escalate(frozen, policy).reminders == 0
    clock.advance(days=1)
    assert remind_and_escalate(frozen, policy).reminders == 2


def test_acknowledging_stops_the_reminders(
    frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock
) -> None:
    _hold_and_notify(frozen, world, policy)
    clock.advance(hours=5)
    for notice in frozen.session.scalars(select(HoldNotice).where(HoldNotice.custodian_id == world.ben.id)):
        assert custodian_notices.acknowledge(frozen, notice)
    frozen.session.commit()
    clock.advance(days=30)
    run = remind_and_escalate(frozen, policy)
    assert run.reminded_custodians == [world.ana.id]


def test_escalation_to_the_manager_once_after_n_days(
    frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock
) -> None:
    _hold_and_notify(frozen, world, policy)
    clock.advance(days=6, hours=23)
    assert remind_and_escalate(frozen, policy).escalations == 0
    clock.advance(hours=1)
    run = remind_and_escalate(frozen, policy)
    frozen.session.commit()
    assert run.escalations == 3  # Ana's two notices and Ben's one
    escalations = outbox(frozen.session, "escalation")
    assert len(escalations) == 2
    to_manager = next(alert for alert, targets in escalations if targets == ["max@example.org"])
    assert "Ana Agent" in to_manager.body
    assert to_manager.body.count("  - ") == 2
    # Ben has no manager on record: counsel hears instead.
    assert [targets for alert, targets in escalations if "Ben Builder" in alert.body] == [["lawyer@example.org"]]
    notices = frozen.session.scalars(select(HoldNotice).where(HoldNotice.custodian_id == world.ana.id)).all()
    assert {n.escalated_to for n in notices} == {"max@example.org"}
    assert all(n.escalated_at == clock.now for n in notices)
    events = frozen.session.scalars(select(AuditEvent).where(AuditEvent.action == "custodian_notice.escalated")).all()
    assert len(events) == 3
    # Escalated once, however often the job runs afterwards.
    clock.advance(days=10)
    assert remind_and_escalate(frozen, policy).escalations == 0
    assert len(outbox(frozen.session, "escalation")) == 2


def test_cadence_and_escalation_are_configurable(frozen: Unit, world: World, clock: FrozenClock) -> None:
    policy = NoticePolicy(secret="s", public_url="http://x", reminder_every_days=1, escalate_after_days=2)
    _hold_and_notify(frozen, world, policy)
    clock.advance(days=1)
    assert remind_and_escalate(frozen, policy).reminders == 2
    clock.advance(days=1)
    run = remind_and_escalate(frozen, policy)
    assert (run.reminders, run.escalations) == (2, 3)


def test_reminded_then_acknowledged_then_never_reminded_again(
    frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock
) -> None:
    custodians.place_custodian_hold(frozen, world.order_id, world.ben.id)
    [notice] = custodian_notices.issue_notices(frozen, world.order_id, policy)
    frozen.session.commit()
    for _ in range(2):
        clock.advance(days=3)
        assert remind_and_escalate(frozen, policy).reminded_custodians == [world.ben.id]
    frozen.session.commit()
    assert notice.reminder_count == 2
    assert len(outbox(frozen.session, "reminder")) == 2
    clock.advance(hours=2)
    assert custodian_notices.acknowledge(frozen, notice)
    frozen.session.commit()
    # Long after, through every cadence and the escalation date: nothing more goes to Ben, nor about him.
    for _ in range(20):
        clock.advance(days=1)
        run = remind_and_escalate(frozen, policy)
        assert (run.reminders, run.escalations) == (0, 0)
    frozen.session.commit()
    assert notice.reminder_count == 2
    assert len(outbox(frozen.session, "reminder")) == 2
    assert outbox(frozen.session, "escalation") == []
