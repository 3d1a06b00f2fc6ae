"""What the pages show: reads whose number of SQL queries does not grow with the data.

Every list here is capped or paginated, and related rows come by eager loading (one query per
relationship), so a page costs the same number of statements with ten sources or ten thousand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, cast, extract, func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from preservation.domain.status_history import StatusDay
from preservation.models import (
    AuditCheckpoint,
    AuditEvent,
    Custodian,
    CustodianHold,
    DataSource,
    Deadline,
    JobRun,
    Matter,
    Obligation,
    PreservationOrder,
    RetentionCheck,
    SchedulerHeartbeat,
    SchedulerLease,
)
from preservation.services.leases import SCHEDULER_LEASE
from preservation.services.pages import Page, paginate
from preservation.services.status_history import HISTORY_DAYS, history
from preservation.services.unit import Unit

# How many rows each overview panel shows; the rest is one click away on the lists.
PANEL_ROWS = 25
UPCOMING_DAYS = 30
# A custodian notified this long ago without acknowledging is overdue (the notices' reminder period by default).
ACKNOWLEDGEMENT_GRACE = dt.timedelta(days=3)
# Statuses that need someone's attention on the overview.
RISK_STATUSES = ("at_risk", "lost")
FAILED_STATUSES = ("unverifiable", "lost")
# A source is stale when its last check is older than this many of its own check intervals.
STALE_INTERVALS = 2


@dataclass
class Overview:
    """Everything the overview page shows, read at one moment."""

    now: dt.datetime
    at_risk: list[DataSource]
    deadlines: list[Deadline]
    overdue_holds: list[CustodianHold]
    failed_sources: list[DataSource]
    stale_sources: list[DataSource]
    heartbeat: SchedulerHeartbeat | None
    # Sources by status over the last days, today's as last counted (from the daily roll-up).
    history: list[StatusDay] = field(default_factory=list)

    @property
    def status_counts(self) -> dict[str, int] | None:
        """Live sources by status as last counted today; None before the first count."""
        today = self.history[-1] if self.history else None
        return dict(today.counts) if today is not None and today.counts is not None else None


def overview(unit: Unit, acknowledgement_grace: dt.timedelta = ACKNOWLEDGEMENT_GRACE) -> Overview:
    """The overview: what is at risk and when, what is due, who has not acknowledged, whether checks run."""
    session = unit.session
    now = unit.clock()
    live = DataSource.retired_at.is_(None)
    # Sources with a destruction date, soonest first, then those at risk or lost without one. Two reads, each
    # along ix_data_sources_destruction, so neither scans the sources.
    dated = session.scalars(
        select(DataSource)
        .where(live, DataSource.earliest_destruction_at.is_not(None))
        .where(DataSource.status.not_in(("preserved", "released")))
        .order_by(DataSource.earliest_destruction_at, DataSource.id)
        .limit(PANEL_ROWS)
    )
    undated = session.scalars(
        select(DataSource)
        .where(live, DataSource.earliest_destruction_at.is_(None), DataSource.status.in_(RISK_STATUSES))
        .order_by(DataSource.id)
        .limit(PANEL_ROWS)
    )
    at_risk = [*dated, *undated][:PANEL_ROWS]
    today = now.date()
    deadlines = list(
        session.scalars(
            select(Deadline)
            .where(Deadline.status == "open", Deadline.due_on <= today + dt.timedelta(days=UPCOMING_DAYS))
            .order_by(Deadline.due_on, Deadline.id)
            .limit(PANEL_ROWS)
        )
    )
    overdue_holds = list(
        session.scalars(
            select(CustodianHold)
            .where(
                CustodianHold.status == "notified",
                CustodianHold.acknowledged_at.is_(None),
                CustodianHold.notice_sent_at <= now - acknowledgement_grace,
            )
            .options(
                selectinload(CustodianHold.custodian),
                selectinload(CustodianHold.order).selectinload(PreservationOrder.matter),
            )
            .order_by(CustodianHold.notice_sent_at, CustodianHold.id)
            .limit(PANEL_ROWS)
        )
    )
    # A source takes the status of its latest check, so these are the sources whose latest check failed.
    failed_sources = list(
        session.scalars(
            select(DataSource)
            .where(live, DataSource.status.in_(FAILED_STATUSES))
            # In the order of ix_data_sources_last_checked, so the walk stops at the panel's last row.
            .order_by(DataSource.last_checked_at.desc(), DataSource.id.desc())
            .limit(PANEL_ROWS)
        )
    )
    # Stale: never checked, or last checked longer ago than twice the source's own check interval.
    stale_sources = list(
        session.scalars(
            select(DataSource)
            .where(
                live,
                DataSource.kind != "manual",
                or_(
                    DataSource.last_checked_at.is_(None),
                    _epoch_seconds(session.get_bind().dialect.name, DataSource.last_checked_at)
                    + 3600 * STALE_INTERVALS * DataSource.check_interval_hours
                    < int(now.timestamp()),
                ),
            )
            # Never checked first (NULLS FIRST is SQLite's index order), then the longest unchecked.
            .order_by(DataSource.last_checked_at.asc().nulls_first(), DataSource.id)
            .limit(PANEL_ROWS)
        )
    )
    return Overview(
        now=now,
        at_risk=at_risk,
        deadlines=deadlines,
        overdue_holds=overdue_holds,
        failed_sources=failed_sources,
        stale_sources=stale_sources,
        heartbeat=session.scalars(
            select(SchedulerHeartbeat).order_by(SchedulerHeartbeat.beat_at.desc()).limit(1)
        ).first(),
        # A few rows a day from the roll-up, not a scan of the sources or their checks.
        history=history(unit, HISTORY_DAYS),
    )


def _epoch_seconds(dialect: str, column: Any) -> ColumnElement[int]:
    """A stored UTC timestamp as seconds since 1970, on either database."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(extract("epoch", column), Integer)


# Matter page -----------------------------------------------------------------------------------------


# A matter's own page: services/matter_page.py.


def search_matters(unit: Unit, page: int, per_page: int, *, search: str = "", status: str = "") -> Page:
    """Matters whose caption or docket number contains the search, newest first."""
    query = select(Matter).order_by(Matter.id.desc())
    if search:
        pattern = f"%{_escape_like(search)}%"
        query = query.where(
            or_(Matter.caption.ilike(pattern, escape="\\"), Matter.docket_number.ilike(pattern, escape="\\"))
        )
    if status:
        query = query.where(Matter.status == status)
    return paginate(unit.session, query, page, per_page)


# Data sources ----------------------------------------------------------------------------------------


@dataclass
class SourceView:
    """A data source with its obligations and a page of its checks, findings and evidence."""

    source: DataSource
    checks: Page


def source_view(unit: Unit, source_id: int, page: int, per_page: int) -> SourceView:
    """A source, the obligations it satisfies, and a page of checks with findings and evidence."""
    source = unit.session.scalars(
        select(DataSource)
        .where(DataSource.id == source_id)
        .options(
            selectinload(DataSource.obligations).selectinload(Obligation.order).selectinload(PreservationOrder.matter),
            selectinload(DataSource.steward),
        )
    ).first()
    if source is None:
        source = unit.get(DataSource, source_id)  # raises NotFound
    query = (
        select(RetentionCheck)
        .where(RetentionCheck.data_source_id == source_id)
        .options(selectinload(RetentionCheck.findings), selectinload(RetentionCheck.evidence))
        .order_by(RetentionCheck.id.desc())
    )
    return SourceView(source=source, checks=paginate(unit.session, query, page, per_page))


def search_sources(unit: Unit, page: int, per_page: int, *, search: str = "", status: str = "", kind: str = "") -> Page:
    """Live data sources whose name or location contains the search, soonest destruction first."""
    query = (
        select(DataSource)
        .where(DataSource.retired_at.is_(None))
        .order_by(DataSource.earliest_destruction_at.is_(None), DataSource.earliest_destruction_at, DataSource.id)
    )
    if search:
        pattern = f"%{_escape_like(search)}%"
        query = query.where(
            or_(DataSource.name.ilike(pattern, escape="\\"), DataSource.location.ilike(pattern, escape="\\"))
        )
    if status:
        query = query.where(DataSource.status == status)
    if kind:
        query = query.where(DataSource.kind == kind)
    return paginate(unit.session, query, page, per_page)


def search_custodians(unit: Unit, page: int, per_page: int, *, search: str = "", employment: str = "") -> Page:
    """Custodians whose name, email or department contains the search, by name."""
    query = select(Custodian).order_by(Custodian.name, Custodian.id)
    if search:
        pattern = f"%{_escape_like(search)}%"
        query = query.where(
            or_(
                Custodian.name.ilike(pattern, escape="\\"),
                Custodian.email.ilike(pattern, escape="\\"),
                Custodian.department.ilike(pattern, escape="\\"),
            )
        )
    if employment:
        query = query.where(Custodian.employment_status == employment)
    return paginate(unit.session, query, page, per_page)


def matter_choices(unit: Unit) -> list[tuple[int, str]]:
    """Open matters by caption, for a select on a form (capped)."""
    rows = unit.session.execute(
        select(Matter.id, Matter.caption).where(Matter.status == "open").order_by(Matter.id.desc()).limit(200)
    )
    return [(ident, caption) for ident, caption in rows]


# Scheduler and audit ---------------------------------------------------------------------------------


@dataclass
class SchedulerView:
    """The leader lease, the heartbeat, and recent job runs."""

    lease: SchedulerLease | None
    heartbeat: SchedulerHeartbeat | None
    runs: Page


def scheduler_view(
    unit: Unit, page: int, per_page: int, *, job_id: str = "", outcome: str = "", search: str = ""
) -> SchedulerView:
    """Who leads the scheduler, its last tick, and a page of runs, newest first, searched by job, holder or error."""
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc())
    if job_id:
        query = query.where(JobRun.job_id == job_id)
    if search:
        pattern = f"%{_escape_like(search)}%"
        query = query.where(
            or_(
                JobRun.job_id.ilike(pattern, escape="\\"),
                JobRun.holder.ilike(pattern, escape="\\"),
                JobRun.error.ilike(pattern, escape="\\"),
            )
        )
    if outcome:
        query = query.where(JobRun.outcome == outcome)
    return SchedulerView(
        lease=unit.session.get(SchedulerLease, SCHEDULER_LEASE),
        heartbeat=unit.session.scalars(
            select(SchedulerHeartbeat).order_by(SchedulerHeartbeat.beat_at.desc()).limit(1)
        ).first(),
        runs=paginate(unit.session, query, page, per_page),
    )


@dataclass
class AuditView:
    """A page of audit events, newest first, and the latest signed checkpoint."""

    events: Page
    checkpoint: AuditCheckpoint | None


def audit_view(unit: Unit, page: int, per_page: int, *, filters: dict[str, Any]) -> AuditView:
    """Audit events matching the filters (matter, action, actor, time range), newest first."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc())
    if filters.get("matter_id"):
        # The same order within one matter, read straight down its index (no sort of all its events).
        query = (
            select(AuditEvent)
            .where(AuditEvent.matter_id == filters["matter_id"])
            .order_by(AuditEvent.matter_seq.desc())
        )
    if filters.get("action"):
        query = query.where(AuditEvent.action == filters["action"])
    if filters.get("actor"):
        query = query.where(AuditEvent.actor == filters["actor"])
    if filters.get("since"):
        query = query.where(AuditEvent.occurred_at >= filters["since"])
    if filters.get("until"):
        query = query.where(AuditEvent.occurred_at < filters["until"])
    checkpoint = unit.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).first()
    return AuditView(events=_paginate_events(unit, query, page, per_page), checkpoint=checkpoint)


def _paginate_events(unit: Unit, query: Any, page: int, per_page: int) -> Page:
    """A page of events without counting a million rows: one extra row says whether another page follows."""
    rows = list(unit.session.scalars(query.limit(per_page + 1).offset((page - 1) * per_page)))
    # A lower bound of the total: one past this page when another follows, which is all "next" needs.
    total = (page - 1) * per_page + len(rows)
    return Page(items=rows[:per_page], total=total, page=page, per_page=per_page)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
