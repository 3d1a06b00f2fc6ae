"""The auditor's export: a zip, streamed chunk by chunk, that proves itself against a signed checkpoint.

Members, in order: checkpoint.txt (the latest signed checkpoint), verify.py (the stand-alone verifier),
events.jsonl (the chosen events), proof.jsonl (the events that tie a range to the checkpoint: the one
just before the range and every one after it up to the checkpoint's head), events.csv (derived from
events.jsonl) and manifest.json (range, filters, counts, each file's SHA-256, the public key).

A line of events.jsonl or proof.jsonl is {"event":E,"hash":H}\\n, where E is byte for byte the canonical
JSON the service hashed, copied from audit_events.canonical, so SHA-256(E) = H; the verifier slices E
out and hashes it, never re-encoding. events.csv is derived from the columns; if a column no longer
spells the stored bytes, the verifier's own derivation from events.jsonl differs and it says which row.

Entries are stored, not deflated: the export then runs at the speed of the database read (deflate would
triple its time); compress the file afterwards when size matters. Events are read in batches and written
as they come, so memory does not grow with the log; only events up to the checkpoint are exported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import IO, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from preservation.domain.audit_chain import format_timestamp
from preservation.domain.audit_csv import csv_header, csv_lines
from preservation.domain.checkpoints import Checkpoint, VerifierKey, parse_checkpoint
from preservation.models import AuditCheckpoint
from preservation.services.audit_lines import CsvSpool, jsonl_chunks, jsonl_text
from preservation.services.audit_rows import position_bounds, read_for_export

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


class _ZipStream:
    """The zip as it is written, handed out chunk by chunk, and each member's SHA-256, size and count."""

    def __init__(self, now: dt.datetime) -> None:
        self.sink = _Sink()
        self.archive = zipfile.ZipFile(self.sink, "w", compression=zipfile.ZIP_STORED)
        self.files: dict[str, dict[str, Any]] = {}
        self._stamp = now.astimezone(dt.UTC).timetuple()[:6]

    def entry(self, name: str) -> zipfile.ZipInfo:
        """A member's header: the export's time, readable by all."""
        info = zipfile.ZipInfo(name, date_time=self._stamp)
        info.external_attr = 0o644 << 16
        return info

    def add(self, name: str, data: bytes) -> None:
        """A small member written whole."""
        self.archive.writestr(self.entry(name), data)
        self.files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

    def member(
        self, name: str, pieces: Iterator[tuple[bytes, int]], *, digest: tuple[str, int] | None = None
    ) -> Iterator[bytes]:
        """A member written from (data, events) pieces, yielding the zip's bytes as they pile up.

        digest: the member's SHA-256 and size when they are known already (otherwise computed here).
        """
        hashed, size, count = hashlib.sha256(), 0, 0
        with self.archive.open(self.entry(name), "w", force_zip64=True) as handle:
            for data, events in pieces:
                handle.write(data)
                if digest is None:
                    hashed.update(data)
                size, count = size + len(data), count + events
                if self.sink.size >= CHUNK_BYTES:
                    yield self.sink.take()
        if digest is not None and digest[1] != size:
            raise RuntimeError(f"{name}: {size} bytes written where {digest[1]} were hashed")
        counted = "rows" if name.endswith(".csv") else "lines"
        sha256 = digest[0] if digest is not None else hashed.hexdigest()
        self.files[name] = {"sha256": sha256, "bytes": size, counted: count}


def stream_export(
    session: Session, checkpoint: AuditCheckpoint, wanted: ExportFilter, *, now: dt.datetime, with_csv: bool = True
) -> Iterator[bytes]:
    """The export zip, chunk by chunk.

    The chosen events are read once, in batches, for events.jsonl; events.csv is written beside them
    into a temporary file on disk and copied in after proof.jsonl. No batch is held longer than it is
    written, so memory does not grow with the log.
    """
    state = unverified_state(checkpoint)
    plan = plan_export(session, state, wanted)
    out = _ZipStream(now)
    with out.archive:
        out.add("checkpoint.txt", checkpoint.note.encode())
        out.add("verify.py", verifier_source())
        yield out.sink.take()
        bind = session.get_bind()
        if (
            isinstance(bind, Engine)
            and bind.dialect.name == "sqlite"
            and bind.url.database not in (None, "", ":memory:")
        ):
            yield from _events_spelled_by_sqlite(session, bind, out, plan, wanted.matter_id, with_csv=with_csv)
        else:
            yield from _events_spelled_in_python(session, out, plan, wanted.matter_id, with_csv=with_csv)
        manifest = _manifest(checkpoint, state=state, plan=plan, wanted=wanted, files=out.files, now=now)
        out.archive.writestr(out.entry("manifest.json"), manifest)
    yield out.sink.take()


def _events_spelled_by_sqlite(
    session: Session, engine: Engine, out: _ZipStream, plan: _Plan, matter_id: int | None, *, with_csv: bool
) -> Iterator[bytes]:
    """events.jsonl, proof.jsonl and events.csv spelled by SQLite; events.csv by a thread on a second connection
    (and a second CPU) while the other two are written, then copied in."""
    spool = (
        CsvSpool(engine, header=csv_header(), first=plan.first, last=plan.last, matter_id=matter_id)
        if with_csv
        else None
    )
    try:
        dbapi = session.connection().connection.dbapi_connection
        yield from out.member("events.jsonl", _jsonl_spelled(dbapi, [(plan.first, plan.last)], matter_id))
        yield from out.member("proof.jsonl", _jsonl_spelled(dbapi, plan.proof_ranges(), matter_id))
        if spool is not None:
            # Hashed as the thread wrote it, on the second CPU; only copied here.
            digest = spool.finish()
            yield from out.member("events.csv", _spooled(spool.file, spool.rows), digest=(digest, spool.size))
    finally:
        if spool is not None:
            spool.close()


def _events_spelled_in_python(
    session: Session, out: _ZipStream, plan: _Plan, matter_id: int | None, *, with_csv: bool
) -> Iterator[bytes]:
    """events.jsonl, proof.jsonl and events.csv spelled in Python from the rows, in one pass over the events."""
    with tempfile.TemporaryFile() as spool:
        spool.write(csv_header().encode())
        csv_rows = 0

        def selected() -> Iterator[tuple[bytes, int]]:
            nonlocal csv_rows
            for batch in _batches(session, [(plan.first, plan.last)], matter_id):
                if with_csv:
                    spool.write(csv_lines(batch).encode())
                    csv_rows += len(batch)
                yield jsonl_text(batch).encode(), len(batch)

        yield from out.member("events.jsonl", selected())
        proof = (
            (jsonl_text(batch).encode(), len(batch)) for batch in _batches(session, plan.proof_ranges(), matter_id)
        )
        yield from out.member("proof.jsonl", proof)
        if with_csv:
            spool.seek(0)
            yield from out.member("events.csv", _spooled(spool, csv_rows))


def _jsonl_spelled(dbapi: Any, ranges: list[tuple[int, int]], matter_id: int | None) -> Iterator[tuple[bytes, int]]:
    for first, last in ranges:
        if first <= last:
            yield from jsonl_chunks(dbapi, first=first, last=last, matter_id=matter_id)


def _batches(session: Session, ranges: list[tuple[int, int]], matter_id: int | None) -> Iterator[list[tuple[Any, ...]]]:
    for first, last in ranges:
        if first <= last:
            yield from read_for_export(session, first=first, last=last, matter_id=matter_id)


def _spooled(spool: IO[bytes], rows: int) -> Iterator[tuple[bytes, int]]:
    """The spooled CSV in chunks; the row count goes with the last one."""
    while chunk := spool.read(CHUNK_BYTES):
        yield chunk, 0
    yield b"", rows


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
