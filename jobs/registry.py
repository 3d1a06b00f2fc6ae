"""Every scheduled job, declared once with a stable id; the scheduler reconciles this list at start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: a stable id, how often it runs, and the function it calls."""

    job_id: str
    every_seconds: int
    run: Callable[[], None]
    description: str


# Filled as the retention checks, deadline sweep, alert dispatch and audit checkpoint land.
JOBS: tuple[JobSpec, ...] = ()


def find(job_id: str) -> JobSpec:
    """The job with this id; KeyError names the ids that exist."""
    for spec in JOBS:
        if spec.job_id == job_id:
            return spec
    known = ", ".join(spec.job_id for spec in JOBS) or "none yet"
    raise KeyError(f"no job {job_id!r}; known jobs: {known}")
