"""verify walked in segments, side by side, gives the single walk's verdict for every kind of tampering.

Segments are forced (2 to 7 over 60 events) so that tampering falls on, just before and just after their
boundaries, and at the checkpoint. On SQLite the segments after the first are walked by worker processes;
on PostgreSQL the walk stays one segment, and the verdicts must still agree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from preservation.adapters.signing import load_signer
from preservation.db import begin_read_only, make_engine, make_session_factory
from preservation.domain.audit_chain import GENESIS_HASH, canonical_json
from preservation.domain.checkpoints import checkpoint_body, sign_note, verifier_key
from preservation.models import AuditCheckpoint
from preservation.services import audit_walk, checkpoints
from preservation.services.audit_export import unverified_state
from preservation.services.checkpoints import LogVerdict
from tests.audit.support import record_trail

EVENTS = 60  # after the 8 the role users' fixtures record
SEGMENTS = (2, 3, 4, 7)


def _verdicts(database_url: str, key_path: Path) -> dict[int, LogVerdict]:
    engine = make_engine(database_url)
    key = verifier_key(load_signer(key_path))
    found = {}
    for segments in (1, *SEGMENTS):
        with make_session_factory(engine)() as session:
            begin_read_only(session)
            found[segments] = checkpoints.verify_log(session, key, segments=segments)
    engine.dispose()
    return found


def _checkpoint(database_url: str, key_path: Path) -> int:
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        draft = checkpoints.draft_checkpoint(session, load_signer(key_path), dt.datetime.now(dt.UTC))
        if draft is not None:
            checkpoints.save_checkpoint(session, draft)
            session.commit()
        latest = checkpoints.latest_checkpoint(session)
        assert latest is not None
        size = latest.tree_size
    engine.dispose()
    return size


def _rows(database_url: str) -> list[tuple[int, dict[str, Any]]]:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT seq, canonical FROM audit_events ORDER BY seq")).all()
    engine.dispose()
    return [(seq, json.loads(canonical)) for seq, canonical in rows]


def _forge(database_url: str, hostile_dba: Callable[..., None], seq: int, change: dict[str, Any]) -> None:
    """Change one event's fields and re-chain every event from it on, hashes and all links recomputed."""
    rows = _rows(database_url)
    head, heads = GENESIS_HASH, {}
    statements = []
    params: dict[str, Any] = {}
    for position, stored in rows:
        document = {**stored, **change} if position == seq else dict(stored)
        if position >= seq:
            document["prev_hash"] = head
            matter = document["matter_id"]
            if matter is not None and position > seq:
                document["matter_prev_hash"] = heads.get(matter, (0, GENESIS_HASH))[1]
                document["matter_seq"] = heads.get(matter, (0, GENESIS_HASH))[0] + 1
            canonical = canonical_json(document)
            digest = hashlib.sha256(canonical.encode()).hexdigest()
            statements.append(
                f"UPDATE audit_events SET canonical = :c{position}, hash = :h{position} WHERE seq = {position}"  # noqa: S608
            )
            params |= {f"c{position}": canonical, f"h{position}": digest}
        else:
            digest = hashlib.sha256(canonical_json(document).encode()).hexdigest()
        head = digest
        if document["matter_id"] is not None:
            heads[document["matter_id"]] = (document["matter_seq"], digest)
    # Hashes and matter positions are unique: clear the old hashes, then write from the last event back.
    clear = f"UPDATE audit_events SET hash = 'x' || seq WHERE seq >= {seq}"  # noqa: S608 (test literal)
    hostile_dba(clear, *reversed(statements), **params)


def _same_everywhere(verdicts: dict[int, LogVerdict]) -> LogVerdict:
    serial = verdicts[1]
    for segments, verdict in verdicts.items():
        assert (verdict.problem, verdict.events, verdict.head_hash, verdict.notes) == (
            serial.problem,
            serial.events,
            serial.head_hash,
            serial.notes,
        ), f"{segments} segments"
    return serial


@pytest.fixture(params=["unsigned", "signed"])
def logged(request: pytest.FixtureRequest, database_url: str, tokens: dict[str, str], signing_key: Path) -> str:
    """60 events over three matters and none, after the role users' 8; signed: a checkpoint covers them all
    before any tampering (its events are walked on the fast path, the others parsed one by one)."""
    record_trail(database_url, EVENTS)
    if request.param == "signed":
        _checkpoint(database_url, signing_key)
    return database_url


def test_an_intact_log_verifies_in_any_number_of_segments(logged: str, signing_key: Path) -> None:
    _checkpoint(logged, signing_key)
    record_trail(logged, 5, first_minute=EVENTS)
    serial = _same_everywhere(_verdicts(logged, signing_key))
    assert serial.intact
    assert serial.events == EVENTS + 8 + 5
    assert serial.notes == ["5 events appended since the checkpoint, chained but not yet signed"]


@pytest.mark.parametrize("seq", [17, 34, 35, 36, 68])
def test_an_altered_event_is_named_by_every_split(
    logged: str, signing_key: Path, hostile_dba: Callable[..., None], seq: int
) -> None:
    hostile_dba(
        'UPDATE audit_events SET canonical = replace(canonical, \'"note":"event\', \'"note":"forged\')'
        " WHERE seq = :seq",
        seq=seq,
    )
    serial = _same_everywhere(_verdicts(logged, signing_key))
    assert serial.problem is not None
    assert (serial.problem.seq, serial.problem.reason) == (
        seq,
        "stored hash does not match the event's contents: the event was altered",
    )


@pytest.mark.parametrize(("deleted", "where"), [("seq = 34", 35), ("seq = 35", 36), ("seq BETWEEN 33 AND 37", 38)])
def test_a_deleted_event_shows_as_a_gap_in_every_split(
    logged: str, signing_key: Path, hostile_dba: Callable[..., None], deleted: str, where: int
) -> None:
    first_deleted = int(deleted.rsplit(maxsplit=1)[-1]) if "BETWEEN" not in deleted else 33
    hostile_dba(f"DELETE FROM audit_events WHERE {deleted}")  # noqa: S608 (test literal)
    serial = _same_everywhere(_verdicts(logged, signing_key))
    assert serial.problem is not None
    assert serial.problem.seq == where
    assert serial.problem.reason == f"expected seq {first_deleted}: events are missing or inserted"


@pytest.mark.parametrize("seq", [30, 35, 36, 50])
def test_a_rechained_change_breaks_a_link_or_the_checkpoint(
    logged: str, signing_key: Path, hostile_dba: Callable[..., None], seq: int
) -> None:
    signed = _checkpoint(logged, signing_key)
    _forge(logged, hostile_dba, seq, {"actor": "user:mallory@example.org"})
    serial = _same_everywhere(_verdicts(logged, signing_key))
    assert serial.problem is not None
    assert serial.problem.kind == "rewritten"
    assert serial.problem.seq == signed


@pytest.mark.parametrize("seq", [35, 36, 40])
def test_a_skipped_matter_seq_is_named_across_a_boundary(
    logged: str, signing_key: Path, hostile_dba: Callable[..., None], seq: int
) -> None:
    rows = dict(_rows(logged))
    target = next(position for position in range(seq, EVENTS + 9) if rows[position]["matter_id"] is not None)
    matter, skipped = rows[target]["matter_id"], rows[target]["matter_seq"] + 1
    _forge(logged, hostile_dba, target, {"matter_seq": skipped})
    serial = _same_everywhere(_verdicts(logged, signing_key))
    assert serial.problem is not None
    assert serial.problem.seq == target
    assert serial.problem.reason == f"matter {matter}: expected matter_seq {skipped - 1}, found {skipped}"


@pytest.mark.parametrize("seq", [35, 36])
def test_a_forged_link_to_the_previous_event_is_named_at_a_boundary(
    logged: str, signing_key: Path, hostile_dba: Callable[..., None], seq: int
) -> None:
    _forge(logged, hostile_dba, seq, {})
    # The re-chained events are consistent; now make one claim another predecessor, with its hash recomputed.
    rows = dict(_rows(logged))
    document = {**rows[seq], "prev_hash": "e" * 64}
    canonical = canonical_json(document)
    hostile_dba(
        "UPDATE audit_events SET canonical = :canonical, hash = :digest WHERE seq = :seq",
        canonical=canonical,
        digest=hashlib.sha256(canonical.encode()).hexdigest(),
        seq=seq,
    )
    serial = _same_everywhere(_verdicts(logged, signing_key))
    assert serial.problem is not None
    assert (serial.problem.seq, serial.problem.reason) == (
        seq,
        "prev_hash does not match the previous event's hash: the chain is broken",
    )


def test_a_cut_tail_is_missing_in_every_split(logged: str, signing_key: Path, hostile_dba: Callable[..., None]) -> None:
    signed = _checkpoint(logged, signing_key)
    hostile_dba(f"DELETE FROM audit_events WHERE seq > {signed - 5}")  # noqa: S608 (test literal)
    serial = _same_everywhere(_verdicts(logged, signing_key))
    assert serial.problem is not None
    assert (serial.problem.kind, serial.problem.seq) == ("missing_tail", signed - 4)


# Worker processes read a SQLite file; on PostgreSQL the walk is one segment.
sqlite_only = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)


@sqlite_only
def test_segments_after_the_first_are_walked_by_worker_processes(
    logged: str, signing_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a segment was walked in the verifying process")

    monkeypatch.setattr(audit_walk, "_walk_here", refuse)
    verdicts = _verdicts(logged, signing_key)
    assert all(verdict.intact for verdict in verdicts.values())
    assert {verdict.events for verdict in verdicts.values()} == {EVENTS + 8}


@sqlite_only
def test_a_failing_worker_is_replaced_by_walking_its_segment_here(
    logged: str,
    signing_key: Path,
    hostile_dba: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hostile_dba(
        'UPDATE audit_events SET canonical = replace(canonical, \'"note":"event\', \'"note":"forged\') WHERE seq = 58'
    )
    monkeypatch.setattr(audit_walk, "_WORKER", "import sys; sys.exit('worker refused')")
    with caplog.at_level(logging.WARNING, logger="preservation.services.audit_walk"):
        serial = _same_everywhere(_verdicts(logged, signing_key))
    assert serial.problem is not None
    assert serial.problem.seq == 58
    assert "worker refused" in caplog.text


def test_signed_matter_heads_that_differ_from_the_log_are_reported(logged: str, signing_key: Path) -> None:
    """The fast walk reads the signed matter heads from the index; a checkpoint that signs other ones (signed
    by the key, over the right head hash) sends verify to the exact walk, which names the matters."""
    signed = _checkpoint(logged, signing_key)
    engine = make_engine(logged)
    with make_session_factory(engine)() as session:
        latest = checkpoints.latest_checkpoint(session)
        assert latest is not None
        heads = dict(unverified_state(latest).matter_heads)
        matter, (position, digest) = sorted(heads.items())[0]
        heads[matter] = (position - 1, digest)
        signer = load_signer(signing_key)
        body = checkpoint_body(signer.name, signed, latest.head_hash, "2026-11-29T06:00:00.000000Z", heads)
        session.add(
            AuditCheckpoint(
                created_at=dt.datetime.now(dt.UTC),
                tree_size=signed,
                head_hash=latest.head_hash,
                public_key=latest.public_key,
                note=sign_note(body, signer),
                anchor_uri=None,
            )
        )
        session.commit()
    engine.dispose()
    serial = _same_everywhere(_verdicts(logged, signing_key))
    assert serial.problem is not None
    assert (serial.problem.kind, serial.problem.seq) == ("rewritten", signed)
    assert serial.problem.reason.startswith(f"the matter heads at seq {signed} differ")
    assert f"heads differ for matter(s) {matter}" in serial.problem.reason


def test_an_event_appended_by_hand_in_another_spelling_is_reported(logged: str, signing_key: Path) -> None:
    """INSERT is what the append-only triggers allow: an event added after the signed head, with the right
    links and its own hash but keys out of their sorted order, is no event the service wrote."""
    _checkpoint(logged, signing_key)
    rows = _rows(logged)
    last_seq, last = rows[-1]
    head = hashlib.sha256(canonical_json(last).encode()).hexdigest()
    document = {**last, "seq": last_seq + 1, "prev_hash": head, "matter_id": None}
    document |= {"matter_seq": None, "matter_prev_hash": None}
    canonical = json.dumps(dict(reversed(list(document.items()))), separators=(",", ":"), ensure_ascii=False)
    engine = make_engine(logged)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO audit_events (seq, hash, canonical) VALUES (:seq, :digest, :canonical)"),
            {"seq": last_seq + 1, "digest": hashlib.sha256(canonical.encode()).hexdigest(), "canonical": canonical},
        )
    engine.dispose()
    serial = _same_everywhere(_verdicts(logged, signing_key))
    assert serial.problem is not None
    assert (serial.problem.seq, serial.problem.reason) == (
        last_seq + 1,
        "its stored bytes are not an event's canonical JSON: the event was altered",
    )
