"""AWS Backup: judge a vault's in-scope recovery points, and plan the legal hold that keeps them.

A recovery point is destroyed at `CalculatedLifecycle.DeleteAt` unless an active AWS Backup legal hold
lists it; without a hold anyone allowed `backup:DeleteRecoveryPoint` can delete it (Vault Lock only
limits that within its retention bounds). The duty lasts until the order is released, so every finite
`DeleteAt` of an unheld in-scope point is a risk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from preservation.domain.destruction import FOREVER, at_risk, in_scope, parse_timestamp
from preservation.domain.evidence import error_of, is_code, is_denied
from preservation.domain.findings import Evaluation, Finding, conclude, config_drift, drift_finding, finding, iso
from preservation.domain.preservation_plan import PlanStep, PreservationPlan
from preservation.domain.scope import DateRange

# The manifest's version_id for a recovery point, whose identity is its ARN alone.
RECOVERY_POINT = "recovery_point"
# Hold titles start with this, so a release only ever cancels holds this service created.
HOLD_TITLE_PREFIX = "preservation-tracker"
_VAULT_ARN_MARK = ":backup-vault:"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# A recovery point in these states is being (or should already have been) deleted.
_DELETING = ("DELETING", "EXPIRED")


def vault_name(location: str) -> str:
    """The backup vault a location names: the name itself, or the name inside a vault ARN."""
    if location.startswith("arn:") and _VAULT_ARN_MARK in location:
        return location.split(_VAULT_ARN_MARK, 1)[1]
    return location


def scope_bounds(scope: Sequence[DateRange]) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and last moments any range of the scope covers (None: unbounded on that side)."""
    starts = [r.start for r in scope]
    ends = [r.end for r in scope]
    start = None if not starts or None in starts else min(s for s in starts if s is not None)
    end = None if not ends or None in ends else max(e for e in ends if e is not None)
    first = None if start is None else dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    last = None if end is None else dt.datetime.combine(end, dt.time.max, tzinfo=dt.UTC)
    return first, last


@dataclass(frozen=True)
class RecoveryPointAssessment:
    """One in-scope recovery point: when it would be destroyed, and whether an active hold keeps it."""

    arn: str
    created_at: dt.datetime
    delete_at: dt.datetime | None  # None: no lifecycle deletes it
    held: bool | None  # None: the holds could not be read
    size: int | None
    lifecycle_unknown: bool = False

    def example(self) -> dict[str, Any]:
        """The point as a finding's example."""
        return {"recovery_point_arn": self.arn, "created_at": iso(self.created_at), "delete_at": iso(self.delete_at)}


@dataclass(frozen=True)
class BackupAssessment:
    """A backup vault check: the evaluation and the in-scope points behind it."""

    evaluation: Evaluation
    points: Sequence[RecoveryPointAssessment] = ()
    vault_missing: bool = False
    # The listing of recovery points answered in full, so the manifest may be compared with it.
    listed: bool = False


def held_arns(snapshot: Mapping[str, Any]) -> set[str] | None:
    """ARNs of recovery points an ACTIVE legal hold lists; None when the holds could not all be read."""
    holds_call = snapshot.get("legal_holds") or {}
    if error_of(holds_call) is not None or "response" not in holds_call:
        return None
    held: set[str] = set()
    for detail in snapshot.get("legal_hold_points") or ():
        if error_of(detail) is not None or "response" not in detail:
            return None
        held.update(p.get("RecoveryPointArn") for p in detail["response"].get("RecoveryPoints", ()))
    return held


def active_holds(snapshot: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The legal holds that are ACTIVE, as listed."""
    response = (snapshot.get("legal_holds") or {}).get("response") or {}
    return [h for h in response.get("LegalHolds", ()) if h.get("Status") == "ACTIVE"]


def _vault_config(vault: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "vault_locked": vault.get("Locked"),
        "vault_min_retention_days": vault.get("MinRetentionDays"),
        "vault_max_retention_days": vault.get("MaxRetentionDays"),
        "vault_lock_date": vault.get("LockDate"),
    }


def _read_failure(name: str, what: str, error: Mapping[str, Any] | None) -> Finding:
    if is_denied(error):
        return finding("BACKUP_ACCESS_DENIED", f"backup vault {name}: {what} was refused", details={"error": error})
    code = (error or {}).get("code")
    return finding("BACKUP_READ_FAILED", f"backup vault {name}: {what} failed ({code})", details={"error": error})


def _assess_points(
    points: Sequence[Mapping[str, Any]], scope: Sequence[DateRange], held: set[str] | None, now: dt.datetime
) -> tuple[list[RecoveryPointAssessment], int]:
    """The in-scope points, and how many listed points lack what is needed to place them in scope."""
    assessed: list[RecoveryPointAssessment] = []
    unreadable = 0
    for point in points:
        arn = point.get("RecoveryPointArn")
        created = parse_timestamp(point.get("CreationDate"))
        if not arn or created is None:
            unreadable += 1
            continue
        if not in_scope(scope, created):
            continue
        calculated = point.get("CalculatedLifecycle") or {}
        delete_at = parse_timestamp(calculated.get("DeleteAt"))
        lifecycle = point.get("Lifecycle") or {}
        # A lifecycle that deletes, without the date it computes, is a date we cannot see.
        unknown = delete_at is None and lifecycle.get("DeleteAfterDays") is not None
        if point.get("Status") in _DELETING:
            delete_at = min(delete_at or now, now)
        assessed.append(
            RecoveryPointAssessment(
                arn=arn,
                created_at=created,
                delete_at=delete_at,
                held=None if held is None else arn in held,
                size=point.get("BackupSizeInBytes"),
                lifecycle_unknown=unknown,
            )
        )
    return assessed, unreadable


def evaluate_backup(
    snapshot: Mapping[str, Any],
    scope: Sequence[DateRange],
    now: dt.datetime,
    *,
    manifest: Sequence[str] = (),
    duty_ends_at: dt.datetime | None = None,
    previous_config: Mapping[str, Any] | None = None,
    seen_before: bool = False,
) -> BackupAssessment:
    """Judge a backup vault snapshot; `manifest` holds the ARNs of in-scope points earlier checks saw."""
    name = snapshot["vault"]
    vault_call = snapshot.get("describe_backup_vault") or {}
    vault_error = error_of(vault_call)
    if is_code(vault_error, "ResourceNotFoundException"):
        status = "lost" if seen_before else "unverifiable"
        message = f"backup vault {name} does not exist" + ("; it existed when last checked" if seen_before else "")
        return BackupAssessment(conclude([finding("BACKUP_VAULT_MISSING", message, status=status)]), vault_missing=True)
    if vault_error is not None or "response" not in vault_call:
        return BackupAssessment(conclude([_read_failure(name, "DescribeBackupVault", vault_error)]))
    config = _vault_config(vault_call["response"])
    findings: list[Finding] = []
    diff = config_drift(previous_config, config)
    if diff:
        findings.append(drift_finding(diff))
    listing = snapshot.get("recovery_points") or {}
    if error_of(listing) is not None or "response" not in listing:
        findings.append(_read_failure(name, "ListRecoveryPointsByBackupVault", error_of(listing)))
        return BackupAssessment(conclude(findings, config=config))
    held = held_arns(snapshot)
    points, unreadable = _assess_points(listing["response"].get("RecoveryPoints", ()), scope, held, now)
    if held is None:
        failed = error_of(snapshot.get("legal_holds")) or next(
            (error_of(d) for d in snapshot.get("legal_hold_points") or () if error_of(d)), None
        )
        findings.append(
            finding(
                "BACKUP_HOLD_STATUS_UNKNOWN",
                f"backup vault {name}: the legal holds could not be read, so no point can be shown to be held",
                count=len(points),
                details={"error": failed, "denied": is_denied(failed)},
            )
        )
    if unreadable:
        findings.append(
            finding(
                "BACKUP_RECOVERY_POINT_UNREADABLE",
                f"{unreadable} recovery points were listed without an ARN or a creation date",
                count=unreadable,
            )
        )
    unknown_lifecycle = [p for p in points if p.lifecycle_unknown and p.held is not True]
    if unknown_lifecycle:
        findings.append(
            finding(
                "BACKUP_RECOVERY_POINT_UNREADABLE",
                f"{len(unknown_lifecycle)} in-scope recovery points have a lifecycle but no computed deletion date",
                count=len(unknown_lifecycle),
                examples=[p.example() for p in unknown_lifecycle],
            )
        )
    unheld = [p for p in points if p.held is False]
    expiring = sorted(
        (p for p in unheld if p.delete_at is not None and at_risk(p.delete_at, duty_ends_at)),
        key=lambda p: p.delete_at or FOREVER,
    )
    earliest = expiring[0].delete_at if expiring else None
    if expiring:
        findings.append(
            finding(
                "BACKUP_RECOVERY_POINT_EXPIRES",
                f"{len(expiring)} in-scope recovery points are deleted by their lifecycle while the duty lasts, "
                f"the first on {iso(earliest)}, and no active legal hold keeps them",
                count=len(expiring),
                examples=[p.example() for p in expiring],
                earliest_destruction_at=earliest,
            )
        )
    if unheld:
        findings.append(
            finding(
                "BACKUP_NO_LEGAL_HOLD",
                f"{len(unheld)} in-scope recovery points are not covered by any active legal hold"
                + ("; the vault is locked, which only bounds retention" if config["vault_locked"] else ""),
                count=len(unheld),
                examples=[p.example() for p in sorted(unheld, key=lambda p: p.delete_at or FOREVER)],
                details={"active_legal_holds": len(active_holds(snapshot)), "vault_locked": config["vault_locked"]},
            )
        )
    listed = {p.get("RecoveryPointArn") for p in listing["response"].get("RecoveryPoints", ())}
    missing = sorted(arn for arn in manifest if arn not in listed)
    if missing:
        findings.append(
            finding(
                "BACKUP_RECOVERY_POINT_MISSING",
                f"{len(missing)} recovery points seen by earlier checks are gone from backup vault {name}",
                count=len(missing),
                examples=[{"recovery_point_arn": arn} for arn in missing],
            )
        )
    if not points and not missing and not unreadable:
        findings.append(
            finding(
                "BACKUP_NO_RECOVERY_POINTS_IN_SCOPE",
                f"backup vault {name} has no recovery point created inside the scope",
            )
        )
    summary = {
        "recovery_points_listed": len(listed),
        "recovery_points_in_scope": len(points),
        "held": sum(1 for p in points if p.held),
        "active_legal_holds": len(active_holds(snapshot)),
    }
    return BackupAssessment(
        conclude(findings, earliest=earliest, config=config, summary=summary), points=tuple(points), listed=True
    )


def hold_title(source_id: int) -> str:
    """The title of the legal hold this service creates for a source."""
    return f"{HOLD_TITLE_PREFIX} data source {source_id}"


def plan_backup(
    source_id: int, vault: str, scope: Sequence[DateRange], assessment: BackupAssessment, now: dt.datetime
) -> PreservationPlan:
    """One AWS Backup legal hold over the vault and the scope's dates, unless every in-scope point is held.

    AWS needs both ends of the date range: an unbounded start is the epoch, an open end is now, so
    points created later need another run (the next check names them).
    """
    if assessment.vault_missing:
        return PreservationPlan((), blocked=f"backup vault {vault} does not exist")
    failures = [f for f in assessment.evaluation.findings if f.code in {"BACKUP_ACCESS_DENIED", "BACKUP_READ_FAILED"}]
    if failures:
        return PreservationPlan((), blocked="; ".join(f.message for f in failures))
    if assessment.points and all(p.held for p in assessment.points):
        return PreservationPlan((), notes=("every in-scope recovery point is already under an active legal hold",))
    first, last = scope_bounds(scope)
    notes: list[str] = []
    if not assessment.points:
        notes.append("no in-scope recovery point was found; the hold still selects the scope's dates")
    if len(scope) > 1:
        notes.append("the hold spans the scope's first to last day, gaps included")
    if last is None or last > now:
        notes.append("the scope is still open: points created after now need another run")
        last = now
    target = {
        "vault": vault,
        "title": hold_title(source_id),
        "from": iso(first or EPOCH),
        "to": iso(last),
        "recovery_points_in_scope": len(assessment.points),
    }
    step = PlanStep("create_backup_legal_hold", target, "only an active legal hold stops deletion of recovery points")
    return PreservationPlan((step,), notes=tuple(notes))
