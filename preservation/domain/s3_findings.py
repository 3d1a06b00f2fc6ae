"""Findings about in-scope S3 versions: lifecycle, protection, delete markers, and versions gone missing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from preservation.domain.destruction import FOREVER, parse_timestamp
from preservation.domain.findings import Finding, finding, iso
from preservation.domain.s3_versions import ManifestVersion, VersionAssessment

MAX_EXAMPLES = 10


Example = tuple[dt.datetime, str, str, Any]


@dataclass
class Tally:
    """A count, the earliest destruction time, and the versions destroyed first, kept as versions stream by."""

    count: int = 0
    earliest: dt.datetime | None = None
    # (destroy_at or FOREVER, key, version_id, last modified, retain_until): the MAX_EXAMPLES destroyed first.
    examples: list[tuple[dt.datetime, str, str, Any, dt.datetime | None]] = field(default_factory=list)
    assumed: int = 0
    extra_min: dt.datetime | None = None

    def add(  # noqa: PLR0917  (called once per version on the hot path; keyword arguments cost time)
        self,
        destroy: dt.datetime | None,
        key: str,
        version_id: str,
        last_modified: Any,
        assumed: bool = False,
        retain_until: dt.datetime | None = None,
    ) -> None:
        """Count one version; `last_modified` may be a datetime or an ISO 8601 string."""
        self.count += 1
        if destroy is not None and destroy < FOREVER and (self.earliest is None or destroy < self.earliest):
            self.earliest = destroy
        if assumed:
            self.assumed += 1
        if retain_until is not None and (self.extra_min is None or retain_until < self.extra_min):
            self.extra_min = retain_until
        examples = self.examples
        when = destroy or FOREVER
        if len(examples) == MAX_EXAMPLES:
            last = examples[-1]
            # Most versions lose here, before any tuple is built.
            if when > last[0] or (when == last[0] and (key, version_id) >= (last[1], last[2])):
                return
        examples.append((when, key, version_id, last_modified, retain_until))
        examples.sort(key=lambda e: e[:3])
        del examples[MAX_EXAMPLES:]

    def add_count(self, count: int, *, assumed: bool = False) -> None:
        """Count versions already represented (date and examples) by others of the same outcome."""
        self.count += count
        if assumed:
            self.assumed += count

    def example_list(self) -> list[dict[str, Any]]:
        """The examples, destroyed first first."""
        listed = []
        for destroy, key, version_id, last_modified, retain_until in self.examples:
            moment = parse_timestamp(last_modified)
            example = {
                "key": key,
                "version_id": version_id,
                "last_modified": iso(moment),
                "destroy_at": None if destroy >= FOREVER else iso(destroy),
            }
            if retain_until is not None:
                example["retain_until"] = iso(retain_until)
            listed.append(example)
        return listed


@dataclass
class VersionTallies:
    """Everything the version findings need, built one version at a time (from a listing or an inventory)."""

    duty_ends_at: dt.datetime | None = None
    in_scope: int = 0
    earliest: dt.datetime | None = None
    by_rule: dict[str, Tally] = field(default_factory=dict)
    unprotected: Tally = field(default_factory=Tally)
    governance: Tally = field(default_factory=Tally)
    ending: Tally = field(default_factory=Tally)
    unknown: Tally = field(default_factory=Tally)
    unknown_reasons: set[str] = field(default_factory=set)
    hidden: Tally = field(default_factory=Tally)
    hidden_keys: int = 0

    def add(self, version: VersionAssessment, *, hidden: bool = False) -> None:
        """Judge one in-scope version into the tallies."""
        self.record(
            version.key,
            version.version_id,
            version.last_modified,
            version.protection,
            version.destroy_at,
            version.lifecycle_rule,
            version.retain_until,
            version.assumed_tag_match,
            version.unknown_reason,
            hidden,
        )

    def record(  # noqa: PLR0917  (the hot path of a million-row inventory: positional on purpose)
        self,
        key: str,
        version_id: str,
        last_modified: Any,
        protection: str,
        destroy: dt.datetime | None,
        lifecycle_rule: str | None,
        retain_until: dt.datetime | None,
        assumed: bool,
        unknown_reason: str | None,
        hidden: bool,
    ) -> None:
        """Judge one in-scope version, given as plain values."""
        self.in_scope += 1
        if destroy is not None and destroy < FOREVER and (self.earliest is None or destroy < self.earliest):
            self.earliest = destroy
        if hidden:
            self.hidden.add(destroy, key, version_id, last_modified)
        if protection == "legal_hold":
            return
        duty_ends_at = self.duty_ends_at or FOREVER
        if protection == "unknown" or destroy is None:
            self.unknown.add(destroy, key, version_id, last_modified)
            self.unknown_reasons.add(unknown_reason or "unknown")
        elif lifecycle_rule is not None and destroy < duty_ends_at:
            tally = self.by_rule.get(lifecycle_rule)
            if tally is None:
                tally = self.by_rule[lifecycle_rule] = Tally()
            tally.add(destroy, key, version_id, last_modified, assumed)
        if protection == "none":
            self.unprotected.add(destroy, key, version_id, last_modified)
        elif protection == "governance":
            self.governance.add(destroy, key, version_id, last_modified)
        if protection in {"compliance", "governance"} and retain_until is not None and retain_until < duty_ends_at:
            self.ending.add(destroy, key, version_id, last_modified, False, retain_until)

    def add_uncounted(
        self,
        count: int,
        protection: str,
        destroy: dt.datetime | None,
        lifecycle_rule: str | None,
        *,
        assumed: bool,
        reason: str | None,
        hidden: bool,
        ending: bool = False,
    ) -> None:
        """Count more versions of an outcome already recorded once: counts only, no date or example changes.

        `destroy` is the outcome's earliest destruction time; every version of the outcome is on the same
        side of the duty's end (the caller groups them so), as `ending` says of their retention.
        """
        if count <= 0:
            return
        self.in_scope += count
        if hidden:
            self.hidden.add_count(count)
        if protection == "legal_hold":
            return
        if protection == "unknown" or destroy is None:
            self.unknown.add_count(count)
            self.unknown_reasons.add(reason or "unknown")
        elif lifecycle_rule is not None and destroy < (self.duty_ends_at or FOREVER):
            self.by_rule[lifecycle_rule].add_count(count, assumed=assumed)
        if protection == "none":
            self.unprotected.add_count(count)
        elif protection == "governance":
            self.governance.add_count(count)
        if ending:
            self.ending.add_count(count)


def tally_versions(versions: Iterable[VersionAssessment], duty_ends_at: dt.datetime | None) -> VersionTallies:
    """Tallies over a list of judged versions."""
    tallies = VersionTallies(duty_ends_at=duty_ends_at)
    for version in versions:
        tallies.add(version)
    return tallies


def version_findings(tallies: VersionTallies, default_retention: Any) -> list[Finding]:
    """Lifecycle, protection and visibility findings over the in-scope versions."""
    findings: list[Finding] = []
    for rule_id, doomed in sorted(tallies.by_rule.items()):
        message = (
            f"lifecycle rule {rule_id!r} destroys {doomed.count} in-scope version(s) before the duty ends, "
            f"the first on {iso(doomed.earliest)}"
        )
        if doomed.assumed:
            message += f" ({doomed.assumed} counted because their tags could not be read)"
        findings.append(
            finding(
                "S3_LIFECYCLE_DESTROYS_IN_SCOPE",
                message,
                count=doomed.count,
                examples=doomed.example_list(),
                earliest_destruction_at=doomed.earliest,
                details={"rule_id": rule_id, "assumed_tag_match": doomed.assumed},
            )
        )
    if tallies.unprotected.count:
        hint = "" if default_retention else "; the bucket has no default retention either"
        findings.append(
            finding(
                "S3_VERSION_UNPROTECTED",
                f"{tallies.unprotected.count} in-scope version(s) carry neither a legal hold nor a retention period: "
                f"anyone allowed to delete can destroy them{hint}",
                count=tallies.unprotected.count,
                examples=tallies.unprotected.example_list(),
                earliest_destruction_at=tallies.unprotected.earliest,
            )
        )
    if tallies.governance.count:
        findings.append(
            finding(
                "S3_GOVERNANCE_ONLY",
                f"{tallies.governance.count} in-scope version(s) are protected only by GOVERNANCE retention, which "
                "anyone with s3:BypassGovernanceRetention can lift",
                count=tallies.governance.count,
                examples=tallies.governance.example_list(),
                earliest_destruction_at=tallies.governance.earliest,
            )
        )
    if tallies.ending.count:
        ends = tallies.ending.extra_min
        duty = "the open-ended duty" if tallies.duty_ends_at is None else f"the duty ({iso(tallies.duty_ends_at)})"
        findings.append(
            finding(
                "S3_RETENTION_ENDS_BEFORE_DUTY",
                f"the retention of {tallies.ending.count} in-scope version(s) ends before {duty}, the first on "
                f"{iso(ends)}: put a legal hold on them",
                count=tallies.ending.count,
                examples=tallies.ending.example_list(),
                earliest_destruction_at=tallies.ending.earliest,
                details={"protection_ends_at": iso(ends)},
            )
        )
    if tallies.unknown.count:
        reasons = sorted(tallies.unknown_reasons)
        findings.append(
            finding(
                "S3_LOCK_STATUS_UNKNOWN",
                f"the protection of {tallies.unknown.count} in-scope version(s) cannot be established: "
                f"{'; '.join(reasons)}",
                count=tallies.unknown.count,
                examples=tallies.unknown.example_list(),
                earliest_destruction_at=tallies.unknown.earliest,
                details={"reasons": reasons},
            )
        )
    if tallies.hidden.count:
        findings.append(
            finding(
                "S3_DELETE_MARKER_IN_SCOPE",
                f"{tallies.hidden_keys} key(s) with in-scope data are hidden behind a delete marker; their "
                f"{tallies.hidden.count} version(s) are noncurrent now, subject to noncurrent-version expiration",
                count=tallies.hidden.count,
                examples=tallies.hidden.example_list(),
                details={"keys": tallies.hidden_keys},
            )
        )
    return findings


def add_hidden(tallies: VersionTallies, listing: Mapping[str, Any], versions: Sequence[VersionAssessment]) -> None:
    """Count the versions a current delete marker hides (listing path)."""
    hidden_keys = {m["Key"] for m in listing.get("delete_markers", ()) if m.get("IsLatest")}
    hidden = [v for v in versions if v.key in hidden_keys]
    for version in hidden:
        tallies.hidden.add(version.destroy_at, version.key, version.version_id, version.last_modified)
    tallies.hidden_keys = len({v.key for v in hidden})


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
