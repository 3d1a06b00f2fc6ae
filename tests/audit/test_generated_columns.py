"""Every column of audit_events but seq, hash and canonical is generated from the hashed bytes (migration 0013).

The columns say exactly what the bytes say, for any value record() accepts; the database refuses to update
one; and a table whose definition was changed behind the service's back is what verify reports, first.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from preservation import migrate
from preservation.db import make_engine, make_session_factory
from preservation.domain.audit_chain import canonical_json, format_timestamp
from preservation.models import AuditEvent
from preservation.services import audit
from preservation.services.audit_rows import generated_columns_problem
from preservation.services.checkpoints import LogVerdict, verify_log
from preservation.services.unit import Unit
from tests.audit.support import GENERATED, StoredTrail, record_trail
from tests.conftest import POSTGRES_URL

HOSTILE = (
    'a "quoted" word',
    "back\\slash and a trailing \\",
    "tab\tnew\nline\rreturn",
    "controls \x01 \x08 \x0c \x1f and delete \x7f",
    "accents é ü, 中文, a camera 🎥",
    "line separators \u2028 \u2029",
    '\\"',
    ',"prev_hash":"' + "0" * 64 + '","seq":1',
    "",
)


def _details(text: str, index: int) -> dict[str, Any]:
    return {
        "note": text,
        text: [1, 2.5, -0.0, 1e-07, 1.5e300, None, True, False, {"nested": {text: [text, {}, []]}}],
        "big": 2**70,
        "count": index,
        "empty": {},
        "matter_id": index,
    }


def _record_hostile(session: Session) -> None:
    start = dt.datetime(2026, 11, 29, 4, 0, 0, 123456, tzinfo=dt.UTC)
    for index, value in enumerate(HOSTILE):
        moment = start + dt.timedelta(seconds=index, microseconds=index)
        unit = Unit(session=session, actor=f"user:{value}@example.org", clock=lambda moment=moment: moment)
        audit.record(unit, "matter.updated", value[:60], value[:60], matter_id=None, details=_details(value, index))
        audit.record(unit, "order.released", "matter", index, matter_id=7 + index % 2, details={value: value})
        session.commit()


def test_every_generated_column_says_what_the_hashed_bytes_say(session: Session) -> None:
    _record_hostile(session)
    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    assert len(events) == 2 * len(HOSTILE)
    for event in events:
        hashed = json.loads(event.canonical)
        assert format_timestamp(event.occurred_at) == hashed["occurred_at"], event.seq
        for name in GENERATED[1:]:
            column = getattr(event, name)
            expected = canonical_json(hashed[name]) if name == "details" else hashed[name]
            assert column == expected, (event.seq, name)
        # details as stored in the bytes, byte for byte: from '"details":' to the event's own matter_id key.
        start = event.canonical.index('"details":') + len('"details":')
        assert event.details == event.canonical[start : event.canonical.rfind(',"matter_id":')], event.seq
    assert [event.actor for event in events[::2]] == [f"user:{value}@example.org" for value in HOSTILE]
    assert [event.matter_seq for event in events[1::2]][:4] == [1, 1, 2, 2]
    assert events[1].prev_hash == events[0].hash
    assert events[5].matter_prev_hash == events[1].hash
    # And the raw column text the database hands back, without the model's types in between.
    raw = session.execute(text("SELECT seq, details, actor, subject_id FROM audit_events ORDER BY seq")).all()
    assert [(row.details, row.actor, row.subject_id) for row in raw] == [
        (event.details, event.actor, event.subject_id) for event in events
    ]
    verdict = verify_log(session, None)
    assert verdict.intact, verdict
    assert verdict.events == len(events)


# Updates refused ----------------------------------------------------------------------------------------


def _snapshot(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    columns = ", ".join(GENERATED)
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT seq, {columns}, hash, canonical FROM audit_events"))  # noqa: S608
        snapshot = sorted(tuple(row) for row in rows)
    engine.dispose()
    return snapshot


UPDATES = {
    "occurred_at": "occurred_at = occurred_at",
    "actor": "actor = 'user:forger@example.org'",
    "action": "action = 'matter.created'",
    "subject_type": "subject_type = 'user'",
    "subject_id": "subject_id = '999'",
    "matter_id": "matter_id = 99",
    "matter_seq": "matter_seq = matter_seq + 1",
    "details": "details = '{}'",
    "prev_hash": "prev_hash = hash",
    "matter_prev_hash": "matter_prev_hash = hash",
}


@pytest.mark.parametrize("column", GENERATED)
def test_the_database_refuses_to_update_a_generated_column(
    trail: StoredTrail, hostile_dba: Callable[..., None], column: str
) -> None:
    before = _snapshot(trail.database_url)
    target = trail.of_matter(2)[1].seq
    with pytest.raises(DBAPIError, match=r"(?i)generated|can only be updated to DEFAULT"):
        hostile_dba(f"UPDATE audit_events SET {UPDATES[column]} WHERE seq = {target}")  # noqa: S608 (fixed text)
    assert _snapshot(trail.database_url) == before


def test_a_changed_canonical_takes_every_column_with_it(
    trail: StoredTrail, hostile_dba: Callable[..., None], session: Session
) -> None:
    target = trail.of_matter(1)[2]
    forged = session.scalar(select(AuditEvent.canonical).where(AuditEvent.seq == target.seq))
    assert forged is not None
    session.rollback()  # SQLite: let the forger's transaction have the write lock
    forged = forged.replace('"actor":"user:counsel@example.org"', '"actor":"user:forger@example.org"')
    hostile_dba("UPDATE audit_events SET canonical = :forged WHERE seq = :seq", forged=forged, seq=target.seq)
    session.expire_all()
    assert session.scalar(select(AuditEvent.actor).where(AuditEvent.seq == target.seq)) == "user:forger@example.org"
    verdict = verify_log(session, None)
    assert verdict.problem is not None
    assert (verdict.problem.kind, verdict.problem.seq) == ("chain", target.seq)


# The table's definition changed ------------------------------------------------------------------------


@pytest.fixture
def own_database(db_kind: str, database_url: str) -> Iterator[str]:
    """A migrated database this test alone uses, whose schema it may change (SQLite's is already a copy)."""
    if db_kind == "sqlite":
        yield database_url
        return
    admin = create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"preservation_schema_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _verify(url: str) -> LogVerdict:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        verdict = verify_log(session, None)
    engine.dispose()
    return verdict


def _postgres(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        for statement in statements:
            connection.execute(text(statement))
        connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    engine.dispose()


def _sqlite_schema(url: str, old: str, new: str) -> None:
    """Edit audit_events' CREATE TABLE text in place, as PRAGMA writable_schema lets the file's owner."""
    path = make_url(url).database
    assert path is not None
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        table = connection.execute("SELECT sql FROM sqlite_schema WHERE name = 'audit_events'").fetchone()[0]
        assert table.count(old) == 1, table
        version = connection.execute("PRAGMA schema_version").fetchone()[0]
        connection.execute("PRAGMA writable_schema = ON")
        connection.execute("UPDATE sqlite_schema SET sql = ? WHERE name = 'audit_events'", (table.replace(old, new),))
        connection.execute(f"PRAGMA schema_version = {version + 1}")
        connection.execute("PRAGMA writable_schema = OFF")
    finally:
        connection.close()


def _schema_problem(verdict: LogVerdict) -> str:
    assert verdict.problem is not None, verdict
    assert (verdict.problem.kind, verdict.problem.seq) == ("schema", None), verdict.problem
    return verdict.problem.reason


def test_an_intact_database_has_no_schema_problem(own_database: str) -> None:
    trail = record_trail(own_database, 12)
    engine = make_engine(own_database)
    with make_session_factory(engine)() as session:
        assert generated_columns_problem(session) is None
    engine.dispose()
    verdict = _verify(own_database)
    assert verdict.intact, verdict
    assert (verdict.events, verdict.head_hash) == (12, trail.events[-1].hash)


def test_a_column_read_from_another_key_is_reported(own_database: str, db_kind: str) -> None:
    trail = record_trail(own_database, 12)
    target = trail.events[5]
    if db_kind == "sqlite":
        _sqlite_schema(own_database, "json_extract(canonical, '$.actor')", "json_extract(canonical, '$.action')")
    else:
        # The column becomes a plain one, which an UPDATE can then change.
        _postgres(
            own_database,
            "ALTER TABLE audit_events ALTER COLUMN actor DROP EXPRESSION",
            f"UPDATE audit_events SET actor = 'user:forger@example.org' WHERE seq = {target.seq}",  # noqa: S608
        )
    engine = make_engine(own_database)
    with engine.connect() as connection:
        actor = connection.execute(text(f"SELECT actor FROM audit_events WHERE seq = {target.seq}")).scalar()  # noqa: S608
    engine.dispose()
    # The column now says what no hashed event says; the chain itself is untouched.
    assert actor == ("matter.updated" if db_kind == "sqlite" else "user:forger@example.org")
    reason = _schema_problem(_verify(own_database))
    assert [name for name in GENERATED if name in reason] == ["actor"], reason


# PostgreSQL's DROP EXPRESSION is test_a_column_read_from_another_key_is_reported's case.
@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_a_column_no_longer_generated_is_reported_on_sqlite(own_database: str, cli: Callable[..., Result]) -> None:
    record_trail(own_database, 4)
    # A plain column of the same name, holding nothing the bytes say.
    _sqlite_schema(
        own_database,
        "subject_id VARCHAR(64) GENERATED ALWAYS AS (json_extract(canonical, '$.subject_id')) VIRTUAL NOT NULL",
        "subject_id VARCHAR(64)",
    )
    reason = _schema_problem(_verify(own_database))
    assert [name for name in GENERATED if name in reason] == ["subject_id"], reason
    # The command says the table changed, not that a checkpoint is invalid.
    result = cli("audit", "verify", database_url=own_database)
    assert result.exit_code == 1
    assert "audit table CHANGED: audit_events no longer generates subject_id" in result.output


@pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)
def test_a_redefined_audit_instant_is_reported(own_database: str) -> None:
    record_trail(own_database, 6)
    _postgres(
        own_database,
        "CREATE OR REPLACE FUNCTION audit_instant(p_canonical text) RETURNS timestamptz"
        " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$"
        " SELECT (p_canonical::json ->> 'occurred_at')::timestamptz - interval '1 day' $fn$",
    )
    reason = _schema_problem(_verify(own_database))
    assert "occurred_at" in reason
    assert "audit_instant" in reason


@pytest.mark.parametrize("field", ["actor", "subject_type", "subject_id"])
def test_a_nul_in_a_text_field_is_refused_and_nothing_is_written(database_url: str, field: str) -> None:
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        before = session.execute(text("SELECT count(*) FROM audit_events")).scalar()
        values = {"actor": "user:counsel@example.org", "subject_type": "matter", "subject_id": "12"}
        values[field] += "\x00mallory"
        unit = Unit(session=session, actor=values["actor"])
        with pytest.raises(ValueError, match=f"an audit {field} cannot hold a NUL character"):
            audit.record(
                unit, "matter.updated", values["subject_type"], values["subject_id"], matter_id=None, details={}
            )
        session.rollback()
        assert session.execute(text("SELECT count(*) FROM audit_events")).scalar() == before
    engine.dispose()
