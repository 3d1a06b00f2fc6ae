"""Releasing the holds a preservation run placed, once no active order covers the source any more.

A separate, confirmed action: only holds recorded in `storage_holds` (placed by this service) are
removed, S3 version holds turned OFF and AWS Backup legal holds cancelled. Like preserving, a release
is audited twice, `record_release_started` committed before the storage changes and
`record_release_finished` after, and refused while any active order's obligation still covers the source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select

from preservation.domain.errors import Conflict
from preservation.domain.preservation_plan import PlanStep, PreservationPlan, StepResult, results_summary
from preservation.models import DataSource
from preservation.models.hold import StorageHold
from preservation.services import audit
from preservation.services.unit import Unit


class HoldReleaser(Protocol):
    """Removes holds in the storage (adapters.hold_release.HoldReleaser)."""

    def release(
        self, steps: Sequence[PlanStep], region: str | None, progress: Callable[[int], None] | None = None
    ) -> list[StepResult]:
        """Carry out release steps."""
        ...


@dataclass(frozen=True)
class ReleaseRequest:
    """The holds to release for one source, read in one short transaction."""

    source_id: int
    region: str | None
    plan: PreservationPlan


def covering_obligations(source: DataSource) -> list[tuple[int, int]]:
    """(order id, obligation id) of every obligation of an unreleased order that still binds the source."""
    return [(o.order_id, o.id) for o in source.obligations if o.status != "released" and o.order.status != "released"]


def _refuse_if_covered(source: DataSource) -> None:
    covering = covering_obligations(source)
    if covering:
        orders = ", ".join(str(order) for order in sorted({order for order, _ in covering}))
        obligations = ", ".join(str(obligation) for _, obligation in covering)
        raise Conflict(
            f"data source {source.id} is still covered by active order {orders} (obligation {obligations}): "
            "its holds stay until every order covering it is released"
        )


def _step(hold: StorageHold, reason: str) -> PlanStep:
    if hold.kind == "backup":
        target = {
            "storage_hold_id": hold.id,
            "vault": hold.container,
            "legal_hold_id": hold.legal_hold_id,
            "reason": reason,
        }
        return PlanStep("cancel_backup_legal_hold", target, "an AWS Backup legal hold this service created")
    target = {"storage_hold_id": hold.id, "bucket": hold.container, "key": hold.key, "version_id": hold.version_id}
    return PlanStep("remove_legal_hold", target, "an S3 legal hold this service placed")


def prepare_release(unit: Unit, source_id: int) -> ReleaseRequest:
    """The release plan of a source no active order covers: one step per hold this service placed there."""
    source: DataSource = unit.get(DataSource, source_id)
    _refuse_if_covered(source)
    holds = unit.session.scalars(
        select(StorageHold)
        .where(StorageHold.data_source_id == source.id, StorageHold.released_at.is_(None))
        .order_by(StorageHold.id)
    )
    reason = f"preservation of data source {source.id} ended: no active order covers it"
    steps = tuple(_step(hold, reason) for hold in holds)
    notes = () if steps else ("no hold placed by this service is in force on this source",)
    # Holds in other regions than the source's are not expected: a run places them in the source's region.
    return ReleaseRequest(source.id, source.region, PreservationPlan(steps, notes=notes))


def plan_document(request: ReleaseRequest, *, dry_run: bool) -> dict[str, Any]:
    """The release plan as the API and the command line show it."""
    return {
        "data_source_id": request.source_id,
        "dry_run": dry_run,
        "blocked": None,
        "notes": list(request.plan.notes),
        "total_steps": len(request.plan.steps),
        "steps": request.plan.summary(),
        "results": None,
    }


def record_release_started(unit: Unit, request: ReleaseRequest) -> None:
    """Audit the release about to be carried out, refusing again if an order came to cover the source."""
    source: DataSource = unit.get(DataSource, request.source_id)
    _refuse_if_covered(source)
    audit.record(
        unit,
        "data_source.hold_release_started",
        "data_source",
        request.source_id,
        matter_id=None,
        details={"total_steps": len(request.plan.steps), "steps": request.plan.summary(examples=3)},
    )


def carry_out(
    request: ReleaseRequest, releaser: HoldReleaser, progress: Callable[[int], None] | None = None
) -> list[StepResult]:
    """Remove the holds in the storage. No database access."""
    if not request.plan.steps:
        return []
    return releaser.release(request.plan.steps, request.region, progress)


def record_release_finished(unit: Unit, request: ReleaseRequest, results: Sequence[StepResult]) -> dict[str, Any]:
    """Mark the released holds and audit what was released and what failed."""
    now = unit.clock()
    released = {r.step.target["storage_hold_id"] for r in results if r.ok}
    if released:
        for hold in unit.session.scalars(select(StorageHold).where(StorageHold.id.in_(released))):
            hold.released_at = now
            hold.released_by = unit.actor
    summary = results_summary(results)
    ok = [r.step for r in results if r.ok]
    details = {
        "total_steps": len(request.plan.steps),
        **summary,
        "released": {
            "s3_versions": sum(1 for s in ok if s.action == "remove_legal_hold"),
            "s3_examples": [
                {k: s.target[k] for k in ("bucket", "key", "version_id")} for s in ok if s.action == "remove_legal_hold"
            ][:10],
            "backup_legal_holds": [
                {"vault": s.target["vault"], "legal_hold_id": s.target["legal_hold_id"]}
                for s in ok
                if s.action == "cancel_backup_legal_hold"
            ],
        },
    }
    audit.record(
        unit, "data_source.hold_release_finished", "data_source", request.source_id, matter_id=None, details=details
    )
    return {**summary, "released": details["released"]}
