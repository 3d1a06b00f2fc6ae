"""Which alerts a deadline owes over time, and how long failed deliveries wait: pure functions."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from preservation.domain.alerting import (
    MAX_RETRY_AFTER_SECONDS,
    crossed_marks,
    describe_days_left,
    owed_marks,
    retry_delay,
)

DUE = dt.date(2027, 1, 19)


def labels(marks: list) -> list[str]:
    return [mark.label for mark in marks]


def test_each_threshold_is_crossed_on_its_day_then_one_mark_per_overdue_day() -> None:
    assert labels(crossed_marks(DUE, DUE - dt.timedelta(days=15))) == []
    assert labels(crossed_marks(DUE, DUE - dt.timedelta(days=14))) == ["14d"]
    assert labels(crossed_marks(DUE, DUE)) == ["14d", "7d", "3d", "1d", "0d"]
    assert labels(crossed_marks(DUE, DUE + dt.timedelta(days=2)))[-2:] == ["overdue-1d", "overdue-2d"]


def test_a_deadline_known_for_weeks_owes_every_crossed_threshold_in_order() -> None:
    known = DUE - dt.timedelta(days=30)
    assert labels(owed_marks(DUE, DUE - dt.timedelta(days=2), known)) == ["14d", "7d", "3d"]


def test_thresholds_crossed_before_the_date_was_known_collapse_into_the_latest() -> None:
    known = DUE - dt.timedelta(days=5)
    assert labels(owed_marks(DUE, known, known)) == ["7d"]
    # Known exactly on a threshold's day: that threshold, not the earlier ones.
    known = DUE - dt.timedelta(days=7)
    assert labels(owed_marks(DUE, known, known)) == ["7d"]
    # Later, the thresholds crossed since are owed as well.
    assert labels(owed_marks(DUE, DUE - dt.timedelta(days=1), known)) == ["7d", "3d", "1d"]


def test_overdue_reminders_never_stack() -> None:
    known = DUE - dt.timedelta(days=30)
    owed = owed_marks(DUE, DUE + dt.timedelta(days=4), known)
    assert labels(owed) == ["14d", "7d", "3d", "1d", "0d", "overdue-4d"]
    assert owed[-1].days_left == -4


def test_a_deadline_first_seen_when_already_overdue_owes_one_reminder() -> None:
    today = DUE + dt.timedelta(days=5)
    assert labels(owed_marks(DUE, today, today)) == ["overdue-5d"]


def test_words() -> None:
    assert [describe_days_left(n) for n in (14, 1, 0, -1, -3)] == [
        "due in 14 days",
        "due tomorrow",
        "due today",
        "overdue by 1 day",
        "overdue by 3 days",
    ]


run_days = st.lists(st.integers(min_value=-40, max_value=10), min_size=1, max_size=25, unique=True).map(sorted)


@settings(max_examples=300, deadline=None)
@given(days=run_days, known_offset=st.integers(min_value=-40, max_value=10))
def test_runs_on_any_days_create_every_owed_threshold_once_and_in_order(days: list[int], known_offset: int) -> None:
    """Whatever days the sweep happens to run on, each threshold is created once, oldest first."""
    known = DUE + dt.timedelta(days=known_offset)
    runs = [DUE + dt.timedelta(days=d) for d in days if DUE + dt.timedelta(days=d) >= known]
    created: list[str] = []
    created_days: list[dt.date] = []
    for today in runs:
        for mark in owed_marks(DUE, today, known):
            if mark.label not in created:
                created.append(mark.label)
                created_days.append(mark.day)
    assert len(created) == len(set(created))
    assert created_days == sorted(created_days)
    if not runs:
        return
    last = runs[-1]
    thresholds = [m for m in crossed_marks(DUE, last) if m.days_left >= 0]
    after_known = [m.label for m in thresholds if m.day >= known]
    made = [label for label in created if not label.startswith("overdue")]
    # Every threshold crossed after the date was known is created; at most one from before it.
    assert set(after_known) <= set(made)
    assert len(set(made) - set(after_known)) <= 1
    # At most one overdue reminder per run, and only for overdue days a run happened on.
    overdue = [label for label in created if label.startswith("overdue")]
    assert len(overdue) <= len([d for d in runs if d > DUE])


@settings(max_examples=200, deadline=None)
@given(
    attempts=st.integers(min_value=1, max_value=40),
    base=st.floats(min_value=1, max_value=600),
    retry_after=st.none() | st.floats(min_value=0, max_value=10**7),
)
def test_backoff_grows_is_capped_and_honours_retry_after(attempts: int, base: float, retry_after: float | None) -> None:
    cap = 3600.0
    delay = retry_delay(attempts, base, cap, retry_after)
    assert delay >= min(cap, base)
    assert delay <= max(cap, MAX_RETRY_AFTER_SECONDS)
    if retry_after is not None:
        assert delay >= min(retry_after, MAX_RETRY_AFTER_SECONDS)
    else:
        assert delay <= cap
        assert retry_delay(attempts + 1, base, cap) >= delay
