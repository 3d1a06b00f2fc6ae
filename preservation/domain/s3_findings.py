"""Findings about in-scope S3 versions: lifecycle, protection, delete markers, and versions gone missing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from preservation.domain.destruction import FOREVER, at_risk
from preservation.domain.findings import Finding, finding, iso
from preservation.domain.s3_versions import ManifestVersion, VersionAssessment


def _earliest(versions: Iterable[VersionAssessment]) -> dt.datetime | None:
    return min((v.destroy_at for v in versions if v.destroy_at is not None and v.destroy_at < FOREVER), default=None)


def _examples(versions: Sequence[VersionAssessment]) -> list[dict[str, Any]]:
    ordered = sorted(versions, key=lambda v: (v.destroy_at or FOREVER, v.key, v.version_id))
    return [v.example() for v in ordered[:10]]


def version_findings(
    versions: Sequence[VersionAssessment], duty_ends_at: dt.datetime | None, default_retention: Any
) -> list[Finding]:
    """Lifecycle, protection and visibility findings over the in-scope versions."""
    findings: list[Finding] = []
    known = [v for v in versions if v.protection != "unknown" and v.destroy_at is not None]
    by_rule: dict[str, list[VersionAssessment]] = defaultdict(list)
    for version in known:
        if version.lifecycle_rule and version.destroy_at is not None and at_risk(version.destroy_at, duty_ends_at):
            by_rule[version.lifecycle_rule].append(version)
    for rule_id, doomed in sorted(by_rule.items()):
        earliest = _earliest(doomed)
        assumed = sum(1 for v in doomed if v.assumed_tag_match)
        message = (
            f"lifecycle rule {rule_id!r} destroys {len(doomed)} in-scope version(s) before the duty ends, "
            f"the first on {iso(earliest)}"
        )
        if assumed:
            message += f" ({assumed} counted because their tags could not be read)"
        findings.append(
            finding(
                "S3_LIFECYCLE_DESTROYS_IN_SCOPE",
                message,
                count=len(doomed),
                examples=_examples(doomed),
                earliest_destruction_at=earliest,
                details={"rule_id": rule_id, "assumed_tag_match": assumed},
            )
        )
    unprotected = [v for v in versions if v.protection == "none"]
    if unprotected:
        hint = "" if default_retention else "; the bucket has no default retention either"
        findings.append(
            finding(
                "S3_VERSION_UNPROTECTED",
                f"{len(unprotected)} in-scope version(s) carry neither a legal hold nor a retention period: "
                f"anyone allowed to delete can destroy them{hint}",
                count=len(unprotected),
                examples=_examples(unprotected),
                earliest_destruction_at=_earliest(unprotected),
            )
        )
    governance = [v for v in versions if v.protection == "governance"]
    if governance:
        findings.append(
            finding(
                "S3_GOVERNANCE_ONLY",
                f"{len(governance)} in-scope version(s) are protected only by GOVERNANCE retention, which anyone "
                "with s3:BypassGovernanceRetention can lift",
                count=len(governance),
                examples=_examples(governance),
                earliest_destruction_at=_earliest(governance),
            )
        )
    ending = [
        v
        for v in versions
        if v.protection in {"compliance", "governance"} and v.retain_until and at_risk(v.retain_until, duty_ends_at)
    ]
    if ending:
        ends = min(v.retain_until for v in ending if v.retain_until)
        duty = "the open-ended duty" if duty_ends_at is None else f"the duty ({iso(duty_ends_at)})"
        findings.append(
            finding(
                "S3_RETENTION_ENDS_BEFORE_DUTY",
                f"the retention of {len(ending)} in-scope version(s) ends before {duty}, the first on {iso(ends)}: "
                "put a legal hold on them",
                count=len(ending),
                examples=[{**v.example(), "retain_until": iso(v.retain_until)} for v in ending[:10]],
                earliest_destruction_at=_earliest(ending),
                details={"protection_ends_at": iso(ends)},
            )
        )
    unknown = [v for v in versions if v.protection == "unknown" or v.destroy_at is None]
    if unknown:
        reasons = sorted({v.unknown_reason or "unknown" for v in unknown})
        findings.append(
            finding(
                "S3_LOCK_STATUS_UNKNOWN",
                f"the protection of {len(unknown)} in-scope version(s) cannot be established: {'; '.join(reasons)}",
                count=len(unknown),
                examples=_examples(unknown),
                earliest_destruction_at=_earliest(unknown),
                details={"reasons": reasons},
            )
        )
    return findings


def delete_markers_in_scope(listing: Mapping[str, Any], versions: Sequence[VersionAssessment]) -> list[Finding]:
    """S3_DELETE_MARKER_IN_SCOPE for keys whose in-scope data is hidden behind a current delete marker."""
    hidden_keys = {m["Key"] for m in listing.get("delete_markers", ()) if m.get("IsLatest")}
    hidden = [v for v in versions if v.key in hidden_keys]
    if not hidden:
        return []
    keys = sorted({v.key for v in hidden})
    return [
        finding(
            "S3_DELETE_MARKER_IN_SCOPE",
            f"{len(keys)} key(s) with in-scope data are hidden behind a delete marker; their {len(hidden)} version(s) "
            "are noncurrent now, subject to noncurrent-version expiration",
            count=len(hidden),
            examples=[v.example() for v in hidden[:10]],
            details={"keys": len(keys)},
        )
    ]


def is_gone(entry: ManifestVersion, listed: Mapping[tuple[str, str], str | None]) -> bool:
    """Whether a recorded version is no longer there: not listed, or listed with other content.

    The second case is an unversioned bucket, where an overwrite keeps the version id "null".
    """
    if (entry.key, entry.version_id) not in listed:
        return True
    etag = listed[(entry.key, entry.version_id)]
    return bool(entry.etag and etag and entry.etag != etag)


def missing_versions(
    manifest: Sequence[ManifestVersion], listed: Mapping[tuple[str, str], str | None]
) -> list[Finding]:
    """S3_VERSION_MISSING for recorded versions that are gone."""
    missing = [m for m in manifest if is_gone(m, listed)]
    if not missing:
        return []
    missing.sort(key=lambda m: (m.last_modified, m.key))
    return [
        finding(
            "S3_VERSION_MISSING",
            f"{len(missing)} in-scope version(s) recorded by an earlier check are gone from the bucket",
            count=len(missing),
            examples=[
                {"key": m.key, "version_id": m.version_id, "etag": m.etag, "last_modified": iso(m.last_modified)}
                for m in missing[:10]
            ],
        )
    ]
