"""A database the size of a busy legal department, for measuring the pages: bulk rows, a real audit chain.

At scale 1: 500 matters, 20,000 custodians, 5,000 data sources, 100,000 findings and 1,000,000 audit
events (hash-chained as the log requires, so verification and export work on it too). Rows go in with
bulk INSERTs in batches; nothing here is for production data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from preservation.domain.audit_chain import GENESIS_HASH, ChainEntry, canonical_json, format_timestamp
from preservation.models import (
    AuditEvent,
    CheckFinding,
    Custodian,
    CustodianHold,
    DataSource,
    Deadline,
    JobRun,
    Matter,
    Obligation,
    PreservationOrder,
    RetentionCheck,
    obligation_data_source,
)
from preservation.services import status_history
from preservation.services.unit import Unit

BATCH = 5_000
SOURCE_STATUSES = ("preserved", "preserved", "preserved", "at_risk", "unverifiable", "unchecked")


@dataclass(frozen=True)
class ScaleSizes:
    """How many rows of each kind one seeding adds."""

    matters: int
    custodians: int
    sources: int
    findings: int
    audit_events: int

    @classmethod
    def at(cls, scale: float) -> ScaleSizes:
        """The sizes at a fraction (or multiple) of the full scale; at least one of each."""
        return cls(
            matters=max(1, round(500 * scale)),
            custodians=max(1, round(20_000 * scale)),
            sources=max(1, round(5_000 * scale)),
            findings=max(1, round(100_000 * scale)),
            audit_events=max(1, round(1_000_000 * scale)),
        )


def _next_id(session: Session, column: Any) -> int:
    return int(session.scalar(select(func.coalesce(func.max(column), 0))) or 0) + 1


def _insert(session: Session, model: Any, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            session.execute(insert(model), batch)
            count += len(batch)
            batch = []
    if batch:
        session.execute(insert(model), batch)
        count += len(batch)
    return count


def seed_scale(
    session: Session, sizes: ScaleSizes, now: dt.datetime, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Add the rows; the caller commits. Returns how many of each were added."""
    say = progress or (lambda _text: None)
    stamps = {"created_at": now, "updated_at": now}
    matter0 = _next_id(session, Matter.id)
    matters = range(matter0, matter0 + sizes.matters)
    _insert(
        session,
        Matter,
        (
            {"id": i, "caption": f"Scale matter {i}", "docket_number": f"1:26-cv-{i:05d}", "status": "open", **stamps}
            for i in matters
        ),
    )
    order0 = _next_id(session, PreservationOrder.id)
    orders = [order0 + n for n in range(sizes.matters)]
    _insert(
        session,
        PreservationOrder,
        (
            {"id": o, "matter_id": m, "kind": "court_order", "title": f"Order {o}", "status": "active", **stamps}
            for o, m in zip(orders, matters, strict=True)
        ),
    )
    obligation0 = _next_id(session, Obligation.id)
    obligations = [obligation0 + n for n in range(2 * sizes.matters)]
    _insert(
        session,
        Obligation,
        (
            {
                "id": ob,
                "order_id": orders[n // 2],
                "description": f"Duty {ob}",
                "status": "open",
                "preserve_from": dt.date(2020, 1, 1),
                "due_on": (now + dt.timedelta(days=n % 60)).date(),
                **stamps,
            }
            for n, ob in enumerate(obligations)
        ),
    )
    say(f"{sizes.matters} matters with orders and obligations")
    custodian0 = _next_id(session, Custodian.id)
    custodians = range(custodian0, custodian0 + sizes.custodians)
    _insert(
        session,
        Custodian,
        (
            {
                "id": c,
                "name": f"Custodian {c}",
                "email": f"c{c}@scale.example",
                "email_normalized": f"c{c}@scale.example",
                "employment_status": "active",
                **stamps,
            }
            for c in custodians
        ),
    )
    _insert(
        session,
        CustodianHold,
        (
            {
                "order_id": orders[n % len(orders)],
                "custodian_id": c,
                "role": "custodian",
                "status": "notified" if n % 10 == 0 else "acknowledged",
                "notice_sent_at": now - dt.timedelta(days=n % 30),
                "acknowledged_at": None if n % 10 == 0 else now,
                **stamps,
            }
            for n, c in enumerate(custodians)
        ),
    )
    say(f"{sizes.custodians} custodians with holds")
    source0 = _next_id(session, DataSource.id)
    sources = range(source0, source0 + sizes.sources)
    _insert(
        session,
        DataSource,
        (
            {
                "id": s,
                "name": f"Bucket {s}",
                "kind": "s3",
                "location": f"s3://scale-{s}/data/",
                "status": SOURCE_STATUSES[n % len(SOURCE_STATUSES)],
                "check_interval_hours": 24,
                "earliest_destruction_at": now + dt.timedelta(days=5 + n % 90) if n % 6 == 3 else None,
                "last_checked_at": now - dt.timedelta(hours=n % 96),
                **stamps,
                # Catalogued before their checks, so the status history has days to show.
                "created_at": now - dt.timedelta(days=30),
            }
            for n, s in enumerate(sources)
        ),
    )
    _insert(
        session,
        obligation_data_source,
        (
            {"obligation_id": obligations[n % len(obligations)], "data_source_id": s, "linked_at": now}
            for n, s in enumerate(sources)
        ),
    )
    say(f"{sizes.sources} data sources")
    checks_per_source = 2
    findings_per_check = max(1, sizes.findings // (sizes.sources * checks_per_source))
    check0 = _next_id(session, RetentionCheck.id)
    check_ids = [(check0 + n, s) for n, s in enumerate(s for s in sources for _ in range(checks_per_source))]
    _insert(
        session,
        RetentionCheck,
        (
            {
                "id": c,
                "data_source_id": s,
                "kind": "s3",
                "actor": "scheduler",
                "started_at": now - dt.timedelta(hours=c % 300),
                "finished_at": now - dt.timedelta(hours=c % 300),
                "status": SOURCE_STATUSES[c % 5],
                "summary": {},
            }
            for c, s in check_ids
        ),
    )
    _insert(
        session,
        CheckFinding,
        (
            {
                "check_id": c,
                "code": "S3_LIFECYCLE_DESTROYS_IN_SCOPE",
                "severity": "high",
                "message": "scale finding",
                "count": 1,
                "examples": [],
                "details": {},
            }
            for c, _s in check_ids
            for _ in range(findings_per_check)
        ),
    )
    say(f"{len(check_ids)} checks, {len(check_ids) * findings_per_check} findings")
    days = status_history.rebuild_history(Unit(session=session, actor="cli:seed-scale", clock=lambda: now))
    say(f"{days} days of source statuses")
    _insert(
        session,
        Deadline,
        (
            {
                "kind": "obligation_due",
                "subject_type": "obligation",
                "subject_id": ob,
                "matter_id": matter0 + n // 2,
                "title": f"Duty {ob} due",
                "due_on": (now + dt.timedelta(days=n % 60)).date(),
                "computation": {},
                "status": "open",
                "known_since": now,
                "sequence": 0,
                **stamps,
            }
            for n, ob in enumerate(obligations)
        ),
    )
    _insert(
        session,
        JobRun,
        (
            {
                "job_id": "sweep",
                "trigger": "schedule",
                "holder": "scale",
                "started_at": now - dt.timedelta(minutes=n),
                "finished_at": now - dt.timedelta(minutes=n),
                "outcome": "succeeded",
                "details": {},
            }
            for n in range(500)
        ),
    )
    events = _insert(session, AuditEvent, _chain(session, sizes.audit_events, list(matters), now))
    say(f"{events} audit events")
    return {
        "matters": sizes.matters,
        "custodians": sizes.custodians,
        "sources": sizes.sources,
        "findings": len(check_ids) * findings_per_check,
        "audit_events": events,
    }


def _chain(session: Session, count: int, matters: list[int], now: dt.datetime) -> Iterator[dict[str, Any]]:
    """Audit events that continue the log's chain and each matter's own chain."""
    head = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    matter_heads: dict[int, tuple[int, str]] = {}
    start = now - dt.timedelta(days=365)
    step = dt.timedelta(days=365) / max(count, 1)
    details = canonical_json({"note": "scale seed"})
    for n in range(count):
        seq += 1
        matter = matters[n % len(matters)]
        matter_seq, matter_prev = matter_heads.get(matter, (0, GENESIS_HASH))
        moment = start + step * n
        entry = ChainEntry(
            seq=seq,
            occurred_at=format_timestamp(moment),
            actor="user:scale@example.com",
            action="matter.updated",
            subject_type="matter",
            subject_id=str(matter),
            matter_id=matter,
            matter_seq=matter_seq + 1,
            details=details,
            prev_hash=prev,
            matter_prev_hash=matter_prev,
        )
        canonical = entry.canonical_bytes()
        digest = hashlib.sha256(canonical).hexdigest()
        # The bytes and their hash: the database generates the other columns from the bytes.
        yield {"seq": seq, "hash": digest, "canonical": canonical.decode()}
        prev = digest
        matter_heads[matter] = (matter_seq + 1, digest)
