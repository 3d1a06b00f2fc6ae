"""Court-day arithmetic of FRCP 6(a)(1) for periods stated in days.

(A) exclude the day of the event that triggers the period; (B) count every day, intermediate Saturdays,
Sundays and legal holidays included; (C) include the last day, but if it is a Saturday, Sunday or legal
holiday, the period runs until the end of the next day that is none of those. Under 6(a)(5) the "next
day" is found counting forward for a period measured after an event and backward for one measured
before an event. Which days are legal holidays (6(a)(6)) or when the clerk's office is inaccessible
(6(a)(3)) is not decided here: the caller passes a function that names the closure of a day, or None.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RULE = "FRCP 6(a)(1)"
DIRECTIONS = ("after", "before")
# No period in a court order runs for decades; a bound keeps a typo from walking the calendar for ages.
MAX_PERIOD_DAYS = 3650
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

Closures = Callable[[dt.date], str | None]


def no_closures(_day: dt.date) -> str | None:
    """A calendar without holidays: only weekends close the court."""
    return None


@dataclass(frozen=True)
class Step:
    """One step of the computation: the rule applied, the day it concerns, and what it found."""

    rule: str
    day: dt.date
    note: str

    def as_record(self) -> dict[str, str]:
        """The step as plain JSON values."""
        return {"rule": self.rule, "date": self.day.isoformat(), "note": self.note}


@dataclass(frozen=True)
class CourtDeadline:
    """A period counted under FRCP 6(a)(1): the plain count, the due date, and how one led to the other."""

    trigger: dt.date
    days: int
    direction: str
    plain: dt.date
    due: dt.date
    steps: tuple[Step, ...]

    def as_record(self) -> dict[str, Any]:
        """How the due date was computed, as plain JSON values (kept beside the due date)."""
        return {
            "rule": RULE,
            "from": self.trigger.isoformat(),
            "days": self.days,
            "direction": self.direction,
            "plain_count": self.plain.isoformat(),
            "due_on": self.due.isoformat(),
            "steps": [step.as_record() for step in self.steps],
        }


def why_closed(day: dt.date, closures: Closures = no_closures) -> str | None:
    """Why the court does not count this day as the last day of a period: a weekend, holiday or closure."""
    closure = closures(day)
    if day.weekday() >= 5:
        weekend = f"a {_WEEKDAY_NAMES[day.weekday()]}"
        return f"{weekend} ({closure})" if closure else weekend
    return closure


def is_court_day(day: dt.date, closures: Closures = no_closures) -> bool:
    """True for a day that is neither a Saturday, a Sunday, nor a legal holiday or closure."""
    return why_closed(day, closures) is None


def count_period(
    trigger: dt.date,
    days: int,
    direction: str = "after",
    closures: Closures = no_closures,
) -> CourtDeadline:
    """The last day of a period of `days` days after (or before) `trigger`, under FRCP 6(a)(1) and 6(a)(5)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'after' or 'before', not {direction!r}")
    if not 0 <= days <= MAX_PERIOD_DAYS:
        raise ValueError(f"a period must be between 0 and {MAX_PERIOD_DAYS} days, not {days}")
    try:
        return _count(trigger, days, direction, closures)
    except OverflowError:
        raise ValueError("the period runs past the end of the calendar") from None


def _count(trigger: dt.date, days: int, direction: str, closures: Closures) -> CourtDeadline:
    sign = 1 if direction == "after" else -1
    plain = trigger + dt.timedelta(days=sign * days)
    steps = [
        Step("6(a)(1)(A)", trigger, f"the day of the event ({_spell(trigger)}) is not counted"),
        Step(
            "6(a)(1)(B)",
            plain,
            f"counting {days} day{'s' if days != 1 else ''} {direction}, every day included, "
            f"the period ends on {_spell(plain)}",
        ),
    ]
    # 6(a)(5): a period measured before an event moves earlier, never later.
    rolling_rule = "6(a)(1)(C)" if direction == "after" else "6(a)(1)(C), 6(a)(5)"
    due = plain
    reason = why_closed(due, closures)
    while reason is not None:
        onward = "next" if direction == "after" else "previous"
        steps.append(Step(rolling_rule, due, f"{_spell(due)} is {reason}: the period runs to the {onward} day"))
        due += dt.timedelta(days=sign)
        reason = why_closed(due, closures)
    steps.append(Step("6(a)(1)(C)", due, f"due on {_spell(due)}"))
    return CourtDeadline(trigger, days, direction, plain, due, tuple(steps))


def _spell(day: dt.date) -> str:
    return f"{_WEEKDAY_NAMES[day.weekday()]} {day.isoformat()}"
