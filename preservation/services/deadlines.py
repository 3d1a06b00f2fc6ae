"""Deadlines: one row per due date found in obligations, orders and data sources' destruction clocks.

The sweep reconciles these rows with the records they come from, so a deadline follows its obligation
when the due date moves, is met when the obligation is satisfied, and is cancelled when the order is
released. Each row keeps how its date was computed.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from preservation.models import DataSource, Deadline, Obligation, PreservationOrder
from preservation.services.pages import Page, paginate
from preservation.services.unit import Unit

# Obligation statuses under which the duty is still owed.
_OWED = frozenset({"open", "in_progress"})
_TITLE_LENGTH = 500


@dataclass(frozen=True)
class DeadlinePolicy:
    """How deadlines are found: the court's time zone and the margin kept before data is destroyed."""

    timezone: str = "UTC"
    destruction_margin: dt.timedelta = dt.timedelta(hours=72)


@dataclass(frozen=True)
class FoundDeadline:
    """A due date as its source record states it today."""

    kind: str
    subject_type: str
    subject_id: int
    matter_id: int | None
    title: str
    due_on: dt.date
    due_at: dt.datetime | None
    computation: dict[str, Any]
    status: str


def local_date(moment: dt.datetime, timezone: str) -> dt.date:
    """The calendar day a moment falls on in the court's time zone."""
    return moment.astimezone(zoneinfo.ZoneInfo(timezone)).date()


def _title(text: str) -> str:
    return text if len(text) <= _TITLE_LENGTH else text[: _TITLE_LENGTH - 1] + "…"


def _obligation_deadlines(session: Session) -> Iterator[FoundDeadline]:
    query = (
        select(Obligation)
        .where(Obligation.due_on.is_not(None))
        .options(selectinload(Obligation.order))
        .order_by(Obligation.id)
    )
    for obligation in session.scalars(query):
        order = obligation.order
        if obligation.status == "satisfied":
            status = "met"
        elif obligation.status in _OWED and order.status == "active":
            status = "open"
        else:
            status = "cancelled"
        due_on = obligation.due_on
        assert due_on is not None  # noqa: S101  (the query selects only obligations with a due date)
        computation = obligation.due_computation or {
            "rule": "as entered on the obligation",
            "due_on": due_on.isoformat(),
        }
        yield FoundDeadline(
            kind="obligation_due",
            subject_type="obligation",
            subject_id=obligation.id,
            matter_id=order.matter_id,
            title=_title(f"Obligation {obligation.id} (order {order.id}): {obligation.description}"),
            due_on=due_on,
            due_at=None,
            computation=computation,
            status=status,
        )


def _order_deadlines(session: Session) -> Iterator[FoundDeadline]:
    query = (
        select(PreservationOrder).where(PreservationOrder.compliance_due_on.is_not(None)).order_by(PreservationOrder.id)
    )
    for order in session.scalars(query):
        due_on = order.compliance_due_on
        assert due_on is not None  # noqa: S101  (the query selects only orders with a compliance date)
        yield FoundDeadline(
            kind="order_compliance",
            subject_type="order",
            subject_id=order.id,
            matter_id=order.matter_id,
            title=_title(f"Comply with order {order.id}: {order.title}"),
            due_on=due_on,
            due_at=None,
            computation={"rule": "as entered on the order (compliance_due_on)", "due_on": due_on.isoformat()},
            status="open" if order.status == "active" else "cancelled",
        )


def _destruction_deadlines(session: Session, policy: DeadlinePolicy) -> Iterator[FoundDeadline]:
    query = (
        select(DataSource)
        .where(DataSource.earliest_destruction_at.is_not(None))
        .options(selectinload(DataSource.obligations).selectinload(Obligation.order))
        .order_by(DataSource.id)
    )
    for source in session.scalars(query):
        destruction = source.earliest_destruction_at
        assert destruction is not None  # noqa: S101  (the query selects only sources with a destruction time)
        binding = [o for o in source.obligations if o.status in _OWED and o.order.status == "active"]
        matters = {o.order.matter_id for o in source.obligations}
        due_at = destruction - policy.destruction_margin
        owed = bool(binding) and source.retired_at is None and source.status != "released"
        yield FoundDeadline(
            kind="data_destruction",
            subject_type="data_source",
            subject_id=source.id,
            matter_id=matters.pop() if len(matters) == 1 else None,
            title=_title(f"Data source {source.id} ({source.name}): preserve before data is destroyed"),
            due_on=local_date(due_at, policy.timezone),
            due_at=due_at,
            computation={
                "rule": "earliest destruction time from the latest check, minus the safety margin",
                "earliest_destruction_at": destruction.isoformat(),
                "checked_at": source.last_checked_at.isoformat() if source.last_checked_at else None,
                "safety_margin_hours": policy.destruction_margin.total_seconds() / 3600,
                "due_at": due_at.isoformat(),
                "time_zone": policy.timezone,
            },
            status="open" if owed else "cancelled",
        )


def found_deadlines(session: Session, policy: DeadlinePolicy) -> Iterator[FoundDeadline]:
    """Every due date the records carry, with the status the deadline should have."""
    yield from _obligation_deadlines(session)
    yield from _order_deadlines(session)
    yield from _destruction_deadlines(session, policy)


@dataclass
class ReconcileCounts:
    """What one reconcile changed."""

    created: int = 0
    moved: int = 0
    closed: int = 0
    reopened: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts as a run's details."""
        return {
            "deadlines_created": self.created,
            "deadlines_moved": self.moved,
            "deadlines_closed": self.closed,
            "deadlines_reopened": self.reopened,
        }

    def add(self, other: ReconcileCounts) -> None:
        """Count what another unit of work changed."""
        self.created += other.created
        self.moved += other.moved
        self.closed += other.closed
        self.reopened += other.reopened


@dataclass(frozen=True)
class DeadlineChange:
    """One deadline row to create, update or close: a sweep commits each in a transaction of its own."""

    kind: str
    subject_id: int
    # None when the record no longer carries a due date (cleared, or its source lost its destruction time).
    found: FoundDeadline | None


def changes_owed(session: Session, policy: DeadlinePolicy) -> list[DeadlineChange]:
    """The deadline rows that differ from their records now; reads only."""
    existing = {(row.kind, row.subject_id): row for row in session.scalars(select(Deadline))}
    changes: list[DeadlineChange] = []
    for found in found_deadlines(session, policy):
        row = existing.pop((found.kind, found.subject_id), None)
        if row is None:
            if found.status == "open":  # a due date that was never owed while we watched needs no row
                changes.append(DeadlineChange(found.kind, found.subject_id, found))
        elif _differs(row, found):
            changes.append(DeadlineChange(found.kind, found.subject_id, found))
    changes.extend(DeadlineChange(row.kind, row.subject_id, None) for row in existing.values() if row.status == "open")
    return changes


def apply_change(unit: Unit, change: DeadlineChange, counts: ReconcileCounts) -> None:
    """Bring one deadline row in line with what was found; flushes, the caller commits."""
    session = unit.session
    now = unit.clock()
    row = session.scalar(select(Deadline).where(Deadline.kind == change.kind, Deadline.subject_id == change.subject_id))
    found = change.found
    if found is None:
        if row is not None and row.status == "open":
            row.status = "cancelled"
            row.sequence += 1
            row.updated_at = now
            counts.closed += 1
    elif row is None:
        if found.status == "open":
            session.add(
                Deadline(
                    kind=found.kind,
                    subject_type=found.subject_type,
                    subject_id=found.subject_id,
                    matter_id=found.matter_id,
                    title=found.title,
                    due_on=found.due_on,
                    due_at=found.due_at,
                    computation=found.computation,
                    status="open",
                    known_since=now,
                    sequence=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            counts.created += 1
    else:
        _update(row, found, now, counts)
    session.flush()


def reconcile(unit: Unit, policy: DeadlinePolicy) -> ReconcileCounts:
    """Bring every deadline row in line with its record in the caller's transaction; flushes, the caller commits."""
    counts = ReconcileCounts()
    for change in changes_owed(unit.session, policy):
        apply_change(unit, change, counts)
    return counts


def _differs(row: Deadline, found: FoundDeadline) -> bool:
    return (
        row.due_on != found.due_on
        or row.due_at != found.due_at
        or row.computation != found.computation
        or row.title != found.title
        or row.matter_id != found.matter_id
        or row.status != found.status
    )


def _update(row: Deadline, found: FoundDeadline, now: dt.datetime, counts: ReconcileCounts) -> None:
    changed = False
    if row.due_on != found.due_on:
        # A new due date owes its own alerts; thresholds it crossed before now collapse into one.
        row.due_on = found.due_on
        row.known_since = now
        counts.moved += 1
        changed = True
    if row.due_at != found.due_at or row.computation != found.computation:
        row.due_at = found.due_at
        row.computation = found.computation
        changed = True
    if row.title != found.title or row.matter_id != found.matter_id:
        row.title = found.title
        row.matter_id = found.matter_id
        changed = True
    if row.status != found.status:
        if found.status == "open":
            row.known_since = now
            counts.reopened += 1
        else:
            counts.closed += 1
        row.status = found.status
        changed = True
    if changed:
        row.sequence += 1
        row.updated_at = now


def open_deadline_ids(session: Session) -> list[int]:
    """Ids of the deadlines alerts may still be owed for, soonest first."""
    return list(
        session.scalars(select(Deadline.id).where(Deadline.status == "open").order_by(Deadline.due_on, Deadline.id))
    )


def list_deadlines(
    unit: Unit,
    page: int,
    per_page: int,
    *,
    today: dt.date,
    matter_id: int | None = None,
    within_days: int | None = None,
    overdue: bool | None = None,
    status: str | None = "open",
    kind: str | None = None,
) -> Page:
    """Deadlines soonest first: of a matter, due within N days of today, overdue or not, of a status."""
    query = select(Deadline).order_by(Deadline.due_on, Deadline.id)
    if matter_id is not None:
        query = query.where(Deadline.matter_id == matter_id)
    if status is not None:
        query = query.where(Deadline.status == status)
    if kind is not None:
        query = query.where(Deadline.kind == kind)
    if within_days is not None:
        query = query.where(Deadline.due_on <= today + dt.timedelta(days=within_days))
    if overdue is True:
        query = query.where(Deadline.due_on < today)
    elif overdue is False:
        query = query.where(Deadline.due_on >= today)
    return paginate(unit.session, query, page, per_page)


def get_deadline(unit: Unit, deadline_id: int) -> Deadline:
    """One deadline."""
    deadline: Deadline = unit.get(Deadline, deadline_id)
    return deadline
