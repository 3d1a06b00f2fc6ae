"""Findings: what a check found, coded, and how the findings decide a source's status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# code -> (severity, the status it forces, or None when it only informs). A contract for clients and dashboards.
FINDING_CODES: dict[str, tuple[str, str | None]] = {
    "S3_BUCKET_MISSING": ("critical", "lost"),
    "S3_ACCESS_DENIED": ("high", "unverifiable"),
    "S3_READ_FAILED": ("high", "unverifiable"),
    "S3_VERSIONING_DISABLED": ("high", "at_risk"),
    "S3_OBJECT_LOCK_DISABLED": ("high", "at_risk"),
    "S3_LIFECYCLE_DESTROYS_IN_SCOPE": ("critical", "at_risk"),
    "S3_VERSION_UNPROTECTED": ("high", "at_risk"),
    "S3_GOVERNANCE_ONLY": ("medium", "at_risk"),
    "S3_RETENTION_ENDS_BEFORE_DUTY": ("high", "at_risk"),
    "S3_LOCK_STATUS_UNKNOWN": ("high", "unverifiable"),
    "S3_DELETE_MARKER_IN_SCOPE": ("medium", None),
    "S3_VERSION_MISSING": ("critical", "lost"),
    "S3_NO_VERSIONS_IN_SCOPE": ("medium", "unverifiable"),
    "S3_INVENTORY_UNUSABLE": ("high", "unverifiable"),
    "CONFIG_DRIFT": ("medium", None),
    "LOGS_GROUP_MISSING": ("critical", "lost"),
    "LOGS_ACCESS_DENIED": ("high", "unverifiable"),
    "LOGS_READ_FAILED": ("high", "unverifiable"),
    "LOGS_RETENTION_TOO_SHORT": ("critical", "at_risk"),
    "BACKUP_VAULT_MISSING": ("critical", "lost"),
    "BACKUP_ACCESS_DENIED": ("high", "unverifiable"),
    "BACKUP_READ_FAILED": ("high", "unverifiable"),
    "BACKUP_RECOVERY_POINT_EXPIRES": ("critical", "at_risk"),
    "BACKUP_NO_LEGAL_HOLD": ("high", "at_risk"),
    "BACKUP_HOLD_STATUS_UNKNOWN": ("high", "unverifiable"),
    "BACKUP_RECOVERY_POINT_UNREADABLE": ("high", "unverifiable"),
    "BACKUP_RECOVERY_POINT_MISSING": ("critical", "lost"),
    "BACKUP_NO_RECOVERY_POINTS_IN_SCOPE": ("medium", "unverifiable"),
    "MANUAL_ATTESTATION_OVERDUE": ("high", "unverifiable"),
}

# Worst first: a proven loss outranks a proven risk, which outranks not being able to tell.
STATUS_PRECEDENCE = ("lost", "at_risk", "unverifiable")
MAX_EXAMPLES = 10


@dataclass(frozen=True)
class Finding:
    """One coded observation, with what it forces on the status and the data behind it."""

    code: str
    severity: str
    message: str
    status: str | None
    count: int | None = None
    examples: tuple[Mapping[str, Any], ...] = ()
    earliest_destruction_at: dt.datetime | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def finding(
    code: str,
    message: str,
    *,
    status: str | None = "default",
    count: int | None = None,
    examples: Iterable[Mapping[str, Any]] = (),
    earliest_destruction_at: dt.datetime | None = None,
    details: Mapping[str, Any] | None = None,
) -> Finding:
    """A finding with the severity and status its code carries (the status can be overridden)."""
    severity, default_status = FINDING_CODES[code]
    return Finding(
        code=code,
        severity=severity,
        message=message,
        status=default_status if status == "default" else status,
        count=count,
        examples=tuple(examples)[:MAX_EXAMPLES],
        earliest_destruction_at=earliest_destruction_at,
        details=dict(details or {}),
    )


def overall_status(findings: Iterable[Finding]) -> str:
    """The worst status any finding forces; `preserved` only when none forces anything."""
    forced = {f.status for f in findings}
    for status in STATUS_PRECEDENCE:
        if status in forced:
            return status
    return "preserved"


def config_drift(previous: Mapping[str, Any] | None, current: Mapping[str, Any] | None) -> dict[str, Any]:
    """The retention-relevant settings that changed: {name: {"from": old, "to": new}}.

    Only settings both checks could read are compared, so a denied read is not mistaken for a change.
    """
    if not previous or not current:
        return {}
    return {
        name: {"from": previous[name], "to": current[name]}
        for name in sorted(set(previous) & set(current))
        if previous[name] != current[name]
    }


def drift_finding(diff: Mapping[str, Any]) -> Finding:
    """CONFIG_DRIFT naming what changed."""
    names = ", ".join(diff)
    return finding("CONFIG_DRIFT", f"retention-relevant settings changed since the last check: {names}", details=diff)


@dataclass(frozen=True)
class Evaluation:
    """What a check concludes from its snapshot."""

    status: str
    earliest_destruction_at: dt.datetime | None
    findings: Sequence[Finding]
    config: Mapping[str, Any] | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)


def conclude(
    findings: Sequence[Finding],
    *,
    earliest: dt.datetime | None = None,
    config: Mapping[str, Any] | None = None,
    summary: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Bundle findings into an evaluation with the status they force."""
    return Evaluation(
        status=overall_status(findings),
        earliest_destruction_at=earliest,
        findings=tuple(findings),
        config=config,
        summary=dict(summary or {}),
    )


def iso(moment: dt.datetime | None) -> str | None:
    """A timestamp for examples and details."""
    return moment.isoformat() if moment is not None else None
