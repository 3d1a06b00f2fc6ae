"""An S3 check answered by an inventory report, with the keys that changed since the report checked live.

The collector streams the newest report through InventoryEvaluator and stores the resulting tallies in
the snapshot (with the report's identity: manifest key, data files and their MD5s), so that no request
is made per version the report answers. Inventory lags: keys with any version or delete marker written
on or after the report's *cutoff* (its creation day less `INVENTORY_LAG`) are left out of the report's
tallies and judged from the listing instead, each version with its lock fields taken from the report's
own row when it has one, and from HEAD only when it is newer than the report. Both halves land in one
VersionTallies, so the findings read exactly as a listing's would.

Fail closed: a report that is missing, cannot be trusted (a checksum that does not match, a truncated
file) or does not cover the source makes the check `unverifiable` with S3_INVENTORY_UNUSABLE naming why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from preservation.domain.destruction import FOREVER
from preservation.domain.findings import Finding, conclude, finding
from preservation.domain.s3_check import S3Assessment, bucket_settings, evaluate_s3
from preservation.domain.s3_findings import MAX_EXAMPLES, Tally, VersionTallies, add_hidden, version_findings
from preservation.domain.s3_versions import assess_versions
from preservation.domain.scope import DateRange

# S3 publishes a daily report within 48 hours; what was written in the two days before it may be missing.
INVENTORY_LAG = dt.timedelta(days=2)
# Findings about versions: replaced by the ones the merged tallies give.
VERSION_CODES = frozenset(
    {
        "S3_LIFECYCLE_DESTROYS_IN_SCOPE",
        "S3_VERSION_UNPROTECTED",
        "S3_GOVERNANCE_ONLY",
        "S3_RETENTION_ENDS_BEFORE_DUTY",
        "S3_LOCK_STATUS_UNKNOWN",
        "S3_DELETE_MARKER_IN_SCOPE",
        "S3_NO_VERSIONS_IN_SCOPE",
        "S3_VERSION_MISSING",
    }
)
_LOCK_FIELDS = ("ObjectLockLegalHoldStatus", "ObjectLockMode", "ObjectLockRetainUntilDate")


def report_cutoff(created_at: dt.datetime) -> str:
    """The first UTC day (ISO text) whose writes the report may not hold."""
    return (created_at.astimezone(dt.UTC) - INVENTORY_LAG).date().isoformat()


def covers_prefix(configuration: Mapping[str, Any], prefix: str) -> bool:
    """Whether an inventory configuration lists every object under the source's prefix."""
    scope_filter = configuration.get("Filter") or {}
    inventory_prefix = str(scope_filter.get("Prefix") or "")
    return prefix.startswith(inventory_prefix)


def row_as_head(fields: Mapping[str, str]) -> dict[str, Any]:
    """A report row's lock fields in the shape of a HEAD answer (empty fields left out, as HEAD does)."""
    response: dict[str, Any] = {name: fields[name] for name in _LOCK_FIELDS if fields.get(name)}
    if "ObjectLockRetainUntilDate" in response:
        response["ObjectLockRetainUntilDate"] = response["ObjectLockRetainUntilDate"].replace("Z", "+00:00")
    return {"source": "inventory", "response": response}


def tallies_document(tallies: VersionTallies) -> dict[str, Any]:
    """The tallies as plain JSON, to be stored in the evidence and read back by `tallies_from_document`."""
    return {
        "in_scope": tallies.in_scope,
        "earliest": _text(tallies.earliest),
        "by_rule": {rule: _tally_document(t) for rule, t in sorted(tallies.by_rule.items())},
        "unprotected": _tally_document(tallies.unprotected),
        "governance": _tally_document(tallies.governance),
        "ending": _tally_document(tallies.ending),
        "unknown": _tally_document(tallies.unknown),
        "unknown_reasons": sorted(tallies.unknown_reasons),
        "hidden": _tally_document(tallies.hidden),
        "hidden_keys": tallies.hidden_keys,
    }


def tallies_from_document(document: Mapping[str, Any], duty_ends_at: dt.datetime | None) -> VersionTallies:
    """Tallies stored by `tallies_document`."""
    return VersionTallies(
        duty_ends_at=duty_ends_at,
        in_scope=int(document["in_scope"]),
        earliest=_moment(document["earliest"]),
        by_rule={rule: _tally(t) for rule, t in document["by_rule"].items()},
        unprotected=_tally(document["unprotected"]),
        governance=_tally(document["governance"]),
        ending=_tally(document["ending"]),
        unknown=_tally(document["unknown"]),
        unknown_reasons=set(document["unknown_reasons"]),
        hidden=_tally(document["hidden"]),
        hidden_keys=int(document["hidden_keys"]),
    )


def evaluate_inventory_snapshot(
    snapshot: Mapping[str, Any],
    scope: Sequence[DateRange],
    now: dt.datetime,
    *,
    duty_ends_at: dt.datetime | None = None,
    previous_config: Mapping[str, Any] | None = None,
    seen_before: bool = False,
) -> S3Assessment:
    """Judge a snapshot taken through an inventory report: the report's tallies plus the recent keys, live."""
    live = {key: value for key, value in snapshot.items() if key != "inventory"}
    # Bucket settings, access and drift findings as the live path gives them; versions come later.
    base = evaluate_s3(live, scope, now, duty_ends_at=duty_ends_at, previous_config=previous_config)
    if base.bucket_missing:
        return evaluate_s3(live, scope, now, seen_before=seen_before)
    findings: list[Finding] = [f for f in base.evaluation.findings if f.code not in VERSION_CODES]
    inventory = snapshot.get("inventory") or {}
    listing = live.get("listing") or {}
    if "error" in inventory or "tallies" not in inventory:
        reason = (inventory.get("error") or {}).get("message") or "the inventory report was not read"
        findings.append(
            finding(
                "S3_INVENTORY_UNUSABLE",
                f"inventory {inventory.get('configuration_id')!r} cannot answer for the source: {reason}",
                details={"configuration_id": inventory.get("configuration_id"), "error": inventory.get("error")},
            )
        )
        return S3Assessment(conclude(findings, config=base.evaluation.config), (), base.versioning, base.object_lock)
    if "error" in listing:
        return S3Assessment(conclude(findings, config=base.evaluation.config), (), base.versioning, base.object_lock)
    tallies = tallies_from_document(inventory["tallies"], duty_ends_at)
    settings = bucket_settings(live)
    recent = assess_versions(live, scope, now, base.versioning, base.object_lock, settings.rules)
    recent_tallies = VersionTallies(duty_ends_at=duty_ends_at)
    for version in recent:
        recent_tallies.add(version)
    add_hidden(recent_tallies, listing, recent)
    _merge(tallies, recent_tallies)
    findings.extend(version_findings(tallies, settings.default_retention))
    if tallies.in_scope == 0:
        findings.append(
            finding(
                "S3_NO_VERSIONS_IN_SCOPE",
                "no object version under the prefix was written inside the preservation scope, by the inventory "
                "report or since: nothing could be proven preserved",
            )
        )
    summary = {
        "inventory_manifest": inventory.get("manifest_key"),
        "inventory_created_at": inventory.get("created_at"),
        "inventory_rows": inventory.get("rows"),
        "inventory_cutoff": inventory.get("cutoff"),
        "versions_in_scope": tallies.in_scope,
        "recent_keys": len({v["Key"] for v in listing.get("versions", ())}),
        "recent_versions_in_scope": len(recent),
        "heads_read": sum(1 for h in live.get("heads", ()) if "response" in h and h.get("source") != "inventory"),
        "head_errors": sum(1 for h in live.get("heads", ()) if "error" in h),
        "listing_pages": listing.get("pages"),
    }
    evaluation = conclude(findings, earliest=tallies.earliest, config=base.evaluation.config, summary=summary)
    return S3Assessment(evaluation, (), base.versioning, base.object_lock)


def _merge(into: VersionTallies, other: VersionTallies) -> None:
    """Add one set of tallies to another (counts, earliest times, the examples destroyed first)."""
    into.in_scope += other.in_scope
    into.earliest = _earliest(into.earliest, other.earliest)
    for rule, tally in other.by_rule.items():
        _merge_tally(into.by_rule.setdefault(rule, Tally()), tally)
    for name in ("unprotected", "governance", "ending", "unknown", "hidden"):
        _merge_tally(getattr(into, name), getattr(other, name))
    into.unknown_reasons |= other.unknown_reasons
    into.hidden_keys += other.hidden_keys


def _merge_tally(into: Tally, other: Tally) -> None:
    into.count += other.count
    into.assumed += other.assumed
    into.earliest = _earliest(into.earliest, other.earliest)
    into.extra_min = _earliest(into.extra_min, other.extra_min)
    into.examples = sorted([*into.examples, *other.examples], key=lambda e: e[:3])[:MAX_EXAMPLES]


def _earliest(*moments: dt.datetime | None) -> dt.datetime | None:
    known = [m for m in moments if m is not None]
    return min(known) if known else None


def _tally_document(tally: Tally) -> dict[str, Any]:
    return {
        "count": tally.count,
        "earliest": _text(tally.earliest),
        "examples": [
            [_text(destroy), key, version_id, _text(modified), _text(retain)]
            for destroy, key, version_id, modified, retain in tally.examples
        ],
        "assumed": tally.assumed,
        "extra_min": _text(tally.extra_min),
    }


def _tally(document: Mapping[str, Any]) -> Tally:
    examples: Iterable[list[Any]] = document["examples"]
    return Tally(
        count=int(document["count"]),
        earliest=_moment(document["earliest"]),
        examples=[
            (_moment(destroy) or FOREVER, key, version_id, modified, _moment(retain))
            for destroy, key, version_id, modified, retain in examples
        ],
        assumed=int(document["assumed"]),
        extra_min=_moment(document["extra_min"]),
    )


def _text(value: dt.datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _moment(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)
