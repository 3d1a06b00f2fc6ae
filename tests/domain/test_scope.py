"""The union of obligations' date ranges that makes a source's preservation scope."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from preservation.domain.scope import DateRange, union_of_ranges

DAY = dt.timedelta(days=1)


def test_touching_ranges_merge_and_a_gap_of_a_day_does_not() -> None:
    merged = union_of_ranges(
        [
            DateRange(dt.date(2018, 9, 1), dt.date(2018, 9, 30)),
            DateRange(dt.date(2018, 10, 1), dt.date(2018, 10, 15)),
            DateRange(dt.date(2018, 10, 17), None),
        ]
    )
    assert merged == [
        DateRange(dt.date(2018, 9, 1), dt.date(2018, 10, 15)),
        DateRange(dt.date(2018, 10, 17), None),
    ]


def test_ranges_at_the_ends_of_the_calendar_do_not_overflow() -> None:
    merged = union_of_ranges([DateRange(None, dt.date.max), DateRange(dt.date(2030, 1, 1), dt.date.max)])
    assert merged == [DateRange(None, dt.date.max)]
    apart = union_of_ranges([DateRange(dt.date.min, dt.date.min), DateRange(dt.date.max, dt.date.max)])
    assert apart == [DateRange(dt.date.min, dt.date.min), DateRange(dt.date.max, dt.date.max)]


days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2000, 12, 31))


@given(st.lists(st.tuples(days, st.integers(0, 40)), max_size=8))
def test_the_union_covers_exactly_the_days_of_its_ranges(spans: list[tuple[dt.date, int]]) -> None:
    ranges = [DateRange(start, start + length * DAY) for start, length in spans]
    covered = {r.start + n * DAY for r in ranges if r.start and r.end for n in range((r.end - r.start).days + 1)}
    merged = union_of_ranges(ranges)
    union = {r.start + n * DAY for r in merged if r.start and r.end for n in range((r.end - r.start).days + 1)}
    assert union == covered
    for first, second in itertools.pairwise(merged):
        assert first.end is not None
        assert second.start is not None
        assert (second.start - first.end).days > 1
