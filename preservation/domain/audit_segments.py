"""Walking the hash chain in segments, apart (each on a CPU of its own), and joining the verdicts.

A segment is a run of seq walked by a ChainWalk of its own. All but the first begin with an open start:
the first event's prev_hash and each matter's first link are taken as they stand and reported, and the
join holds them against the heads the segment before reached. The join gives the problem the single
walk over the whole log would have reported first, and the heads it would have reached: at the end, and
at the position a checkpoint signed (which is compared before any problem that lies after it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from preservation.domain.audit_chain import BROKEN_LINK, GENESIS_HASH, SEQ_GAP, ChainProblem, ChainWalk, CheckedRow


@dataclass
class SegmentResult:
    """What one segment's walk found; plain values, so that it crosses a process boundary as JSON."""

    first_seq: int
    last_seq: int
    count: int
    head: str
    first_row: int = 0
    first_hash: str = ""
    entry_head: str | None = None
    # matter -> (the matter_seq before its first event here, the matter_prev_hash claimed, seq, hash)
    entries: dict[int, tuple[int, str, int, str]] = field(default_factory=dict)
    heads: dict[int, tuple[int, str]] = field(default_factory=dict)
    problem: tuple[int, str] | None = None
    # The hash at each position asked for, and the matter heads (this segment's own) at the cut.
    marks: dict[int, str] = field(default_factory=dict)
    heads_at_cut: dict[int, tuple[int, str]] | None = None

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready values."""
        return {
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "count": self.count,
            "head": self.head,
            "first_row": self.first_row,
            "first_hash": self.first_hash,
            "entry_head": self.entry_head,
            "entries": {str(m): list(v) for m, v in self.entries.items()},
            "heads": {str(m): list(v) for m, v in self.heads.items()},
            "problem": list(self.problem) if self.problem else None,
            "marks": {str(k): v for k, v in self.marks.items()},
            "heads_at_cut": None
            if self.heads_at_cut is None
            else {str(m): list(v) for m, v in self.heads_at_cut.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SegmentResult:
        """Read a result written by to_json."""
        cut = data["heads_at_cut"]
        return cls(
            first_seq=int(data["first_seq"]),
            last_seq=int(data["last_seq"]),
            count=int(data["count"]),
            head=str(data["head"]),
            first_row=int(data["first_row"]),
            first_hash=str(data["first_hash"]),
            entry_head=data["entry_head"],
            entries={int(m): (int(a), str(b), int(c), str(d)) for m, (a, b, c, d) in data["entries"].items()},
            heads={int(m): (int(a), str(b)) for m, (a, b) in data["heads"].items()},
            problem=(int(data["problem"][0]), str(data["problem"][1])) if data["problem"] else None,
            marks={int(k): str(v) for k, v in data["marks"].items()},
            heads_at_cut=None if cut is None else {int(m): (int(a), str(b)) for m, (a, b) in cut.items()},
        )


def walk_segment(
    batches: Iterable[list[CheckedRow]],
    *,
    walk: ChainWalk,
    cut: int | None,
    marks: Iterable[int] = (),
    signed_heads: dict[int, tuple[int, str]] | None = None,
) -> SegmentResult:
    """Walk one segment's rows (batches in seq order) with walk, which knows where the segment begins.

    cut: the tree size a valid checkpoint signs, whose heads the caller compares, or None; marks:
    positions whose hash is wanted. The walk stops at the first problem.

    signed_heads: the matter heads that checkpoint signs, for the fast walk: events up to the cut follow
    the global chain alone (ChainWalk.check_batch's `signed`), and the walk takes these heads at the cut
    for the events after it, each checked in full. Without them every event is checked in full and the
    matter heads reached at the cut are kept, for the caller to compare.
    """
    fast = signed_heads is not None and cut is not None
    wanted = set(marks) | ({cut} if cut is not None else set())
    result = SegmentResult(first_seq=walk.last_seq + 1, last_seq=walk.last_seq, count=0, head=walk.head)
    start_count = walk.count
    for batch in batches:
        if not batch:
            continue
        start = batch[0][0]
        split = cut - start + 1 if cut is not None else -1
        parts = [batch[:split], batch[split:]] if 0 < split <= len(batch) else [batch]
        for part in parts:
            if not part:
                continue
            if not result.first_row:
                result.first_row, result.first_hash = part[0][0], part[0][2]
            first = walk.check_batch(part, signed=fast and cut is not None and part[-1][0] <= cut)
            if first is not None:
                result.problem = (first.seq, first.reason)
                return _finish(result, walk, start_count)
            begin = part[0][0]
            result.marks.update({seq: part[seq - begin][2] for seq in wanted if begin <= seq <= part[-1][0]})
            if cut is not None and part[-1][0] == cut:
                if fast and signed_heads is not None:
                    # From here on the walk knows every matter's head: the signed ones.
                    walk.matter_heads = dict(signed_heads)
                    walk.open_start = False
                result.heads_at_cut = walk.matter_heads
    return _finish(result, walk, start_count)


def _finish(result: SegmentResult, walk: ChainWalk, start_count: int) -> SegmentResult:
    result.last_seq = walk.last_seq
    result.count = walk.count - start_count
    result.head = walk.head
    result.entry_head = walk.entry_head
    result.entries = dict(walk.entries)
    result.heads = walk.matter_heads
    return result


@dataclass(frozen=True)
class JoinedWalk:
    """The segments' verdict as one walk's: the first problem, where the walk stopped, the heads reached."""

    problem: ChainProblem | None
    count: int
    last_seq: int
    head: str
    matter_heads: dict[int, tuple[int, str]]
    marks: dict[int, str]
    # At the cut (None when the walk never reached it): the hash there and every matter's head.
    cut_head: str | None = None
    cut_heads: dict[int, tuple[int, str]] | None = None


def join_segments(
    results: list[SegmentResult], *, cut: int | None, signed_heads: dict[int, tuple[int, str]] | None = None
) -> JoinedWalk:
    """The single walk's verdict from consecutive segments' results (the first walked from the log's start).

    A problem found after the cut is only reported with the cut's heads, for the caller to compare first.
    signed_heads: the segments were walked fast (see walk_segment): up to the cut no matter heads were
    kept, and after it the walk goes on from these.
    """
    fast = signed_heads is not None and cut is not None
    count, last_seq, head = 0, 0, GENESIS_HASH
    heads: dict[int, tuple[int, str]] = {}
    known = not fast  # whether heads holds every matter's head where the join has got to
    marks: dict[int, str] = {}
    cut_head: str | None = None
    cut_heads: dict[int, tuple[int, str]] | None = None
    for result in results:
        if not result.first_row:
            continue  # nothing to read there: any gap shows at the next segment's first event
        # A fast segment that begins at or before the cut follows no matter chain there: nothing to join.
        signed_start = fast and cut is not None and result.first_row <= cut
        if fast and not signed_start and not known:
            heads, known = dict(signed_heads or {}), True
        candidates = _stitch_problems(result, head, None if signed_start else heads, count)
        gap = result.first_row != last_seq + 1
        if gap:
            # The rows before this segment's first ended early (or it begins late): the single walk meets
            # the gap here, expecting the seq after the last one it walked.
            candidates.append((result.first_row, -1, SEQ_GAP.format(last_seq + 1), count + 1, result.first_hash))
        if result.problem is not None and not (gap and result.problem[0] == result.first_row and _is_gap(result)):
            seq, reason = result.problem
            candidates.append((seq, 0, reason, count + result.count, result.head))
        marks.update(result.marks)
        if cut is not None and result.heads_at_cut is not None:
            cut_head = result.marks.get(cut)
            cut_heads = {**heads, **result.heads_at_cut}
        if candidates:
            seq, _rank, reason, stopped_count, stopped_head = min(candidates, key=lambda found: found[:2])
            return JoinedWalk(
                ChainProblem(seq, reason), stopped_count, seq, stopped_head, heads, marks, cut_head, cut_heads
            )
        count += result.count
        if result.count:
            last_seq, head = result.last_seq, result.head
        if not signed_start:
            heads.update(result.heads)
        elif result.heads_at_cut is not None:
            # It went past the cut from the signed heads: what it ended with is every matter's head.
            heads, known = dict(result.heads), True
    return JoinedWalk(None, count, last_seq, head, heads, marks, cut_head, cut_heads)


def _is_gap(result: SegmentResult) -> bool:
    return result.problem is not None and result.problem[1].startswith(SEQ_GAP.split("{", 1)[0])


def _stitch_problems(
    result: SegmentResult, head: str, heads: dict[int, tuple[int, str]] | None, count: int
) -> list[tuple[int, int, str, int, str]]:
    """Where a segment's open start does not meet the heads before it: (seq, rank, reason, count, head).
    heads None: the matter chains are not joined (a fast segment's signed part).

    Rank orders problems at one seq as the single walk lists them: the segment's own (a gap, a wrong hash)
    first, then a broken link, then a matter's link.
    """
    found: list[tuple[int, int, str, int, str]] = []
    if result.entry_head is not None and result.entry_head != head:
        found.append((result.first_row, 1, BROKEN_LINK, count + 1, result.first_hash))
    if heads is None:
        return found
    for matter, (before, claimed, seq, digest) in result.entries.items():
        last_seq, last_hash = heads.get(matter, (0, GENESIS_HASH))
        if before != last_seq:
            reason = f"matter {matter}: expected matter_seq {last_seq + 1}, found {before + 1}"
        elif claimed != last_hash:
            reason = f"matter {matter}: matter_prev_hash does not match that matter's previous event"
        else:
            continue
        found.append((seq, 2, reason, count + seq - result.first_row + 1, digest))
    return found
