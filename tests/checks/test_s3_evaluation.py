"""Evaluating S3 snapshots (pure): visibility first, fail closed, each finding code and its status."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from preservation.domain.destruction import FOREVER
from preservation.domain.findings import FINDING_CODES, Finding, overall_status
from preservation.domain.s3_check import ManifestVersion, S3Assessment, evaluate_s3
from preservation.domain.scope import DateRange

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 28, 12, tzinfo=UTC)
MODIFIED = "2026-11-01T10:00:00+00:00"
SCOPE = [DateRange(dt.date(2026, 1, 1), None)]
DENIED = {"error": {"code": "AccessDenied", "message": "Access Denied", "http_status": 403}}
NO_HOLD = {"error": {"code": "NoSuchObjectLockConfiguration", "message": "none", "http_status": 404}}


def snapshot(
    heads: list[dict[str, Any]] | None = None,
    *,
    versions: list[dict[str, Any]] | None = None,
    markers: list[dict[str, Any]] | None = None,
    rules: list[dict[str, Any]] | None = None,
    probe: dict[str, Any] | None = None,
    lock: bool = True,
    **calls: Any,
) -> dict[str, Any]:
    """A versioned, lock-enabled bucket with one in-scope version `v1` of key `cam.mp4` unless told."""
    versions = versions if versions is not None else [version("cam.mp4", "v1")]
    result: dict[str, Any] = {
        "kind": "s3",
        "bucket": "poe-video",
        "prefix": "",
        "versioning": {"response": {"Status": "Enabled"}},
        "object_lock": {"response": {"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}}}
        if lock
        else {"error": {"code": "ObjectLockConfigurationNotFoundError", "message": "", "http_status": 404}},
        "lifecycle": {"response": {"Rules": rules}}
        if rules is not None
        else {"error": {"code": "NoSuchLifecycleConfiguration", "message": "", "http_status": 404}},
        "listing": {"pages": 1, "versions": versions, "delete_markers": markers or []},
        "legal_hold_probe": {"key": "cam.mp4", "version_id": "v1", **(probe if probe is not None else NO_HOLD)},
        "heads": [{"key": v["Key"], "version_id": v["VersionId"], "response": {}} for v in versions]
        if heads is None
        else heads,
        "tags": [],
    }
    result.update(calls)
    return result


def version(key: str, version_id: str, modified: str = MODIFIED, *, latest: bool = True) -> dict[str, Any]:
    return {"Key": key, "VersionId": version_id, "IsLatest": latest, "LastModified": modified, "ETag": '"e"', "Size": 9}


def head(fields: dict[str, Any], key: str = "cam.mp4", version_id: str = "v1") -> dict[str, Any]:
    return {"key": key, "version_id": version_id, "response": fields}


def judge(snap: dict[str, Any], **kwargs: Any) -> S3Assessment:
    return evaluate_s3(snap, SCOPE, NOW, **kwargs)


def by_code(assessment: S3Assessment) -> dict[str, Finding]:
    return {f.code: f for f in assessment.evaluation.findings}


def test_every_code_has_a_known_severity_and_status() -> None:
    for severity, status in FINDING_CODES.values():
        assert severity in {"critical", "high", "medium", "low", "info"}
        assert status in {None, "lost", "at_risk", "unverifiable"}
    assert overall_status([]) == "preserved"


def test_legal_hold_on_every_version_is_preserved() -> None:
    result = judge(snapshot([head({"ObjectLockLegalHoldStatus": "ON"})]))
    assert result.evaluation.status == "preserved"
    assert result.evaluation.findings == ()
    assert result.versions[0].destroy_at == FOREVER
    assert result.evaluation.earliest_destruction_at is None


@pytest.mark.parametrize(
    "probe",
    [NO_HOLD, {"response": {"LegalHold": {}}}, {"response": {"LegalHold": {"Status": "OFF"}}}],
    ids=["aws-no-configuration", "moto-empty-answer", "status-off"],
)
def test_missing_lock_fields_mean_no_lock_once_visibility_is_proven(probe: dict[str, Any]) -> None:
    result = judge(snapshot(probe=probe))
    assert result.evaluation.status == "at_risk"
    assert by_code(result)["S3_VERSION_UNPROTECTED"].count == 1
    assert result.versions[0].protection == "none"


def test_a_denied_probe_leaves_every_missing_field_unknown_never_held() -> None:
    result = judge(snapshot(probe=DENIED))
    assert result.evaluation.status == "unverifiable"
    unknown = by_code(result)["S3_LOCK_STATUS_UNKNOWN"]
    assert unknown.count == 1
    assert "s3:GetObjectLegalHold" in unknown.message
    assert "S3_VERSION_UNPROTECTED" not in by_code(result)
    assert result.versions[0].legal_hold is None


def test_a_hold_that_head_shows_counts_even_when_the_probe_was_denied() -> None:
    result = judge(snapshot([head({"ObjectLockLegalHoldStatus": "ON"})], probe=DENIED))
    assert result.evaluation.status == "preserved"


def test_a_failed_head_is_unknown() -> None:
    failed = {"key": "cam.mp4", "version_id": "v1", "error": {"code": "ReadTimeoutError", "message": "timeout"}}
    result = judge(snapshot([failed]))
    assert result.evaluation.status == "unverifiable"
    assert "HEAD failed (ReadTimeoutError)" in by_code(result)["S3_LOCK_STATUS_UNKNOWN"].message


def test_every_call_denied_is_unverifiable() -> None:
    snap = {
        "kind": "s3",
        "bucket": "poe-video",
        "versioning": DENIED,
        "object_lock": DENIED,
        "lifecycle": DENIED,
        "listing": {"pages": 0, **DENIED},
    }
    result = judge(snap)
    assert result.evaluation.status == "unverifiable"
    assert set(by_code(result)) == {"S3_ACCESS_DENIED"}
    assert by_code(result)["S3_ACCESS_DENIED"].details["calls"] == ["versioning", "object_lock", "lifecycle", "listing"]


def test_unreadable_lifecycle_rules_make_unheld_versions_unknown() -> None:
    result = judge(snapshot(lifecycle=DENIED))
    codes = by_code(result)
    assert {"S3_ACCESS_DENIED", "S3_VERSION_UNPROTECTED", "S3_LOCK_STATUS_UNKNOWN"} <= set(codes)
    assert result.versions[0].destroy_at is None
    held = judge(snapshot([head({"ObjectLockLegalHoldStatus": "ON"})], lifecycle=DENIED))
    assert held.versions[0].destroy_at == FOREVER, "a legal hold outlasts any rule, readable or not"


def test_a_throttled_listing_is_read_failed() -> None:
    listing = {"pages": 2, "error": {"code": "SlowDown", "message": "", "http_status": 503}}
    result = judge(snapshot(listing=listing))
    assert result.evaluation.status == "unverifiable"
    assert by_code(result)["S3_READ_FAILED"].details["calls"] == ["listing"]
    assert result.versions == ()


@pytest.mark.parametrize(("seen_before", "status"), [(False, "unverifiable"), (True, "lost")])
def test_a_missing_bucket(seen_before: bool, status: str) -> None:
    missing = {"error": {"code": "NoSuchBucket", "message": "", "http_status": 404}}
    result = judge({"kind": "s3", "bucket": "poe-video", "versioning": missing}, seen_before=seen_before)
    assert result.evaluation.status == status
    assert set(by_code(result)) == {"S3_BUCKET_MISSING"}
    assert result.bucket_missing


def test_governance_only_and_retention_ending_before_an_open_duty() -> None:
    until = "2027-01-01T00:00:00+00:00"
    result = judge(snapshot([head({"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": until})]))
    codes = by_code(result)
    assert result.evaluation.status == "at_risk"
    assert {"S3_GOVERNANCE_ONLY", "S3_RETENTION_ENDS_BEFORE_DUTY"} == set(codes)
    assert codes["S3_RETENTION_ENDS_BEFORE_DUTY"].details == {"protection_ends_at": until}


def test_compliance_retention_outlasting_a_finite_duty_is_preserved() -> None:
    fields = {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": "2030-01-01T00:00:00+00:00"}
    rules = [
        {
            "ID": "x",
            "Status": "Enabled",
            "Filter": {},
            "Expiration": {"Days": 1},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        }
    ]
    ends = dt.datetime(2029, 1, 1, tzinfo=UTC)
    result = judge(snapshot([head(fields)], rules=rules), duty_ends_at=ends)
    assert result.evaluation.status == "preserved", result.evaluation.findings
    assert result.versions[0].destroy_at == dt.datetime(2030, 1, 1, tzinfo=UTC)
    too_long = judge(snapshot([head(fields)], rules=rules), duty_ends_at=dt.datetime(2031, 1, 1, tzinfo=UTC))
    assert set(by_code(too_long)) == {"S3_RETENTION_ENDS_BEFORE_DUTY", "S3_LIFECYCLE_DESTROYS_IN_SCOPE"}


def test_lifecycle_findings_name_the_rule_count_and_earliest_time() -> None:
    rules = [
        {"ID": "cams", "Status": "Enabled", "Filter": {"Prefix": "cam"}, "Expiration": {"Days": 30}},
        {"ID": "old", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 3}},
    ]
    versions = [
        version("cam.mp4", "v2", "2026-11-20T00:00:00+00:00"),
        version("cam.mp4", "v1", "2026-11-01T10:00:00+00:00", latest=False),
    ]
    result = judge(snapshot(versions=versions, rules=rules))
    codes = by_code(result)
    lifecycle = codes["S3_LIFECYCLE_DESTROYS_IN_SCOPE"]
    assert lifecycle.details["rule_id"] == "old"
    assert lifecycle.count == 2
    # v1 is noncurrent since v2 was written: ceil(2026-11-20 + 3 days) = 2026-11-23.
    assert lifecycle.earliest_destruction_at == dt.datetime(2026, 11, 23, tzinfo=UTC)
    # v2 goes noncurrent at ceil(2026-11-20 + 30 days) = 2026-12-20, then 3 days more.
    assert {v.version_id: v.destroy_at for v in result.versions}["v2"] == dt.datetime(2026, 12, 23, tzinfo=UTC)
    assert result.evaluation.earliest_destruction_at == dt.datetime(2026, 11, 23, tzinfo=UTC)


def test_tag_filters_use_tag_counts_and_tag_reads() -> None:
    rules = [
        {"ID": "tagged", "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Expiration": {"Days": 1}}
    ]
    untagged = judge(snapshot([head({})], rules=rules, versioning={"response": {}}, lock=False))
    assert "S3_LIFECYCLE_DESTROYS_IN_SCOPE" not in by_code(untagged)
    tagged = {"key": "cam.mp4", "version_id": "v1", "response": {"TagSet": [{"Key": "k", "Value": "v"}]}}
    matched = judge(
        snapshot([head({"TagCount": 1})], rules=rules, tags=[tagged], versioning={"response": {}}, lock=False)
    )
    assert by_code(matched)["S3_LIFECYCLE_DESTROYS_IN_SCOPE"].details["assumed_tag_match"] == 0
    unread = judge(snapshot([head({"TagCount": 1})], rules=rules, versioning={"response": {}}, lock=False))
    assumed = by_code(unread)["S3_LIFECYCLE_DESTROYS_IN_SCOPE"]
    assert assumed.details["assumed_tag_match"] == 1
    assert "tags could not be read" in assumed.message


def test_delete_markers_hide_in_scope_versions_without_forcing_a_status() -> None:
    markers = [{"Key": "cam.mp4", "VersionId": "m1", "IsLatest": True, "LastModified": "2026-11-02T00:00:00+00:00"}]
    versions = [version("cam.mp4", "v1", latest=False)]
    result = judge(snapshot([head({"ObjectLockLegalHoldStatus": "ON"})], versions=versions, markers=markers))
    assert result.evaluation.status == "preserved"
    assert by_code(result)["S3_DELETE_MARKER_IN_SCOPE"].status is None


def test_manifest_versions_gone_or_overwritten_are_lost() -> None:
    recorded = ManifestVersion("cam.mp4", "v0", dt.datetime(2026, 10, 1, tzinfo=UTC), '"e"', 9)
    result = judge(snapshot([head({"ObjectLockLegalHoldStatus": "ON"})]), manifest=[recorded])
    assert result.evaluation.status == "lost"
    assert by_code(result)["S3_VERSION_MISSING"].examples[0]["version_id"] == "v0"
    out_of_scope = ManifestVersion("cam.mp4", "v0", dt.datetime(2025, 10, 1, tzinfo=UTC))
    assert judge(snapshot([head({"ObjectLockLegalHoldStatus": "ON"})]), manifest=[out_of_scope]).evaluation.status == (
        "preserved"
    )
    # Unversioned bucket: an overwrite keeps version id "null" but not the content.
    overwritten = ManifestVersion("cam.mp4", "null", dt.datetime(2026, 10, 1, tzinfo=UTC), '"old"', 9)
    snap = snapshot(versions=[version("cam.mp4", "null")], versioning={"response": {}}, lock=False)
    assert "S3_VERSION_MISSING" in by_code(judge(snap, manifest=[overwritten]))


def test_config_drift_compares_only_what_both_checks_could_read() -> None:
    first = judge(snapshot([head({"ObjectLockLegalHoldStatus": "ON"})]))
    assert first.evaluation.config == {
        "versioning": "Enabled",
        "mfa_delete": "Disabled",
        "object_lock": {"ObjectLockEnabled": "Enabled"},
        "lifecycle_rules": [],
    }
    rules = [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]
    changed = judge(
        snapshot([head({"ObjectLockLegalHoldStatus": "ON"})], rules=rules), previous_config=first.evaluation.config
    )
    assert by_code(changed)["CONFIG_DRIFT"].details == {"lifecycle_rules": {"from": [], "to": rules}}
    denied = judge(
        snapshot([head({"ObjectLockLegalHoldStatus": "ON"})], lifecycle=DENIED), previous_config=first.evaluation.config
    )
    assert "CONFIG_DRIFT" not in by_code(denied)


def test_nothing_in_scope_is_not_preserved() -> None:
    result = judge(snapshot(versions=[version("cam.mp4", "v1", "2025-06-01T00:00:00+00:00")]))
    assert result.evaluation.status == "unverifiable"
    assert set(by_code(result)) == {"S3_NO_VERSIONS_IN_SCOPE"}
