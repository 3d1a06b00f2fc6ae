"""Which alerts a deadline owes, how they read, and how long a failed delivery waits before the next try.

A deadline owes an alert for every threshold it has crossed (14, 7, 3 and 1 days before, the day
itself), then one a day while it is overdue. The sweep asks "what is owed as of today?" and creates
what is missing, so a day the scheduler did not run is caught up on the next run, in order.
Thresholds crossed before the due date was known collapse into one alert: a deadline first seen five
days out gets one "7 days" alert, not a "14 days" and a "7 days" at once. Daily overdue reminders never
stack: after a gap only the latest is owed, as it says everything the missed ones would have said.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_THRESHOLDS = (14, 7, 3, 1, 0)
# However long a provider asks us to wait, a retry happens within a day.
MAX_RETRY_AFTER_SECONDS = 86_400.0


@dataclass(frozen=True)
class Mark:
    """A point in a deadline's life that owes an alert: its label, the days left then, and its day."""

    label: str
    days_left: int
    day: dt.date


def crossed_marks(due_on: dt.date, today: dt.date, thresholds: Iterable[int] = DEFAULT_THRESHOLDS) -> list[Mark]:
    """Every mark crossed by today, oldest first: thresholds, then each overdue day."""
    marks = [
        Mark(f"{days}d", days, due_on - dt.timedelta(days=days))
        for days in sorted(set(thresholds), reverse=True)
        if due_on - dt.timedelta(days=days) <= today
    ]
    overdue_by = (today - due_on).days
    marks.extend(Mark(f"overdue-{days}d", -days, due_on + dt.timedelta(days=days)) for days in range(1, overdue_by + 1))
    return marks


def owed_marks(
    due_on: dt.date,
    today: dt.date,
    known_on: dt.date,
    thresholds: Iterable[int] = DEFAULT_THRESHOLDS,
) -> list[Mark]:
    """The marks a deadline owes alerts for as of today, oldest first (see the module's docstring)."""
    crossed = crossed_marks(due_on, today, thresholds)
    owed = [mark for mark in crossed if mark.day >= known_on]
    if not owed and crossed:
        owed = [crossed[-1]]
    overdue = [mark for mark in owed if mark.days_left < 0]
    return [mark for mark in owed if mark.days_left >= 0] + overdue[-1:]


def days_until(due_on: dt.date, today: dt.date) -> int:
    """Whole days from today to the due date; negative once it has passed."""
    return (due_on - today).days


def describe_days_left(days_left: int) -> str:
    """'due in 7 days', 'due tomorrow', 'due today', 'overdue by 3 days'."""
    if days_left > 1:
        return f"due in {days_left} days"
    if days_left == 1:
        return "due tomorrow"
    if days_left == 0:
        return "due today"
    late = -days_left
    return f"overdue by {late} day{'s' if late != 1 else ''}"


def retry_delay(
    attempts: int,
    base_seconds: float,
    max_seconds: float,
    retry_after: float | None = None,
) -> float:
    """Seconds before the next try after `attempts` failures: exponential, capped, never sooner than asked."""
    delay = min(max_seconds, base_seconds * 2 ** max(0, attempts - 1))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
    return delay


@dataclass(frozen=True)
class OutgoingAlert:
    """What a channel sends: the alert's words and the key a receiver can deduplicate on."""

    alert_id: int
    delivery_id: int
    dedupe_key: str
    subject: str
    body: str

    @property
    def message_key(self) -> str:
        """Stable across retries of this delivery, so a duplicate after a crash carries the same key."""
        return f"{self.dedupe_key}:delivery-{self.delivery_id}"


class DeliveryFailed(Exception):
    """A channel could not hand the alert over; `permanent` failures are not retried."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after
