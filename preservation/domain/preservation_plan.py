"""What preserving a source takes: the steps, computed from a check's assessment, before anything is done."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from preservation.domain.s3_check import S3Assessment

# Bucket-wide steps run first and in this order; object-level steps follow.
BUCKET_ACTIONS = ("enable_versioning", "enable_object_lock")
OBJECT_ACTIONS = ("put_legal_hold",)
LOG_ACTIONS = ("remove_log_retention", "set_log_retention")


@dataclass(frozen=True)
class PlanStep:
    """One change to make in the storage."""

    action: str
    target: Mapping[str, Any]
    reason: str


@dataclass(frozen=True)
class StepResult:
    """How one step went."""

    step: PlanStep
    ok: bool
    error: Mapping[str, Any] | None = None
    # What a successful step created (an AWS Backup legal hold's id and ARN), when it matters later.
    outcome: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PreservationPlan:
    """The steps, in the order they must run, and why nothing can be done when that is the case."""

    steps: Sequence[PlanStep]
    blocked: str | None = None
    notes: Sequence[str] = field(default_factory=tuple)

    def summary(self, examples: int = 10) -> list[dict[str, Any]]:
        """Each action with how many steps it takes and a few targets."""
        counts = Counter(step.action for step in self.steps)
        return [
            {
                "action": action,
                "count": counts[action],
                "examples": [dict(s.target) for s in self.steps if s.action == action][:examples],
            }
            for action in dict.fromkeys(step.action for step in self.steps)
        ]


def plan_s3(bucket: str, assessment: S3Assessment) -> PreservationPlan:
    """Versioning and Object Lock on the bucket when missing, then a legal hold on every in-scope version without one.

    A version whose hold status is unknown gets a hold too: putting one is idempotent, and it is the only
    way to be sure. Versions already held are skipped, so running the plan again resumes where it stopped.
    """
    if assessment.bucket_missing:
        return PreservationPlan((), blocked=f"bucket {bucket} does not exist")
    steps: list[PlanStep] = []
    notes: list[str] = []
    if assessment.versioning is None and assessment.evaluation.config and "versioning" in assessment.evaluation.config:
        steps.append(PlanStep("enable_versioning", {"bucket": bucket}, "Object Lock needs versioning"))
    elif assessment.versioning == "Suspended":
        steps.append(PlanStep("enable_versioning", {"bucket": bucket}, "versioning is suspended"))
    if assessment.object_lock == "disabled":
        steps.append(
            PlanStep(
                "enable_object_lock",
                {"bucket": bucket},
                "legal holds need Object Lock; enabling it cannot be undone",
            )
        )
    for version in assessment.versions:
        if version.legal_hold is True:
            continue
        reason = "hold status unknown" if version.legal_hold is None else f"protection: {version.protection}"
        steps.append(
            PlanStep("put_legal_hold", {"bucket": bucket, "key": version.key, "version_id": version.version_id}, reason)
        )
    if not assessment.versions:
        notes.append("no in-scope version was found to hold")
    return PreservationPlan(tuple(steps), notes=tuple(notes))


def plan_log_group(name: str, current_days: int | None, required_days: int | None, exists: bool) -> PreservationPlan:
    """Raise a log group's retention to the smallest allowed value that covers the duty (or never expire)."""
    if not exists:
        return PreservationPlan((), blocked=f"log group {name} does not exist")
    if current_days is None or (required_days is not None and current_days >= required_days):
        return PreservationPlan((), notes=("the retention already covers the duty",))
    if required_days is None:
        step = PlanStep(
            "remove_log_retention",
            {"log_group": name, "from_days": current_days},
            "only never-expiring retention covers an open-ended duty",
        )
    else:
        step = PlanStep(
            "set_log_retention",
            {"log_group": name, "from_days": current_days, "to_days": required_days},
            "the smallest allowed retention that covers the duty",
        )
    return PreservationPlan((step,))


def results_summary(results: Sequence[StepResult], examples: int = 10) -> dict[str, Any]:
    """Counts of what succeeded and failed, with the first failures."""
    failures = [r for r in results if not r.ok]
    return {
        "succeeded": len(results) - len(failures),
        "failed": len(failures),
        "failures": [
            {"action": r.step.action, "target": dict(r.step.target), "error": dict(r.error or {})}
            for r in failures[:examples]
        ],
    }
