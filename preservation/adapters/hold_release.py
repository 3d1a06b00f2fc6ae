"""Removing the holds a preservation run placed: S3 version legal holds OFF, AWS Backup legal holds cancelled."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from preservation.adapters.aws import AwsClients, bounded_map, call
from preservation.domain.preservation_plan import PlanStep, StepResult


class HoldReleaser:
    """Carries out release steps: one request per S3 version (bounded pool), one per backup legal hold."""

    def __init__(self, clients: AwsClients, *, max_workers: int = 16) -> None:
        self._clients = clients
        self._max_workers = max_workers

    def release(
        self,
        steps: Sequence[PlanStep],
        region: str | None,
        progress: Callable[[int], None] | None = None,
    ) -> list[StepResult]:
        """Release each step's hold; failures are recorded per step, never raised."""
        return bounded_map(lambda s: self._run(s, region), steps, self._max_workers, progress)

    def _run(self, step: PlanStep, region: str | None) -> StepResult:
        target = step.target
        answer: dict[str, Any]
        if step.action == "remove_legal_hold":
            answer = call(
                self._clients.client("s3", region).put_object_legal_hold,
                Bucket=target["bucket"],
                Key=target["key"],
                VersionId=target["version_id"],
                LegalHold={"Status": "OFF"},
            )
        elif step.action == "cancel_backup_legal_hold":
            answer = call(
                self._clients.client("backup", region).cancel_legal_hold,
                LegalHoldId=target["legal_hold_id"],
                CancelDescription=target["reason"][:1000],
            )
        else:
            answer = {"error": {"code": "UnknownAction", "message": step.action}}
        return StepResult(step, "error" not in answer, answer.get("error"))
