"""Appending to and reading the hash-chained audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from preservation.db import AUDIT_CHAIN_LOCK_KEY, lock_audit_chain
from preservation.domain.audit_chain import (
    GENESIS_HASH,
    ChainEntry,
    ChainProblem,
    canonical_json,
    find_chain_problems,
    format_timestamp,
)
from preservation.domain.vocabulary import AUDIT_ACTIONS
from preservation.models import AuditEvent
from preservation.services.unit import Unit

_VERIFY_BATCH = 5000


def record(
    unit: Unit,
    action: str,
    subject_type: str,
    subject_id: object,
    *,
    matter_id: int | None,
    details: dict[str, Any],
) -> None:
    """Append one event to the chain, in the caller's transaction."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    for name, value in (("actor", unit.actor), ("subject_type", subject_type), ("subject_id", str(subject_id))):
        if "\x00" in value:
            # SQLite's json_extract ends a string at an escaped NUL, so its generated column would show less
            # than the hashed bytes say; PostgreSQL cannot hold one in text at all.
            raise ValueError(f"an audit {name} cannot hold a NUL character")
    session = unit.session
    # Rows the change created must have ids before their events name them.
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        _append_in_server(
            unit, action, subject_type, str(subject_id), matter_id=matter_id, details=canonical_json(details)
        )
        return
    lock_audit_chain(session)
    head = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    matter_seq: int | None = None
    matter_prev_hash: str | None = None
    if matter_id is not None:
        matter_head = session.execute(
            select(AuditEvent.matter_seq, AuditEvent.hash)
            .where(AuditEvent.matter_id == matter_id)
            .order_by(AuditEvent.matter_seq.desc())
            .limit(1)
        ).first()
        matter_seq, matter_prev_hash = (
            (matter_head.matter_seq + 1, matter_head.hash) if matter_head else (1, GENESIS_HASH)
        )
    now = unit.clock()
    entry = ChainEntry(
        seq=seq,
        occurred_at=format_timestamp(now),
        actor=unit.actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        matter_id=matter_id,
        matter_seq=matter_seq,
        details=canonical_json(details),
        prev_hash=prev_hash,
        matter_prev_hash=matter_prev_hash,
    )
    canonical = entry.canonical_bytes()
    # The bytes and their hash alone: the database generates every other column from the bytes.
    session.add(AuditEvent(seq=entry.seq, hash=hashlib.sha256(canonical).hexdigest(), canonical=canonical.decode()))
    session.flush()


def _append_in_server(
    unit: Unit, action: str, subject_type: str, subject_id: str, *, matter_id: int | None, details: str
) -> None:
    """The same append done by PostgreSQL's audit_append() (migration 0012) in one round trip: the chain
    lock is held until the commit, and every round trip taken under it is one that other writers wait for."""
    now = unit.clock()
    if now.tzinfo is None:
        # As format_timestamp refuses it: the server would read a naive time in its own time zone.
        raise ValueError("audit timestamps must be timezone-aware")
    unit.session.execute(
        text(
            "SELECT audit_append(CAST(:lock AS bigint), :occurred_at, :actor, :action, :subject_type,"
            " :subject_id, CAST(:matter_id AS integer), :details)"
        ),
        {
            "lock": AUDIT_CHAIN_LOCK_KEY,
            "occurred_at": now,
            "actor": unit.actor,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "matter_id": matter_id,
            "details": details,
        },
    )


def chain_entry(event: AuditEvent) -> ChainEntry:
    """The hashed fields of a stored event."""
    return ChainEntry(
        seq=event.seq,
        occurred_at=format_timestamp(event.occurred_at),
        actor=event.actor,
        action=event.action,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        matter_id=event.matter_id,
        matter_seq=event.matter_seq,
        details=event.details,
        prev_hash=event.prev_hash,
        matter_prev_hash=event.matter_prev_hash,
    )


def iter_events(session: Session, batch: int = _VERIFY_BATCH) -> Iterator[AuditEvent]:
    """Every event in seq order, read in batches so memory stays flat."""
    after = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


@dataclass(frozen=True)
class ChainReport:
    """The verdict on the whole chain."""

    events: int
    head_hash: str
    problem: ChainProblem | None

    @property
    def intact(self) -> bool:
        """True when no break was found."""
        return self.problem is None


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash and link; report the first break."""
    count = 0
    head = GENESIS_HASH

    def pairs() -> Iterator[tuple[ChainEntry, str]]:
        nonlocal count, head
        for event in iter_events(session):
            count += 1
            head = event.hash
            yield chain_entry(event), event.hash

    first = next(find_chain_problems(pairs()), None)
    return ChainReport(events=count, head_hash=head, problem=first)


def list_events(
    session: Session,
    *,
    after_seq: int,
    limit: int,
    matter_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of events as hashed (plus their hash), and the seq to continue after, or None at the end."""
    query = select(AuditEvent).where(AuditEvent.seq > after_seq).order_by(AuditEvent.seq)
    if matter_id is not None:
        query = query.where(AuditEvent.matter_id == matter_id)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEvent.occurred_at < until)
    rows = list(session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    items = []
    for row in rows:
        # The bytes that were hashed, as stored; verify checks that the columns still spell them. Stored bytes
        # that no longer parse (only a hand in the database does that) give way to the columns, for verify to name.
        try:
            document = json.loads(row.canonical)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            document = json.loads(chain_entry(row).canonical_bytes())
        document["hash"] = row.hash
        items.append(document)
    return items, (rows[-1].seq if more else None)
