"""Every scheduled job, declared once with a stable id; the scheduler reconciles this list at start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobs import reconcile
from jobs.context import JobContext


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: a stable id, how often it runs, and the function it calls."""

    job_id: str
    every_seconds: int
    run: Callable[[JobContext], dict[str, Any] | None]
    description: str


# Intervals are defaults; PRESERVATION_JOB_INTERVALS overrides them per job id.
JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        "retention-checks",
        300,
        reconcile.retention_checks,
        "check each data source whose check interval has passed",
    ),
    JobSpec(
        "deadline-sweep",
        300,
        reconcile.deadline_sweep,
        "reconcile deadlines with obligations, orders and destruction clocks; create the alerts owed",
    ),
    JobSpec("alert-dispatch", 30, reconcile.alert_dispatch, "deliver pending alerts, retry failures, dead-letter"),
    JobSpec("audit-checkpoint", 3600, reconcile.audit_checkpoint, "sign a checkpoint of the audit log"),
    JobSpec(
        "custodian-reminders",
        3600,
        reconcile.custodian_reminders,
        "remind custodians of unacknowledged notices, escalate to managers, send release notices owed",
    ),
    JobSpec(
        "heartbeat",
        60,
        reconcile.heartbeat,
        "record that the scheduler is alive; prune old run records; roll up today's source statuses",
    ),
)


def find(job_id: str) -> JobSpec:
    """The job with this id; KeyError names the ids that exist."""
    for spec in JOBS:
        if spec.job_id == job_id:
            return spec
    known = ", ".join(spec.job_id for spec in JOBS) or "none yet"
    raise KeyError(f"no job {job_id!r}; known jobs: {known}")
