"""The daily roll-up of source statuses the overview charts: six rows a day, however many checks there are.

Whatever changes a source's status or takes it out of service (a check, cataloguing, a new location,
retirement) calls `record_today` in its own transaction: the live sources are counted by status and the
figures kept as today's, after each day since the last record is given the figures it ended with (a day
without a record saw no change, so they are the last recorded). The scheduler's heartbeat does the same
every minute (`roll_up`), which catches statuses written by other means (bulk loads); a late or missed
run leaves no gap, and the overview carries the last figures over any day not yet written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from preservation.domain.status_history import (
    CheckOutcome,
    SourceLife,
    StatusDay,
    carry_forward,
    day_end,
    rebuild,
    window,
)
from preservation.domain.vocabulary import DATA_SOURCE_STATUSES
from preservation.models import DataSource, RetentionCheck, SourceStatusDay
from preservation.services.unit import Unit

# The days the overview charts, today included.
HISTORY_DAYS = 14


def live_counts(session: Session) -> dict[str, int]:
    """How many live sources are in each status now, every status named (one scan of the sources)."""
    counts = dict.fromkeys(DATA_SOURCE_STATUSES, 0)
    rows = session.execute(
        select(DataSource.status, func.count()).where(DataSource.retired_at.is_(None)).group_by(DataSource.status)
    )
    for status, count in rows:
        counts[status] = count
    return counts


def record_today(unit: Unit) -> dict[str, int]:
    """Count the live sources by status and keep the figures as today's; call it after a status changes."""
    return _record(unit)[1]


def record_change(unit: Unit, before: str, after: str) -> None:
    """Record today's figures when a source's status changed from before to after."""
    if before != after:
        _record(unit)


def roll_up(unit: Unit) -> dict[str, Any]:
    """The heartbeat's part: fill the days since the last record and count today's figures again."""
    carried, counts = _record(unit)
    return {"days_carried_forward": carried, "statuses": counts}


def _record(unit: Unit) -> tuple[int, dict[str, int]]:
    session = unit.session
    now = unit.clock()
    today = now.astimezone(dt.UTC).date()
    carried = _carry_forward(session, today)
    _add_day(session, today, dict.fromkeys(DATA_SOURCE_STATUSES, 0), now)
    # Counting only once today's rows are locked: of two transactions recording at once, the later one
    # counts after the earlier one committed, so the figures kept include both changes.
    rows = session.scalars(
        select(SourceStatusDay)
        .where(SourceStatusDay.day == today)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    counts = live_counts(session)
    for row in rows:
        row.sources = counts[row.status]
        row.counted_at = now
    session.flush()
    return carried, counts


def _carry_forward(session: Session, today: dt.date) -> int:
    """Give each day since the last record, up to yesterday, the figures it ended with: the last recorded."""
    last_day = session.scalar(select(func.max(SourceStatusDay.day)).where(SourceStatusDay.day < today))
    if last_day is None or last_day + dt.timedelta(days=1) == today:
        return 0
    last = list(session.scalars(select(SourceStatusDay).where(SourceStatusDay.day == last_day)))
    counts = {row.status: row.sources for row in last}
    counted_at = max(row.counted_at for row in last)
    day = last_day + dt.timedelta(days=1)
    carried = 0
    while day < today:
        _add_day(session, day, counts, counted_at)
        carried += 1
        day += dt.timedelta(days=1)
    return carried


def history(unit: Unit, days: int = HISTORY_DAYS) -> list[StatusDay]:
    """The last days' statuses, oldest first, today's as last counted; days before any record have none."""
    today = unit.clock().astimezone(dt.UTC).date()
    shown = window(today, days)
    # The latest day recorded before the window, so that its first days can be carried forward too.
    before = select(func.max(SourceStatusDay.day)).where(SourceStatusDay.day < shown[0]).scalar_subquery()
    rows = unit.session.execute(
        select(SourceStatusDay.day, SourceStatusDay.status, SourceStatusDay.sources, SourceStatusDay.counted_at)
        .where(SourceStatusDay.day >= func.coalesce(before, shown[0]), SourceStatusDay.day <= today)
        .order_by(SourceStatusDay.day)
    )
    counts: dict[dt.date, dict[str, int]] = {}
    counted: dict[dt.date, dt.datetime] = {}
    for day, status, sources, counted_at in rows:
        counts.setdefault(day, dict.fromkeys(DATA_SOURCE_STATUSES, 0))[status] = sources
        counted[day] = max(counted.get(day, counted_at), counted_at)
    recorded = {}
    for day, figures in counts.items():
        counted_on = counted[day].astimezone(dt.UTC).date()
        carried = counted_on if counted_on < day else None
        recorded[day] = StatusDay(day, figures, carried_from=carried, counted_at=counted[day])
    return carry_forward(recorded, shown)


def rebuild_history(unit: Unit, days: int = HISTORY_DAYS) -> int:
    """Rebuild the past days' figures from the checks (after rows were written in bulk) and count today's."""
    session = unit.session
    today = unit.clock().astimezone(dt.UTC).date()
    past = window(today, days)[:-1]
    lives = [
        SourceLife(ident, created_at, retired_at)
        for ident, created_at, retired_at in session.execute(
            select(DataSource.id, DataSource.created_at, DataSource.retired_at)
        )
    ]
    outcomes = session.execute(
        select(RetentionCheck.data_source_id, RetentionCheck.finished_at, RetentionCheck.status)
        .where(RetentionCheck.finished_at < day_end(past[-1] if past else today - dt.timedelta(days=1)))
        .order_by(RetentionCheck.finished_at, RetentionCheck.id)
        .execution_options(yield_per=10_000)
    )
    checks = (CheckOutcome(source_id, finished_at, status) for source_id, finished_at, status in outcomes)
    figures = rebuild(lives, checks, past)
    session.execute(delete(SourceStatusDay).where(SourceStatusDay.day >= window(today, days)[0]))
    now = unit.clock()
    for day, counts in figures.items():
        _add_day(session, day, counts, now)
    record_today(unit)
    return len(figures) + 1


def _add_day(session: Session, day: dt.date, counts: dict[str, int], counted_at: dt.datetime) -> None:
    """Write a day's rows unless they exist (a concurrent writer may have just added them)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(SourceStatusDay)
        .values(
            [
                {"day": day, "status": status, "sources": counts.get(status, 0), "counted_at": counted_at}
                for status in DATA_SOURCE_STATUSES
            ]
        )
        .on_conflict_do_nothing(index_elements=["day", "status"])
    )
