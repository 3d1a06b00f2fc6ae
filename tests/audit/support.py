"""Helpers of the audit trail tests: record a trail, rewrite it as a forger would, export it and run verify.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preservation.db import make_engine, make_session_factory
from preservation.domain.audit_chain import GENESIS_HASH, StoredEvent, canonical_json, event_text
from preservation.services import audit
from preservation.services.audit_rows import read_batches
from preservation.services.unit import Unit

KEY_NAME = "test.example/preservation"
# After the events the role users' fixtures record with the real clock, so time rises with seq as it does live.
START = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
# Text a spreadsheet would run as a formula; each must reach events.csv neutralised.
FORMULAS = ("=2+3", "+1", "-5", "@SUM(A1)", "\tcell", "\rcell")
MATTERS = (1, 2, 3, None)
# Every column of audit_events but seq, hash and canonical: generated from canonical (migration 0013).
GENERATED = (
    "occurred_at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "matter_id",
    "matter_seq",
    "details",
    "prev_hash",
    "matter_prev_hash",
)


def moment(minute: int) -> dt.datetime:
    """The time of the event recorded at a given minute of the test trail."""
    return START + dt.timedelta(minutes=minute)


@dataclass
class StoredTrail:
    """A recorded trail as stored."""

    database_url: str
    events: list[StoredEvent]

    def of_matter(self, matter: int) -> list[StoredEvent]:
        """One matter's events, in order."""
        return [event for event in self.events if event.matter_id == matter]


def record_trail(database_url: str, count: int, *, first_minute: int = 0) -> StoredTrail:
    """Append count events through the service, one a minute, cycling over matters 1, 2, 3 and none."""
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        for index in range(first_minute, first_minute + count):
            matter = MATTERS[index % len(MATTERS)]
            at = moment(index)
            unit = Unit(
                session=session,
                actor=FORMULAS[index % len(FORMULAS)] if index % 7 == 3 else "user:counsel@example.org",
                clock=lambda at=at: at,
            )
            audit.record(
                unit,
                "matter.updated" if matter else "user.created",
                "matter" if matter else "user",
                FORMULAS[index % len(FORMULAS)] if index % 5 == 0 else index,
                matter_id=matter,
                details={"note": f"event {index}", "formula": '=HYPERLINK("http://example.org")', "n": index},
            )
        session.commit()
    engine.dispose()
    return read_trail(database_url)


def read_trail(database_url: str) -> StoredTrail:
    """The trail as stored now."""
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        events = [event for batch in read_batches(session) for event in batch]
    engine.dispose()
    return StoredTrail(database_url, events)


def rechained(events: list[StoredEvent], seq: int, **change: Any) -> list[StoredEvent]:
    """The trail with one event changed and every later hash and link recomputed, as a careful forger would."""
    result: list[StoredEvent] = []
    previous, heads = GENESIS_HASH, {}
    for stored in events:
        event = stored._replace(**change) if stored.seq == seq else stored
        if event.seq >= seq:
            matter_previous = heads.get(event.matter_id, GENESIS_HASH) if event.matter_id else None
            event = event._replace(prev_hash=previous, matter_prev_hash=matter_previous)
            event = event._replace(hash=hashlib.sha256(event_text(event).encode()).hexdigest())
        previous = event.hash
        if event.matter_id:
            heads[event.matter_id] = event.hash
        result.append(event)
    return result


# The database generates every other column from canonical: a forger rewrites the bytes (and the hash, to match).
REWRITE = "UPDATE audit_events SET hash = :hash, canonical = :canonical WHERE seq = :seq"


def rewrite_params(events: list[StoredEvent], since_seq: int) -> list[dict[str, Any]]:
    """Parameters of REWRITE for every event from since_seq on: the stored bytes and hash of each, as given."""
    return [
        {"seq": event.seq, "hash": event.hash, "canonical": event_text(event)}
        for event in events
        if event.seq >= since_seq
    ]


def altered(event: StoredEvent, *, rehash: bool = False, **change: Any) -> dict[str, Any]:
    """Parameters of REWRITE for one event whose stored bytes say otherwise: its old hash kept, or with rehash its
    hash recomputed over the new bytes (a seq in change is one the bytes say; the row keeps its own)."""
    canonical = event_text(event._replace(**change))
    digest = hashlib.sha256(canonical.encode()).hexdigest() if rehash else event.hash
    return {"seq": event.seq, "hash": digest, "canonical": canonical}


# Exports and the stand-alone verifier -------------------------------------------------------------------


def extract(archive: Path | bytes, folder: Path) -> Path:
    """Unpack an export into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    source = archive if isinstance(archive, Path) else io.BytesIO(archive)
    with zipfile.ZipFile(source) as opened:
        opened.extractall(folder)
    return folder


def run_verifier(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """verify.py in a bare interpreter: isolated (-I) and without site-packages (-S), the standard library only."""
    return subprocess.run(  # noqa: S603 (our own interpreter and file)
        [sys.executable, "-I", "-S", "verify.py", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def lines(folder: Path, name: str = "events.jsonl") -> list[bytes]:
    """The lines of an exported file, newlines kept."""
    return (folder / name).read_bytes().splitlines(keepends=True)


def write_lines(folder: Path, content: list[bytes], name: str = "events.jsonl", *, fix_manifest: bool = True) -> None:
    """Replace an exported file; with fix_manifest, also its SHA-256 and line count, as a careful forger would."""
    data = b"".join(content)
    (folder / name).write_bytes(data)
    if fix_manifest:
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["files"][name]["sha256"] = hashlib.sha256(data).hexdigest()
        if "lines" in manifest["files"][name]:
            manifest["files"][name]["lines"] = len(content)
        (folder / "manifest.json").write_text(json.dumps(manifest))


def forged_line(event: dict[str, Any]) -> bytes:
    """An export line whose hash is right for its (forged) event."""
    exact = canonical_json(event)
    return f'{{"event":{exact},"hash":"{hashlib.sha256(exact.encode()).hexdigest()}"}}\n'.encode()


def parsed(line: bytes) -> dict[str, Any]:
    """The event of an export line."""
    event: dict[str, Any] = json.loads(line)["event"]
    return event
