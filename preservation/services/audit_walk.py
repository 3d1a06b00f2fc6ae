"""The chain walk over the stored log, split into segments walked side by side on a SQLite file.

Hashing is Python's work and holds the GIL for events this small, so a second thread gains nothing; a
second process does. On a SQLite file holding enough events for it to pay, the log is cut into as many
segments as there are CPUs to run them: this process walks the first, a worker process each other one
(services.audit_segment_worker, reading the file read-only), and the domain joins their verdicts into
the single walk's. A worker that fails is replaced by walking its segment here. Elsewhere (PostgreSQL,
an in-memory database, a small log, one CPU) the walk is a single segment in this process.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

import preservation
from preservation.domain.audit_chain import ChainWalk, CheckedRow
from preservation.domain.audit_segments import JoinedWalk, SegmentResult, join_segments, walk_segment
from preservation.services.audit_rows import read_checked

log = logging.getLogger(__name__)

# Below this many events a segment is not worth a process (starting one costs about 30 ms).
MIN_SEGMENT = 100_000
MAX_SEGMENTS = 8
_WORKER = (
    "import sys; sys.path.insert(0, sys.argv[1]); from preservation.services.audit_segment_worker import main; main()"
)


def available_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def plan_segments(size: int, segments: int) -> list[tuple[int, int]]:
    """seq 1..size cut into `segments` runs of nearly equal length (fewer if there are fewer events)."""
    count = max(1, min(segments, size))
    edges = [size * index // count for index in range(count + 1)]
    return [(edges[index] + 1, edges[index + 1]) for index in range(count)]


def _database_file(session: Session) -> Path | None:
    bind = session.get_bind()
    database = bind.engine.url.database if bind.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).resolve()


@dataclass(frozen=True)
class WalkPlan:
    """What every segment's walk is told: the signed tree size (or None), the positions whose hash is
    wanted, and the signed matter heads for the fast walk (None: every event checked in full)."""

    cut: int | None
    marks: list[int]
    signed_heads: dict[int, tuple[int, str]] | None = None

    def walk(self, batches: Iterable[list[CheckedRow]], walk: ChainWalk) -> SegmentResult:
        """One segment's walk under this plan."""
        return walk_segment(batches, walk=walk, cut=self.cut, marks=self.marks, signed_heads=self.signed_heads)


def walk_log(session: Session, size: int, plan: WalkPlan, *, segments: int | None = None) -> JoinedWalk:
    """Walk seq 1..size as one walk would, in segments where that pays; segments forces their number."""
    database = _database_file(session)
    if segments is None:
        segments = min(available_cpus(), size // MIN_SEGMENT, MAX_SEGMENTS)
    runs = plan_segments(size, segments if database is not None else 1)
    workers = [_start(database, first, last, plan) for first, last in runs[1:]] if database else []
    try:
        own = plan.walk(read_checked(session, first=1, last=runs[0][1]), ChainWalk())
        if own.problem is not None:
            # The first segment's problem comes before anything the others could find.
            return join_segments([own], cut=plan.cut, signed_heads=plan.signed_heads)
        results = [own]
        for (first, last), worker in zip(runs[1:], workers, strict=True):
            results.append(_collect(worker) or _walk_here(session, first, last, plan))
        return join_segments(results, cut=plan.cut, signed_heads=plan.signed_heads)
    finally:
        for worker in workers:
            if worker is not None and worker.returncode is None:
                # Not asked for its answer (an earlier segment found a problem, or this walk failed).
                worker.kill()
                worker.communicate()


def _walk_here(session: Session, first: int, last: int, plan: WalkPlan) -> SegmentResult:
    return plan.walk(read_checked(session, first=first, last=last), ChainWalk(first_seq=first, open_start=True))


def _start(database: Path, first: int, last: int, plan: WalkPlan) -> subprocess.Popen[bytes] | None:
    root = str(Path(preservation.__file__).resolve().parents[1])
    heads = plan.signed_heads
    request = {
        "database": str(database),
        "first": first,
        "last": last,
        "cut": plan.cut,
        "marks": plan.marks,
        "signed_heads": None if heads is None else {str(m): list(head) for m, head in heads.items()},
    }
    try:
        worker = subprocess.Popen(  # noqa: S603 (this interpreter, a fixed program)
            [sys.executable, "-I", "-S", "-c", _WORKER, root],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as error:
        log.warning("audit walk: no worker process for seq %d..%d (%s); walking it here", first, last, error)
        return None
    # The worker reads the whole request before it writes anything, so this cannot wait on its output.
    assert worker.stdin is not None  # noqa: S101 (stdin=PIPE above)
    try:
        worker.stdin.write(json.dumps(request).encode())
        worker.stdin.close()
    except OSError:
        pass  # it stopped before reading: its exit status says why, and the segment is walked here
    worker.stdin = None  # so that communicate() leaves it be
    return worker


def _collect(worker: subprocess.Popen[bytes] | None) -> SegmentResult | None:
    if worker is None:
        return None
    out, err = worker.communicate()
    if worker.returncode == 0:
        try:
            return SegmentResult.from_json(json.loads(out))
        except (ValueError, KeyError, TypeError, IndexError) as error:
            log.warning("audit walk: a worker's answer was unreadable (%s); walking its segment here", error)
            return None
    log.warning(
        "audit walk: a worker stopped with status %s (%s); walking its segment here",
        worker.returncode,
        err.decode(errors="replace").strip()[-500:],
    )
    return None
