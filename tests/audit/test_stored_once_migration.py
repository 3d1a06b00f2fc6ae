"""Migration 0013 keeps every event as it was: the columns it generates from the bytes hold the values the
columns held, the chain verifies and continues; an event whose columns no longer spell its bytes stops it."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from preservation import migrate
from preservation.db import make_engine, make_session_factory
from preservation.domain.audit_chain import GENESIS_HASH, ChainEntry, canonical_json, format_timestamp
from preservation.services import audit
from preservation.services.checkpoints import verify_log
from preservation.services.unit import Unit
from tests.audit.support import GENERATED
from tests.conftest import POSTGRES_URL

BEFORE = "0012_audit_append_function"
AFTER = "0013_audit_events_stored_once"
COLUMNS = (
    "seq, occurred_at, actor, action, subject_type, subject_id, matter_id, matter_seq, details, prev_hash, "
    "matter_prev_hash, hash, canonical"
)
# As migration 0012 stored an event on SQLite: every column, and the bytes that were hashed.
INSERT_0012 = (
    f"INSERT INTO audit_events ({COLUMNS}) VALUES (:seq, :occurred_at, :actor, :action, :subject_type, "  # noqa: S608
    ":subject_id, :matter_id, :matter_seq, :details, :prev_hash, :matter_prev_hash, :hash, :canonical)"
)
AWKWARD = (
    'say "hi"',
    "back\\slash \\",
    "tab\there\nnewline",
    "bell\x07\x1f\x7f",
    "Zoë 東京 😀",
    "line\u2028sep\u2029",
    ',"prev_hash":"' + "0" * 64 + '","seq":1',
)
START = dt.datetime(2026, 3, 1, 9, 30, 0, 654321, tzinfo=dt.UTC)
COUNT = 21


@pytest.fixture
def empty_url(db_kind: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind under test, for migrating step by step."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrating.db'}"
        return
    admin = create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"preservation_once_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _details(index: int) -> dict[str, Any]:
    text_value = AWKWARD[index % len(AWKWARD)]
    return {"note": text_value, text_value: [index, 2.5, None, {"nested": [True, {}]}], "big": 2**70 + index}


def _moment(index: int) -> dt.datetime:
    return START + dt.timedelta(seconds=index, microseconds=index * 7)


def _matter(index: int) -> int | None:
    return (index % 3) or None


def _record_sqlite_0012(url: str, count: int) -> None:
    """Events as the service at 0012 wrote them on SQLite, built with ChainEntry."""
    previous, heads = GENESIS_HASH, {}
    engine = create_engine(url)
    with engine.begin() as connection:
        for seq in range(1, count + 1):
            matter = _matter(seq)
            matter_seq, matter_previous = heads.get(matter, (0, GENESIS_HASH)) if matter else (None, None)
            entry = ChainEntry(
                seq=seq,
                occurred_at=format_timestamp(_moment(seq)),
                actor=f"user:{AWKWARD[seq % len(AWKWARD)]}@example.org",
                action="matter.updated",
                subject_type="matter",
                subject_id=AWKWARD[(seq + 1) % len(AWKWARD)][:60],
                matter_id=matter,
                matter_seq=None if matter_seq is None else matter_seq + 1,
                details=canonical_json(_details(seq)),
                prev_hash=previous,
                matter_prev_hash=matter_previous,
            )
            canonical = entry.canonical_bytes()
            digest = hashlib.sha256(canonical).hexdigest()
            stored = _moment(seq).strftime("%Y-%m-%d %H:%M:%S.%f")
            connection.execute(
                text(INSERT_0012),
                {**entry.__dict__, "occurred_at": stored, "hash": digest, "canonical": canonical.decode()},
            )
            previous = digest
            if matter:
                heads[matter] = ((matter_seq or 0) + 1, digest)
    engine.dispose()


def _record_service(url: str, count: int, *, first: int = 1) -> None:
    """Events appended through the service (at 0012 on PostgreSQL, its audit_append())."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        for seq in range(first, first + count):
            at = _moment(seq)
            unit = Unit(
                session=session, actor=f"user:{AWKWARD[seq % len(AWKWARD)]}@example.org", clock=lambda at=at: at
            )
            subject = AWKWARD[(seq + 1) % len(AWKWARD)][:60]
            audit.record(unit, "matter.updated", "matter", subject, matter_id=_matter(seq), details=_details(seq))
        session.commit()
    engine.dispose()


def _record_0012(url: str, db_kind: str) -> None:
    migrate.upgrade(url, BEFORE)
    if db_kind == "sqlite":
        _record_sqlite_0012(url, COUNT)
    else:
        _record_service(url, COUNT)


def _rows(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(f"SELECT {COLUMNS} FROM audit_events ORDER BY seq"))]  # noqa: S608
    engine.dispose()
    return rows


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    revision = migrate.current_revision(engine)
    engine.dispose()
    return revision


def _generated(url: str, db_kind: str) -> set[str]:
    """The columns of audit_events the database generates."""
    engine = create_engine(url)
    with engine.connect() as connection:
        if db_kind == "sqlite":
            query = "SELECT name FROM pragma_table_xinfo('audit_events') WHERE hidden IN (2, 3)"
        else:
            query = (
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_events'"
                " AND table_schema = current_schema() AND is_generated = 'ALWAYS'"
            )
        names = set(connection.execute(text(query)).scalars())
    engine.dispose()
    return names


def _verify(url: str) -> tuple[bool, int, str]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        verdict = verify_log(session, None)
    engine.dispose()
    assert verdict.problem is None, verdict.problem
    return verdict.intact, verdict.events, verdict.head_hash


def _silenced(url: str, db_kind: str, statement: str) -> None:
    """A statement run as the owner of the database can, with the append-only triggers silenced."""
    engine = create_engine(url)
    with engine.begin() as connection:
        if db_kind == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
        connection.execute(text(statement))
        if db_kind == "postgresql":
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    engine.dispose()


def _upgrade_refused(url: str, seq: int) -> None:
    with pytest.raises(RuntimeError, match=rf"audit event {seq}\b"):
        migrate.upgrade(url)
    # migrations/env.py does not dispose its engine when a migration raises, leaving a pooled connection
    # open for the garbage collector to find in some later test: closed here instead.
    database = make_url(url).database
    for engine in [found for found in gc.get_objects() if isinstance(found, Engine)]:
        if engine.url.database == database:
            engine.dispose()


def test_the_upgrade_keeps_every_column_and_the_chain_continues(empty_url: str, db_kind: str) -> None:
    _record_0012(empty_url, db_kind)
    before = _rows(empty_url)
    assert len(before) == COUNT
    assert _generated(empty_url, db_kind) == set()

    migrate.upgrade(empty_url)

    assert _revision(empty_url) == AFTER
    assert _generated(empty_url, db_kind) == set(GENERATED)
    assert _rows(empty_url) == before
    assert _verify(empty_url) == (True, COUNT, before[-1][11])

    _record_service(empty_url, 6, first=COUNT + 1)
    after = _rows(empty_url)
    assert after[:COUNT] == before
    assert [row[0] for row in after] == list(range(1, COUNT + 7))
    assert after[COUNT][9] == before[-1][11]  # the first new event's prev_hash: the last old event's hash
    # Each matter's chain continues from its last event before the upgrade.
    for matter in (1, 2):
        old = [row for row in before if row[6] == matter]
        new = next(row for row in after[COUNT:] if row[6] == matter)
        assert (new[7], new[10]) == (old[-1][7] + 1, old[-1][11])
    assert _verify(empty_url) == (True, COUNT + 6, after[-1][11])


def test_an_event_altered_before_the_upgrade_stops_it(empty_url: str, db_kind: str) -> None:
    _record_0012(empty_url, db_kind)
    _silenced(empty_url, db_kind, "UPDATE audit_events SET actor = 'user:forger@example.org' WHERE seq = 7")
    before = _rows(empty_url)
    assert before[6][2] == "user:forger@example.org"

    _upgrade_refused(empty_url, 7)

    assert _revision(empty_url) == BEFORE
    assert _generated(empty_url, db_kind) == set()
    assert _rows(empty_url) == before


@pytest.mark.parametrize("column", ["details", "matter_seq", "occurred_at"])
def test_any_altered_column_stops_the_upgrade(empty_url: str, db_kind: str, column: str) -> None:
    change = {
        "details": "details = '{\"note\": 1}'",
        "matter_seq": "matter_seq = matter_seq + 100",
        "occurred_at": "occurred_at = occurred_at - interval '1 second'"
        if db_kind == "postgresql"
        else "occurred_at = '2026-03-01 09:30:03.000000'",
    }[column]
    _record_0012(empty_url, db_kind)
    _silenced(empty_url, db_kind, f"UPDATE audit_events SET {change} WHERE seq = 5")  # noqa: S608 (fixed text)
    before = _rows(empty_url)

    _upgrade_refused(empty_url, 5)

    assert _revision(empty_url) == BEFORE
    assert _rows(empty_url) == before


def test_a_downgrade_and_a_second_upgrade_keep_the_values(empty_url: str, db_kind: str) -> None:
    _record_0012(empty_url, db_kind)
    before = _rows(empty_url)
    migrate.upgrade(empty_url)
    _record_service(empty_url, 3, first=COUNT + 1)
    upgraded = _rows(empty_url)

    command.downgrade(migrate.alembic_config(empty_url), BEFORE)

    assert _revision(empty_url) == BEFORE
    assert _generated(empty_url, db_kind) == set()
    assert _rows(empty_url) == upgraded
    assert upgraded[:COUNT] == before
    if db_kind == "postgresql":
        # 0012's audit_append() again: it fills every column itself.
        _record_service(empty_url, 2, first=COUNT + 4)
        upgraded = _rows(empty_url)
        assert len(upgraded) == COUNT + 5

    migrate.upgrade(empty_url)

    assert _revision(empty_url) == AFTER
    assert _generated(empty_url, db_kind) == set(GENERATED)
    assert _rows(empty_url) == upgraded
    assert _verify(empty_url) == (True, len(upgraded), upgraded[-1][11])
    engine = make_engine(empty_url)
    with make_session_factory(engine)() as session:
        _append_one(session)
    engine.dispose()
    assert _verify(empty_url)[1] == len(upgraded) + 1


def _append_one(session: Session) -> None:
    unit = Unit(session=session, actor="user:tester@example.org", clock=lambda: START + dt.timedelta(days=1))
    audit.record(unit, "matter.updated", "matter", 1, matter_id=1, details={"after": "the second upgrade"})
    session.commit()
