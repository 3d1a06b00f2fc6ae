"""The destruction-date function against the brief's formula, with an oracle written apart from the code."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preservation.domain.destruction import (
    FOREVER,
    NO_FLOOR,
    LifecycleRule,
    VersionTimeline,
    at_risk,
    ceil_utc_midnight,
    destroy_at,
    lifecycle_date,
    lock_floor,
    parse_lifecycle_rules,
    rule_matches,
)
from preservation.domain.s3_check import evaluate_s3
from preservation.domain.scope import DateRange
from tests.checks.support import ceil_midnight as oracle_ceil

UTC = dt.UTC
ZONES = st.sampled_from(
    [
        UTC,
        dt.timezone(dt.timedelta(hours=-8)),
        dt.timezone(dt.timedelta(hours=5, minutes=30)),
        dt.timezone(dt.timedelta(hours=14)),
        dt.timezone(dt.timedelta(hours=-12)),
        ZoneInfo("America/Los_Angeles"),
        ZoneInfo("Australia/Lord_Howe"),
    ]
)
# Hypothesis takes naive bounds and draws the zone from `timezones`.
EARLIEST = dt.datetime(2000, 1, 1)  # noqa: DTZ001
LATEST = dt.datetime(2090, 1, 1)  # noqa: DTZ001
MOMENTS = st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=ZONES, allow_imaginary=False)
DAYS = st.integers(min_value=0, max_value=3650)


@given(MOMENTS)
def test_ceil_utc_midnight_is_the_first_utc_midnight_at_or_after(moment: dt.datetime) -> None:
    rounded = ceil_utc_midnight(moment)
    assert rounded == oracle_ceil(moment)
    assert rounded.utcoffset() == dt.timedelta(0)
    assert (rounded.hour, rounded.minute, rounded.second, rounded.microsecond) == (0, 0, 0, 0)
    assert moment <= rounded < moment + dt.timedelta(days=1)


def test_ceil_utc_midnight_edges() -> None:
    midnight = dt.datetime(2026, 3, 1, tzinfo=UTC)
    assert ceil_utc_midnight(midnight) == midnight
    assert ceil_utc_midnight(midnight + dt.timedelta(microseconds=1)) == midnight + dt.timedelta(days=1)
    assert ceil_utc_midnight(midnight - dt.timedelta(microseconds=1)) == midnight
    # 23:30 in Los Angeles on Feb 28 is 07:30 UTC on Mar 1: rounded in UTC, not local time.
    late = dt.datetime(2026, 2, 28, 23, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert ceil_utc_midnight(late) == dt.datetime(2026, 3, 2, tzinfo=UTC)
    assert ceil_utc_midnight(FOREVER) == FOREVER


def _rule(**fields: Any) -> LifecycleRule:
    return LifecycleRule(rule_id="r", **fields)


@given(MOMENTS, DAYS)
def test_unversioned_expiration_deletes_at_the_midnight_after_the_days(modified: dt.datetime, days: int) -> None:
    version = VersionTimeline(key="k", version_id="null", last_modified=modified)
    result = lifecycle_date(version, [_rule(expiration_days=days)], versioning=None)
    assert result.at == oracle_ceil(modified + dt.timedelta(days=days))
    assert result.rule_id == "r"


@given(MOMENTS, DAYS, DAYS)
def test_versioned_current_version_goes_noncurrent_then_expires(modified: dt.datetime, days: int, later: int) -> None:
    version = VersionTimeline(key="k", version_id="v1", last_modified=modified)
    rules = [_rule(expiration_days=days, noncurrent_days=later)]
    noncurrent_since = oracle_ceil(modified + dt.timedelta(days=days))
    assert lifecycle_date(version, rules, "Enabled").at == oracle_ceil(noncurrent_since + dt.timedelta(days=later))
    # Expiration alone only adds a delete marker on a versioned bucket: the version survives.
    assert lifecycle_date(version, [_rule(expiration_days=days)], "Enabled").at == FOREVER


@given(MOMENTS, DAYS)
def test_expiration_date_applies_as_given(modified: dt.datetime, days: int) -> None:
    date = dt.datetime(2030, 1, 1, tzinfo=UTC)
    version = VersionTimeline(key="k", version_id="null", last_modified=modified)
    both = [_rule(expiration_date=date), LifecycleRule("d", expiration_days=days)]
    expected = min(date, oracle_ceil(modified + dt.timedelta(days=days)))
    assert lifecycle_date(version, both, None).at == expected


@st.composite
def key_histories(draw: st.DrawFn) -> tuple[list[tuple[dt.datetime, bool]], int, int | None]:
    """Entries of one key, oldest first, as (LastModified, is_delete_marker); and a noncurrent rule."""
    # Gaps are added in UTC: wall-clock arithmetic in a zone with DST could reorder the entries.
    start = draw(st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=ZONES)).astimezone(UTC)
    gaps = draw(st.lists(st.integers(min_value=1, max_value=90 * 86_400), min_size=0, max_size=7))
    entries = [(start, False)]
    for gap in gaps:
        entries.append((entries[-1][0] + dt.timedelta(seconds=gap), draw(st.booleans())))
    entries[0] = (start, False)
    noncurrent_days = draw(st.integers(min_value=1, max_value=400))
    newer = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=4)))
    return entries, noncurrent_days, newer


def _oracle_noncurrent(
    entries: list[tuple[dt.datetime, bool]], noncurrent_days: int, newer: int | None
) -> dict[int, dt.datetime]:
    """Straight from the brief: destroyed at ceil(successor.LastModified + NoncurrentDays), unless among
    the NewerNoncurrentVersions newest noncurrent versions; the current version is not touched."""
    expected = {}
    last = len(entries) - 1
    for index, (_modified, is_marker) in enumerate(entries):
        if is_marker:
            continue
        if index == last:
            expected[index] = FOREVER
            continue
        newer_noncurrent = sum(1 for j in range(index + 1, len(entries)) if not entries[j][1] and j != last)
        if newer and newer_noncurrent < newer:
            expected[index] = FOREVER
        else:
            expected[index] = oracle_ceil(entries[index + 1][0] + dt.timedelta(days=noncurrent_days))
    return expected


@settings(max_examples=200)
@given(key_histories())
def test_noncurrent_versions_expire_from_their_successor_unless_among_the_newest(
    history: tuple[list[tuple[dt.datetime, bool]], int, int | None],
) -> None:
    entries, noncurrent_days, newer = history
    expiration: dict[str, Any] = {"NoncurrentDays": noncurrent_days}
    if newer:
        expiration["NewerNoncurrentVersions"] = newer
    versions = [
        {"Key": "k", "VersionId": f"v{i}", "IsLatest": i == len(entries) - 1, "LastModified": m.isoformat(), "Size": 1}
        for i, (m, marker) in enumerate(entries)
        if not marker
    ]
    markers = [
        {"Key": "k", "VersionId": f"m{i}", "IsLatest": i == len(entries) - 1, "LastModified": m.isoformat()}
        for i, (m, marker) in enumerate(entries)
        if marker
    ]
    snapshot = {
        "bucket": "b",
        "versioning": {"response": {"Status": "Enabled"}},
        "object_lock": {"response": {"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}}},
        "lifecycle": {
            "response": {
                "Rules": [{"ID": "nc", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": expiration}]
            }
        },
        "listing": {"pages": 1, "versions": versions, "delete_markers": markers},
        "legal_hold_probe": {"key": "k", "version_id": "v0", "error": {"code": "NoSuchObjectLockConfiguration"}},
        "heads": [{"key": "k", "version_id": v["VersionId"], "response": {}} for v in versions],
    }
    now = dt.datetime(2018, 1, 1, tzinfo=UTC)
    assessed = {v.version_id: v for v in evaluate_s3(snapshot, [DateRange(None, None)], now).versions}
    for index, expected in _oracle_noncurrent(entries, noncurrent_days, newer).items():
        assert assessed[f"v{index}"].lifecycle_at == expected, (index, entries)
        assert assessed[f"v{index}"].destroy_at == expected


@given(MOMENTS, st.one_of(st.none(), MOMENTS), st.booleans())
def test_destroy_at_is_the_later_of_lifecycle_and_lock(
    lifecycle: dt.datetime, retain_until: dt.datetime | None, hold: bool
) -> None:
    result = destroy_at(lifecycle, hold, retain_until)
    if hold:
        assert result == FOREVER
        assert not at_risk(result, None)
    else:
        assert result == max(lifecycle, retain_until or lifecycle)
        assert at_risk(result, None), "a finite date is always before an open-ended duty"
    assert lock_floor(False, None) == NO_FLOOR


def test_at_risk_compares_with_the_duty_end() -> None:
    when = dt.datetime(2027, 1, 1, tzinfo=UTC)
    assert at_risk(when, when + dt.timedelta(seconds=1))
    assert not at_risk(when, when)
    assert not at_risk(FOREVER, None)


RULES = [
    {"ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 1}},
    {"ID": "legacy", "Status": "Enabled", "Prefix": "old/", "Expiration": {"Days": 2}},
    {"ID": "tag", "Status": "Enabled", "Filter": {"Tag": {"Key": "class", "Value": "cctv"}}, "Expiration": {"Days": 3}},
    {"ID": "big", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 100}, "Expiration": {"Days": 4}},
    {
        "ID": "and",
        "Status": "Enabled",
        "Filter": {
            "And": {
                "Prefix": "cam/",
                "Tags": [{"Key": "class", "Value": "cctv"}, {"Key": "site", "Value": "sy"}],
                "ObjectSizeGreaterThan": 10,
                "ObjectSizeLessThan": 1000,
            }
        },
        "Expiration": {"Days": 5},
    },
]


@pytest.mark.parametrize(
    ("key", "size", "tags", "matching"),
    [
        ("old/a", 5, {}, {"legacy"}),
        ("new/a", 5, {}, set()),
        ("new/a", 5, {"class": "cctv"}, {"tag"}),
        ("new/a", 101, {}, {"big"}),
        ("new/a", 100, {}, set()),
        ("cam/a", 500, {"class": "cctv", "site": "sy"}, {"tag", "big", "and"}),
        ("cam/a", 500, {"class": "cctv"}, {"tag", "big"}),
        ("cam/a", 1000, {"class": "cctv", "site": "sy"}, {"tag", "big"}),
        ("cam/a", 10, {"class": "cctv", "site": "sy"}, {"tag"}),
        # Tags that could not be read: every tag filter is assumed to match (fail closed).
        ("cam/a", 500, None, {"tag", "big", "and"}),
        # A size that is not known cannot rule a rule out either.
        ("cam/a", None, {"class": "cctv", "site": "sy"}, {"tag", "big", "and"}),
    ],
)
def test_filters_select_by_prefix_tags_and_size(
    key: str, size: int | None, tags: dict[str, str] | None, matching: set[str]
) -> None:
    rules = parse_lifecycle_rules(RULES)
    assert "off" not in {r.rule_id for r in rules}
    assert {r.rule_id for r in rules if rule_matches(r, key, size, tags)} == matching


def test_rules_parse_every_destructive_action() -> None:
    (rule,) = parse_lifecycle_rules(
        [
            {
                "Status": "Enabled",
                "Filter": {"Prefix": "p/"},
                "Expiration": {"Date": "2030-01-01T00:00:00+00:00", "ExpiredObjectDeleteMarker": True},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 7, "NewerNoncurrentVersions": 2},
            }
        ]
    )
    assert rule == LifecycleRule(
        rule_id="rule-1",
        prefix="p/",
        expiration_date=dt.datetime(2030, 1, 1, tzinfo=UTC),
        noncurrent_days=7,
        newer_noncurrent_versions=2,
    )


def test_a_suspended_bucket_deletes_its_null_current_version_for_good() -> None:
    modified = dt.datetime(2026, 1, 1, 10, tzinfo=UTC)
    rules = [_rule(expiration_days=1)]
    null_version = VersionTimeline(key="k", version_id="null", last_modified=modified)
    assert lifecycle_date(null_version, rules, "Suspended").at == dt.datetime(2026, 1, 3, tzinfo=UTC)
    real_version = VersionTimeline(key="k", version_id="abc", last_modified=modified)
    assert lifecycle_date(real_version, rules, "Suspended").at == FOREVER
