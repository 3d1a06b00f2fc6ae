"""S3 Batch Operations jobs of large preserves: plan them, record them, and follow them until they finish.

The job is created by the preserve run (adapters.s3 carries the `create_batch_hold_job` step out); here its
id is recorded with an audit event in the run's closing transaction, and later refreshed from
describe_job (`refresh`), each change of status audited. The callers ask AWS between transactions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from preservation.domain.batch_operations import BATCH_ACTION, FINISHED_STATUSES, BatchOptions, batch_plan
from preservation.domain.preservation_plan import PreservationPlan, StepResult
from preservation.domain.rules import parse_s3_location
from preservation.models import DataSource, S3BatchJob
from preservation.services import audit
from preservation.services.checks import CheckRequest
from preservation.services.unit import Unit

# describe_job(account_id, job_id, region) -> {"response": {...}} or {"error": {...}}
Describe = Callable[[str, str, str | None], Mapping[str, Any]]


def plan_with_batch(request: CheckRequest, plan: PreservationPlan, options: BatchOptions | None) -> PreservationPlan:
    """An S3 plan whose holds outnumber the threshold gets one Batch Operations job instead."""
    if options is None or request.kind != "s3":
        return plan
    location = parse_s3_location(request.location)
    return batch_plan(plan, location.bucket, location.prefix, request.scope, options)


def record_created(unit: Unit, request: CheckRequest, results: Sequence[StepResult]) -> list[dict[str, Any]]:
    """Record each job the run created, with its audit event; returns them as the preserve result shows them."""
    created = []
    for result in results:
        if result.step.action != BATCH_ACTION or not result.ok:
            continue
        target = result.step.target
        job = S3BatchJob(
            data_source_id=request.source_id,
            job_id=str(result.outcome["job_id"]),
            account_id=str(target["account_id"]),
            region=request.region,
            status="New",
            versions_planned=int(target["versions"]),
            progress={},
            created_at=unit.clock(),
            created_by=unit.actor,
        )
        unit.session.add(job)
        unit.session.flush()
        audit.record(
            unit,
            "data_source.batch_job_created",
            "data_source",
            request.source_id,
            matter_id=None,
            details={"job_id": job.job_id, **{k: target[k] for k in sorted(target) if k != "role_arn"}},
        )
        created.append(job_document(job))
    return created


def unfinished(unit: Unit, source_id: int) -> list[tuple[str, str, str | None]]:
    """A source's jobs that may still change: (account id, job id, region) each."""
    unit.get(DataSource, source_id)
    jobs = unit.session.scalars(
        select(S3BatchJob).where(S3BatchJob.data_source_id == source_id).order_by(S3BatchJob.id)
    )
    return [(job.account_id, job.job_id, job.region) for job in jobs if job.status not in FINISHED_STATUSES]


def refresh(unit: Unit, source_id: int, answers: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Store what describe_job said of each job (by job id); a change of status is audited. Returns every job."""
    now = unit.clock()
    jobs = list(
        unit.session.scalars(select(S3BatchJob).where(S3BatchJob.data_source_id == source_id).order_by(S3BatchJob.id))
    )
    for job in jobs:
        answer = answers.get(job.job_id)
        if answer is None:
            continue
        job.refreshed_at = now
        if "error" in answer:
            job.progress = {**job.progress, "last_error": dict(answer["error"])}
            continue
        response = answer["response"]
        status = str(response.get("Status") or job.status)
        job.progress = {
            "ProgressSummary": response.get("ProgressSummary") or {},
            "FailureReasons": response.get("FailureReasons") or [],
        }
        if status != job.status:
            audit.record(
                unit,
                "data_source.batch_job_updated",
                "data_source",
                source_id,
                matter_id=None,
                details={"job_id": job.job_id, "status": {"from": job.status, "to": status}, **job.progress},
            )
            job.status = status
    return [job_document(job) for job in jobs]


def describe_all(jobs: Sequence[tuple[str, str, str | None]], describe: Describe) -> dict[str, Mapping[str, Any]]:
    """Ask AWS about each job, by job id (no database access)."""
    return {job_id: describe(account_id, job_id, region) for account_id, job_id, region in jobs}


def job_document(job: S3BatchJob) -> dict[str, Any]:
    """A job as the API and the command line show it."""
    return {
        "job_id": job.job_id,
        "status": job.status,
        "versions_planned": job.versions_planned,
        "progress": job.progress,
        "created_at": _iso(job.created_at),
        "refreshed_at": _iso(job.refreshed_at),
    }


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
