"""Appends spelled by the database (PostgreSQL's audit_append) hash the very bytes Python would spell.

On SQLite the same test runs the Python append, so both databases are held to one spelling: each stored
event's canonical bytes equal those Python spells from its columns, hash to its stored hash, and the
chain (global and per matter) verifies.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from preservation.models import AuditEvent
from preservation.services import audit
from preservation.services.unit import Unit

HOSTILE = (
    'a "quoted" word',
    "back\\slash and a trailing \\",
    "tab\tnew\nline\rreturn",
    "controls \x01 \x08 \x0c \x1f and delete \x7f",
    "accents é ü, 中文, a camera 🎥",
    "line separators \u2028 \u2029",
    "</script><script>alert(1)</script>",
    "'; DROP TABLE audit_events; --",
    "",
)


def test_every_append_hashes_the_bytes_python_spells_and_the_chain_verifies(session: Session) -> None:
    start = dt.datetime(2026, 11, 29, 4, 0, 0, 123456, tzinfo=dt.UTC)
    for index, text in enumerate(HOSTILE):
        moment = start + dt.timedelta(seconds=index, microseconds=index)
        unit = Unit(session=session, actor=f"user:{text}@example.org", clock=lambda moment=moment: moment)
        details = {"note": text, text: [1, 2.5, None, True, {"nested": text}], "count": index}
        audit.record(unit, "matter.updated", "matter", text, matter_id=None, details=details)
        audit.record(unit, "matter.updated", "matter", index, matter_id=7 + index % 2, details={"why": text})
        session.commit()

    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    assert [event.seq for event in events] == list(range(1, 2 * len(HOSTILE) + 1))
    for event in events:
        spelled = audit.chain_entry(event).canonical_bytes()
        assert event.canonical.encode() == spelled, event.seq
        assert hashlib.sha256(spelled).hexdigest() == event.hash, event.seq
    matter_seqs = [(event.matter_id, event.matter_seq) for event in events if event.matter_id is not None]
    assert matter_seqs[:4] == [(7, 1), (8, 1), (7, 2), (8, 2)]
    report = audit.verify_chain(session)
    assert report.intact, report
    assert report.events == len(events)
    assert report.head_hash == events[-1].hash


def test_a_naive_time_is_refused_on_both_databases_and_nothing_is_written(session: Session) -> None:
    naive = dt.datetime(2026, 11, 29, 4, 0)  # noqa: DTZ001 (the point of the test)
    unit = Unit(session=session, actor="user:tester@example.org", clock=lambda: naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        audit.record(unit, "matter.updated", "matter", 1, matter_id=None, details={})
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0
