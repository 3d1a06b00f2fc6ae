"""Evaluating an S3 snapshot (the raw API answers a collector gathered) into findings and a status.

A snapshot is plain JSON: each call is recorded as {"response": ...} or {"error": {"code", "message",
"http_status"}}, timestamps as ISO 8601 strings, so the stored evidence can be evaluated again later and
give the same answer. Fail closed throughout: whatever cannot be read is `unverifiable`, a bucket or
version that was seen before and is gone is `lost`, and `preserved` needs proof for every version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from preservation.domain.destruction import LifecycleRule, in_scope, parse_lifecycle_rules
from preservation.domain.evidence import error_of, is_code, is_denied
from preservation.domain.findings import Evaluation, Finding, conclude, config_drift, drift_finding, finding
from preservation.domain.s3_findings import add_hidden, missing_versions, tally_versions, version_findings
from preservation.domain.s3_versions import ManifestVersion, VersionAssessment, assess_versions
from preservation.domain.scope import DateRange

__all__ = ["BucketSettings", "ManifestVersion", "S3Assessment", "VersionAssessment", "bucket_settings", "evaluate_s3"]


@dataclass(frozen=True)
class S3Assessment:
    """The evaluation, plus every in-scope version (for the manifest and the preservation plan)."""

    evaluation: Evaluation
    versions: Sequence[VersionAssessment]
    versioning: str | None
    object_lock: str  # enabled, disabled or unknown
    bucket_missing: bool = False


def evaluate_s3(
    snapshot: Mapping[str, Any],
    scope: Sequence[DateRange],
    now: dt.datetime,
    *,
    duty_ends_at: dt.datetime | None = None,
    manifest: Iterable[ManifestVersion] = (),
    previous_config: Mapping[str, Any] | None = None,
    seen_before: bool = False,
) -> S3Assessment:
    """Judge an S3 snapshot against the scope of the duty."""
    findings: list[Finding] = []
    versioning_call = snapshot.get("versioning")
    if is_code(error_of(versioning_call), "NoSuchBucket") or is_code(error_of(snapshot.get("listing")), "NoSuchBucket"):
        status = "lost" if seen_before else "unverifiable"
        message = f"bucket {snapshot.get('bucket')} does not exist" + (
            "; it held in-scope data when last checked" if seen_before else ""
        )
        findings.append(finding("S3_BUCKET_MISSING", message, status=status))
        return S3Assessment(conclude(findings), (), None, "unknown", bucket_missing=True)

    denied, failed = _unreadable_calls(snapshot)
    if denied:
        findings.append(
            finding(
                "S3_ACCESS_DENIED",
                f"access denied reading {', '.join(denied)}: the bucket cannot be verified",
                details={"calls": denied},
            )
        )
    if failed:
        findings.append(
            finding(
                "S3_READ_FAILED",
                f"could not read {', '.join(failed)} (timeouts, throttling or server errors after retries)",
                details={"calls": failed, "errors": {name: error_of(snapshot.get(name)) for name in failed}},
            )
        )

    versioning = _versioning(versioning_call)
    object_lock, default_retention = _object_lock(snapshot.get("object_lock"))
    rules = _rules(snapshot.get("lifecycle"))
    config = _config(snapshot, versioning, object_lock)
    if versioning_call is not None and "response" in versioning_call and versioning != "Enabled":
        state = "suspended" if versioning == "Suspended" else "not enabled"
        findings.append(
            finding(
                "S3_VERSIONING_DISABLED",
                f"versioning is {state}: an overwrite or delete destroys data for good",
                details={"versioning": versioning or "Disabled"},
            )
        )
    if object_lock == "disabled":
        findings.append(
            finding(
                "S3_OBJECT_LOCK_DISABLED",
                "Object Lock is not enabled on the bucket: no version can carry a legal hold or retention",
            )
        )
    diff = config_drift(previous_config, config)
    if diff:
        findings.append(drift_finding(diff))

    listing = snapshot.get("listing")
    if listing is None or "error" in listing:
        return S3Assessment(conclude(findings, config=config), (), versioning, object_lock)

    versions = assess_versions(snapshot, scope, now, versioning, object_lock, rules)
    tallies = tally_versions(versions, duty_ends_at)
    add_hidden(tallies, listing, versions)
    findings.extend(version_findings(tallies, default_retention))
    listed = {(v["Key"], v["VersionId"]): v.get("ETag") for v in listing.get("versions", ())}
    in_scope_manifest = [m for m in manifest if in_scope(scope, m.last_modified)]
    findings.extend(missing_versions(in_scope_manifest, listed))
    if not versions and not in_scope_manifest:
        findings.append(
            finding(
                "S3_NO_VERSIONS_IN_SCOPE",
                "no object version under the prefix was written inside the preservation scope: "
                "nothing could be proven preserved (check the location and the obligations' dates)",
            )
        )
    earliest = tallies.earliest
    summary = {
        "versions_listed": len(listing.get("versions", ())),
        "delete_markers_listed": len(listing.get("delete_markers", ())),
        "listing_pages": listing.get("pages"),
        "versions_in_scope": len(versions),
        "heads_read": sum(1 for h in snapshot.get("heads", ()) if "response" in h),
        "head_errors": sum(1 for h in snapshot.get("heads", ()) if "error" in h),
        "manifest_in_scope": len(in_scope_manifest),
    }
    return S3Assessment(
        conclude(findings, earliest=earliest, config=config, summary=summary), versions, versioning, object_lock
    )


@dataclass(frozen=True)
class BucketSettings:
    """What every version of a bucket is judged against, as read from a snapshot."""

    versioning: str | None
    object_lock: str  # enabled, disabled or unknown
    default_retention: Mapping[str, Any] | None
    rules: list[LifecycleRule] | None  # None when they could not be read


def bucket_settings(snapshot: Mapping[str, Any]) -> BucketSettings:
    """The bucket's versioning, Object Lock, default retention and Enabled lifecycle rules."""
    object_lock, default_retention = _object_lock(snapshot.get("object_lock"))
    return BucketSettings(
        _versioning(snapshot.get("versioning")), object_lock, default_retention, _rules(snapshot.get("lifecycle"))
    )


def _unreadable_calls(snapshot: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    denied: list[str] = []
    failed: list[str] = []
    expected_absent = {
        "object_lock": ("ObjectLockConfigurationNotFoundError",),
        "lifecycle": ("NoSuchLifecycleConfiguration",),
    }
    for name in ("versioning", "object_lock", "lifecycle", "listing"):
        error = error_of(snapshot.get(name))
        if error is None or is_code(error, *expected_absent.get(name, ())):
            continue
        (denied if is_denied(error) else failed).append(name)
    return denied, failed


def _versioning(call: Mapping[str, Any] | None) -> str | None:
    if call is None or "response" not in call:
        return None
    status = call["response"].get("Status")
    return str(status) if status else None


def _object_lock(call: Mapping[str, Any] | None) -> tuple[str, Mapping[str, Any] | None]:
    if call is None:
        return "unknown", None
    if is_code(error_of(call), "ObjectLockConfigurationNotFoundError"):
        return "disabled", None
    if "response" not in call:
        return "unknown", None
    configuration = call["response"].get("ObjectLockConfiguration") or {}
    if configuration.get("ObjectLockEnabled") != "Enabled":
        return "disabled", None
    return "enabled", (configuration.get("Rule") or {}).get("DefaultRetention")


def _rules(call: Mapping[str, Any] | None) -> list[LifecycleRule] | None:
    """Enabled rules, [] when the bucket has none, None when they could not be read."""
    if call is None:
        return None
    if is_code(error_of(call), "NoSuchLifecycleConfiguration"):
        return []
    if "response" not in call:
        return None
    return parse_lifecycle_rules(call["response"].get("Rules") or ())


def _config(snapshot: Mapping[str, Any], versioning: str | None, object_lock: str) -> dict[str, Any]:
    """The retention-relevant settings that could be read; unreadable ones are left out."""
    config: dict[str, Any] = {}
    if "response" in (snapshot.get("versioning") or {}):
        config["versioning"] = versioning or "Disabled"
        config["mfa_delete"] = snapshot["versioning"]["response"].get("MFADelete") or "Disabled"
    if object_lock != "unknown":
        lock = (snapshot.get("object_lock") or {}).get("response") or {}
        config["object_lock"] = lock.get("ObjectLockConfiguration") or {"ObjectLockEnabled": "Disabled"}
    lifecycle = snapshot.get("lifecycle") or {}
    if "response" in lifecycle:
        config["lifecycle_rules"] = lifecycle["response"].get("Rules") or []
    elif is_code(error_of(lifecycle), "NoSuchLifecycleConfiguration"):
        config["lifecycle_rules"] = []
    return config


# Versions ---------------------------------------------------------------------------------------------
