"""The holds a preservation run placed, recorded so that a release later removes exactly those."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert

from preservation.domain.preservation_plan import StepResult
from preservation.models.hold import StorageHold
from preservation.services.checks import CheckRequest
from preservation.services.unit import Unit


def record_placed(unit: Unit, request: CheckRequest, results: Sequence[StepResult]) -> int:
    """Record each hold a run placed (S3 version holds, AWS Backup legal holds); returns how many."""
    now = unit.clock()
    rows = []
    for result in results:
        if not result.ok:
            continue
        target = result.step.target
        base = {
            "data_source_id": request.source_id,
            "region": request.region,
            "placed_at": now,
            "placed_by": unit.actor,
        }
        if result.step.action == "put_legal_hold":
            rows.append(
                {
                    **base,
                    "kind": "s3_object",
                    "container": target["bucket"],
                    "key": target["key"],
                    "version_id": target["version_id"],
                }
            )
        elif result.step.action == "create_backup_legal_hold" and result.outcome.get("LegalHoldId"):
            rows.append(
                {
                    **base,
                    "kind": "backup",
                    "container": target["vault"],
                    "legal_hold_id": result.outcome["LegalHoldId"],
                    "legal_hold_arn": result.outcome.get("LegalHoldArn"),
                }
            )
    if rows:
        unit.session.execute(insert(StorageHold), rows)
    return len(rows)
