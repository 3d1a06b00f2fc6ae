"""Reading stored audit events fast and in bounded batches, for export and verification.

Rows come back as plain tuples (no ORM objects, no identity map), a batch at a time by keyset on seq or
on (matter_id, matter_seq), so memory stays flat however long the log is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Select, String, func, select, type_coerce
from sqlalchemy.orm import Session

from preservation.domain.audit_chain import StoredEvent
from preservation.models import AuditEvent

BATCH = 10_000


def _occurred_at(session: Session) -> ColumnElement[Any]:
    """occurred_at spelled by the database as it is hashed: UTC, microseconds, Z."""
    if session.get_bind().dialect.name == "sqlite":
        # Stored as the text 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC; any other spelling fails its hash check.
        stored = type_coerce(AuditEvent.occurred_at, String())
        return func.substr(stored, 1, 10) + "T" + func.substr(stored, 12) + "Z"
    return func.to_char(func.timezone("UTC", AuditEvent.occurred_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')


def _query(session: Session) -> Select[Any]:
    return select(
        AuditEvent.seq,
        _occurred_at(session),
        AuditEvent.actor,
        AuditEvent.action,
        AuditEvent.subject_type,
        AuditEvent.subject_id,
        AuditEvent.matter_id,
        AuditEvent.matter_seq,
        AuditEvent.details,
        AuditEvent.prev_hash,
        AuditEvent.matter_prev_hash,
        AuditEvent.hash,
    )


def read_batches(
    session: Session,
    *,
    first: int = 1,
    last: int | None = None,
    matter_id: int | None = None,
    batch: int = BATCH,
) -> Iterator[list[StoredEvent]]:
    """Events in order, a batch at a time, from position `first` to `last` (inclusive; None: to the end).

    Positions are seq, or matter_seq within one matter when matter_id is given.
    """
    position = AuditEvent.seq if matter_id is None else AuditEvent.matter_seq
    query = _query(session).order_by(position).limit(batch)
    if matter_id is not None:
        query = query.where(AuditEvent.matter_id == matter_id)
    if last is not None:
        query = query.where(position <= last)
    after = first - 1
    # Core execution on the session's connection: plain rows, none of the ORM's per-row bookkeeping.
    connection = session.connection()
    while True:
        rows = connection.execute(query.where(position > after)).all()
        if not rows:
            return
        events = list(map(StoredEvent._make, rows))
        yield events
        if len(rows) < batch:
            return
        last_event = events[-1]
        after = last_event.seq if matter_id is None else (last_event.matter_seq or 0)


def last_seq(session: Session) -> int:
    """The seq of the newest event, 0 for an empty log."""
    return int(session.scalar(select(func.max(AuditEvent.seq))) or 0)


def position_bounds(
    session: Session, *, end: int, matter_id: int | None, since: dt.datetime | None, until: dt.datetime | None
) -> tuple[int, int]:
    """The first and last positions (seq, or matter_seq) up to `end` whose occurred_at lies in [since, until).

    first is end + 1 and last is 0 when no event qualifies on that side.
    """
    position = AuditEvent.seq if matter_id is None else AuditEvent.matter_seq
    scope = [position <= end] + ([AuditEvent.matter_id == matter_id] if matter_id is not None else [])
    first, last = 1, end
    if since is not None:
        found = session.scalar(select(func.min(position)).where(*scope, AuditEvent.occurred_at >= since))
        first = end + 1 if found is None else int(found)
    if until is not None:
        found = session.scalar(select(func.max(position)).where(*scope, AuditEvent.occurred_at < until))
        last = 0 if found is None else int(found)
    return first, last
