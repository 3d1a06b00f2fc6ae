"""Per-scope destruction times from stored evidence (pure): each kind, and failing closed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from preservation.domain.scope import DateRange
from preservation.domain.scope_times import (
    CANNOT_TELL,
    DESTROYED_FROM,
    LOST,
    NONE_FOUND,
    NOT_COMPUTED,
    StoredCheck,
    scope_time,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 28, 12, tzinfo=UTC)
EARLY = DateRange(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
LATE = DateRange(dt.date(2026, 1, 1), None)
DENIED = {"error": {"code": "AccessDenied", "message": "denied", "http_status": 403}}


def stored(kind: str, snapshot: dict[str, Any], **fields: Any) -> StoredCheck:
    return StoredCheck(
        kind=kind,
        status=fields.pop("status", "at_risk"),
        finished_at=NOW,
        snapshot=snapshot,
        truncated=fields.pop("truncated", False),
        **fields,
    )


def logs(retention: int | None) -> dict[str, Any]:
    group: dict[str, Any] = {"logGroupName": "/app", "creationTime": 1_600_000_000_000}
    if retention is not None:
        group["retentionInDays"] = retention
    return {"kind": "cloudwatch_logs", "log_group": "/app", "describe_log_groups": {"response": {"logGroups": [group]}}}


def test_a_log_group_deletes_each_range_from_its_first_day_plus_the_retention() -> None:
    check = stored("cloudwatch_logs", logs(365))
    early, late = scope_time(check, EARLY), scope_time(check, LATE)
    assert (early.state, early.at) == (DESTROYED_FROM, dt.datetime(2024, 12, 31, tzinfo=UTC))
    assert (late.state, late.at) == (DESTROYED_FROM, dt.datetime(2027, 1, 1, tzinfo=UTC))
    forever = scope_time(stored("cloudwatch_logs", logs(None)), EARLY)
    assert forever.state == NONE_FOUND
    denied = {"kind": "cloudwatch_logs", "log_group": "/app", "describe_log_groups": DENIED}
    assert scope_time(stored("cloudwatch_logs", denied, status="unverifiable"), EARLY).state == CANNOT_TELL


def point(arn: str, created: str, delete_at: str | None) -> dict[str, Any]:
    answer: dict[str, Any] = {"RecoveryPointArn": arn, "CreationDate": created, "Status": "COMPLETED"}
    if delete_at is not None:
        answer["CalculatedLifecycle"] = {"DeleteAt": delete_at}
        answer["Lifecycle"] = {"DeleteAfterDays": 400}
    return answer


def vault(points: list[dict[str, Any]], *, holds: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "kind": "aws_backup",
        "vault": "claims",
        "describe_backup_vault": {"response": {"BackupVaultName": "claims", "Locked": False}},
        "recovery_points": {"response": {"RecoveryPoints": points}},
        "legal_holds": holds if holds is not None else {"response": {"LegalHolds": []}},
        "legal_hold_points": [],
    }


def test_backup_points_give_each_range_its_own_first_deletion() -> None:
    points = [
        point("arn:early", "2024-03-01T00:00:00+00:00", "2027-02-01T00:00:00+00:00"),
        point("arn:late", "2026-03-01T00:00:00+00:00", "2027-09-01T00:00:00+00:00"),
    ]
    check = stored("aws_backup", vault(points))
    assert scope_time(check, EARLY).at == dt.datetime(2027, 2, 1, tzinfo=UTC)
    assert scope_time(check, LATE).at == dt.datetime(2027, 9, 1, tzinfo=UTC)
    unreadable_holds = stored("aws_backup", vault(points, holds=DENIED), status="unverifiable")
    assert scope_time(unreadable_holds, EARLY).state == CANNOT_TELL
    gone = stored(
        "aws_backup",
        vault(points),
        status="lost",
        findings=[("BACKUP_RECOVERY_POINT_MISSING", 1, [{"recovery_point_arn": "arn:old"}])],
    )
    assert scope_time(gone, LATE).state == CANNOT_TELL  # a missing point names no creation date


def s3(versions: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "kind": "s3",
        "bucket": "claims",
        "prefix": "",
        "versioning": {"response": {"Status": "Enabled"}},
        "object_lock": {"error": {"code": "ObjectLockConfigurationNotFoundError", "message": "", "http_status": 404}},
        "lifecycle": {"error": {"code": "NoSuchLifecycleConfiguration", "message": "", "http_status": 404}},
        "listing": {
            "pages": 1,
            "versions": [
                {"Key": key, "VersionId": "v1", "IsLatest": True, "LastModified": written, "Size": 1}
                for key, written in versions
            ],
            "delete_markers": [],
        },
        "heads": [],
        "tags": [],
    }


def test_s3_versions_gone_are_lost_in_their_own_range_only() -> None:
    snapshot = s3([("late.pdf", "2026-05-01T00:00:00+00:00")])
    missing = [("S3_VERSION_MISSING", 1, [{"key": "early.pdf", "last_modified": "2024-05-01T00:00:00+00:00"}])]
    check = stored("s3", snapshot, status="lost", findings=missing)
    assert scope_time(check, EARLY).state == LOST
    assert scope_time(check, LATE).state == NONE_FOUND
    unnamed = [("S3_VERSION_MISSING", 40, [{"key": "early.pdf", "last_modified": "2024-05-01T00:00:00+00:00"}])]
    assert scope_time(stored("s3", snapshot, status="lost", findings=unnamed), LATE).state == CANNOT_TELL


def test_what_the_stored_evidence_cannot_split_is_not_computed() -> None:
    snapshot = s3([("late.pdf", "2026-05-01T00:00:00+00:00")])
    assert scope_time(stored("s3", snapshot, truncated=True), LATE).state == NOT_COMPUTED
    inventory = {**snapshot, "inventory": {"tallies": {}}}
    assert scope_time(stored("s3", inventory), LATE).state == NOT_COMPUTED
    assert scope_time(stored("manual", {"kind": "manual"}), LATE).state == NOT_COMPUTED
    failed = {"kind": "s3", "collector_error": "TimeoutError: slow"}
    assert scope_time(stored("s3", failed, status="unverifiable"), LATE).state == CANNOT_TELL
    nameless = scope_time(stored("cloudwatch_logs", {"kind": "cloudwatch_logs"}), LATE)
    assert (nameless.state, nameless.reason) == (CANNOT_TELL, "the stored evidence does not name the log group")
