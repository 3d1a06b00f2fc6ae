"""Checks of AWS Backup vaults: the collector they need, their evaluation, and their manifest of recovery points."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import insert

from preservation.domain.backup_evaluation import RECOVERY_POINT, BackupAssessment, evaluate_backup
from preservation.domain.destruction import in_scope
from preservation.domain.preservation_plan import PlanStep, StepResult
from preservation.domain.scope import DateRange
from preservation.models import ManifestEntry, RetentionCheck
from preservation.services.unit import Unit


class BackupCollector(Protocol):
    """Reads a backup vault and creates legal holds (adapters.backup.BackupInspector)."""

    def snapshot(self, vault: str, region: str | None, scope: Sequence[DateRange]) -> dict[str, Any]:
        """The raw answers about a vault, its in-scope recovery points and its legal holds."""
        ...

    def apply(
        self, steps: Sequence[PlanStep], region: str | None, progress: Callable[[int], None] | None = None
    ) -> list[StepResult]:
        """Carry out preservation steps."""
        ...


def assess(
    snapshot: dict[str, Any],
    scope: Sequence[DateRange],
    now: dt.datetime,
    *,
    manifest: Sequence[ManifestEntry],
    previous_config: dict[str, Any] | None,
    seen_before: bool,
) -> BackupAssessment:
    """Judge the snapshot against the in-scope recovery points earlier checks recorded here."""
    recorded = [
        m.key
        for m in manifest
        if m.version_id == RECOVERY_POINT and in_scope(scope, m.last_modified) and m.missing_since_check_id is None
    ]
    already_missing = [m.key for m in manifest if m.version_id == RECOVERY_POINT and m.missing_since_check_id]
    return evaluate_backup(
        snapshot,
        scope,
        now,
        manifest=[*recorded, *already_missing],
        previous_config=previous_config,
        seen_before=seen_before,
    )


def update_manifest(
    unit: Unit,
    check: RetentionCheck,
    assessment: BackupAssessment,
    *,
    snapshot: dict[str, Any],
    manifest: Sequence[ManifestEntry],
    scope: Sequence[DateRange],
) -> None:
    """Record newly seen in-scope recovery points; mark recorded ones missing (or found again)."""
    if not assessment.listed:
        return
    known = {m.key for m in manifest if m.version_id == RECOVERY_POINT}
    rows = [
        {
            "data_source_id": check.data_source_id,
            "key": p.arn,
            "version_id": RECOVERY_POINT,
            "etag": None,
            "size": p.size,
            "last_modified": p.created_at,
            "first_seen_check_id": check.id,
        }
        for p in assessment.points
        if p.arn not in known
    ]
    if rows:
        unit.session.execute(insert(ManifestEntry), rows)
    listed = {
        p.get("RecoveryPointArn")
        for p in ((snapshot.get("recovery_points") or {}).get("response") or {}).get("RecoveryPoints", ())
    }
    for entry in manifest:
        if entry.version_id != RECOVERY_POINT:
            continue
        if entry.key not in listed:
            if entry.missing_since_check_id is None and in_scope(scope, entry.last_modified):
                entry.missing_since_check_id = check.id
        elif entry.missing_since_check_id is not None:
            entry.missing_since_check_id = None
