"""CloudWatch Logs: snapshot a log group's retention, and raise it to cover a duty."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from preservation.adapters.aws import AwsClients, call, error_record, jsonable
from preservation.domain.preservation_plan import PlanStep, StepResult


class LogsInspector:
    """Reads and changes log groups."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def snapshot(self, log_group: str, region: str | None) -> dict[str, Any]:
        """describe_log_groups filtered on the name, keeping only the exact match (a prefix can match many)."""
        logs = self._clients.client("logs", region)
        snapshot: dict[str, Any] = {"kind": "cloudwatch_logs", "log_group": log_group, "region": region}
        groups: list[dict[str, Any]] = []
        pages = 0
        try:
            for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=log_group):
                pages += 1
                groups.extend(g for g in page.get("logGroups", ()) if g.get("logGroupName") == log_group)
        except (ClientError, BotoCoreError) as error:
            snapshot["describe_log_groups"] = {"error": error_record(error), "pages": pages}
            return snapshot
        snapshot["describe_log_groups"] = {"response": {"logGroups": jsonable(groups)}, "pages": pages}
        return snapshot

    def apply(
        self,
        steps: Sequence[PlanStep],
        region: str | None,
        progress: Callable[[int], None] | None = None,
    ) -> list[StepResult]:
        """Carry out retention changes, one by one."""
        logs = self._clients.client("logs", region)
        results = []
        for step in steps:
            name = step.target["log_group"]
            if step.action == "remove_log_retention":
                answer = call(logs.delete_retention_policy, logGroupName=name)
            elif step.action == "set_log_retention":
                answer = call(logs.put_retention_policy, logGroupName=name, retentionInDays=step.target["to_days"])
            else:
                answer = {"error": {"code": "UnknownAction", "message": step.action}}
            results.append(StepResult(step, "error" not in answer, answer.get("error")))
            if progress is not None:
                progress(1)
        return results
