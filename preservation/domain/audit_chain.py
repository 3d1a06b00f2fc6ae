"""The hash chain of the audit trail: canonical bytes, link hashes and verification.

An entry's hash is SHA-256 over its canonical bytes: UTF-8 JSON with sorted keys and no spaces,
holding every field of the entry including `prev_hash` (the hash of the entry before it in the
whole log) and `matter_prev_hash` (the hash of the matter's previous entry, for per-matter proofs).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

GENESIS_HASH = "0" * 64
# The string encoder json.dumps(ensure_ascii=False) itself uses (the C one when available).
encode_string = json.encoder.encode_basestring
_EVENT_TEMPLATE = (
    '{"action":%s,"actor":%s,"details":%s,"matter_id":%s,"matter_prev_hash":%s,"matter_seq":%s,'
    '"occurred_at":%s,"prev_hash":%s,"seq":%d,"subject_id":%s,"subject_type":%s}'
)


def canonical_json(value: Any) -> str:
    """The one JSON spelling of a value: sorted keys, no spaces, non-ASCII kept as UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def format_timestamp(moment: dt.datetime) -> str:
    """UTC, microsecond precision, with a Z: the only timestamp spelling inside hashed bytes."""
    if moment.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ChainEntry:
    """The hashed fields of one audit event."""

    seq: int
    occurred_at: str
    actor: str
    action: str
    subject_type: str
    subject_id: str
    matter_id: int | None
    matter_seq: int | None
    details: str
    prev_hash: str
    matter_prev_hash: str | None

    def canonical_bytes(self) -> bytes:
        """The exact bytes that are hashed and exported."""
        document = {
            "seq": self.seq,
            "occurred_at": self.occurred_at,
            "actor": self.actor,
            "action": self.action,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "matter_id": self.matter_id,
            "matter_seq": self.matter_seq,
            # details is already canonical JSON text; embedding the parsed value keeps one encoding.
            "details": json.loads(self.details),
            "prev_hash": self.prev_hash,
            "matter_prev_hash": self.matter_prev_hash,
        }
        return canonical_json(document).encode("utf-8")

    def compute_hash(self) -> str:
        """SHA-256 of the canonical bytes, as lowercase hex."""
        return hashlib.sha256(self.canonical_bytes()).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    """The first place where the chain does not hold, and why."""

    seq: int
    reason: str


class StoredEvent(NamedTuple):
    """An event as stored: its hashed fields, occurred_at already spelled as hashed, and the stored hash."""

    seq: int
    occurred_at: str
    actor: str
    action: str
    subject_type: str
    subject_id: str
    matter_id: int | None
    matter_seq: int | None
    details: str
    prev_hash: str
    matter_prev_hash: str | None
    hash: str


def event_text(event: StoredEvent) -> str:
    """The canonical JSON of a stored event, assembled from its columns without a parse.

    Equal to ChainEntry.canonical_bytes() whenever details holds canonical JSON, which record()
    guarantees; a details column rewritten in any other spelling gives other bytes, so a hash mismatch.
    """
    return _EVENT_TEMPLATE % (
        encode_string(event.action),
        encode_string(event.actor),
        event.details,
        "null" if event.matter_id is None else event.matter_id,
        "null" if event.matter_prev_hash is None else encode_string(event.matter_prev_hash),
        "null" if event.matter_seq is None else event.matter_seq,
        encode_string(event.occurred_at),
        encode_string(event.prev_hash),
        event.seq,
        encode_string(event.subject_id),
        encode_string(event.subject_type),
    )


class CheckedRow(NamedTuple):
    """An event as the chain walk reads it: the stored bytes that were hashed and the columns the links use.

    Whether the event's other columns still spell those bytes is checked apart (by the database, see
    services.audit_rows.first_altered) and merged by seq: a column problem ranks after a seq gap and a
    hash mismatch at the same seq and before a broken link, as check() lists them.
    """

    seq: int
    canonical: bytes
    hash: str
    prev_hash: str
    matter_id: int | None
    matter_seq: int | None
    matter_prev_hash: str | None


COLUMNS_ALTERED = "its columns differ from the bytes that were hashed: the event was altered"
HASH_MISMATCH = "stored hash does not match the event's contents: the event was altered"
SEQ_GAP = "expected seq {}: events are missing or inserted"
_SEQ_GAP_START = SEQ_GAP.split("{", 1)[0]


def outranks_columns(problem: ChainProblem) -> bool:
    """True when the problem comes before an altered column found at the same seq (a seq gap, a wrong hash)."""
    return problem.reason == HASH_MISMATCH or problem.reason.startswith(_SEQ_GAP_START)


class ChainWalk:
    """Follows stored events in seq order, checking every hash and link, and remembers the heads reached.

    Checks: seq runs 1, 2, 3... without gaps; each stored hash is the SHA-256 of the stored bytes; each
    prev_hash names the event before; each matter's matter_seq runs without gaps and its matter_prev_hash
    names that matter's previous event.
    """

    def __init__(self) -> None:
        self.count = 0
        self.last_seq = 0
        self.head = GENESIS_HASH
        self.matter_heads: dict[int, tuple[int, str]] = {}

    def step(self, event: StoredEvent) -> list[ChainProblem]:
        """Check one event given by its columns alone (its bytes rebuilt from them)."""
        canonical = event_text(event).encode()
        return self.check(
            CheckedRow(
                event.seq,
                canonical,
                event.hash,
                event.prev_hash,
                event.matter_id,
                event.matter_seq,
                event.matter_prev_hash,
            )
        )

    def check_batch(self, rows: list[CheckedRow]) -> ChainProblem | None:
        """Check consecutive events; the first problem, or None. The state stops at the event that failed.

        The same checks as check(), in one loop over local names: this is verification's hot path.
        """
        sha256 = hashlib.sha256
        heads = self.matter_heads
        last_seq, head, count = self.last_seq, self.head, self.count
        for row in rows:
            seq, canonical, stored_hash, prev_hash, matter, matter_seq, matter_prev_hash = row
            if not (
                seq == last_seq + 1
                and prev_hash == head
                and sha256(canonical).hexdigest() == stored_hash
                and (
                    matter is None
                    or (
                        matter_seq is not None
                        and heads.get(matter, (0, GENESIS_HASH)) == (matter_seq - 1, matter_prev_hash)
                    )
                )
            ):
                self.last_seq, self.head, self.count = last_seq, head, count
                problems = self.check(row)
                if problems:
                    return problems[0]
                last_seq, head, count = self.last_seq, self.head, self.count
                continue
            if matter is not None:
                heads[matter] = (matter_seq or 0, stored_hash)
            last_seq, head, count = seq, stored_hash, count + 1
        self.last_seq, self.head, self.count = last_seq, head, count
        return None

    def check(self, row: CheckedRow) -> list[ChainProblem]:
        """Check one event against the ones before it; the problems found, earliest first."""
        seq, canonical, stored_hash, prev_hash, matter, matter_seq, matter_prev_hash = row
        problems: list[ChainProblem] = []
        if seq != self.last_seq + 1:
            problems.append(ChainProblem(seq, SEQ_GAP.format(self.last_seq + 1)))
        if hashlib.sha256(canonical).hexdigest() != stored_hash:
            problems.append(ChainProblem(seq, HASH_MISMATCH))
        if prev_hash != self.head:
            problems.append(
                ChainProblem(seq, "prev_hash does not match the previous event's hash: the chain is broken")
            )
        if matter is not None:
            last_seq, last_hash = self.matter_heads.get(matter, (0, GENESIS_HASH))
            if matter_seq != last_seq + 1:
                problems.append(
                    ChainProblem(seq, f"matter {matter}: expected matter_seq {last_seq + 1}, found {matter_seq}")
                )
            if matter_prev_hash != last_hash:
                problems.append(
                    ChainProblem(seq, f"matter {matter}: matter_prev_hash does not match that matter's previous event")
                )
            self.matter_heads[matter] = (matter_seq or 0, stored_hash)
        self.count += 1
        self.last_seq = seq
        self.head = stored_hash
        return problems


def stored_event(entry: ChainEntry, stored_hash: str) -> StoredEvent:
    """A chain entry with its stored hash."""
    return StoredEvent(
        entry.seq,
        entry.occurred_at,
        entry.actor,
        entry.action,
        entry.subject_type,
        entry.subject_id,
        entry.matter_id,
        entry.matter_seq,
        entry.details,
        entry.prev_hash,
        entry.matter_prev_hash,
        stored_hash,
    )


def find_chain_problems(entries: Iterable[tuple[ChainEntry, str]]) -> Iterator[ChainProblem]:
    """Walk (entry, stored hash) pairs in seq order and yield every break, earliest first (see ChainWalk)."""
    walk = ChainWalk()
    for entry, stored_hash in entries:
        yield from walk.step(stored_event(entry, stored_hash))
