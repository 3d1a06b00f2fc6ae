"""Source statuses over time: end-of-day figures rebuilt from checks, and days carried forward.

A source counts on a day when it was catalogued before the day ended and not retired by then; its status
is the one its latest check finished before the end of the day concluded, or "unchecked" when none had.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from preservation.domain.vocabulary import DATA_SOURCE_STATUSES


@dataclass(frozen=True)
class SourceLife:
    """When a data source entered and left service."""

    source_id: int
    created_at: dt.datetime
    retired_at: dt.datetime | None


@dataclass(frozen=True)
class CheckOutcome:
    """The status one check concluded and when it finished."""

    source_id: int
    finished_at: dt.datetime
    status: str


@dataclass(frozen=True)
class StatusDay:
    """One day of the history: sources per status, or None before anything was recorded."""

    day: dt.date
    counts: Mapping[str, int] | None
    # The figures were counted on an earlier day and nothing recorded since changed them.
    carried_from: dt.date | None = None
    # When they were last counted.
    counted_at: dt.datetime | None = None

    @property
    def total(self) -> int:
        """How many live sources there were that day."""
        return sum(self.counts.values()) if self.counts else 0


def day_end(day: dt.date) -> dt.datetime:
    """The first moment after a UTC day."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def window(today: dt.date, days: int) -> list[dt.date]:
    """The last `days` days up to and including today, oldest first."""
    return [today - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def rebuild(
    sources: Iterable[SourceLife], checks: Iterable[CheckOutcome], days: Sequence[dt.date]
) -> dict[dt.date, dict[str, int]]:
    """The statuses each day ended with, from the sources' lives and their checks (in order of finishing)."""
    lives = list(sources)
    latest: dict[int, str] = {}
    pending = iter(checks)
    waiting: CheckOutcome | None = next(pending, None)
    figures: dict[dt.date, dict[str, int]] = {}
    for day in sorted(days):
        end = day_end(day)
        while waiting is not None and waiting.finished_at < end:
            latest[waiting.source_id] = waiting.status
            waiting = next(pending, None)
        counts = dict.fromkeys(DATA_SOURCE_STATUSES, 0)
        for life in lives:
            if life.created_at < end and (life.retired_at is None or life.retired_at >= end):
                counts[latest.get(life.source_id, "unchecked")] += 1
        figures[day] = counts
    return figures


def carry_forward(recorded: Mapping[dt.date, StatusDay], days: Sequence[dt.date]) -> list[StatusDay]:
    """Each day as recorded or, when no record was kept that day, as the latest earlier day ended.

    Every change of a source's status records its day, so a day without a record saw no change.
    """
    known = sorted(recorded)
    result = []
    for day in days:
        if day in recorded:
            result.append(recorded[day])
            continue
        earlier = [d for d in known if d < day]
        if earlier:
            last = recorded[earlier[-1]]
            result.append(
                StatusDay(day, last.counts, carried_from=last.carried_from or last.day, counted_at=last.counted_at)
            )
        else:
            result.append(StatusDay(day, None))
    return result
