"""The auditor's export: a zip, streamed chunk by chunk, that proves itself against a signed checkpoint.

Members, in order: checkpoint.txt (the latest signed checkpoint), verify.py (the stand-alone verifier),
events.jsonl (the chosen events), proof.jsonl (the events that tie a range to the checkpoint: the one
just before the range and every one after it up to the checkpoint's head), events.csv (derived from
events.jsonl) and manifest.json (range, filters, counts, each file's SHA-256, the public key).

A line of events.jsonl or proof.jsonl is {"event":E,"hash":H}\\n, where E is byte for byte the canonical
JSON the service hashed, so SHA-256(E) = H; the verifier slices E out and hashes it, never re-encoding.

Entries are stored, not deflated: the export then runs at the speed of the database read (deflate would
triple its time); compress the file afterwards when size matters. Events are read in batches and written
as they come, so memory does not grow with the log; only events up to the checkpoint are exported.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session

from preservation.domain.audit_chain import StoredEvent, event_text, format_timestamp
from preservation.domain.checkpoints import Checkpoint, VerifierKey, parse_checkpoint
from preservation.domain.export_verifier import CSV_COLUMNS, FORMULA_STARTS
from preservation.models import AuditCheckpoint
from preservation.services.audit_rows import position_bounds, read_batches

EXPORT_FORMAT = "preservation-tracker audit export 1"
LINE_FORMAT = (
    'each line of events.jsonl and proof.jsonl is {"event":E,"hash":H} and a newline; E is byte for byte '
    "the canonical JSON that was hashed, so SHA-256(E) = H"
)
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class ExportFilter:
    """Which events to export: one matter or all, and a time range [since, until)."""

    matter_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def neutralise(cell: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula: one starting with = + - @ tab or CR gets a '."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_row(event: StoredEvent) -> list[str]:
    """The events.csv row of an event (the verifier derives the same row from events.jsonl)."""
    cells = (
        str(event.seq),
        event.occurred_at,
        event.actor,
        event.action,
        event.subject_type,
        event.subject_id,
        "" if event.matter_id is None else str(event.matter_id),
        "" if event.matter_seq is None else str(event.matter_seq),
        event.details,
        event.prev_hash,
        event.matter_prev_hash or "",
        event.hash,
    )
    return [neutralise(cell) for cell in cells]


def export_line(event: StoredEvent) -> str:
    """One line of events.jsonl: the exact hashed JSON and the stored hash beside it."""
    return f'{{"event":{event_text(event)},"hash":{json.dumps(event.hash)}}}\n'


def verifier_source() -> bytes:
    """The stand-alone verifier, shipped as verify.py."""
    return resources.files("preservation.domain").joinpath("export_verifier.py").read_bytes()


def unverified_state(checkpoint: AuditCheckpoint) -> Checkpoint:
    """What a stored checkpoint says, read without checking its signature (the verifier does that)."""
    return parse_checkpoint(checkpoint.note.rpartition("\n\n")[0] + "\n")


class _Sink:
    """A write-only file for zipfile that hands out what was written so far, chunk by chunk."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered beyond what take() returns."""

    def close(self) -> None:
        """The caller keeps what it took."""

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.size = 0
        return data


@dataclass
class _Plan:
    """Positions (seq, or matter_seq for one matter) of the chosen events and of their proof."""

    end: int
    first: int
    last: int

    def proof_ranges(self) -> list[tuple[int, int]]:
        before = [(self.first - 1, self.first - 1)] if 1 < self.first <= self.end + 1 else []
        after_start = max(self.first, self.last + 1)
        return before + ([(after_start, self.end)] if after_start <= self.end else [])


def plan_export(session: Session, state: Checkpoint, wanted: ExportFilter) -> _Plan:
    """Which positions go to events.jsonl and which to proof.jsonl."""
    matter = wanted.matter_id
    end = state.tree_size if matter is None else state.matter_heads.get(matter, (0, ""))[0]
    first, last = position_bounds(session, end=end, matter_id=wanted.matter_id, since=wanted.since, until=wanted.until)
    return _Plan(end=end, first=first, last=last)


def stream_export(
    session: Session, checkpoint: AuditCheckpoint, wanted: ExportFilter, *, now: dt.datetime
) -> Iterator[bytes]:
    """The export zip, chunk by chunk."""
    state = unverified_state(checkpoint)
    plan = plan_export(session, state, wanted)
    stamp = now.astimezone(dt.UTC).timetuple()[:6]
    sink = _Sink()
    files: dict[str, dict[str, Any]] = {}

    def entry(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=stamp)
        info.external_attr = 0o644 << 16
        return info

    def small_file(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
        archive.writestr(entry(name), data)
        files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        small_file(archive, "checkpoint.txt", checkpoint.note.encode())
        small_file(archive, "verify.py", verifier_source())
        yield sink.take()
        selected = [(plan.first, plan.last)]
        for name, ranges, render, counted in (
            ("events.jsonl", selected, _jsonl, "lines"),
            ("proof.jsonl", plan.proof_ranges(), _jsonl, "lines"),
            ("events.csv", selected, _csv, "rows"),
        ):
            digest, size, count = hashlib.sha256(), 0, 0
            with archive.open(entry(name), "w", force_zip64=True) as member:
                for data, events in _rendered(session, ranges, wanted.matter_id, render, header=name == "events.csv"):
                    member.write(data)
                    digest.update(data)
                    size, count = size + len(data), count + events
                    if sink.size >= CHUNK_BYTES:
                        yield sink.take()
            files[name] = {"sha256": digest.hexdigest(), "bytes": size, counted: count}
        archive.writestr(
            entry("manifest.json"), _manifest(checkpoint, state=state, plan=plan, wanted=wanted, files=files, now=now)
        )
    yield sink.take()


def _rendered(
    session: Session,
    ranges: list[tuple[int, int]],
    matter_id: int | None,
    render: Callable[[list[StoredEvent]], bytes],
    *,
    header: bool,
) -> Iterator[tuple[bytes, int]]:
    """A member's bytes, a batch at a time, with how many events each piece holds."""
    if header:
        yield _csv_text([list(CSV_COLUMNS)]).encode(), 0
    for first, last in ranges:
        if first > last:
            continue
        for batch in read_batches(session, first=first, last=last, matter_id=matter_id):
            yield render(batch), len(batch)


def _jsonl(batch: list[StoredEvent]) -> bytes:
    return "".join(map(export_line, batch)).encode()


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _csv(batch: list[StoredEvent]) -> bytes:
    return _csv_text([csv_row(event) for event in batch]).encode()


def _timestamp(moment: dt.datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)


def _manifest(
    checkpoint: AuditCheckpoint,
    *,
    state: Checkpoint,
    plan: _Plan,
    wanted: ExportFilter,
    files: dict[str, dict[str, Any]],
    now: dt.datetime,
) -> bytes:
    key = VerifierKey.parse(checkpoint.public_key)
    document = {
        "format": EXPORT_FORMAT,
        "created_at": format_timestamp(now),
        "origin": state.origin,
        "chain": "log" if wanted.matter_id is None else "matter",
        "filters": {
            "matter_id": wanted.matter_id,
            "since": _timestamp(wanted.since),
            "until": _timestamp(wanted.until),
        },
        "checkpoint": {
            "file": "checkpoint.txt",
            "id": checkpoint.id,
            "tree_size": state.tree_size,
            "head_hash": state.head_hash,
            "time": state.time,
            "anchor_uri": checkpoint.anchor_uri,
        },
        "selection": {
            "position": "seq" if wanted.matter_id is None else "matter_seq",
            "first": plan.first,
            "last": plan.last,
            "chain_end": plan.end,
        },
        "line_format": LINE_FORMAT,
        "files": files,
        "public_key": str(key),
        "public_key_fingerprint": key.fingerprint,
        "verify": "python3 verify.py [EXPORT.zip or folder] [--public-key KEY]",
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
