"""Reading stored audit events fast and in bounded batches, for export and verification.

Rows come back as plain tuples (no ORM objects, no identity map), a batch at a time by keyset on seq or
on (matter_id, matter_seq), so memory stays flat however long the log is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any
from typing import cast as cast_type

from sqlalchemy import (
    ColumnElement,
    Engine,
    LargeBinary,
    Select,
    String,
    cast,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Session

from preservation.db import READ_ONLY_OPTION
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


# The canonical JSON of an event spelled from its columns by the database, in C: the same escaping as
# Python's json module with ensure_ascii=False (json_quote in SQLite, to_json in PostgreSQL; tested).
_SPELLING = {
    "sqlite": (
        "'{\"action\":' || json_quote(action) || ',\"actor\":' || json_quote(actor)"
        " || ',\"details\":' || details"
        " || ',\"matter_id\":' || coalesce(matter_id, 'null')"
        " || ',\"matter_prev_hash\":' || coalesce(json_quote(matter_prev_hash), 'null')"
        " || ',\"matter_seq\":' || coalesce(matter_seq, 'null')"
        " || ',\"occurred_at\":\"' || substr(occurred_at, 1, 10) || 'T' || substr(occurred_at, 12) || 'Z\"'"
        " || ',\"prev_hash\":' || json_quote(prev_hash) || ',\"seq\":' || seq"
        " || ',\"subject_id\":' || json_quote(subject_id) || ',\"subject_type\":' || json_quote(subject_type)"
        " || '}'"
    ),
    "postgresql": (
        "'{\"action\":' || to_json(action)::text || ',\"actor\":' || to_json(actor)::text"
        " || ',\"details\":' || details"
        " || ',\"matter_id\":' || coalesce(matter_id::text, 'null')"
        " || ',\"matter_prev_hash\":' || coalesce(to_json(matter_prev_hash)::text, 'null')"
        " || ',\"matter_seq\":' || coalesce(matter_seq::text, 'null')"
        ' || \',"occurred_at":"\' || to_char(occurred_at AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')'
        " || '\"' || ',\"prev_hash\":' || to_json(prev_hash)::text || ',\"seq\":' || seq::text"
        " || ',\"subject_id\":' || to_json(subject_id)::text || ',\"subject_type\":' || to_json(subject_type)::text"
        " || '}'"
    ),
}


def _canonical_bytes(session: Session) -> ColumnElement[Any]:
    """The stored canonical JSON as UTF-8 bytes, ready for hashlib without a decode and encode in Python."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(AuditEvent.canonical, LargeBinary())
    # A cast to bytea would read backslashes as escapes; convert_to takes the text as it is.
    return type_coerce(func.convert_to(AuditEvent.canonical, "UTF8"), LargeBinary())


def read_checked(
    session: Session, *, first: int = 1, last: int | None = None, batch: int = BATCH
) -> Iterator[list[CheckedRow]]:
    """Events for the chain walk in seq order, a batch at a time: the stored bytes and the link columns.

    Only what the walk needs: the columns' agreement with the bytes is first_altered's, in the database.
    """
    query = (
        select(
            AuditEvent.seq,
            _canonical_bytes(session),
            AuditEvent.hash,
            AuditEvent.prev_hash,
            AuditEvent.matter_id,
            AuditEvent.matter_seq,
            AuditEvent.matter_prev_hash,
        )
        .order_by(AuditEvent.seq)
        .limit(batch)
    )
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


def _first_altered_sql(dialect: str, first: int, last: int) -> str:
    # The first event in [first, last] whose columns do not spell its stored bytes (a NULL column counts as
    # not spelling them), found by the database in one statement: no row reaches Python unless one differs.
    return (
        f"SELECT seq FROM audit_events WHERE seq >= {int(first)} AND seq <= {int(last)}"  # noqa: S608 (integers)
        f" AND NOT coalesce(canonical = {_SPELLING[dialect]}, false) ORDER BY seq LIMIT 1"
    )


def first_altered(session: Session, *, first: int, last: int) -> int | None:
    """The lowest seq in [first, last] whose columns no longer spell the canonical bytes stored with them."""
    dialect = session.get_bind().dialect.name
    found = session.execute(text(_first_altered_sql(dialect, first, last))).scalar()
    return None if found is None else int(found)


class ColumnCheck:
    """first_altered over [first, last], run beside the chain walk on a connection of its own where it can.

    The database does the whole check in one statement, in C (SQLite releases the GIL while it runs; on
    PostgreSQL the server's own process does it), so on a second CPU it costs the walk no time. The rows
    it reads are append-only and below the log's end when it starts, so its own snapshot sees the same
    events the walk does. Only a reader's session (begin_read_only) gets the thread: a session that has
    written may hold events no other connection sees yet, and one bound to a single connection (a test's
    outer transaction) or to an in-memory SQLite database has no second connection that sees its data.
    The check then runs in the session when result() is asked for.
    """

    def __init__(self, session: Session, *, first: int, last: int) -> None:
        self._session = session
        self._first, self._last = first, last
        self._found: int | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        # The thread's driver connection while its statement runs, so that the statement can be cancelled
        # (never once the connection may have gone back to the pool); changed under the lock.
        self._running: Any = None
        self._cancelled = False
        self._finished = False
        self._lock = threading.Lock()
        bind = session.get_bind()
        reader = session.connection().get_execution_options().get(READ_ONLY_OPTION, False)
        if first <= last and reader and isinstance(bind, Engine) and not _in_memory(bind):
            self._thread = threading.Thread(target=self._run, args=(bind,), name="audit-column-check", daemon=True)
            self._thread.start()

    def _run(self, engine: Engine) -> None:
        try:
            with engine.connect() as connection:
                # A reader: on SQLite it begins DEFERRED, holding nothing that writers wait for.
                connection.execution_options(**{READ_ONLY_OPTION: True})
                with self._lock:
                    if self._cancelled:
                        return
                    self._running = connection.connection.dbapi_connection
                try:
                    found = connection.exec_driver_sql(
                        _first_altered_sql(engine.dialect.name, self._first, self._last)
                    ).scalar()
                finally:
                    with self._lock:
                        self._running = None
                self._found = None if found is None else int(found)
                self._finished = True
        except BaseException as error:
            self._error = error

    def result(self, upto: int | None = None) -> int | None:
        """The lowest altered seq in the range, or None; waits for the check to finish.

        upto: the walk stopped there, so only an altered event at or before it matters. A check still
        running is then cancelled and [first, upto] checked in the session instead; the answer is the
        lowest altered seq at or before upto, or a later one the check had already found, or None.
        """
        last = self._last if upto is None else min(self._last, upto)
        in_session = self._first <= last
        if self._thread is None:
            return first_altered(self._session, first=self._first, last=last) if in_session else None
        if last < self._last and self._thread.is_alive():
            self._cancel()
        self._thread.join()
        if self._finished:
            return self._found
        if self._cancelled:
            return first_altered(self._session, first=self._first, last=last) if in_session else None
        raise self._error or RuntimeError("the column check stopped without an answer")

    def _cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            running = self._running
            if running is None:
                return
            # Both drivers allow this from another thread: the statement stops with an error. Under the
            # lock, so the connection cannot go back to the pool (and to other work) meanwhile.
            if self._session.get_bind().dialect.name == "sqlite":
                running.interrupt()
            else:
                running.cancel()


def _in_memory(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def altered_columns(session: Session, seq: int) -> list[str]:
    """Which columns of the event at seq no longer hold what its stored canonical bytes say."""
    row = session.execute(select(AuditEvent.canonical).where(AuditEvent.seq == seq)).first()
    stored = next((event for batch in read_batches(session, first=seq, last=seq) for event in batch), None)
    if row is None or stored is None:
        return []
    try:
        hashed = json.loads(row.canonical)
    except ValueError:
        return ["canonical"]
    columns = stored._asdict()
    del columns["hash"]
    with contextlib.suppress(ValueError):
        columns["details"] = json.loads(stored.details)
    if not isinstance(hashed, dict):
        return ["canonical"]
    # Equal values spelled otherwise (details re-encoded, say) name no column: the caller says so.
    return [name for name, value in columns.items() if hashed.get(name) != value]


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
