"""FRCP 6(a)(1) court-day arithmetic: the issue's cases, more cases, and properties over any period."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preservation.adapters.court_calendar import court_calendar
from preservation.domain.court_days import MAX_PERIOD_DAYS, count_period, is_court_day, why_closed

CALENDAR = court_calendar()
CLOSURES = CALENDAR.closure


def due(trigger: str, days: int, direction: str = "after") -> dt.date:
    return count_period(dt.date.fromisoformat(trigger), days, direction, CLOSURES).due


def test_fourteen_days_after_friday_december_11_2026_ends_on_christmas_so_monday_the_28th() -> None:
    result = count_period(dt.date(2026, 12, 11), 14, "after", CLOSURES)
    assert result.plain == dt.date(2026, 12, 25)
    assert result.due == dt.date(2026, 12, 28)
    notes = [step.note for step in result.steps]
    assert notes[2] == "Friday 2026-12-25 is Christmas Day: the period runs to the next day"
    assert notes[-1] == "due on Monday 2026-12-28"


def test_seven_days_after_monday_january_11_2027_ends_on_king_day_so_tuesday_the_19th() -> None:
    result = count_period(dt.date(2027, 1, 11), 7, "after", CLOSURES)
    assert result.plain == dt.date(2027, 1, 18)
    assert result.due == dt.date(2027, 1, 19)
    assert "Martin Luther King Jr. Day" in result.steps[2].note


def test_thirty_days_after_june_4_2027_ends_on_sunday_july_4_and_the_observed_monday_so_tuesday() -> None:
    result = count_period(dt.date(2027, 6, 4), 30, "after", CLOSURES)
    assert result.plain == dt.date(2027, 7, 4)
    assert result.due == dt.date(2027, 7, 6)
    assert "Independence Day (observed)" in result.steps[3].note


@pytest.mark.parametrize(
    ("trigger", "days", "direction", "expected"),
    [
        # Landing on a plain weekday: nothing moves.
        ("2026-11-02", 10, "after", "2026-11-12"),
        # Thanksgiving (Thursday) runs to Friday.
        ("2026-11-12", 14, "after", "2026-11-27"),
        # Landing on a Saturday runs to Monday.
        ("2026-11-04", 10, "after", "2026-11-16"),
        # New Year's Day 2028 is a Saturday, observed on Friday 2027-12-31: a period ending that Friday runs
        # past the weekend to Monday 2028-01-03.
        ("2027-12-17", 14, "after", "2028-01-03"),
        # Backward: 7 days before Monday 2027-01-25 is Monday 2027-01-18 (King Day), so the Friday before.
        ("2027-01-25", 7, "before", "2027-01-15"),
        # Backward from a Sunday landing: the Friday before.
        ("2026-12-06", 7, "before", "2026-11-27"),
        # Juneteenth 2026 is a Friday.
        ("2026-06-05", 14, "after", "2026-06-22"),
        # Zero days: the day itself, if the court is open.
        ("2026-12-14", 0, "after", "2026-12-14"),
    ],
)
def test_more_periods(trigger: str, days: int, direction: str, expected: str) -> None:
    assert due(trigger, days, direction) == dt.date.fromisoformat(expected)


def test_configured_closure_counts_like_a_holiday() -> None:
    calendar = court_calendar([dt.date(2027, 2, 3)])
    result = count_period(dt.date(2027, 1, 27), 7, "after", calendar.closure)
    assert result.due == dt.date(2027, 2, 4)
    assert "configured" in result.steps[2].note


def test_a_state_adds_its_holidays() -> None:
    # Cesar Chavez Day (March 31) is a California state holiday, not a federal one.
    assert why_closed(dt.date(2027, 3, 31), CLOSURES) is None
    california = court_calendar(state="CA")
    assert count_period(dt.date(2027, 3, 24), 7, "after", california.closure).due == dt.date(2027, 4, 1)


def test_the_record_says_how_the_date_was_computed() -> None:
    record = count_period(dt.date(2026, 12, 11), 14, "after", CLOSURES).as_record()
    assert record["rule"] == "FRCP 6(a)(1)"
    assert record["due_on"] == "2026-12-28"
    assert record["plain_count"] == "2026-12-25"
    assert [step["rule"] for step in record["steps"]] == ["6(a)(1)(A)", "6(a)(1)(B)"] + ["6(a)(1)(C)"] * 4


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="direction"):
        count_period(dt.date(2027, 1, 1), 3, "sideways", CLOSURES)
    with pytest.raises(ValueError, match="between"):
        count_period(dt.date(2027, 1, 1), -1, "after", CLOSURES)
    with pytest.raises(ValueError, match="between"):
        count_period(dt.date(2027, 1, 1), MAX_PERIOD_DAYS + 1, "after", CLOSURES)


triggers = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2060, 12, 31))
periods = st.integers(min_value=0, max_value=400)


@settings(max_examples=400, deadline=None)
@given(trigger=triggers, days=periods)
def test_forward_periods_end_on_a_court_day_never_before_the_plain_count(trigger: dt.date, days: int) -> None:
    result = count_period(trigger, days, "after", CLOSURES)
    plain = trigger + dt.timedelta(days=days)
    assert result.plain == plain
    assert is_court_day(result.due, CLOSURES)
    assert result.due.weekday() < 5
    assert CALENDAR.closure(result.due) is None
    assert result.due >= plain
    # It stops at the first court day: every day skipped was closed.
    skipped = [plain + dt.timedelta(days=n) for n in range((result.due - plain).days)]
    assert all(not is_court_day(day, CLOSURES) for day in skipped)
    # Federal holidays and weekends never close more than four days in a row.
    assert (result.due - plain).days <= 4


@settings(max_examples=400, deadline=None)
@given(trigger=triggers, days=periods)
def test_backward_periods_move_earlier_onto_a_court_day(trigger: dt.date, days: int) -> None:
    result = count_period(trigger, days, "before", CLOSURES)
    plain = trigger - dt.timedelta(days=days)
    assert result.plain == plain
    assert is_court_day(result.due, CLOSURES)
    assert result.due <= plain
    skipped = [plain - dt.timedelta(days=n) for n in range((plain - result.due).days)]
    assert all(not is_court_day(day, CLOSURES) for day in skipped)


@settings(max_examples=200, deadline=None)
@given(trigger=triggers, days=periods, closed=st.sets(st.dates(dt.date(2000, 1, 1), dt.date(2062, 1, 1)), max_size=40))
def test_any_calendar_of_closures_is_respected(trigger: dt.date, days: int, closed: set[dt.date]) -> None:
    calendar = court_calendar(closed)
    result = count_period(trigger, days, "after", calendar.closure)
    assert result.due not in closed
    assert result.due.weekday() < 5
    assert result.due >= trigger + dt.timedelta(days=days)
    assert result.steps[-1].day == result.due
