"""S3 Batch Operations through s3control: create a legal-hold job, and read how far it has got."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from preservation.adapters.aws import AwsClients, call
from preservation.domain.batch_operations import create_job_request
from preservation.domain.preservation_plan import PlanStep, StepResult

_JOB_FIELDS = ("JobId", "Status", "ProgressSummary", "FailureReasons", "StatusUpdateReason", "CreationTime")


class BatchOperations:
    """Creates and describes S3 Batch Operations jobs; AWS errors are recorded, never raised."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def create_hold_job(self, step: PlanStep, region: str | None) -> StepResult:
        """Create the job of a batch step; its id is the step's outcome."""
        s3control = self._clients.client("s3control", region)
        # One token per step: a retried request does not create a second job.
        token = str(uuid.uuid5(uuid.NAMESPACE_URL, repr(sorted(step.target.items()))))
        answer = call(s3control.create_job, **create_job_request(step.target, token))
        if "error" in answer:
            return StepResult(step, False, answer["error"])
        return StepResult(step, True, None, {"job_id": answer["response"]["JobId"]})

    def describe(self, account_id: str, job_id: str, region: str | None) -> Mapping[str, Any]:
        """describe_job's answer about one job, as evidence: {"response": {...}} or {"error": {...}}."""
        s3control = self._clients.client("s3control", region)
        answer = call(s3control.describe_job, AccountId=account_id, JobId=job_id)
        if "response" in answer:
            job = answer["response"].get("Job") or {}
            answer["response"] = {f: job[f] for f in _JOB_FIELDS if f in job}
        return answer
