"""The record of every scheduled run, and the scheduler's heartbeat."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from preservation.models import JobRun, SchedulerHeartbeat

HEARTBEAT = "scheduler"


@dataclass
class RunRecord:
    """A run as the runner knows it; kept in memory when the database cannot take it yet."""

    job_id: str
    trigger: str
    holder: str
    fencing_token: int | None
    started_at: dt.datetime
    run_id: int | None = None
    finished_at: dt.datetime | None = None
    outcome: str = "running"
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def start_run(session: Session, record: RunRecord) -> int:
    """Insert a run as running; its id."""
    row = JobRun(
        job_id=record.job_id,
        trigger=record.trigger,
        holder=record.holder,
        fencing_token=record.fencing_token,
        started_at=record.started_at,
        outcome="running",
        details={},
    )
    session.add(row)
    session.flush()
    return row.id


def save_run(session: Session, record: RunRecord) -> int:
    """Write a run's outcome: update its row, or insert the whole run when its start was never recorded."""
    if record.run_id is not None:
        row = session.get(JobRun, record.run_id)
        if row is not None:
            row.finished_at = record.finished_at
            row.outcome = record.outcome
            row.error = record.error
            row.details = dict(record.details)
            session.flush()
            return row.id
    row = JobRun(
        job_id=record.job_id,
        trigger=record.trigger,
        holder=record.holder,
        fencing_token=record.fencing_token,
        started_at=record.started_at,
        finished_at=record.finished_at,
        outcome=record.outcome,
        error=record.error,
        details=dict(record.details),
    )
    session.add(row)
    session.flush()
    return row.id


def abandon_runs(session: Session, holder: str, now: dt.datetime) -> int:
    """Mark as abandoned the runs other holders left running: their process died before finishing them."""
    result = session.execute(
        update(JobRun)
        .where(JobRun.outcome == "running", JobRun.holder != holder)
        .values(outcome="abandoned", finished_at=now, error="the scheduler running it stopped before it finished")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def last_runs(session: Session) -> dict[str, JobRun]:
    """The latest run of each job."""
    latest = select(JobRun.job_id, func.max(JobRun.id).label("id")).group_by(JobRun.job_id).subquery()
    rows = session.scalars(select(JobRun).join(latest, JobRun.id == latest.c.id))
    return {row.job_id: row for row in rows}


def last_finished(session: Session, job_id: str, outcome: str | None = None) -> JobRun | None:
    """The latest finished run of a job (with this outcome, when given)."""
    query = select(JobRun).where(JobRun.job_id == job_id, JobRun.finished_at.is_not(None))
    if outcome is not None:
        query = query.where(JobRun.outcome == outcome)
    return session.scalars(query.order_by(JobRun.id.desc()).limit(1)).first()


def recent_runs(session: Session, job_id: str | None = None, limit: int = 20) -> list[JobRun]:
    """The newest runs first, of one job or of all."""
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job_id is not None:
        query = query.where(JobRun.job_id == job_id)
    return list(session.scalars(query))


def prune_runs(session: Session, before: dt.datetime) -> int:
    """Forget finished runs that started before a moment."""
    result = session.execute(
        delete(JobRun)
        .where(JobRun.started_at < before, JobRun.outcome != "running")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def beat(session: Session, holder: str, fencing_token: int | None, now: dt.datetime) -> None:
    """Record that the scheduler is alive now."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    values = {"holder": holder, "fencing_token": fencing_token, "beat_at": now}
    statement = insert(SchedulerHeartbeat).values(name=HEARTBEAT, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["name"], set_=values))


def heartbeat(session: Session) -> SchedulerHeartbeat | None:
    """The last tick, if the scheduler ever ran."""
    return session.get(SchedulerHeartbeat, HEARTBEAT)
