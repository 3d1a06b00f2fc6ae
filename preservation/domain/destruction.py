"""When S3 would destroy an object version: lifecycle rules, Object Lock, and the effective destruction date.

The formula (shared/brief/aws.md):

    lifecycle_date:
      unversioned bucket:         ceil_utc_midnight(LastModified + Expiration.Days) | Expiration.Date
      versioned, current version: becomes noncurrent at ceil_utc_midnight(LastModified + Expiration.Days);
                                  destroyed at ceil_utc_midnight(noncurrent_since + NoncurrentDays), if such a rule
      versioned, noncurrent:      ceil_utc_midnight(successor.LastModified + NoncurrentDays),
                                  unless among the NewerNoncurrentVersions newest noncurrent versions
      (only Enabled rules whose Filter matches prefix, tags, size)
    lock_floor = +inf if LegalHold == ON else (RetainUntilDate or -inf)
    destroy_at = max(lifecycle_date, lock_floor)

+inf is FOREVER and -inf is NO_FLOOR, both aware UTC datetimes so that max() and comparisons just work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from preservation.domain.scope import DateRange

FOREVER = dt.datetime.max.replace(tzinfo=dt.UTC)
NO_FLOOR = dt.datetime.min.replace(tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def ceil_utc_midnight(moment: dt.datetime) -> dt.datetime:
    """The first UTC midnight at or after a moment (S3 rounds lifecycle dates up this way)."""
    if moment >= FOREVER:
        return FOREVER
    moment = moment.astimezone(dt.UTC)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight == moment:
        return midnight
    return _plus(midnight, DAY)


def _plus(moment: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    try:
        return moment + delta
    except OverflowError:
        return FOREVER


def in_scope(ranges: Sequence[DateRange], moment: dt.datetime) -> bool:
    """Whether data written at `moment` falls inside any range (whole UTC days, inclusive)."""
    day = moment.astimezone(dt.UTC).date()
    return any((r.start is None or r.start <= day) and (r.end is None or day <= r.end) for r in ranges)


def parse_timestamp(value: str | dt.datetime | None) -> dt.datetime | None:
    """An ISO 8601 timestamp from a snapshot as an aware UTC datetime (naive means UTC)."""
    if value is None:
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


# Lifecycle rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifecycleRule:
    """The destructive part of one Enabled lifecycle rule, with its filter."""

    rule_id: str
    prefix: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    size_greater_than: int | None = None
    size_less_than: int | None = None
    expiration_days: int | None = None
    expiration_date: dt.datetime | None = None
    noncurrent_days: int | None = None
    newer_noncurrent_versions: int | None = None

    @property
    def expires(self) -> bool:
        """True when the rule expires current versions."""
        return self.expiration_days is not None or self.expiration_date is not None


def parse_lifecycle_rules(rules: Iterable[Mapping[str, Any]]) -> list[LifecycleRule]:
    """The Enabled rules of a GetBucketLifecycleConfiguration answer that can destroy something."""
    parsed = []
    for number, rule in enumerate(rules):
        if rule.get("Status") != "Enabled":
            continue
        expiration = rule.get("Expiration") or {}
        noncurrent = rule.get("NoncurrentVersionExpiration") or {}
        conditions = _filter_conditions(rule)
        parsed.append(
            LifecycleRule(
                rule_id=str(rule.get("ID") or f"rule-{number + 1}"),
                prefix=str(conditions.get("Prefix") or ""),
                tags=tuple((str(t["Key"]), str(t.get("Value", ""))) for t in conditions.get("Tags", ())),
                size_greater_than=_int_or_none(conditions.get("ObjectSizeGreaterThan")),
                size_less_than=_int_or_none(conditions.get("ObjectSizeLessThan")),
                expiration_days=_int_or_none(expiration.get("Days")),
                expiration_date=parse_timestamp(expiration.get("Date")),
                noncurrent_days=_int_or_none(noncurrent.get("NoncurrentDays")),
                newer_noncurrent_versions=_int_or_none(noncurrent.get("NewerNoncurrentVersions")),
            )
        )
    return parsed


def _filter_conditions(rule: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten Filter (Prefix, Tag, sizes, or And of them) and the legacy top-level Prefix into one dict."""
    if "Filter" not in rule:
        return {"Prefix": rule.get("Prefix", "")}
    rule_filter = rule.get("Filter") or {}
    conditions: dict[str, Any] = dict(rule_filter.get("And") or {})
    for name in ("Prefix", "ObjectSizeGreaterThan", "ObjectSizeLessThan"):
        if name in rule_filter:
            conditions[name] = rule_filter[name]
    if "Tag" in rule_filter:
        conditions["Tags"] = [*conditions.get("Tags", ()), rule_filter["Tag"]]
    return conditions


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def filters_on_tags(rules: Iterable[LifecycleRule]) -> bool:
    """Whether any rule needs an object's tags to decide if it applies."""
    return any(rule.tags for rule in rules)


def rule_matches(rule: LifecycleRule, key: str, size: int | None, tags: Mapping[str, str] | None) -> bool:
    """Whether a rule's filter selects a version; unknown tags or size count as a match (fail closed)."""
    if not key.startswith(rule.prefix):
        return False
    if size is not None:
        if rule.size_greater_than is not None and not size > rule.size_greater_than:
            return False
        if rule.size_less_than is not None and not size < rule.size_less_than:
            return False
    if rule.tags and tags is not None:
        return all(tags.get(name) == value for name, value in rule.tags)
    return True


# One version ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionTimeline:
    """What the formula needs to know about one object version and its neighbours."""

    key: str
    version_id: str
    last_modified: dt.datetime
    size: int | None = None
    tags: Mapping[str, str] | None = None
    is_latest: bool = True
    # LastModified of the next newer entry of the same key (a version or a delete marker).
    successor_modified: dt.datetime | None = None
    # Position among the key's noncurrent versions, newest first (0 = newest); None for the current version.
    noncurrent_rank: int | None = None


@dataclass(frozen=True)
class LifecycleDate:
    """When lifecycle rules destroy a version, and which rule does it (FOREVER and None when none does)."""

    at: dt.datetime
    rule_id: str | None


NEVER_BY_LIFECYCLE = LifecycleDate(FOREVER, None)


def lifecycle_date(version: VersionTimeline, rules: Sequence[LifecycleRule], versioning: str | None) -> LifecycleDate:
    """When the Enabled, matching rules permanently destroy a version.

    `versioning` is the bucket's status: None when versioning was never enabled, else "Enabled" or
    "Suspended". On an unversioned bucket (and for the null current version of a suspended one)
    Expiration deletes for good; on a versioned bucket it only adds a delete marker, after which the
    noncurrent rules take over.
    """
    matching = [r for r in rules if rule_matches(r, version.key, version.size, version.tags)]
    if not matching:
        return NEVER_BY_LIFECYCLE
    if versioning is None or (versioning == "Suspended" and version.is_latest and version.version_id == "null"):
        return _expiration(version, matching)
    if version.is_latest:
        becomes_noncurrent = _expiration(version, matching)
        if becomes_noncurrent.at >= FOREVER:
            return NEVER_BY_LIFECYCLE
        # The current version turns into the newest noncurrent version behind the new delete marker.
        return _noncurrent_expiration(becomes_noncurrent.at, 0, matching)
    if version.successor_modified is None:
        # A noncurrent version whose successor is unknown cannot be dated; the caller sees it as never.
        return NEVER_BY_LIFECYCLE
    return _noncurrent_expiration(version.successor_modified, version.noncurrent_rank or 0, matching)


def _expiration(version: VersionTimeline, rules: Sequence[LifecycleRule]) -> LifecycleDate:
    best = NEVER_BY_LIFECYCLE
    for rule in rules:
        if rule.expiration_days is not None:
            at = ceil_utc_midnight(_plus(version.last_modified, dt.timedelta(days=rule.expiration_days)))
        elif rule.expiration_date is not None:
            at = rule.expiration_date
        else:
            continue
        if at < best.at:
            best = LifecycleDate(at, rule.rule_id)
    return best


def _noncurrent_expiration(since: dt.datetime, rank: int, rules: Sequence[LifecycleRule]) -> LifecycleDate:
    best = NEVER_BY_LIFECYCLE
    for rule in rules:
        if rule.noncurrent_days is None:
            continue
        if rule.newer_noncurrent_versions and rank < rule.newer_noncurrent_versions:
            continue  # kept as one of the newest noncurrent versions
        at = ceil_utc_midnight(_plus(since, dt.timedelta(days=rule.noncurrent_days)))
        if at < best.at:
            best = LifecycleDate(at, rule.rule_id)
    return best


def lock_floor(legal_hold: bool, retain_until: dt.datetime | None) -> dt.datetime:
    """The earliest moment Object Lock lets a version go: never under a legal hold."""
    if legal_hold:
        return FOREVER
    return retain_until or NO_FLOOR


def destroy_at(lifecycle: dt.datetime, legal_hold: bool, retain_until: dt.datetime | None) -> dt.datetime:
    """The effective destruction time of a version: lifecycle, held back by its lock."""
    return max(lifecycle, lock_floor(legal_hold, retain_until))


def at_risk(destruction: dt.datetime, duty_ends_at: dt.datetime | None) -> bool:
    """Whether a version would be destroyed before the duty ends (an open-ended duty needs FOREVER)."""
    return destruction < (duty_ends_at or FOREVER)
