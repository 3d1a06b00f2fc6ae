"""What the inventory evaluator counts: outcomes shared by many versions, and how they become tallies.

Versions that end the same way (same protection, lifecycle date, rule, hiddenness; for retained ones
also which side of the duty's end they fall) are counted together, keeping only the examples that
sort first. `fold_outcomes` records those examples as versions, which sets the dates and examples
exactly as judging every version would, and adds the rest as counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from preservation.domain.destruction import FOREVER, LifecycleDate, parse_timestamp
from preservation.domain.s3_findings import MAX_EXAMPLES, VersionTallies


@dataclass
class Outcome:
    """Versions that end the same way: how many, and the first few by key."""

    protection: str
    destroy: dt.datetime | None
    rule_id: str | None
    assumed: bool
    reason: str | None
    hidden: bool
    count: int = 0
    # (key, version_id, last modified), at most MAX_EXAMPLES, smallest keys first.
    samples: list[tuple[str, str, str]] = field(default_factory=list)

    def take(self, key: str, version_id: str, modified: str) -> None:
        """Count one more version, keeping it as an example when its key is among the smallest."""
        self.count += 1
        samples = self.samples
        if len(samples) < MAX_EXAMPLES:
            samples.append((key, version_id, modified))
            if len(samples) == MAX_EXAMPLES:
                samples.sort()
        elif key < samples[-1][0]:
            samples[-1] = (key, version_id, modified)
            samples.sort()


@dataclass
class Retained:
    """Versions under active retention that share protection, lifecycle date and where they fall against the duty."""

    protection: str
    lifecycle: LifecycleDate
    assumed: bool
    ending: bool
    hidden: bool
    count: int = 0
    # The earliest retain-until date among them, as inventory text.
    min_retain: str = "~"
    # (destroy text, key, version_id, last modified, retain text): the MAX_EXAMPLES destroyed first.
    samples: list[tuple[str, str, str, str, str]] = field(default_factory=list)


@dataclass
class Shared:
    """What unheld versions with the same key head, clock day, rank and hiddenness have in common."""

    lifecycle: LifecycleDate | None
    lifecycle_text: str
    assumed: bool
    unretained: Outcome
    hidden: bool = False
    # (compliance, destroyed before the duty ends, retention ends before it) -> such versions under retention.
    retained: dict[tuple[bool, bool, bool], Retained] = field(default_factory=dict)
    has_rule: bool = field(init=False)

    def __post_init__(self) -> None:
        self.has_rule = self.lifecycle is not None and self.lifecycle.rule_id is not None

    def retained_for(self, compliance: bool, risky: bool, ending: bool) -> Retained:
        """The versions under retention that share this and the key's parts, created on first use."""
        if self.lifecycle is None:
            raise ValueError("versions under retention need a lifecycle date")
        retained = self.retained[compliance, risky, ending] = Retained(
            "compliance" if compliance else "governance", self.lifecycle, self.assumed, ending, self.hidden
        )
        return retained


def fold_outcomes(tallies: VersionTallies, outcomes: Iterable[Outcome], retained_outcomes: Iterable[Retained]) -> None:
    """Record each outcome's examples one by one (their dates and examples), then count the rest."""
    for outcome in outcomes:
        samples = sorted(outcome.samples)
        for key, version_id, modified in samples:
            tallies.record(
                key,
                version_id,
                modified,
                outcome.protection,
                outcome.destroy,
                outcome.rule_id,
                None,
                outcome.assumed,
                outcome.reason,
                outcome.hidden,
            )
        tallies.add_uncounted(
            outcome.count - len(samples),
            outcome.protection,
            outcome.destroy,
            outcome.rule_id,
            assumed=outcome.assumed,
            reason=outcome.reason,
            hidden=outcome.hidden,
        )
    for kept_outcome in retained_outcomes:
        kept = sorted(kept_outcome.samples)
        for _destroy_text, key, version_id, modified, retain_text in kept:
            retain_until = parse_timestamp(retain_text)
            destroy = max(kept_outcome.lifecycle.at, retain_until or FOREVER)
            tallies.record(
                key,
                version_id,
                modified,
                kept_outcome.protection,
                destroy,
                kept_outcome.lifecycle.rule_id,
                retain_until,
                kept_outcome.assumed,
                None,
                kept_outcome.hidden,
            )
        earliest_retain = parse_timestamp(kept_outcome.min_retain)
        if kept_outcome.ending and earliest_retain is not None:
            ending = tallies.ending
            if ending.extra_min is None or earliest_retain < ending.extra_min:
                ending.extra_min = earliest_retain
        tallies.add_uncounted(
            kept_outcome.count - len(kept),
            kept_outcome.protection,
            max(kept_outcome.lifecycle.at, earliest_retain or FOREVER),
            kept_outcome.lifecycle.rule_id,
            assumed=kept_outcome.assumed,
            reason=None,
            hidden=kept_outcome.hidden,
            ending=kept_outcome.ending,
        )


def clock_day(stamp: str) -> tuple[str, bool]:
    """What a lifecycle date depends on: the UTC day a clock starts on, and whether it starts at its midnight.

    Inventory timestamps look like 2026-11-01T10:00:00.000Z and are read as text; anything else is parsed.
    """
    if len(stamp) == 24 and stamp[10] == "T" and stamp[-1] == "Z":
        return stamp[:10], stamp[11:23] == "00:00:00.000"
    moment = (parse_timestamp(stamp) or FOREVER).astimezone(dt.UTC)
    return moment.date().isoformat(), moment.time() == dt.time()


def stamp_floor(moment: dt.datetime) -> str:
    """A moment as inventory text, cut to the millisecond."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def stamp_ceil(moment: dt.datetime) -> str:
    """A moment as inventory text, rounded up to the millisecond."""
    utc = moment.astimezone(dt.UTC)
    if utc.microsecond % 1000:
        utc += dt.timedelta(microseconds=1000 - utc.microsecond % 1000)
    return stamp_floor(utc)
