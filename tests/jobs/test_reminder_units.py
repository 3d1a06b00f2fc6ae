"""The custodian-reminders job commits in batches: a custodian whose reminder fails fails alone, and the run says so."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from jobs import notices as notice_jobs
from jobs.context import JobContext
from jobs.registry import find
from jobs.runner import JobRunner
from preservation.models import Alert, AuditEvent, HoldNotice, JobRun
from preservation.services import custodian_notices, custodians, notice_reminders
from tests.clock import FrozenClock
from tests.custodians.conftest import World, make_world


@pytest.fixture
def notified(ctx: JobContext) -> World:
    """Max, Ana and Ben (in the order of their ids) each sent a hold notice, three days ago."""
    with ctx.unit(fenced=False) as unit:
        world = make_world(unit)
        for custodian in (world.max, world.ana, world.ben):
            custodians.place_custodian_hold(unit, world.order_id, custodian.id)
        custodian_notices.issue_notices(unit, world.order_id, notice_jobs.notice_policy(ctx))
    assert isinstance(ctx.clock, FrozenClock)
    ctx.clock.advance(days=3)
    return world


def _reminded(ctx: JobContext) -> tuple[dict[str, int], list[int], int]:
    """Reminders counted on each custodian's notice, the custodians the audit trail says were reminded, and the
    reminder emails queued."""
    with ctx.unit(fenced=False, read_only=True) as unit:
        notices = unit.session.scalars(select(HoldNotice).where(HoldNotice.reminder_count > 0))
        counted = {notice.custodian.email: notice.reminder_count for notice in notices}
        events = unit.session.scalars(select(AuditEvent).where(AuditEvent.action == "custodian_notice.reminded"))
        audited = sorted(int(event.subject_id) for event in events)
        emails = len(unit.session.scalars(select(Alert).where(Alert.threshold == "reminder")).all())
    return counted, audited, emails


def test_a_custodian_whose_reminder_fails_does_not_lose_the_others_theirs(
    ctx: JobContext, notified: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    remind = notice_reminders._remind

    def refuse_ana(unit: Any, custodian: Any, notices: Any, policy: Any) -> bool:
        sent = remind(unit, custodian, notices, policy)  # queued and flushed, then the unit fails: all rolls back
        if custodian.id == notified.ana.id:
            raise RuntimeError("her reminder could not be written")
        return sent

    monkeypatch.setattr(notice_reminders, "_remind", refuse_ana)
    # Two batches: [Max, Ana] fails and is redone one custodian at a time; [Ben] commits as it is.
    monkeypatch.setattr(notice_jobs, "REMINDER_BATCH", 2)
    record = JobRunner(ctx, "test-runner", trigger="manual").run(find("custodian-reminders"))

    assert (record.outcome, record.error) == ("failed", "1 of 3 custodian notice units failed")
    assert record.details["reminders"] == 2
    assert record.details["reminded_custodians"] == [notified.max.id, notified.ben.id]
    assert record.details["units_failed"] == 1
    assert record.details["failures"] == [
        f"reminders of custodian {notified.ana.id}: RuntimeError: her reminder could not be written"
    ]
    max_id, ana_id, ben_id = notified.max.id, notified.ana.id, notified.ben.id
    assert _reminded(ctx) == ({"max@example.org": 1, "ben@example.org": 1}, [max_id, ben_id], 2)
    with ctx.unit(fenced=False, read_only=True) as unit:
        run = unit.session.scalars(select(JobRun).where(JobRun.job_id == "custodian-reminders")).one()
        assert (run.outcome, run.details["units_failed"]) == ("failed", 1)

    # Once it can be written, the next run reminds Ana, and only her: the others were told just now.
    monkeypatch.setattr(notice_reminders, "_remind", remind)
    again = JobRunner(ctx, "test-runner", trigger="manual").run(find("custodian-reminders"))
    assert again.outcome == "succeeded", again.error
    assert (again.details["reminders"], again.details["reminded_custodians"]) == (1, [notified.ana.id])
    assert "units_failed" not in again.details
    everyone = {"max@example.org": 1, "ana@example.org": 1, "ben@example.org": 1}
    assert _reminded(ctx) == (everyone, [max_id, ana_id, ben_id], 3)


def test_a_run_in_batches_does_what_one_transaction_did(ctx: JobContext, notified: World) -> None:
    details = notice_jobs.custodian_reminders(ctx)
    assert details == {
        "reminders": 3,
        "escalations": 0,
        "release_notices": 0,
        "reaffirmations": 0,
        "reminded_custodians": [notified.max.id, notified.ana.id, notified.ben.id],
        "release_failures": [],
        "departure_alerts": 0,
    }
