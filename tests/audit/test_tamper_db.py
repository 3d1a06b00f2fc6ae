"""The tamper matrix against the database: `preservation audit verify` and GET /api/v1/audit/verify name where.

Each tamper is done as the owner of the database would: the append-only triggers silenced first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result

from preservation.db import begin_read_only, make_engine, make_session_factory
from preservation.domain.audit_chain import canonical_json, event_text
from preservation.services.audit_rows import ColumnCheck
from tests.audit.support import REWRITE, StoredTrail, forged_line, parsed, rechained, record_trail, rewrite_params
from tests.conftest import ApiClient

BROKEN = re.compile(r"audit chain BROKEN at seq (\d+): (.*)")


def _broken(result: Result) -> tuple[int, str]:
    assert result.exit_code == 1, result.output
    match = BROKEN.search(result.output)
    assert match is not None, result.output
    return int(match.group(1)), match.group(2)


def _api_problem(api: ApiClient) -> dict[str, Any]:
    response = api.get("/api/v1/audit/verify", role="auditor")
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    assert body["intact"] is False
    problem: dict[str, Any] = body["problem"]
    return problem


@pytest.fixture
def checkpointed(trail: StoredTrail, cli: Callable[..., Result]) -> StoredTrail:
    """The trail with a signed checkpoint over all 48 events."""
    assert cli("audit", "checkpoint").exit_code == 0
    return trail


def test_an_intact_log_matches_its_checkpoint(
    checkpointed: StoredTrail, cli: Callable[..., Result], api: ApiClient
) -> None:
    more = record_trail(checkpointed.database_url, 3, first_minute=100)
    result = cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert f"audit chain intact: 51 events, head {more.events[-1].hash}" in result.stdout
    assert "checkpoint 1 (" in result.stdout
    assert "matches: 48 events" in result.stdout
    assert "3 matter heads; signature by test.example/preservation valid with the configured key" in result.stdout
    assert "3 events appended since the checkpoint" in result.stdout

    body = api.get("/api/v1/audit/verify", role="auditor").get_json()
    assert body["intact"] is True
    assert body["events"] == 51
    assert body["checkpoint"]["tree_size"] == 48
    assert body["checkpoint"]["key_source"] == "configured"
    assert api.get("/api/v1/audit/verify", role="admin").status_code == 200
    for role in ("counsel", "viewer"):
        assert api.get("/api/v1/audit/verify", role=role).status_code == 403


def test_changing_one_field_of_one_event(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], api: ApiClient
) -> None:
    """The column alone: the stored bytes still hash right, but the columns no longer spell them."""
    hostile_dba("UPDATE audit_events SET details = :details WHERE seq = 17", details=canonical_json({"note": "x"}))
    seq, reason = _broken(cli("audit", "verify"))
    assert (seq, reason) == (17, "its columns (details) differ from the bytes that were hashed: the event was altered")
    assert _api_problem(api) == {"kind": "chain", "seq": 17, "reason": reason}


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "user:mallory@example.org"),
        ("action", "matter.deleted"),
        ("subject_id", "999"),
        ("matter_id", 77),
        ("matter_seq", 99),
        ("prev_hash", "e" * 64),
        ("matter_prev_hash", None),
        ("seq", 1000),
    ],
)
def test_changing_any_column_of_one_event(
    checkpointed: StoredTrail,
    hostile_dba: Callable[..., None],
    cli: Callable[..., Result],
    column: str,
    value: object,
) -> None:
    """Whichever column of event 47 (of matter 3) is changed, verify names it (or, for seq, the gap it leaves)."""
    hostile_dba(f"UPDATE audit_events SET {column} = :value WHERE seq = 47", value=value)  # noqa: S608 (test literal)
    seq, reason = _broken(cli("audit", "verify"))
    assert seq == (48 if column == "seq" else 47)
    assert reason.startswith(("its columns (", "prev_hash", "matter", "expected seq")), reason
    if column not in ("prev_hash", "matter_prev_hash", "matter_id", "matter_seq", "seq"):
        assert reason == f"its columns ({column}) differ from the bytes that were hashed: the event was altered"


def test_changing_the_stored_bytes_of_one_event(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], api: ApiClient
) -> None:
    """The stored bytes and the columns changed alike: the bytes no longer hash to the stored hash."""
    target = checkpointed.events[16]
    forged = target._replace(actor="user:mallory@example.org")
    hostile_dba(
        "UPDATE audit_events SET actor = :actor, canonical = :canonical WHERE seq = 17",
        actor=forged.actor,
        canonical=event_text(forged),
    )
    seq, reason = _broken(cli("audit", "verify"))
    assert (seq, reason) == (17, "stored hash does not match the event's contents: the event was altered")
    assert _api_problem(api) == {"kind": "chain", "seq": 17, "reason": reason}


def test_deleting_an_event_in_the_middle(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], api: ApiClient
) -> None:
    hostile_dba("DELETE FROM audit_events WHERE seq = 17")
    seq, reason = _broken(cli("audit", "verify"))
    assert (seq, reason) == (18, "expected seq 17: events are missing or inserted")
    assert _api_problem(api)["seq"] == 18


def _make_room_after(hostile_dba: Callable[..., None], seq: int) -> None:
    """Shift every event after seq up by one, as a forger inserting into the history must."""
    hostile_dba(f"UPDATE audit_events SET seq = -seq WHERE seq > {seq}")  # noqa: S608 (test literal)
    hostile_dba("UPDATE audit_events SET seq = 1 - seq WHERE seq < 0")


def _forged_event(trail: StoredTrail, seq: int, prev_hash: str) -> dict[str, Any]:
    return {
        "seq": seq,
        "occurred_at": trail.events[seq - 2].occurred_at,
        "actor": "user:mallory@example.org",
        "action": "user.created",
        "subject_type": "user",
        "subject_id": "99",
        "matter_id": None,
        "matter_seq": None,
        "details": {"note": "backdated"},
        "prev_hash": prev_hash,
        "matter_prev_hash": None,
    }


INSERT = (
    "INSERT INTO audit_events (seq, occurred_at, actor, action, subject_type, subject_id, matter_id, matter_seq, "
    "details, prev_hash, matter_prev_hash, hash, canonical) VALUES (:seq, :occurred_at, :actor, :action, "
    ":subject_type, :subject_id, NULL, NULL, :details, :prev_hash, NULL, :hash, :canonical)"
)


def _insert(hostile_dba: Callable[..., None], event: dict[str, Any], db_kind: str) -> None:
    line = parsed(forged_line(event))
    stored = forged_line(event).decode().rsplit('"hash":"', 1)[1][:64]
    aware = dt.datetime.fromisoformat(line["occurred_at"].replace("Z", "+00:00"))
    # As the application stores it: SQLite keeps UTC text, PostgreSQL a timestamptz.
    moment = aware.strftime("%Y-%m-%d %H:%M:%S.%f") if db_kind == "sqlite" else aware
    hostile_dba(
        INSERT,
        **{
            **line,
            "details": canonical_json(line["details"]),
            "hash": stored,
            "occurred_at": moment,
            "canonical": canonical_json(event),
        },
    )


def test_inserting_a_forged_event(
    checkpointed: StoredTrail,
    hostile_dba: Callable[..., None],
    cli: Callable[..., Result],
    api: ApiClient,
    db_kind: str,
) -> None:
    _make_room_after(hostile_dba, 17)
    _insert(hostile_dba, _forged_event(checkpointed, 18, "f" * 64), db_kind)
    seq, reason = _broken(cli("audit", "verify"))
    assert (seq, reason) == (18, "prev_hash does not match the previous event's hash: the chain is broken")
    assert _api_problem(api)["seq"] == 18


def test_inserting_a_forged_event_linked_into_the_chain(
    checkpointed: StoredTrail,
    hostile_dba: Callable[..., None],
    cli: Callable[..., Result],
    db_kind: str,
) -> None:
    """Linked in properly, the forgery itself holds; the event after it, which had to be relinked, does not."""
    forged = _forged_event(checkpointed, 18, checkpointed.events[16].hash)
    _make_room_after(hostile_dba, 17)
    hostile_dba("UPDATE audit_events SET prev_hash = :forged WHERE seq = 19", forged="e" * 64)
    _insert(hostile_dba, forged, db_kind)
    forged_hash = forged_line(forged).decode().rsplit('"hash":"', 1)[1][:64]
    hostile_dba("UPDATE audit_events SET prev_hash = :forged WHERE seq = 19", forged=forged_hash)
    seq, reason = _broken(cli("audit", "verify"))
    assert (seq, reason) == (
        19,
        "its columns (seq, prev_hash) differ from the bytes that were hashed: the event was altered",
    )


def test_deleting_the_last_events(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], api: ApiClient
) -> None:
    hostile_dba("DELETE FROM audit_events WHERE seq > 45")
    seq, reason = _broken(cli("audit", "verify"))
    assert seq == 46
    assert reason == "missing tail: the log ends at seq 45 but checkpoint 1 signed 48 events: the last 3 were removed"
    assert _api_problem(api)["kind"] == "missing_tail"


def test_deleting_the_last_events_and_appending_others(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result]
) -> None:
    hostile_dba("DELETE FROM audit_events WHERE seq > 45")
    record_trail(checkpointed.database_url, 5, first_minute=45)
    seq, reason = _broken(cli("audit", "verify"))
    assert seq == 48
    assert "differ(s) from what checkpoint 1 signed" in reason


def test_recomputing_every_hash_after_a_change_is_caught_by_the_signature(
    api: ApiClient, database_url: str, hostile_dba: Callable[..., None], cli: Callable[..., Result]
) -> None:
    record_trail(database_url, 10)  # after the 8 events of the role users: 18
    assert cli("audit", "checkpoint").exit_code == 0
    full = record_trail(database_url, 30, first_minute=10)
    assert cli("audit", "checkpoint").exit_code == 0

    for params in rewrite_params(rechained(full.events, 27, actor="user:mallory@example.org"), 27):
        hostile_dba(REWRITE, **params)

    seq, reason = _broken(cli("audit", "verify"))
    assert seq == 48
    assert "the hash at seq 48 differ(s) from what checkpoint 2 signed" in reason
    assert "heads differ for matter(s)" in reason
    assert "an earlier checkpoint still matches at seq 18, so the change lies after it" in reason
    assert _api_problem(api)["kind"] == "rewritten"


def test_without_a_checkpoint_a_recomputed_chain_goes_unnoticed(
    trail: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result]
) -> None:
    """Why checkpoints exist: the chain alone cannot see a full recompute."""
    for params in rewrite_params(rechained(trail.events, 17, actor="user:mallory@example.org"), 17):
        hostile_dba(REWRITE, **params)
    result = cli("audit", "verify")
    assert result.exit_code == 0
    assert "no signed checkpoint yet: a deleted tail or a recomputed chain would go unnoticed" in result.stderr


def test_an_altered_checkpoint_is_refused(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], api: ApiClient
) -> None:
    hostile_dba("UPDATE audit_checkpoints SET note = replace(note, '\n48\n', '\n47\n')")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "audit checkpoint INVALID: checkpoint 1 does not verify" in result.stderr
    assert _api_problem(api)["kind"] == "signature"


def test_a_checkpoint_signed_with_another_key_is_refused(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], tmp_path: Any
) -> None:
    """A forger with their own key can re-sign a rewritten log; the configured key does not accept it."""
    other = tmp_path / "forger.key"
    forger = cli("audit", "keygen", "--out", str(other), "--name", "test.example/preservation")
    assert forger.exit_code == 0
    hostile_dba("DELETE FROM audit_events WHERE seq > 45")
    hostile_dba("DELETE FROM audit_checkpoints")
    assert cli("audit", "checkpoint", audit_signing_key=str(other)).exit_code == 0
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "audit checkpoint INVALID" in result.stderr
    assert "does not verify" in result.stderr


def test_without_a_configured_key_the_stored_key_checks_the_checkpoint(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result]
) -> None:
    result = cli("audit", "verify", audit_signing_key=None)
    assert result.exit_code == 0, result.output
    assert "valid with the key stored with it (none configured)" in result.stdout
    hostile_dba("UPDATE audit_checkpoints SET public_key = 'not a key'")
    broken = cli("audit", "verify", audit_signing_key=None)
    assert broken.exit_code == 1
    assert "audit checkpoint INVALID: checkpoint 1 does not verify: its stored public key is unreadable" in (
        broken.stderr
    )


def test_stored_bytes_that_are_not_json(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], api: ApiClient
) -> None:
    hostile_dba("UPDATE audit_events SET canonical = 'not json' WHERE seq = 20")
    seq, reason = _broken(cli("audit", "verify"))
    assert (seq, reason) == (20, "stored hash does not match the event's contents: the event was altered")
    listed = api.get("/api/v1/audit/events?after_seq=19&limit=1", role="auditor")
    assert listed.status_code == 200, listed.get_json()
    assert [event["seq"] for event in listed.get_json()["items"]] == [20]


def test_the_column_check_finds_the_same_event_beside_the_walk_and_in_the_session(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None]
) -> None:
    """A reader's session has the check run on a second connection in a thread; any other runs it itself."""
    hostile_dba("UPDATE audit_events SET actor = 'user:mallory@example.org' WHERE seq IN (17, 30)")
    engine = make_engine(checkpointed.database_url)
    with make_session_factory(engine)() as session:
        begin_read_only(session)
        beside = ColumnCheck(session, first=1, last=48)
        assert beside._thread is not None
        assert beside.result() == 17
        assert ColumnCheck(session, first=18, last=48).result() == 30
    with make_session_factory(engine)() as session:
        itself = ColumnCheck(session, first=1, last=48)
        assert itself._thread is None
        assert itself.result() == 17
        assert ColumnCheck(session, first=31, last=48).result() is None
    engine.dispose()


def test_where_the_walk_stops_the_column_check_need_not_finish(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None]
) -> None:
    """Asked only up to where the walk stopped, the check still running is cancelled and the rest checked in the
    session; whichever way the race goes, an altered event at or before that point is found."""
    hostile_dba("UPDATE audit_events SET actor = 'user:mallory@example.org' WHERE seq IN (17, 30)")
    engine = make_engine(checkpointed.database_url)
    with make_session_factory(engine)() as session:
        begin_read_only(session)
        assert ColumnCheck(session, first=1, last=48).result(upto=20) == 17
        assert ColumnCheck(session, first=1, last=48).result(upto=10) in {None, 17}
        assert ColumnCheck(session, first=18, last=48).result(upto=25) in {None, 30}
        assert ColumnCheck(session, first=18, last=48).result(upto=40) == 30
        cancelled = ColumnCheck(session, first=1, last=48)
        cancelled._cancel()
        assert cancelled.result(upto=47) == 17
    with make_session_factory(engine)() as session:
        assert ColumnCheck(session, first=1, last=48).result(upto=16) is None
    engine.dispose()


def test_a_break_early_in_the_log_is_reported_before_a_later_altered_column(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result]
) -> None:
    hostile_dba("UPDATE audit_events SET actor = 'user:mallory@example.org' WHERE seq = 40")
    hostile_dba("DELETE FROM audit_events WHERE seq = 12")
    assert _broken(cli("audit", "verify")) == (13, "expected seq 12: events are missing or inserted")
    hostile_dba("UPDATE audit_events SET subject_id = 'x' WHERE seq = 5")
    assert _broken(cli("audit", "verify")) == (
        5,
        "its columns (subject_id) differ from the bytes that were hashed: the event was altered",
    )
