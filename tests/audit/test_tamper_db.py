"""The tamper matrix against the database: `preservation audit verify` and GET /api/v1/audit/verify name where.

Each tamper is done as the owner of the database would: the append-only triggers silenced first.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from preservation.db import make_engine
from preservation.domain.audit_chain import BROKEN_LINK, HASH_MISMATCH, NOT_AN_EVENT, canonical_json, event_text
from preservation.services.checkpoints import VerifyProblem, verify_log
from tests.audit.support import (
    GENERATED,
    REWRITE,
    StoredTrail,
    altered,
    read_trail,
    rechained,
    record_trail,
    rewrite_params,
)
from tests.conftest import ApiClient

BROKEN = re.compile(r"audit chain BROKEN at seq (\d+): (.*)")
# How SQLite and PostgreSQL refuse a value for a generated column.
REFUSED = "generated column|can only be updated to DEFAULT|non-DEFAULT value"
INSERT = "INSERT INTO audit_events (seq, hash, canonical) VALUES (:seq, :hash, :canonical)"


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


@pytest.mark.parametrize("column", GENERATED)
def test_a_generated_column_cannot_be_changed(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], column: str
) -> None:
    """Every column but seq, hash and canonical is generated from the bytes: the database refuses to write one,
    even to its own value and with the triggers silenced, so a column can never say what the bytes do not."""
    with pytest.raises(DBAPIError, match=REFUSED):
        hostile_dba(f"UPDATE audit_events SET {column} = {column} WHERE seq = 17")  # noqa: S608 (test literal)
    with pytest.raises(DBAPIError, match=REFUSED):
        hostile_dba(
            f"INSERT INTO audit_events (seq, {column}, hash, canonical)"  # noqa: S608 (test literal)
            f" SELECT 1000, {column}, :hash, canonical FROM audit_events WHERE seq = 17",
            hash="e" * 64,
        )
    assert read_trail(checkpointed.database_url).events == checkpointed.events
    assert cli("audit", "verify").exit_code == 0


def test_changing_one_field_of_one_event(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], api: ApiClient
) -> None:
    """The stored bytes changed in place, as SQL would do it: the columns follow them, the stored hash does not."""
    hostile_dba(
        "UPDATE audit_events SET canonical = replace(canonical, :was, :forged) WHERE seq = 17",
        was='"actor":"user:counsel@example.org"',
        forged='"actor":"user:mallory@example.org"',
    )
    assert read_trail(checkpointed.database_url).events[16].actor == "user:mallory@example.org"
    seq, reason = _broken(cli("audit", "verify"))
    assert (seq, reason) == (17, HASH_MISMATCH)
    assert _api_problem(api) == {"kind": "chain", "seq": 17, "reason": reason}


@pytest.mark.parametrize(
    ("change", "rehashed"),
    [
        ({"actor": "user:mallory@example.org"}, (48, BROKEN_LINK)),
        ({"action": "matter.deleted"}, (48, BROKEN_LINK)),
        ({"subject_id": "999"}, (48, BROKEN_LINK)),
        ({"details": canonical_json({"note": "x"})}, (48, BROKEN_LINK)),
        ({"occurred_at": "2020-01-01T00:00:00.000000Z"}, (48, BROKEN_LINK)),
        ({"matter_id": 77}, (47, "matter 77: expected matter_seq 1, found 10")),
        ({"matter_seq": 99}, (47, "matter 3: expected matter_seq 10, found 99")),
        ({"prev_hash": "e" * 64}, (47, BROKEN_LINK)),
        (
            {"matter_prev_hash": "e" * 64},
            (47, "matter 3: matter_prev_hash does not match that matter's previous event"),
        ),
        ({"matter_prev_hash": None}, (47, NOT_AN_EVENT)),
        ({"seq": 1000}, (47, "its bytes say seq 1000: the event was moved or altered")),
    ],
)
def test_changing_any_field_of_one_event(
    checkpointed: StoredTrail,
    hostile_dba: Callable[..., None],
    cli: Callable[..., Result],
    change: dict[str, object],
    rehashed: tuple[int, str],
) -> None:
    """Whichever field the bytes of event 47 (the 10th of matter 3) are made to say otherwise: with the old hash
    kept the hash names it; with the hash recomputed its own links, or the next event's, do."""
    target = checkpointed.events[46]
    assert (target.seq, target.matter_id, target.matter_seq) == (47, 3, 10)
    hostile_dba(REWRITE, **altered(target, **change))
    assert _broken(cli("audit", "verify")) == (47, HASH_MISMATCH)
    hostile_dba(REWRITE, **altered(target, rehash=True, **change))
    assert _broken(cli("audit", "verify")) == rehashed


def test_moving_an_event(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result]
) -> None:
    """seq is a column of its own: renumbered, the event leaves a gap, and its bytes still say where it was."""
    hostile_dba("UPDATE audit_events SET seq = 1000 WHERE seq = 47")
    assert _broken(cli("audit", "verify")) == (48, "expected seq 47: events are missing or inserted")
    hostile_dba("UPDATE audit_events SET seq = 47 WHERE seq = 48")
    hostile_dba("UPDATE audit_events SET seq = 48 WHERE seq = 1000")
    assert _broken(cli("audit", "verify")) == (47, "its bytes say seq 48: the event was moved or altered")


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


def _insert(hostile_dba: Callable[..., None], event: dict[str, Any]) -> str:
    """Insert a forged event as the application would store it: its bytes and their hash. Returns the hash."""
    canonical = canonical_json(event)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    hostile_dba(INSERT, seq=event["seq"], hash=digest, canonical=canonical)
    return digest


def test_inserting_a_forged_event(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], api: ApiClient
) -> None:
    _make_room_after(hostile_dba, 17)
    _insert(hostile_dba, _forged_event(checkpointed, 18, "f" * 64))
    seq, reason = _broken(cli("audit", "verify"))
    assert (seq, reason) == (18, BROKEN_LINK)
    assert _api_problem(api)["seq"] == 18


def test_inserting_a_forged_event_linked_into_the_chain(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result]
) -> None:
    """Linked in properly, the forgery itself holds; the event after it, whose bytes had to be relinked, does not:
    its old hash no longer fits, and with its hash recomputed the event after it still says its old seq."""
    forged = _forged_event(checkpointed, 18, checkpointed.events[16].hash)
    forged_hash = hashlib.sha256(canonical_json(forged).encode()).hexdigest()
    _make_room_after(hostile_dba, 17)
    # Relinked first: until then it names event 17, as the forgery does, and prev_hash is unique.
    relinked = checkpointed.events[17]._replace(seq=19)
    hostile_dba(REWRITE, **altered(relinked, prev_hash=forged_hash))
    assert _insert(hostile_dba, forged) == forged_hash
    assert _broken(cli("audit", "verify")) == (19, HASH_MISMATCH)
    hostile_dba(REWRITE, **altered(relinked, rehash=True, prev_hash=forged_hash))
    assert _broken(cli("audit", "verify")) == (20, "its bytes say seq 19: the event was moved or altered")


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


def test_stored_bytes_that_are_not_json_are_refused(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result]
) -> None:
    """The columns are generated from the bytes, so the database refuses bytes that are not JSON."""
    with pytest.raises(DBAPIError, match=r"malformed JSON|invalid input syntax for type json"):
        hostile_dba("UPDATE audit_events SET canonical = 'not json' WHERE seq = 20")
    assert read_trail(checkpointed.database_url).events == checkpointed.events
    assert cli("audit", "verify").exit_code == 0


def test_stored_bytes_that_are_json_but_no_event(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], api: ApiClient
) -> None:
    """JSON the columns can be generated from, but whose seq is no number: named even with its hash recomputed."""
    canonical = event_text(checkpointed.events[19]).replace('"seq":20,', '"seq":"20",')
    hostile_dba(REWRITE, seq=20, hash=checkpointed.events[19].hash, canonical=canonical)
    assert _broken(cli("audit", "verify")) == (20, HASH_MISMATCH)
    hostile_dba(REWRITE, seq=20, hash=hashlib.sha256(canonical.encode()).hexdigest(), canonical=canonical)
    assert _broken(cli("audit", "verify")) == (20, NOT_AN_EVENT)
    listed = api.get("/api/v1/audit/events?after_seq=19&limit=1", role="auditor")
    assert listed.status_code == 200, listed.get_json()
    assert [event["seq"] for event in listed.get_json()["items"]] == [20]


def test_a_table_that_no_longer_generates_its_columns(
    checkpointed: StoredTrail, database_url: str, db_kind: str
) -> None:
    """An owner who redefines the table can make a column say what the bytes do not: verify refuses the table
    before reading anything from it. On PostgreSQL, whose database the tests share, all in a transaction rolled back."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        transaction = connection.begin()
        if db_kind == "postgresql":
            connection.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
            connection.exec_driver_sql("ALTER TABLE audit_events ALTER COLUMN actor DROP EXPRESSION")
            changed = "actor"
        else:
            # SQLite cannot drop a column's expression: the table is rebuilt with plain columns, triggers and all gone.
            connection.exec_driver_sql("CREATE TABLE audit_events_plain AS SELECT * FROM audit_events")
            connection.exec_driver_sql("DROP TABLE audit_events")
            connection.exec_driver_sql("ALTER TABLE audit_events_plain RENAME TO audit_events")
            changed = ", ".join(GENERATED)
        connection.exec_driver_sql("UPDATE audit_events SET actor = 'user:mallory@example.org' WHERE seq = 17")
        with Session(bind=connection) as session:
            verdict = verify_log(session, None)
        transaction.rollback()
    engine.dispose()
    assert verdict.problem == VerifyProblem(
        "schema",
        None,
        f"audit_events no longer generates {changed} from the hashed bytes: the table's definition was changed, "
        "so those columns may hold what no event says",
    )


def test_a_break_early_in_the_log_is_reported_before_a_later_altered_event(
    checkpointed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result]
) -> None:
    hostile_dba(REWRITE, **altered(checkpointed.events[39], actor="user:mallory@example.org"))
    hostile_dba("DELETE FROM audit_events WHERE seq = 12")
    assert _broken(cli("audit", "verify")) == (13, "expected seq 12: events are missing or inserted")
    hostile_dba(REWRITE, **altered(checkpointed.events[4], subject_id="x"))
    assert _broken(cli("audit", "verify")) == (5, HASH_MISMATCH)
