"""Source statuses over time, rebuilt from checks and carried over days without a record."""

from __future__ import annotations

import datetime as dt

from preservation.domain.status_history import (
    CheckOutcome,
    SourceLife,
    StatusDay,
    carry_forward,
    rebuild,
    window,
)

D1 = dt.date(2026, 11, 20)
DAY = dt.timedelta(days=1)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {status: count for status, count in counts.items() if count}


def test_each_day_counts_the_sources_alive_at_its_end_under_their_latest_check() -> None:
    lives = [
        SourceLife(1, at(D1, 9), None),
        SourceLife(2, at(D1, 9), at(D1 + 2 * DAY, 8)),  # retired on the third day
        SourceLife(3, at(D1 + DAY, 23), None),  # catalogued late on the second day
    ]
    checks = [
        CheckOutcome(1, at(D1, 10), "at_risk"),
        CheckOutcome(1, at(D1, 22), "preserved"),  # the later check of the day wins
        CheckOutcome(2, at(D1 + DAY, 1), "unverifiable"),
        CheckOutcome(3, at(D1 + 3 * DAY, 0), "lost"),  # after the last day rebuilt
    ]
    figures = rebuild(lives, checks, window(D1 + 2 * DAY, 3))
    assert {day: nonzero(counts) for day, counts in figures.items()} == {
        D1: {"preserved": 1, "unchecked": 1},
        D1 + DAY: {"preserved": 1, "unverifiable": 1, "unchecked": 1},
        D1 + 2 * DAY: {"preserved": 1, "unchecked": 1},
    }


def test_days_without_a_record_carry_the_last_one_and_days_before_any_have_none() -> None:
    first = StatusDay(D1 + DAY, {"preserved": 2})
    second = StatusDay(D1 + 3 * DAY, {"preserved": 1, "at_risk": 1}, carried_from=D1 + 2 * DAY)
    days = carry_forward({first.day: first, second.day: second}, window(D1 + 4 * DAY, 5))
    assert [(d.day, d.counts, d.carried_from) for d in days] == [
        (D1, None, None),
        (D1 + DAY, {"preserved": 2}, None),
        (D1 + 2 * DAY, {"preserved": 2}, D1 + DAY),
        (D1 + 3 * DAY, {"preserved": 1, "at_risk": 1}, D1 + 2 * DAY),
        (D1 + 4 * DAY, {"preserved": 1, "at_risk": 1}, D1 + 2 * DAY),
    ]
    assert days[0].total == 0
    assert days[4].total == 2
