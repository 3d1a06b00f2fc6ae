"""The scheduler's own state: the leader lease, the record of every job run, and the heartbeat."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from preservation.db import Base
from preservation.domain.vocabulary import JOB_RUN_OUTCOMES
from preservation.models._columns import sql_in


class SchedulerLease(Base):
    """Who may run the jobs until when; the fencing token grows by one with every new holder."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    fencing_token: Mapped[int] = mapped_column(BigInteger, default=0)
    acquired_at: Mapped[dt.datetime | None]
    renewed_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]


class JobRun(Base):
    """One run of one job: when, by which holder of the lease, and how it ended."""

    __tablename__ = "job_runs"
    __table_args__ = (
        CheckConstraint(sql_in("outcome", JOB_RUN_OUTCOMES), name="outcome"),
        Index("ix_job_runs_job_started", "job_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(100))
    # "schedule" when the scheduler fired it, "manual" for `preservation jobs run`.
    trigger: Mapped[str] = mapped_column(String(20))
    holder: Mapped[str] = mapped_column(String(200))
    fencing_token: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    outcome: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    # What the run did, in counts: checks run, alerts created, deliveries sent.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SchedulerHeartbeat(Base):
    """The last tick of the active scheduler; its age tells whether the scheduler is alive."""

    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    fencing_token: Mapped[int | None] = mapped_column(BigInteger)
    beat_at: Mapped[dt.datetime]
