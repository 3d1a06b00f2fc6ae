"""The deadline sweep commits in small units: a unit that fails fails alone, and the run says so."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from jobs import reconcile
from jobs.context import JobContext
from jobs.registry import find
from jobs.runner import JobRunner
from preservation.models import Alert, Deadline, JobRun, Obligation
from preservation.services import alerts, deadlines
from preservation.services.unit import Unit
from tests.jobs.conftest import obligation_due

DUE = dt.date(2027, 1, 5)


def three_obligations(ctx: JobContext) -> list[int]:
    with ctx.unit(fenced=False) as unit:
        return [obligation_due(unit, DUE, f"Produce the preserved video, part {n}") for n in (1, 2, 3)]


def test_a_deadline_that_cannot_be_written_fails_alone_and_the_run_records_it(
    ctx: JobContext, counsel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, bad, third = three_obligations(ctx)
    apply_change = deadlines.apply_change

    def refuse_one(unit: Unit, change: deadlines.DeadlineChange, counts: deadlines.ReconcileCounts) -> None:
        apply_change(unit, change, counts)  # written and flushed, then the unit fails: all of it rolls back
        if change.subject_id == bad:
            raise ValueError("a row the database will not take")

    monkeypatch.setattr(deadlines, "apply_change", refuse_one)
    # Two batches: [first, bad] fails and is redone row by row; [third] commits as it is.
    monkeypatch.setattr(reconcile, "DEADLINE_BATCH", 2)
    record = JobRunner(ctx, "test-runner", trigger="manual").run(find("deadline-sweep"))

    assert record.outcome == "failed"
    assert record.error == "1 of 5 deadline units failed"
    assert record.details["deadlines_created"] == 2
    assert record.details["alerts_created"] == 2
    assert record.details["units_failed"] == 1
    assert record.details["failures"] == [
        f"deadline obligation_due {bad}: ValueError: a row the database will not take"
    ]
    with ctx.unit(fenced=False) as unit:
        rows = unit.session.scalars(select(Deadline).order_by(Deadline.subject_id)).all()
        assert [row.subject_id for row in rows] == [first, third]
        assert len(unit.session.scalars(select(Alert)).all()) == 2
        run = unit.session.scalars(select(JobRun).where(JobRun.job_id == "deadline-sweep")).one()
        assert (run.outcome, run.error) == ("failed", "1 of 5 deadline units failed")
        assert run.details["units_failed"] == 1

    # Once the row can be written, the next run does the unit that failed, and only that one.
    monkeypatch.setattr(deadlines, "apply_change", apply_change)
    again = JobRunner(ctx, "test-runner", trigger="manual").run(find("deadline-sweep"))
    assert again.outcome == "succeeded", again.error
    assert (again.details["deadlines_created"], again.details["alerts_created"]) == (1, 1)
    with ctx.unit(fenced=False) as unit:
        assert sorted(unit.session.scalars(select(Deadline.subject_id))) == sorted([first, bad, third])


def test_one_deadline_whose_alerts_cannot_be_raised_does_not_hold_back_the_others(
    ctx: JobContext, counsel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _first, bad, _third = three_obligations(ctx)
    raise_alerts = alerts.raise_alerts

    def refuse_one(unit: Unit, deadline_id: int, policy: Any) -> list[Alert]:
        deadline = unit.session.get(Deadline, deadline_id)
        raised = raise_alerts(unit, deadline_id, policy)
        if deadline is not None and deadline.subject_id == bad:
            raise RuntimeError("no recipient could be resolved")
        return raised

    monkeypatch.setattr(alerts, "raise_alerts", refuse_one)
    record = JobRunner(ctx, "test-runner", trigger="manual").run(find("deadline-sweep"))

    assert record.outcome == "failed"
    assert record.details["deadlines_created"] == 3
    assert record.details["alerts_created"] == 2
    assert record.details["failures"][0].startswith("alerts of deadline ")
    with ctx.unit(fenced=False) as unit:
        titles = {
            unit.session.get(Obligation, alert.deadline.subject_id).description  # type: ignore[union-attr]
            for alert in unit.session.scalars(select(Alert))
        }
    assert titles == {"Produce the preserved video, part 1", "Produce the preserved video, part 3"}
