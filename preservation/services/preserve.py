"""Preserving a source, not only checking it: plan from a fresh snapshot, then (when asked) carry the plan out.

Like a check, a run is split so that no transaction is open while AWS works: `prepare_preservation`
reads the source, `collect` (from checks) snapshots it, `plan_preservation` is pure, and an executed
run is audited twice, `record_preservation_started` committed before the first change in the storage
and `record_preservation_finished` after the last, so an interrupted run still leaves its trace.
Running again resumes: versions already held are not in the next plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from preservation.domain.backup_evaluation import plan_backup, vault_name
from preservation.domain.errors import Conflict
from preservation.domain.evidence import error_of
from preservation.domain.log_check import required_log_retention
from preservation.domain.preservation_plan import (
    PreservationPlan,
    StepResult,
    plan_log_group,
    plan_s3,
    results_summary,
)
from preservation.domain.rules import parse_s3_location
from preservation.domain.s3_check import evaluate_s3
from preservation.services import audit, backup_checks, storage_holds
from preservation.services.checks import CheckRequest, Collectors, prepare_check
from preservation.services.unit import Unit


def prepare_preservation(unit: Unit, source_id: int) -> CheckRequest:
    """Read the source to preserve; a source no obligation binds has nothing to preserve."""
    request = prepare_check(unit, source_id)
    if request.released:
        raise Conflict(f"no obligation binds data source {source_id} any more: there is nothing to preserve")
    # Holds need every version's id: the plan is made from the listing, not from an inventory report.
    return replace(request, inventory_configuration_id=None)


def plan_preservation(  # noqa: PLR0911  (one plan per kind of source)
    request: CheckRequest, snapshot: dict[str, Any], now: dt.datetime
) -> PreservationPlan:
    """The steps that would make the source's in-scope data survive the duty (the duty lasts until release)."""
    if "collector_error" in snapshot:
        return PreservationPlan((), blocked=f"the source could not be read: {snapshot['collector_error']}")
    if request.kind == "s3":
        bucket = parse_s3_location(request.location).bucket
        return plan_s3(bucket, evaluate_s3(snapshot, request.scope, now))
    if request.kind == "cloudwatch_logs":
        name = snapshot["log_group"]
        call = snapshot.get("describe_log_groups") or {}
        error = error_of(call)
        if error is not None or "response" not in call:
            return PreservationPlan((), blocked=f"log group {name} could not be read ({(error or {}).get('code')})")
        group = next((g for g in call["response"]["logGroups"] if g.get("logGroupName") == name), None)
        if group is None:
            return plan_log_group(name, None, None, exists=False)
        required = required_log_retention(request.scope, group, None)
        return plan_log_group(name, group.get("retentionInDays"), required, exists=True)
    if request.kind == "aws_backup":
        assessment = backup_checks.assess(
            snapshot, request.scope, now, manifest=(), previous_config=None, seen_before=False
        )
        return plan_backup(request.source_id, vault_name(request.location), request.scope, assessment, now)
    return PreservationPlan((), blocked="a manual source is preserved by its steward: record an attestation")


def plan_document(request: CheckRequest, plan: PreservationPlan, *, dry_run: bool) -> dict[str, Any]:
    """The plan as the API and the command line show it."""
    return {
        "data_source_id": request.source_id,
        "dry_run": dry_run,
        "blocked": plan.blocked,
        "notes": list(plan.notes),
        "total_steps": len(plan.steps),
        "steps": plan.summary(),
        "results": None,
    }


def record_preservation_started(unit: Unit, request: CheckRequest, plan: PreservationPlan) -> None:
    """Audit the plan about to be carried out; the caller commits before touching the storage."""
    if plan.blocked:
        raise Conflict(plan.blocked)
    audit.record(
        unit,
        "data_source.preservation_started",
        "data_source",
        request.source_id,
        matter_id=None,
        details={"total_steps": len(plan.steps), "steps": plan.summary(examples=3)},
    )


def carry_out(
    request: CheckRequest,
    plan: PreservationPlan,
    collectors: Collectors,
    progress: Callable[[int], None] | None = None,
) -> list[StepResult]:
    """Make the changes in the storage. No database access."""
    if not plan.steps:
        return []
    if request.kind == "s3":
        return collectors.s3.apply(plan.steps, request.region, progress)
    if request.kind == "aws_backup":
        return collectors.backup.apply(plan.steps, request.region, progress)
    return collectors.logs.apply(plan.steps, request.region, progress)


def record_preservation_finished(
    unit: Unit, request: CheckRequest, plan: PreservationPlan, results: Sequence[StepResult]
) -> dict[str, Any]:
    """Audit what was done and what failed, and record the holds placed; the summary is returned to the caller."""
    summary = results_summary(results)
    holds_recorded = storage_holds.record_placed(unit, request, results)
    audit.record(
        unit,
        "data_source.preservation_finished",
        "data_source",
        request.source_id,
        matter_id=None,
        details={"total_steps": len(plan.steps), **summary, "holds_recorded": holds_recorded},
    )
    return summary
