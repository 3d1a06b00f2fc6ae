"""Reading stored audit events fast and in bounded batches, for export and verification.

Rows come back as plain tuples (no ORM objects, no identity map), a batch at a time by keyset on seq or
on (matter_id, matter_seq), so memory stays flat however long the log is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from typing import cast as cast_type

from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    Select,
    String,
    cast,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from preservation.domain.audit_chain import CheckedRow, StoredEvent
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
    for rows in _keyset(session, _query(session), first=first, last=last, matter_id=matter_id, batch=batch):
        yield list(map(StoredEvent._make, rows))


def read_for_export(
    session: Session,
    *,
    first: int = 1,
    last: int | None = None,
    matter_id: int | None = None,
    batch: int = BATCH,
) -> Iterator[list[tuple[Any, ...]]]:
    """As read_batches, as the driver's plain tuples in StoredEvent's order with the stored canonical JSON last."""
    query = _query(session).add_columns(AuditEvent.canonical)
    for rows in _keyset(session, query, first=first, last=last, matter_id=matter_id, batch=batch):
        yield cast_type(list[tuple[Any, ...]], rows)


def _keyset(
    session: Session,
    query: Select[Any],
    *,
    first: int,
    last: int | None,
    matter_id: int | None,
    batch: int,
) -> Iterator[Sequence[Any]]:
    position = AuditEvent.seq if matter_id is None else AuditEvent.matter_seq
    query = query.order_by(position).limit(batch)
    if matter_id is not None:
        query = query.where(AuditEvent.matter_id == matter_id)
    if last is not None:
        query = query.where(position <= last)
    after = first - 1
    # The driver's own cursor in the session's transaction: plain tuples, no result processing per row
    # (the statement is rendered with its few integer parameters inline).
    connection = session.connection()
    cursor = connection.connection.cursor()
    try:
        while True:
            statement = query.where(position > after).compile(
                dialect=connection.dialect, compile_kwargs={"literal_binds": True}
            )
            cursor.execute(str(statement))
            rows = cursor.fetchall()
            if not rows:
                return
            yield rows
            if len(rows) < batch:
                return
            # seq is the first column and matter_seq the eighth of every query here.
            after = rows[-1][0] if matter_id is None else (rows[-1][7] or 0)
    finally:
        cursor.close()


def _canonical_bytes(session: Session) -> ColumnElement[Any]:
    """The stored canonical JSON as UTF-8 bytes, ready for hashlib without a decode and encode in Python."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(AuditEvent.canonical, LargeBinary())
    # A cast to bytea would read backslashes as escapes; convert_to takes the text as it is.
    return type_coerce(func.convert_to(AuditEvent.canonical, "UTF8"), LargeBinary())


def read_checked(
    session: Session, *, first: int = 1, last: int | None = None, batch: int = BATCH
) -> Iterator[list[CheckedRow]]:
    """Events for the chain walk in seq order, a batch at a time: seq, the stored bytes and the stored hash.

    The walk reads the links out of the bytes; the other columns are generated from them (migration 0013).
    """
    query = select(AuditEvent.seq, _canonical_bytes(session), AuditEvent.hash).order_by(AuditEvent.seq).limit(batch)
    if last is not None:
        query = query.where(AuditEvent.seq <= last)
    after = first - 1
    connection = session.connection()
    # The driver's own cursor, in the session's transaction: plain tuples, no result processing per row
    # (the statement is rendered with its few integer parameters inline).
    cursor = connection.connection.cursor()
    try:
        while True:
            statement = query.where(AuditEvent.seq > after)
            cursor.execute(str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})))
            rows = cursor.fetchall()
            if not rows:
                return
            # Rows in CheckedRow's field order, left as the driver's tuples: a NamedTuple each costs 15%.
            yield cast_type(list[CheckedRow], rows)
            if len(rows) < batch:
                return
            after = rows[-1][0]
    finally:
        cursor.close()


def matter_heads_at(session: Session, size: int, matters: Iterable[int]) -> dict[int, tuple[int, str]]:
    """Each given matter's last matter_seq and hash among events up to seq `size`, read down its index."""
    heads: dict[int, tuple[int, str]] = {}
    for matter in matters:
        found = session.execute(
            select(AuditEvent.matter_seq, AuditEvent.hash)
            .where(AuditEvent.matter_id == matter, AuditEvent.seq <= size)
            .order_by(AuditEvent.matter_seq.desc())
            .limit(1)
        ).first()
        if found is not None:
            heads[matter] = (int(found.matter_seq), found.hash)
    return heads


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


# What migration 0013 made of every column but seq, hash and canonical: generated from canonical. Events
# are then stored once, as hashed, and nothing can hold other values unless the definitions change, which
# generated_columns_problem looks for (verify runs it before walking the chain).
_GENERATED = (
    "occurred_at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "matter_id",
    "matter_seq",
    "details",
    "prev_hash",
    "matter_prev_hash",
)
_SQLITE_EXPRESSION = {"occurred_at": "replace(substr(json_extract(canonical, '$.occurred_at'), 1, 26), 'T', ' ')"}
_POSTGRESQL_EXPRESSION = {
    "occurred_at": "audit_instant(canonical)",
    "matter_id": "(((canonical)::json ->> 'matter_id'::text))::integer",
    "matter_seq": "(((canonical)::json ->> 'matter_seq'::text))::bigint",
    "details": "(((canonical)::json -> 'details'::text))::text",
}
_SQLITE_VIRTUAL = 2  # pragma table_xinfo's "hidden" for a VIRTUAL generated column, computed whenever read
_POSTGRESQL_INSTANT = "SELECT (p_canonical::json ->> 'occurred_at')::timestamptz"


def _sqlite_definition(name: str) -> str:
    expression = _SQLITE_EXPRESSION.get(name, f"json_extract(canonical, '$.{name}')")
    return f" GENERATED ALWAYS AS ({expression}) VIRTUAL"


def generated_columns_problem(session: Session) -> str | None:
    """Why audit_events' columns may no longer be what its hashed bytes say (a changed definition), or None."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        table = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'audit_events'"
        ).scalar()
        kinds: dict[str, int] = dict(
            connection.exec_driver_sql("SELECT name, hidden FROM pragma_table_xinfo('audit_events')").all()
        )
        changed = [
            name
            for name in _GENERATED
            if kinds.get(name) != _SQLITE_VIRTUAL or _sqlite_definition(name) not in (table or "")
        ]
    else:
        found: dict[str, str | None] = dict(
            connection.exec_driver_sql(
                "SELECT column_name, CASE WHEN is_generated = 'ALWAYS' THEN generation_expression END"
                " FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'audit_events'"
            ).all()
        )
        changed = [
            name
            for name in _GENERATED
            if found.get(name) != _POSTGRESQL_EXPRESSION.get(name, f"((canonical)::json ->> '{name}'::text)")
        ]
        instant = connection.exec_driver_sql(
            "SELECT prosrc FROM pg_proc WHERE proname = 'audit_instant'"
            " AND pronamespace = current_schema()::regnamespace"
        ).scalar()
        if (instant or "").strip() != _POSTGRESQL_INSTANT:
            changed.append("occurred_at (audit_instant() was redefined)")
    if not changed:
        return None
    return (
        f"audit_events no longer generates {', '.join(changed)} from the hashed bytes: the table's definition "
        "was changed, so those columns may hold what no event says"
    )
