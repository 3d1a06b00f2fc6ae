"""Migration 0007 backfills each existing event's canonical bytes exactly as they were hashed; migration 0013
then generates every other column from those bytes, keeping the append-only triggers, and refuses to when an
event's columns no longer spell its bytes (rebuilding them from the bytes would erase that evidence)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from preservation import migrate
from preservation.db import make_engine, make_session_factory
from preservation.domain.audit_chain import (
    GENESIS_HASH,
    ChainEntry,
    ChainWalk,
    canonical_json,
    format_timestamp,
    stored_event,
)
from preservation.services.audit_rows import read_batches, read_checked
from preservation.services.checkpoints import verify_log
from tests.conftest import POSTGRES_URL

BEFORE = "0006_hold_notices"
BEFORE_GENERATED = "0012_audit_append_function"
INSERT = (
    "INSERT INTO audit_events (seq, occurred_at, actor, action, subject_type, subject_id, matter_id, matter_seq, "
    "details, prev_hash, matter_prev_hash, hash) VALUES (:seq, :occurred_at, :actor, :action, :subject_type, "
    ":subject_id, :matter_id, :matter_seq, :details, :prev_hash, :matter_prev_hash, :hash)"
)
# Text that JSON must escape, or must not: quotes, backslashes, control characters, non-ASCII, U+2028.
AWKWARD = ('say "hi"', "back\\slash", "tab\there", "bell\x07\x1f", "Zoë 東京 😀", "line\u2028sep", "=1+1")


@pytest.fixture
def empty_url(db_kind: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind under test, for migrating step by step."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrating.db'}"
        return
    admin = create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"preservation_migrate_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _old_events(count: int) -> list[tuple[ChainEntry, dt.datetime, str]]:
    events = []
    previous, heads = GENESIS_HASH, {}
    start = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    for seq in range(1, count + 1):
        matter = (seq % 3) or None
        matter_seq, matter_previous = heads.get(matter, (0, GENESIS_HASH)) if matter else (None, None)
        moment = start + dt.timedelta(seconds=seq, microseconds=seq * 7)
        entry = ChainEntry(
            seq=seq,
            occurred_at=format_timestamp(moment),
            actor=AWKWARD[seq % len(AWKWARD)],
            action="matter.updated",
            subject_type="matter",
            subject_id=AWKWARD[(seq + 1) % len(AWKWARD)][:60],
            matter_id=matter,
            matter_seq=None if matter_seq is None else matter_seq + 1,
            details=canonical_json({"note": AWKWARD[(seq + 2) % len(AWKWARD)], "n": seq, "nested": {"b": [1, None]}}),
            prev_hash=previous,
            matter_prev_hash=matter_previous,
        )
        digest = entry.compute_hash()
        events.append((entry, moment, digest))
        previous = digest
        if matter:
            heads[matter] = ((matter_seq or 0) + 1, digest)
    return events


def _stored_before_0007(empty_url: str, db_kind: str, count: int) -> list[tuple[ChainEntry, dt.datetime, str]]:
    """A database at 0006 holding count events as the service then stored them: columns and hash, no bytes."""
    migrate.upgrade(empty_url, BEFORE)
    events = _old_events(count)
    engine = create_engine(empty_url)
    with engine.begin() as connection:
        for entry, moment, digest in events:
            stored = moment.strftime("%Y-%m-%d %H:%M:%S.%f") if db_kind == "sqlite" else moment
            connection.execute(text(INSERT), {**entry.__dict__, "occurred_at": stored, "hash": digest})
    engine.dispose()
    return events


def test_existing_events_get_the_bytes_they_were_hashed_over(empty_url: str, db_kind: str) -> None:
    events = _stored_before_0007(empty_url, db_kind, 30)

    migrate.upgrade(empty_url, "0007_audit_canonical_bytes")

    engine = create_engine(empty_url)
    with engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT seq, canonical FROM audit_events")).all())
    engine.dispose()
    assert stored == {entry.seq: entry.canonical_bytes().decode() for entry, _, _ in events}

    migrate.upgrade(empty_url)

    engine = make_engine(empty_url)
    with make_session_factory(engine)() as session:
        # The columns generated from the bytes hold what the service once stored in them.
        columns = [event for batch in read_batches(session) for event in batch]
        assert columns == [stored_event(entry, digest) for entry, _, digest in events]
        walk = ChainWalk()
        problems = [problem for batch in read_checked(session) for row in batch for problem in walk.check(row)]
        assert problems == []
        assert (walk.count, walk.head) == (30, events[-1][2])
        assert verify_log(session, None).problem is None
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET canonical = canonical WHERE seq = 3"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    engine.dispose()


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param("UPDATE audit_events SET actor = 'user:mallory@example.org' WHERE seq = 17", id="column"),
        pytest.param(
            "UPDATE audit_events SET canonical = replace(canonical, '\"n\"\\:17', '\"n\"\\:71') WHERE seq = 17",
            id="bytes",
        ),
    ],
)
def test_generating_the_columns_refuses_events_whose_columns_were_altered(
    empty_url: str, db_kind: str, tamper: str
) -> None:
    """Before 0013 a column could be changed apart from the bytes; the upgrade stops rather than erase that."""
    _stored_before_0007(empty_url, db_kind, 30)
    migrate.upgrade(empty_url, BEFORE_GENERATED)
    engine = create_engine(empty_url)
    with engine.begin() as connection:
        if db_kind == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
        before = connection.execute(text("SELECT actor, canonical FROM audit_events WHERE seq = 17")).one()
        assert connection.execute(text(tamper)).rowcount == 1  # type: ignore[attr-defined]
        altered = connection.execute(text("SELECT actor, canonical FROM audit_events WHERE seq = 17")).one()
    assert altered != before

    with pytest.raises(RuntimeError, match="audit event 17: its columns no longer spell the bytes that were hashed"):
        migrate.upgrade(empty_url)

    assert migrate.current_revision(engine) == BEFORE_GENERATED
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT actor, canonical FROM audit_events WHERE seq = 17")).one()
    engine.dispose()
    assert kept == altered
