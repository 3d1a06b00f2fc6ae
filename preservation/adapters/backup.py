"""AWS Backup: snapshot a vault, its in-scope recovery points and the legal holds; create legal holds.

Requests per check: DescribeBackupVault, the ListRecoveryPointsByBackupVault pages (narrowed to the
scope's first and last day), the ListLegalHolds pages, and for each ACTIVE hold GetLegalHold plus the
ListRecoveryPointsByLegalHold pages, which say exactly which points the hold keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from preservation.adapters.aws import AwsClients, call, error_record, jsonable
from preservation.domain.backup_evaluation import scope_bounds
from preservation.domain.destruction import parse_timestamp
from preservation.domain.evidence import error_of
from preservation.domain.preservation_plan import PlanStep, StepResult
from preservation.domain.scope import DateRange

_POINT_FIELDS = (
    "RecoveryPointArn",
    "CreationDate",
    "CompletionDate",
    "Status",
    "ResourceArn",
    "ResourceType",
    "BackupSizeInBytes",
    "Lifecycle",
    "CalculatedLifecycle",
    "IsParent",
    "ParentRecoveryPointArn",
)
_VAULT_FIELDS = (
    "BackupVaultName",
    "BackupVaultArn",
    "VaultType",
    "Locked",
    "MinRetentionDays",
    "MaxRetentionDays",
    "LockDate",
    "NumberOfRecoveryPoints",
)


def _pages(operation: Any, key: str, fields: Sequence[str] | None = None, **params: Any) -> dict[str, Any]:
    """Every page of a paginated call as one recorded answer; an error mid-way is recorded, not raised."""
    items: list[dict[str, Any]] = []
    pages = 0
    try:
        for page in operation.paginate(**params):
            pages += 1
            found = page.get(key, ())
            items.extend({f: i[f] for f in fields if f in i} if fields else i for i in found)
    except (ClientError, BotoCoreError) as error:
        return {"pages": pages, "error": error_record(error)}
    return {"pages": pages, "response": {key: jsonable(items)}}


class BackupInspector:
    """Reads a backup vault and its legal holds; creates legal holds (adapters.hold_release cancels them)."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def snapshot(self, vault: str, region: str | None, scope: Sequence[DateRange]) -> dict[str, Any]:
        """The raw answers a check evaluates, as plain JSON."""
        backup = self._clients.client("backup", region)
        snapshot: dict[str, Any] = {"kind": "aws_backup", "vault": vault, "region": region}
        described = call(backup.describe_backup_vault, BackupVaultName=vault)
        if "response" in described:
            described["response"] = {f: described["response"][f] for f in _VAULT_FIELDS if f in described["response"]}
        snapshot["describe_backup_vault"] = described
        if error_of(described) is not None:
            return snapshot
        first, last = scope_bounds(scope)
        narrowed: dict[str, Any] = {}
        if first is not None:
            narrowed["ByCreatedAfter"] = first
        if last is not None:
            narrowed["ByCreatedBefore"] = last
        snapshot["recovery_points"] = _pages(
            backup.get_paginator("list_recovery_points_by_backup_vault"),
            "RecoveryPoints",
            _POINT_FIELDS,
            BackupVaultName=vault,
            **narrowed,
        )
        snapshot["legal_holds"] = _pages(backup.get_paginator("list_legal_holds"), "LegalHolds")
        snapshot["legal_hold_details"] = []
        snapshot["legal_hold_points"] = []
        for hold in (snapshot["legal_holds"].get("response") or {}).get("LegalHolds", ()):
            if hold.get("Status") != "ACTIVE":
                continue
            hold_id = hold["LegalHoldId"]
            detail = call(backup.get_legal_hold, LegalHoldId=hold_id)
            snapshot["legal_hold_details"].append({"legal_hold_id": hold_id, **detail})
            points = _pages(
                backup.get_paginator("list_recovery_points_by_legal_hold"), "RecoveryPoints", LegalHoldId=hold_id
            )
            snapshot["legal_hold_points"].append({"legal_hold_id": hold_id, **points})
        return snapshot

    def apply(
        self,
        steps: Sequence[PlanStep],
        region: str | None,
        progress: Callable[[int], None] | None = None,
    ) -> list[StepResult]:
        """Create the planned legal holds, one by one; a created hold's id and ARN come back in the result."""
        backup = self._clients.client("backup", region)
        results = []
        for step in steps:
            target = step.target
            if step.action == "create_backup_legal_hold":
                answer = call(
                    backup.create_legal_hold,
                    Title=target["title"],
                    Description=f"Preservation of backup vault {target['vault']}: do not delete (litigation hold)",
                    RecoveryPointSelection={
                        "VaultNames": [target["vault"]],
                        "DateRange": {
                            "FromDate": parse_timestamp(target["from"]),
                            "ToDate": parse_timestamp(target["to"]),
                        },
                    },
                )
            else:
                answer = {"error": {"code": "UnknownAction", "message": step.action}}
            response = answer.get("response") or {}
            outcome = {k: response[k] for k in ("LegalHoldId", "LegalHoldArn") if k in response}
            results.append(StepResult(step, "error" not in answer, answer.get("error"), outcome=outcome))
            if progress is not None:
                progress(1)
        return results
