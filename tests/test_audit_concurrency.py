"""Concurrent audit appends keep one linear chain: no lost event, no gap, no fork, on both databases.

Eight writer threads append 100 events each, every append in its own session and transaction, all
released at once by a barrier so they contend for the chain head from the first append. The lock in
`preservation.db.lock_audit_chain` (an advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) is
what keeps them in line; the UNIQUE backstops would turn a slipped race into an error, which fails here too.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from preservation.db import make_engine, make_session_factory
from preservation.domain.audit_chain import GENESIS_HASH, canonical_json
from preservation.models import AuditEvent
from preservation.services import audit
from preservation.services.unit import Unit

WRITERS = 8
APPENDS = 100
# Each append names one of these matters in turn (None: an event outside any matter), so every
# matter chain is extended by several writers at once.
MATTERS: tuple[int | None, ...] = (1, 2, 3, None)


def _matter_for(writer: int, n: int) -> int | None:
    return MATTERS[(writer + n) % len(MATTERS)]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine with a connection for every writer."""
    built = make_engine(database_url, pool_size=WRITERS)
    yield built
    built.dispose()


def _write(engine: Engine, writer: int, barrier: threading.Barrier, errors: list[BaseException]) -> None:
    factory = make_session_factory(engine)
    try:
        barrier.wait(timeout=60)
        for n in range(APPENDS):
            with factory() as session:
                unit = Unit(session=session, actor=f"writer:{writer}")
                audit.record(
                    unit,
                    "matter.updated",
                    "writer",
                    f"{writer}.{n}",
                    matter_id=_matter_for(writer, n),
                    details={"writer": writer, "n": n},
                )
                session.commit()
    except BaseException as error:  # any failure of any writer fails the test
        errors.append(error)
        barrier.abort()


def _run_writers(engine: Engine) -> None:
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_write, args=(engine, w, barrier, errors)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(thread.is_alive() for thread in threads), "a writer is still running"
    if errors:
        pytest.fail(f"{len(errors)} writer(s) failed; the first: {errors[0]!r}")


def test_eight_concurrent_writers_form_one_unbroken_chain(engine: Engine) -> None:
    _run_writers(engine)

    with Session(engine) as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        report = audit.verify_chain(session)

    total = WRITERS * APPENDS
    # No lost event: every (writer, n) is there exactly once.
    assert len(events) == total
    assert sorted(e.details for e in events) == sorted(
        canonical_json({"writer": w, "n": n}) for w in range(WRITERS) for n in range(APPENDS)
    )
    # No gap: seq runs 1..800.
    assert [e.seq for e in events] == list(range(1, total + 1))
    # No fork: each prev_hash names the event just before, so no two events share a parent.
    assert len({e.prev_hash for e in events}) == total
    assert [e.prev_hash for e in events] == [GENESIS_HASH] + [e.hash for e in events[:-1]]
    # Every event is hashed over what it holds, and the verifier agrees.
    assert all(audit.chain_entry(e).compute_hash() == e.hash for e in events)
    assert report.intact, report.problem
    assert report.events == total
    assert report.head_hash == events[-1].hash

    # Per matter: each chain got its share from every writer, and runs without gap or fork.
    per_matter: dict[int | None, list[AuditEvent]] = defaultdict(list)
    for event in events:
        per_matter[event.matter_id].append(event)
    share = total // len(MATTERS)
    assert {matter: len(chain) for matter, chain in per_matter.items()} == dict.fromkeys(MATTERS, share)
    for matter, chain in per_matter.items():
        assert {e.actor for e in chain} == {f"writer:{w}" for w in range(WRITERS)}
        if matter is None:
            assert all(e.matter_seq is None and e.matter_prev_hash is None for e in chain)
            continue
        assert [e.matter_seq for e in chain] == list(range(1, share + 1)), f"matter {matter}"
        assert [e.matter_prev_hash for e in chain] == [GENESIS_HASH] + [e.hash for e in chain[:-1]], f"matter {matter}"
