"""Judging each in-scope S3 object version: its neighbours, its lock, its lifecycle date."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from preservation.domain.destruction import (
    FOREVER,
    LifecycleRule,
    VersionTimeline,
    destroy_at,
    filters_on_tags,
    in_scope,
    lifecycle_date,
    parse_timestamp,
)
from preservation.domain.evidence import error_of, is_code, is_denied
from preservation.domain.findings import iso
from preservation.domain.scope import DateRange


@dataclass(frozen=True)
class ManifestVersion:
    """A version recorded by an earlier check."""

    key: str
    version_id: str
    last_modified: dt.datetime
    etag: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class VersionAssessment:
    """One in-scope version as the check judged it."""

    key: str
    version_id: str
    last_modified: dt.datetime
    etag: str | None
    size: int | None
    is_latest: bool
    # legal_hold, compliance, governance, none, or unknown (the lock fields could not be read).
    protection: str
    legal_hold: bool | None
    retain_until: dt.datetime | None
    lifecycle_at: dt.datetime | None
    lifecycle_rule: str | None
    # FOREVER while held; None when lifecycle rules could not be read.
    destroy_at: dt.datetime | None
    unknown_reason: str | None = None
    assumed_tag_match: bool = False

    def example(self) -> dict[str, Any]:
        """The version as an example in a finding."""
        return {
            "key": self.key,
            "version_id": self.version_id,
            "last_modified": iso(self.last_modified),
            "destroy_at": None if self.destroy_at in (None, FOREVER) else iso(self.destroy_at),
        }


def _timelines(listing: Mapping[str, Any]) -> dict[tuple[str, str], VersionTimeline]:
    """Every listed version with its successor and its rank among the key's noncurrent versions."""
    by_key: dict[str, list[tuple[dt.datetime, bool, int, Mapping[str, Any]]]] = defaultdict(list)
    for order, version in enumerate(listing.get("versions", ())):
        by_key[version["Key"]].append((parse_timestamp(version["LastModified"]) or FOREVER, False, order, version))
    for order, marker in enumerate(listing.get("delete_markers", ())):
        by_key[marker["Key"]].append((parse_timestamp(marker["LastModified"]) or FOREVER, True, order, marker))
    timelines = {}
    for key, entries in by_key.items():
        # Newest first; the entry S3 marks IsLatest leads its second, then S3's own listing order.
        entries.sort(key=lambda e: (e[0], bool(e[3].get("IsLatest")), -e[2]), reverse=True)
        rank = 0
        for position, (modified, is_marker, _order, entry) in enumerate(entries):
            if is_marker:
                continue
            latest = bool(entry.get("IsLatest"))
            successor = entries[position - 1][0] if position > 0 else None
            timelines[(key, entry["VersionId"])] = VersionTimeline(
                key=key,
                version_id=entry["VersionId"],
                last_modified=modified,
                size=entry.get("Size"),
                is_latest=latest,
                successor_modified=successor,
                noncurrent_rank=None if latest else rank,
            )
            if not latest:
                rank += 1
    return timelines


def _by_version(records: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {(r["key"], r["version_id"]): r for r in records}


def _visibility(snapshot: Mapping[str, Any], object_lock: str) -> tuple[bool, str | None]:
    """Whether a missing lock field on HEAD can be read as "none": proven per bucket by one legal-hold read."""
    if object_lock == "disabled":
        return True, None  # nothing can be locked in this bucket
    probe = snapshot.get("legal_hold_probe")
    if probe is None:
        return False, "the lock status was not probed"
    error = error_of(probe)
    if error is None:
        # AWS always answers with a Status; a 200 without one (moto) still proves the permission.
        return True, None
    if is_code(error, "NoSuchObjectLockConfiguration"):
        return True, None
    if is_denied(error):
        return False, "access denied reading the legal hold (s3:GetObjectLegalHold)"
    return False, f"the legal hold could not be read ({error.get('code')})"


@dataclass(frozen=True)
class _BucketFacts:
    """What every version of the bucket is judged against."""

    now: dt.datetime
    versioning: str | None
    object_lock: str
    rules: list[LifecycleRule] | None
    visible: bool
    invisible_reason: str | None


def assess_versions(  # noqa: PLR0917  (the bucket's facts, each read from its own call)
    snapshot: Mapping[str, Any],
    scope: Sequence[DateRange],
    now: dt.datetime,
    versioning: str | None,
    object_lock: str,
    rules: list[LifecycleRule] | None,
) -> list[VersionAssessment]:
    """Every listed version inside the scope, judged."""
    listing = snapshot["listing"]
    timelines = _timelines(listing)
    heads = _by_version(snapshot.get("heads", ()))
    tag_reads = _by_version(snapshot.get("tags", ()))
    visible, invisible_reason = _visibility(snapshot, object_lock)
    facts = _BucketFacts(now, versioning, object_lock, rules, visible, invisible_reason)
    needs_tags = rules is not None and filters_on_tags(rules)
    assessed = []
    for entry in listing.get("versions", ()):
        timeline = timelines[(entry["Key"], entry["VersionId"])]
        if not in_scope(scope, timeline.last_modified):
            continue
        head = heads.get((timeline.key, timeline.version_id))
        tags, assumed = _tags(head, tag_reads.get((timeline.key, timeline.version_id)), needs_tags)
        assessed.append(_assess(entry, replace(timeline, tags=tags), head, facts, assumed_tag_match=assumed))
    return assessed


def _tags(
    head: Mapping[str, Any] | None, tag_read: Mapping[str, Any] | None, needs_tags: bool
) -> tuple[dict[str, str] | None, bool]:
    """The version's tags, {} when HEAD says it has none, None (assume any tag filter matches) when unknown."""
    if not needs_tags:
        return {}, False
    if head is not None and "response" in head and not head["response"].get("TagCount"):
        return {}, False
    if tag_read is not None and "response" in tag_read:
        return {t["Key"]: t.get("Value", "") for t in tag_read["response"].get("TagSet", ())}, False
    return None, True


def _assess(
    entry: Mapping[str, Any],
    timeline: VersionTimeline,
    head: Mapping[str, Any] | None,
    facts: _BucketFacts,
    *,
    assumed_tag_match: bool,
) -> VersionAssessment:
    legal_hold: bool | None
    retain_until: dt.datetime | None = None
    mode: str | None = None
    reason = None
    if facts.object_lock == "disabled":
        legal_hold, retention_known = False, True
    elif head is None or "response" not in head:
        legal_hold, retention_known = None, False
        error = error_of(head) or {}
        reason = f"HEAD failed ({error.get('code', 'not read')})"
    else:
        fields = head["response"]
        hold_field = fields.get("ObjectLockLegalHoldStatus")
        # A field that is present is the truth; a missing one means "none" only once visibility is proven.
        legal_hold = True if hold_field == "ON" else (False if hold_field == "OFF" or facts.visible else None)
        retain_until = parse_timestamp(fields.get("ObjectLockRetainUntilDate"))
        mode = fields.get("ObjectLockMode")
        retention_known = retain_until is not None or facts.visible
        if legal_hold is None or not retention_known:
            reason = facts.invisible_reason
    retention_active = retain_until is not None and retain_until > facts.now
    if legal_hold:
        protection = "legal_hold"
    elif retention_active:
        protection = "compliance" if mode == "COMPLIANCE" else "governance"
    elif legal_hold is None or not retention_known:
        protection = "unknown"
    else:
        protection = "none"
    lifecycle = None if facts.rules is None else lifecycle_date(timeline, facts.rules, facts.versioning)
    if legal_hold:
        destruction: dt.datetime | None = FOREVER
    elif lifecycle is None:
        destruction = None
    else:
        destruction = destroy_at(lifecycle.at, False, retain_until if retention_active else None)
    if facts.rules is None and protection != "legal_hold":
        reason = reason or "the lifecycle rules could not be read"
    return VersionAssessment(
        key=timeline.key,
        version_id=timeline.version_id,
        last_modified=timeline.last_modified,
        etag=entry.get("ETag"),
        size=entry.get("Size"),
        is_latest=timeline.is_latest,
        protection=protection,
        legal_hold=legal_hold,
        retain_until=retain_until,
        lifecycle_at=None if lifecycle is None else lifecycle.at,
        lifecycle_rule=None if lifecycle is None else lifecycle.rule_id,
        destroy_at=destruction,
        unknown_reason=reason if protection == "unknown" or destruction is None else None,
        assumed_tag_match=assumed_tag_match and lifecycle is not None and lifecycle.rule_id is not None,
    )
