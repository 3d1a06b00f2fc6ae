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
from typing import Any

GENESIS_HASH = "0" * 64


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


def find_chain_problems(entries: Iterable[tuple[ChainEntry, str]]) -> Iterator[ChainProblem]:
    """Walk (entry, stored hash) pairs in seq order and yield every break, earliest first.

    Checks: seq runs 1, 2, 3... without gaps; each stored hash equals the recomputed one; each
    prev_hash names the entry before; each matter's matter_seq runs without gaps and its
    matter_prev_hash names that matter's previous entry.
    """
    expected_seq = 1
    previous_hash = GENESIS_HASH
    matter_heads: dict[int, tuple[int, str]] = {}
    for entry, stored_hash in entries:
        if entry.seq != expected_seq:
            yield ChainProblem(entry.seq, f"expected seq {expected_seq}: events are missing or inserted")
        recomputed = entry.compute_hash()
        if recomputed != stored_hash:
            yield ChainProblem(entry.seq, "stored hash does not match the event's contents: the event was altered")
        if entry.prev_hash != previous_hash:
            yield ChainProblem(entry.seq, "prev_hash does not match the previous event's hash: the chain is broken")
        if entry.matter_id is not None:
            last_seq, last_hash = matter_heads.get(entry.matter_id, (0, GENESIS_HASH))
            if entry.matter_seq != last_seq + 1:
                yield ChainProblem(
                    entry.seq,
                    f"matter {entry.matter_id}: expected matter_seq {last_seq + 1}, found {entry.matter_seq}",
                )
            if entry.matter_prev_hash != last_hash:
                yield ChainProblem(
                    entry.seq,
                    f"matter {entry.matter_id}: matter_prev_hash does not match that matter's previous event",
                )
            matter_heads[entry.matter_id] = (entry.matter_seq or 0, stored_hash)
        expected_seq = entry.seq + 1
        previous_hash = stored_hash
