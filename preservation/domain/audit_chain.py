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
    """An event as the chain walk reads it: its seq, the stored bytes that were hashed, and the stored hash.

    Everything else the walk checks (the event's own seq, prev_hash and matter links) is read out of the
    bytes themselves, so what is checked is what was hashed.
    """

    seq: int
    canonical: bytes
    hash: str


HASH_MISMATCH = "stored hash does not match the event's contents: the event was altered"
SEQ_GAP = "expected seq {}: events are missing or inserted"
NOT_AN_EVENT = "its stored bytes are not an event's canonical JSON: the event was altered"
BROKEN_LINK = "prev_hash does not match the previous event's hash: the chain is broken"

# Where the signed walk finds the link inside the canonical bytes. Keys are sorted, so every key after
# "details" comes in a fixed order and none can occur inside a string value (a quote there is always
# escaped): the last ',"prev_hash":"' is the event's own, whatever details holds.
_PREV_KEY = b',"prev_hash":"'
_UNKNOWN = b"-"


_EVENT_KEYS = frozenset(
    [
        "action",
        "actor",
        "details",
        "matter_id",
        "matter_prev_hash",
        "matter_seq",
        "occurred_at",
        "prev_hash",
        "seq",
        "subject_id",
        "subject_type",
    ]
)


def event_links(canonical: bytes) -> tuple[int, str, int | None, int | None, str | None] | None:
    """seq, prev_hash, matter_id, matter_seq and matter_prev_hash as the bytes say; None if they are not an
    event's canonical JSON (every key once, sorted, no spaces: the one spelling the service writes)."""
    try:
        document = json.loads(canonical)
        if not isinstance(document, dict) or document.keys() != _EVENT_KEYS:
            return None
        if canonical_json(document).encode() != canonical:
            return None
    except (ValueError, TypeError):
        return None
    links = tuple(document.get(name) for name in ("seq", "prev_hash", "matter_id", "matter_seq", "matter_prev_hash"))
    seq, prev_hash, matter, matter_seq, matter_prev_hash = links
    matter_ok = (matter is None and matter_seq is None and matter_prev_hash is None) or (
        type(matter) is int and type(matter_seq) is int and isinstance(matter_prev_hash, str)
    )
    if type(seq) is not int or not isinstance(prev_hash, str) or not matter_ok:
        return None
    return seq, prev_hash, matter, matter_seq, matter_prev_hash


class ChainWalk:
    """Follows stored events in seq order, checking every hash and link, and remembers the heads reached.

    Checks: seq runs 1, 2, 3... without gaps and each event's bytes carry its own seq; each stored hash is
    the SHA-256 of the stored bytes; each prev_hash names the event before; each matter's matter_seq runs
    without gaps and its matter_prev_hash names that matter's previous event.

    open_start: the walk begins in the middle of the log (a segment walked apart from the rest): the first
    event's prev_hash and each matter's first matter_seq and matter_prev_hash are taken as they stand and
    kept in entry_head and entries, for whoever joins the segments to hold against the heads before them.
    """

    def __init__(self, *, first_seq: int = 1, open_start: bool = False) -> None:
        self.count = 0
        self.last_seq = first_seq - 1
        self._head: bytes | None = None if open_start else GENESIS_HASH.encode()
        self._heads: dict[bytes, tuple[int, bytes]] = {}
        self.open_start = open_start
        self.entry_head: str | None = None
        # matter -> (the matter_seq before its first event here, the matter_prev_hash it claims, seq, hash)
        self.entries: dict[int, tuple[int, str, int, str]] = {}

    @property
    def head(self) -> str:
        """The hash of the last event walked (the genesis hash before any; empty for an open start)."""
        return (self._head or b"").decode()

    @head.setter
    def head(self, value: str) -> None:
        self._head = value.encode()

    @property
    def matter_heads(self) -> dict[int, tuple[int, str]]:
        """Each matter's last matter_seq and hash so far."""
        return {int(matter): (seq, digest.decode()) for matter, (seq, digest) in self._heads.items()}

    @matter_heads.setter
    def matter_heads(self, heads: dict[int, tuple[int, str]]) -> None:
        self._heads = {str(matter).encode(): (seq, digest.encode()) for matter, (seq, digest) in heads.items()}

    def step(self, event: StoredEvent) -> list[ChainProblem]:
        """Check one event given by its columns alone (its bytes rebuilt from them)."""
        return self.check(CheckedRow(event.seq, event_text(event).encode(), event.hash))

    def check_batch(self, rows: list[CheckedRow], *, signed: bool = False) -> ChainProblem | None:
        """Check consecutive events; the first problem, or None. The state stops at the event that failed.

        By default each event goes through check(): parsed, held to the canonical spelling, every link and
        each matter's chain checked. Events after the last checkpoint (or in a log without one) need that:
        anyone able to insert a row could have written them.

        signed: the events lie at or before the head a valid checkpoint signs, and the caller compares that
        head (and the matter heads) when the walk reaches it. Then only the global chain is followed, in one
        loop over local names (verification's hot path): each hash, and each prev_hash and seq read where
        the canonical spelling puts them. Followed back from a signed head, the hashes prove these are the
        bytes the service wrote, so their matter links are the ones it wrote too; the matter chains are not
        followed and matter_heads is not kept. A caller that finds anything wrong up to the signed head
        walks again without `signed` for the exact first problem. Anything unusual goes to check().
        """
        if not signed:
            for row in rows:
                problems = self.check(row)
                if problems:
                    return problems[0]
            return None
        sha256 = hashlib.sha256
        last_seq, count = self.last_seq, self.count
        # Before an open start's first event no hash is known: no link matches it, so check() sees that event.
        head = self._head if self._head is not None else _UNKNOWN
        for row in rows:
            seq, canonical, stored_hash = row
            if (
                seq == last_seq + 1
                and sha256(canonical).hexdigest() == stored_hash
                and canonical.startswith(b'%s","seq":%d,"' % (head, seq), canonical.rfind(_PREV_KEY) + 14)
            ):
                last_seq, head, count = seq, stored_hash.encode(), count + 1
                continue
            self.last_seq, self._head, self.count = last_seq, None if head is _UNKNOWN else head, count
            problems = self.check(row)
            if problems:
                return problems[0]
            last_seq, head, count = self.last_seq, self._head or _UNKNOWN, self.count
        self.last_seq, self._head, self.count = last_seq, None if head is _UNKNOWN else head, count
        return None

    def check(self, row: CheckedRow) -> list[ChainProblem]:
        """Check one event against the ones before it; the problems found, earliest first."""
        seq, canonical, stored_hash = row
        problems: list[ChainProblem] = []
        if seq != self.last_seq + 1:
            problems.append(ChainProblem(seq, SEQ_GAP.format(self.last_seq + 1)))
        if hashlib.sha256(canonical).hexdigest() != stored_hash:
            problems.append(ChainProblem(seq, HASH_MISMATCH))
        links = event_links(canonical)
        if links is None:
            problems.append(ChainProblem(seq, NOT_AN_EVENT))
        else:
            problems += self._check_links(seq, stored_hash, links)
        self.count += 1
        self.last_seq = seq
        self._head = stored_hash.encode()
        return problems

    def _check_links(
        self, seq: int, stored_hash: str, links: tuple[int, str, int | None, int | None, str | None]
    ) -> list[ChainProblem]:
        own_seq, prev_hash, matter, matter_seq, matter_prev_hash = links
        problems: list[ChainProblem] = []
        if own_seq != seq:
            problems.append(ChainProblem(seq, f"its bytes say seq {own_seq}: the event was moved or altered"))
        if self._head is None:
            self.entry_head = prev_hash
        elif prev_hash != self._head.decode():
            problems.append(ChainProblem(seq, BROKEN_LINK))
        if matter is None or matter_seq is None or matter_prev_hash is None:
            return problems
        key = str(matter).encode()
        if key not in self._heads and self.open_start:
            self.entries[matter] = (matter_seq - 1, matter_prev_hash, seq, stored_hash)
        else:
            last_seq, last_hash = self._heads.get(key, (0, GENESIS_HASH.encode()))
            if matter_seq != last_seq + 1:
                problems.append(
                    ChainProblem(seq, f"matter {matter}: expected matter_seq {last_seq + 1}, found {matter_seq}")
                )
            if matter_prev_hash != last_hash.decode():
                problems.append(
                    ChainProblem(seq, f"matter {matter}: matter_prev_hash does not match that matter's previous event")
                )
        self._heads[key] = (matter_seq, stored_hash.encode())
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
