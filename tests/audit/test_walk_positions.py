"""The chain walk reads seq, prev_hash and the matter links out of the hashed bytes by position.

It takes the last ',"prev_hash":"' and the last ',"matter_id":' before it as the event's own: sorted keys
put them after "details", and a quote inside a JSON string is always escaped. Details that mimic those keys
(as keys of a nested object, or as text inside strings) must neither break an honest chain nor hide a
forged link, and check_batch (the hot path) must find the same first problem as check() for every case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from preservation.domain.audit_chain import (
    BROKEN_LINK,
    GENESIS_HASH,
    HASH_MISMATCH,
    NOT_AN_EVENT,
    ChainEntry,
    ChainProblem,
    ChainWalk,
    CheckedRow,
    canonical_json,
    format_timestamp,
)

START = dt.datetime(2026, 11, 29, 6, 0, tzinfo=dt.UTC)
# A 64-hex value no event hashes to, for decoys that name a head that is not the real one.
STRANGER = "ab" * 32


def at(seq: int) -> str:
    """The occurred_at of the event at seq."""
    return format_timestamp(START + dt.timedelta(seconds=seq, microseconds=seq))


def decoys(seq: int, head: str, matter_heads: dict[int, tuple[int, str]]) -> dict[str, Any]:
    """Details that spell, unescaped, the links the walk looks for, naming the real heads (or a stranger)."""
    matter_seq, matter_head = matter_heads.get(1, (0, GENESIS_HASH))
    return {
        # A nested object whose sorted keys end exactly like an event's: ,"matter_id":..,"prev_hash":"..","seq":N
        "a": {
            "_": 0,
            "matter_id": 1,
            "matter_prev_hash": matter_head,
            "matter_seq": matter_seq + 1,
            "occurred_at": at(seq),
            "prev_hash": head,
            "seq": seq,
            "subject_id": "decoy",
        },
        "b": {"_": 0, "prev_hash": STRANGER, "seq": seq + 1},
        "c": {"_": 0, "matter_id": 1, "matter_prev_hash": STRANGER, "matter_seq": 2},
        "d": [{"_": 0, "matter_id": None, "matter_prev_hash": None, "matter_seq": None, "prev_hash": head}],
        # The same text inside strings, where every quote is escaped.
        "note": f',"prev_hash":"{head}","seq":{seq},"subject_id":"x"',
        "matter": f',"matter_id":1,"matter_prev_hash":"{STRANGER}","matter_seq":2,"occurred_at":"{at(seq)}"',
        f',"prev_hash":"{head}","seq":{seq},"': "a key, then a value ending in a backslash \\",
        "z": 2.5,
    }


Forge = Callable[[ChainEntry, str, dict[int, tuple[int, str]]], ChainEntry]


def chain(count: int, *, forge: dict[int, Forge] | None = None) -> list[CheckedRow]:
    """count events over matters 1, 2 and none, every one carrying decoys; forge rewrites an entry before it
    is hashed (given the real head and matter heads), and later events chain to the forged hash."""
    rows: list[CheckedRow] = []
    head, matter_heads = GENESIS_HASH, {}
    for seq in range(1, count + 1):
        matter = (1, 2, None)[seq % 3]
        matter_seq, matter_head = matter_heads.get(matter, (0, GENESIS_HASH)) if matter else (None, None)
        entry = ChainEntry(
            seq=seq,
            occurred_at=at(seq),
            actor="user:counsel@example.org",
            action="matter.updated",
            subject_type="matter",
            subject_id=str(seq),
            matter_id=matter,
            matter_seq=None if matter_seq is None else matter_seq + 1,
            details=canonical_json(decoys(seq, head, matter_heads)),
            prev_hash=head,
            matter_prev_hash=matter_head,
        )
        if forge and seq in forge:
            entry = forge[seq](entry, head, dict(matter_heads))
        canonical = entry.canonical_bytes()
        digest = hashlib.sha256(canonical).hexdigest()
        rows.append(CheckedRow(seq, canonical, digest))
        head = digest
        if entry.matter_id is not None and entry.matter_seq is not None:
            matter_heads[entry.matter_id] = (entry.matter_seq, digest)
    return rows


def first_by_check(rows: list[CheckedRow], walk: ChainWalk | None = None) -> ChainProblem | None:
    """The first problem check() finds, event by event."""
    walk = walk or ChainWalk()
    for row in rows:
        problems = walk.check(row)
        if problems:
            return problems[0]
    return None


def first_by_batch(
    rows: list[CheckedRow], size: int, walk: ChainWalk | None = None, *, signed: bool = False
) -> ChainProblem | None:
    """The first problem check_batch finds, fed batches of size rows (signed: as events a checkpoint covers)."""
    walk = walk or ChainWalk()
    for start in range(0, len(rows), size):
        found = walk.check_batch(rows[start : start + size], signed=signed)
        if found is not None:
            return found
    return None


def first_problem(rows: list[CheckedRow], *, signed_too: bool = True) -> ChainProblem | None:
    """The first problem, after asserting that check() and check_batch (in any batch size) agree on it.

    signed_too: also on the fast path for events a checkpoint covers, which reads the links where the
    service's canonical spelling puts them (bytes in another spelling cannot lead to a signed head).
    """
    by_check = first_by_check(rows)
    for size in (1, 4, len(rows)):
        assert first_by_batch(rows, size) == by_check, size
        if signed_too:
            assert first_by_batch(rows, size, signed=True) == by_check, (size, "signed")
    return by_check


def test_the_decoys_stand_unescaped_in_the_bytes() -> None:
    rows = chain(6)
    for row in rows:
        details = row.canonical[row.canonical.index(b'"details":') : row.canonical.rfind(b',"matter_id":')]
        # Before the event's own keys: a full imitation of them, and a prev_hash and seq of another event.
        assert b',"matter_id":1,"matter_prev_hash":"' in details
        assert b',"prev_hash":"%s","seq":%d' % (STRANGER.encode(), row.seq + 1) in details
        assert row.canonical.count(b',"prev_hash":"') >= 3


def test_an_honest_chain_with_decoys_verifies_on_both_paths() -> None:
    rows = chain(30)
    assert first_problem(rows) is None
    batch, single = ChainWalk(), ChainWalk()
    assert batch.check_batch(rows) is None
    for row in rows:
        assert single.check(row) == []
    assert (batch.count, batch.last_seq, batch.head) == (30, 30, rows[-1].hash)
    assert (single.count, single.last_seq, single.head) == (30, 30, rows[-1].hash)
    assert batch.matter_heads == single.matter_heads == {1: (10, rows[29].hash), 2: (10, rows[27].hash)}


def _wrong_prev(entry: ChainEntry, head: str, _heads: dict[int, tuple[int, str]]) -> ChainEntry:
    # The top-level prev_hash is wrong; the details keep carrying the right head, unescaped.
    assert f'"prev_hash":"{head}","seq":{entry.seq}'.encode() in entry.details.encode()
    return replace(entry, prev_hash=STRANGER)


def _wrong_matter_prev(entry: ChainEntry, _head: str, heads: dict[int, tuple[int, str]]) -> ChainEntry:
    assert entry.matter_id == 1
    assert f'"matter_prev_hash":"{heads[1][1]}","matter_seq":{heads[1][0] + 1}' in entry.details
    return replace(entry, matter_prev_hash=STRANGER)


def _skipped_matter_seq(entry: ChainEntry, _head: str, _heads: dict[int, tuple[int, str]]) -> ChainEntry:
    assert entry.matter_seq is not None
    return replace(entry, matter_seq=entry.matter_seq + 1)


def _other_seq(entry: ChainEntry, _head: str, _heads: dict[int, tuple[int, str]]) -> ChainEntry:
    return replace(entry, seq=entry.seq + 1)


@pytest.mark.parametrize(
    ("seq", "forge", "reason", "global_chain"),
    [
        (8, _wrong_prev, BROKEN_LINK, True),  # an event of no matter
        (10, _wrong_prev, BROKEN_LINK, True),  # one of matter 2
        (12, _wrong_matter_prev, "matter 1: matter_prev_hash does not match that matter's previous event", False),
        (9, _skipped_matter_seq, "matter 1: expected matter_seq 3, found 4", False),
        (11, _other_seq, "its bytes say seq 12: the event was moved or altered", True),
    ],
)
def test_a_forged_link_is_found_at_its_seq_whatever_the_details_say(
    seq: int, forge: Forge, reason: str, global_chain: bool
) -> None:
    rows = chain(20, forge={seq: forge})
    assert first_problem(rows, signed_too=global_chain) == ChainProblem(seq, reason)
    if not global_chain:
        # The walk of signed events follows the global chain alone: a forged matter link with every hash
        # recomputed leads to another head than the signed one, which verify compares (with the signed
        # matter heads) and then walks again in full.
        assert first_by_batch(rows, 4, signed=True) is None


@pytest.mark.parametrize(
    "spoil",
    [
        lambda canonical: b"not json at all",
        lambda canonical: b'["prev_hash","seq"]',
        lambda canonical: canonical.replace(b',"seq":4,', b',"seq":"4",'),
        lambda canonical: canonical.replace(b',"matter_seq":2,', b',"matter_seq":null,'),
        # Cut short: no longer JSON, though every link still stands where the fast path looks for it.
        lambda canonical: canonical[:-1],
        lambda canonical: b"[" + canonical,
    ],
    ids=["text", "a list", "seq a string", "matter without matter_seq", "cut short", "an opening bracket"],
)
def test_bytes_that_are_no_event_are_reported_even_when_their_hash_matches(spoil: Callable[[bytes], bytes]) -> None:
    rows = chain(6)
    canonical = spoil(rows[3].canonical)
    forged = CheckedRow(4, canonical, hashlib.sha256(canonical).hexdigest())
    # In the middle of the log, and as its newest event (where no later link gives it away): bytes no
    # checkpoint covers are parsed, as anyone able to insert a row could have written them.
    assert first_problem([*rows[:3], forged, *rows[4:]], signed_too=False) == ChainProblem(4, NOT_AN_EVENT)
    assert first_problem([*rows[:3], forged], signed_too=False) == ChainProblem(4, NOT_AN_EVENT)


def test_a_gap_and_a_wrong_hash_come_first_on_both_paths() -> None:
    rows = chain(8)
    assert first_problem([*rows[:4], *rows[5:]]) == ChainProblem(6, "expected seq 5: events are missing or inserted")
    tampered = rows[4].canonical.replace(b'"z":2.5', b'"z":3.5')
    assert first_problem([*rows[:4], rows[4]._replace(canonical=tampered), *rows[5:]]) == ChainProblem(5, HASH_MISMATCH)


def test_keys_out_of_their_sorted_order_cannot_pass_the_fast_path() -> None:
    # Bytes are only canonical if the service spelled them; a hand in the database can insert others with
    # their own hash. Here the event's own links (by JSON) are wrong, and a decoy of the right ones comes
    # last, inside details: not the canonical spelling, which check() and the walk of unsigned events see.
    rows = chain(4)
    head = rows[-1].hash
    forged = (
        f'{{"action":"matter.updated","actor":"a","matter_id":1,"matter_prev_hash":"{STRANGER}","matter_seq":9,'
        f'"occurred_at":"{at(5)}","prev_hash":"{STRANGER}","seq":5,"subject_id":"5","subject_type":"matter",'
        '"details":{"_":0,"matter_id":null,"matter_prev_hash":null,"matter_seq":null,'
        f'"occurred_at":"{at(5)}","prev_hash":"{head}","seq":5,"z":1}}}}'
    )
    canonical = forged.encode()
    rows.append(CheckedRow(5, canonical, hashlib.sha256(canonical).hexdigest()))
    assert first_by_check(rows) == ChainProblem(5, NOT_AN_EVENT)
    assert first_by_batch(rows, len(rows)) == ChainProblem(5, NOT_AN_EVENT)


FIRST = 14
# Matter 1 enters the segment at seq 15 (its 5th event, after seq 12), matter 2 at seq 16 (its 6th, after seq 13).
ENTRIES = {1: (4, 12), 2: (5, 13)}


def _entries(walk: ChainWalk) -> dict[int, tuple[int, str]]:
    """The matter_seq before each matter's first event of the segment, and the hash it claims came before."""
    return {matter: (entry[0], entry[1]) for matter, entry in walk.entries.items()}


def _expected_entries(rows: list[CheckedRow]) -> dict[int, tuple[int, str]]:
    return {matter: (before, rows[seq - 1].hash) for matter, (before, seq) in ENTRIES.items()}


def test_a_segment_from_mid_log_checked_event_by_event_records_where_it_joins() -> None:
    rows = chain(30)
    walk = ChainWalk(first_seq=FIRST, open_start=True)
    assert all(walk.check(row) == [] for row in rows[FIRST - 1 :])
    assert walk.entry_head == rows[FIRST - 2].hash
    assert _entries(walk) == _expected_entries(rows)
    assert (walk.count, walk.last_seq, walk.head) == (30 - FIRST + 1, 30, rows[-1].hash)
    assert walk.matter_heads == {1: (10, rows[29].hash), 2: (10, rows[27].hash)}


@pytest.mark.parametrize("size", [1, 5, 17])
def test_a_segment_from_mid_log_checked_in_batches_records_where_it_joins(size: int) -> None:
    rows = chain(30)
    walk = ChainWalk(first_seq=FIRST, open_start=True)
    assert first_by_batch(rows[FIRST - 1 :], size, walk) is None
    assert walk.entry_head == rows[FIRST - 2].hash
    assert _entries(walk) == _expected_entries(rows)
    assert (walk.count, walk.last_seq, walk.head) == (30 - FIRST + 1, 30, rows[-1].hash)
    assert walk.matter_heads == {1: (10, rows[29].hash), 2: (10, rows[27].hash)}


@pytest.mark.parametrize("by_batch", [False, True])
def test_a_segment_takes_its_entry_points_from_the_events_own_links_not_the_decoys(by_batch: bool) -> None:
    rows = chain(30, forge={FIRST: _wrong_prev, FIRST + 1: _wrong_matter_prev})
    walk = ChainWalk(first_seq=FIRST, open_start=True)
    segment = rows[FIRST - 1 :]
    found = first_by_batch(segment, 4, walk) if by_batch else first_by_check(segment, walk)
    assert found is None
    assert walk.entry_head == STRANGER
    assert _entries(walk)[1] == (4, STRANGER)


@pytest.mark.parametrize("by_batch", [False, True])
def test_a_segment_holds_its_links_and_its_start(by_batch: bool) -> None:
    def first(rows: list[CheckedRow]) -> ChainProblem | None:
        walk = ChainWalk(first_seq=FIRST, open_start=True)
        return first_by_batch(rows, 4, walk) if by_batch else first_by_check(rows, walk)

    assert first(chain(30, forge={20: _wrong_prev})[FIRST - 1 :]) == ChainProblem(20, BROKEN_LINK)
    assert first(chain(30, forge={21: _wrong_matter_prev})[FIRST - 1 :]) == ChainProblem(
        21, "matter 1: matter_prev_hash does not match that matter's previous event"
    )
    assert first(chain(30)[FIRST:]) == ChainProblem(FIRST + 1, f"expected seq {FIRST}: events are missing or inserted")


@pytest.mark.parametrize("size", [1, 5, 17])
def test_a_signed_segment_from_mid_log_follows_the_global_chain(size: int) -> None:
    rows = chain(30)
    walk = ChainWalk(first_seq=FIRST, open_start=True)
    assert first_by_batch(rows[FIRST - 1 :], size, walk, signed=True) is None
    assert walk.entry_head == rows[FIRST - 2].hash
    assert (walk.count, walk.last_seq, walk.head) == (30 - FIRST + 1, 30, rows[-1].hash)
    # The global chain still holds the segment to its start and to every link inside it.
    broken = chain(30, forge={20: _wrong_prev})[FIRST - 1 :]
    assert first_by_batch(broken, size, ChainWalk(first_seq=FIRST, open_start=True), signed=True) == ChainProblem(
        20, BROKEN_LINK
    )
