"""The deadline sweep and the alert dispatcher under a frozen clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from jobs.context import JobContext
from jobs.registry import find
from jobs.runner import JobRunner
from preservation.models import Alert, AlertDelivery, AuditEvent, Deadline, JobRun, Obligation, PreservationOrder
from preservation.services import alerts, orders, sources
from preservation.services.job_runs import RunRecord
from tests.jobs.conftest import FrozenClock, obligation_due

DUE = dt.date(2027, 1, 19)


def run(ctx: JobContext, job_id: str) -> RunRecord:
    """Run one job once, as `preservation jobs run` does."""
    record = JobRunner(ctx, "test-runner", trigger="manual").run(find(job_id))
    assert record.outcome == "succeeded", record.error
    return record


def sweep_and_dispatch(ctx: JobContext) -> dict[str, Any]:
    swept = run(ctx, "deadline-sweep").details
    sent = run(ctx, "alert-dispatch").details
    return {**swept, **sent}


def outbox_keys(tmp_path: Path) -> list[str]:
    path = tmp_path / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["key"] for line in path.read_text().splitlines()]


def key(deadline_id: int, label: str, due: dt.date = DUE) -> str:
    return f"deadline:{deadline_id}:{due.isoformat()}:{label}"


def test_a_clock_stopped_for_three_days_catches_up_every_threshold_once_in_order(
    ctx: JobContext, clock: FrozenClock, counsel: str, tmp_path: Path
) -> None:
    with ctx.unit(fenced=False) as unit:
        obligation_due(unit, DUE)
    sweep_and_dispatch(ctx)
    with ctx.unit(fenced=False) as unit:
        deadline = unit.session.scalars(select(Deadline)).one()
    assert deadline.kind == "obligation_due"
    assert deadline.due_on == DUE
    assert outbox_keys(tmp_path) == []

    # Daily runs up to four days before: 14d and 7d.
    while clock.now.date() < DUE - dt.timedelta(days=4):
        clock.advance(days=1)
        sweep_and_dispatch(ctx)
    assert outbox_keys(tmp_path) == [key(deadline.id, "14d"), key(deadline.id, "7d")]

    # The scheduler is down for three days; on waking both thresholds crossed meanwhile go out, in order.
    clock.advance(days=3)
    details = sweep_and_dispatch(ctx)
    assert details["alerts_created"] == 2
    assert details["sent"] == 2
    assert outbox_keys(tmp_path) == [key(deadline.id, label) for label in ("14d", "7d", "3d", "1d")]

    # Running again the same day owes nothing more.
    details = sweep_and_dispatch(ctx)
    assert details["alerts_created"] == 0
    assert details["sent"] == 0

    clock.advance(days=1)
    sweep_and_dispatch(ctx)
    clock.advance(days=1)
    sweep_and_dispatch(ctx)
    assert outbox_keys(tmp_path)[-2:] == [key(deadline.id, "0d"), key(deadline.id, "overdue-1d")]
    with ctx.unit(fenced=False) as unit:
        rows = unit.session.scalars(select(Alert).order_by(Alert.id)).all()
        assert [a.threshold for a in rows] == ["14d", "7d", "3d", "1d", "0d", "overdue-1d"]
        assert all(d.status == "sent" and d.target == counsel for a in rows for d in a.deliveries)
        assert "Overdue by 1 day" in rows[-1].subject


def test_a_satisfied_obligation_stops_its_alerts_and_a_moved_date_owes_new_ones(
    ctx: JobContext, clock: FrozenClock, counsel: str, tmp_path: Path
) -> None:
    with ctx.unit(fenced=False) as unit:
        obligation_id = obligation_due(unit, clock.now.date() + dt.timedelta(days=7))
    run(ctx, "deadline-sweep")
    with ctx.unit(fenced=False) as unit:
        deadline = unit.session.scalars(select(Deadline)).one()
        # Known seven days out: one "7d" alert, not a "14d" as well.
        assert [a.threshold for a in deadline.alerts] == ["7d"]
        first_sequence = deadline.sequence

    # The court moves the date before the alert went out: the old alert is not sent, the new date's is.
    new_due = clock.now.date() + dt.timedelta(days=2)
    with ctx.unit(fenced=False) as unit:
        orders.update_obligation(unit, obligation_id, {"due_on": new_due})
    details = sweep_and_dispatch(ctx)
    assert details["deadlines_moved"] == 1
    assert outbox_keys(tmp_path) == [key(deadline.id, "3d", new_due)]
    with ctx.unit(fenced=False) as unit:
        moved = unit.session.get(Deadline, deadline.id)
        assert moved is not None
        assert moved.sequence > first_sequence
        statuses = {d.alert.threshold: d.status for d in unit.session.scalars(select(AlertDelivery))}
        assert statuses == {"7d": "cancelled", "3d": "sent"}

    with ctx.unit(fenced=False) as unit:
        orders.update_obligation(unit, obligation_id, {"status": "satisfied"})
    clock.advance(days=2)
    details = sweep_and_dispatch(ctx)
    assert details["alerts_created"] == 0
    with ctx.unit(fenced=False) as unit:
        met = unit.session.get(Deadline, deadline.id)
        assert met is not None
        assert met.status == "met"
    assert len(outbox_keys(tmp_path)) == 1


def test_orders_and_destruction_clocks_are_deadlines_too(ctx: JobContext, clock: FrozenClock, counsel: str) -> None:
    with ctx.unit(fenced=False) as unit:
        obligation_id = obligation_due(unit, clock.now.date() + dt.timedelta(days=30))
        obligation = unit.session.get(Obligation, obligation_id)
        assert obligation is not None
        order = unit.session.get(PreservationOrder, obligation.order_id)
        assert order is not None
        order.compliance_due_on = clock.now.date() + dt.timedelta(days=3)
        source = sources.create_data_source(unit, {"name": "POE video", "kind": "s3", "location": "s3://poe-video/"})
        orders.link_data_source(unit, obligation_id, source.id)
        source.earliest_destruction_at = clock.now + dt.timedelta(days=5, hours=1)
    details = run(ctx, "deadline-sweep").details
    assert details["deadlines_created"] == 3
    with ctx.unit(fenced=False) as unit:
        by_kind = {d.kind: d for d in unit.session.scalars(select(Deadline))}
        thresholds = {a.threshold for d in by_kind.values() for a in d.alerts}
    destruction = by_kind["data_destruction"]
    # 72 hours of safety margin before the destruction time.
    assert destruction.due_at == clock.now + dt.timedelta(days=2, hours=1)
    assert destruction.due_on == (clock.now + dt.timedelta(days=2)).date()
    assert destruction.computation["safety_margin_hours"] == 72
    assert destruction.matter_id == by_kind["obligation_due"].matter_id
    assert by_kind["order_compliance"].computation["rule"].startswith("as entered on the order")
    assert thresholds == {"3d"}


def test_acknowledging_records_who_and_when_once_and_audits_it(
    ctx: JobContext, clock: FrozenClock, counsel: str
) -> None:
    with ctx.unit(fenced=False) as unit:
        obligation_due(unit, clock.now.date())
    run(ctx, "deadline-sweep")
    with ctx.unit(fenced=False) as unit:
        alert_id = unit.session.scalars(select(Alert.id)).one()
    acting = JobContext(ctx.settings, ctx.engine, ctx.session_factory, clock=clock)
    with acting.unit(fenced=False) as unit:
        unit.actor = "user:counsel@example.org"
        alert, new = alerts.acknowledge(unit, alert_id)
        assert new
    clock.advance(hours=1)
    with acting.unit(fenced=False) as unit:
        unit.actor = "user:someone-else@example.org"
        alert, new = alerts.acknowledge(unit, alert_id)
        assert not new
    assert alert.acknowledged_by == "user:counsel@example.org"
    assert alert.acknowledged_at == clock.now - dt.timedelta(hours=1)
    with ctx.unit(fenced=False) as unit:
        events = unit.session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.acknowledged")).all()
        assert len(events) == 1
        assert events[0].actor == "user:counsel@example.org"


def test_every_run_is_recorded_with_its_outcome(ctx: JobContext, clock: FrozenClock) -> None:
    run(ctx, "heartbeat")
    clock.advance(minutes=1)
    run(ctx, "custodian-reminders")
    run(ctx, "audit-checkpoint")
    with ctx.unit(fenced=False) as unit:
        runs = unit.session.scalars(select(JobRun).order_by(JobRun.id)).all()
        assert [(r.job_id, r.outcome, r.trigger) for r in runs] == [
            ("heartbeat", "succeeded", "manual"),
            ("custodian-reminders", "succeeded", "manual"),
            ("audit-checkpoint", "succeeded", "manual"),
        ]
        assert runs[0].started_at == clock.now - dt.timedelta(minutes=1)
        assert runs[0].finished_at is not None
        assert runs[2].details == {"skipped": "PRESERVATION_AUDIT_SIGNING_KEY is not set"}
        assert unit.session.scalar(select(func.count()).select_from(JobRun)) == 3
