"""The preservation scope of a data source: the union of its obligations' date ranges."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class DateRange:
    """Data dated from `start` to `end` inclusive; None on either side means unbounded."""

    start: dt.date | None
    end: dt.date | None


def union_of_ranges(ranges: Iterable[DateRange]) -> list[DateRange]:
    """Merge overlapping or touching ranges into the fewest disjoint ones, earliest first."""
    ordered = sorted(ranges, key=lambda r: r.start or dt.date.min)
    merged: list[DateRange] = []
    for current in ordered:
        if merged:
            last = merged[-1]
            # Ranges are inclusive of whole days, so one ending the day before another starts still touches it.
            # Subtracting rather than adding a day keeps a range ending on date.max from overflowing.
            start = current.start or dt.date.min
            if last.end is None or start <= last.end or (start - last.end).days == 1:
                end = None if last.end is None or current.end is None else max(last.end, current.end)
                merged[-1] = DateRange(last.start, end)
                continue
        merged.append(current)
    return merged
