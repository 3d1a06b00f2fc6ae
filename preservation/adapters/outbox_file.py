"""The console transport's outbox file: where it lives, and its messages read back newest first for a page.

The console notifier appends one JSON object per line; this reads the file without loading it whole:
one pass records where each line starts, then only the lines of the page asked for are parsed.
"""

from __future__ import annotations

import datetime as dt
import json
from array import array
from dataclasses import dataclass
from pathlib import Path

OUTBOX_FILE_NAME = "outbox.jsonl"
# A message the file holds but that cannot be read back (a hand edit, a truncated disk) is listed as this.
UNREADABLE = "(this line of the outbox file is not a message)"


def outbox_file(instance_path: Path) -> Path:
    """The outbox file of an instance folder."""
    return instance_path / OUTBOX_FILE_NAME


@dataclass(frozen=True)
class OutboxMessage:
    """One message as the console transport recorded it."""

    at: dt.datetime | None
    to: str
    subject: str
    body: str
    key: str
    readable: bool = True


@dataclass(frozen=True)
class OutboxPage:
    """One page of messages, newest first, and where it sits in the whole file."""

    items: list[OutboxMessage]
    total: int
    page: int
    per_page: int


def read_outbox(path: Path, page: int, per_page: int) -> OutboxPage:
    """The page-th page of the file's messages, newest first; an absent file holds none."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return OutboxPage(items=[], total=0, page=page, per_page=per_page)
    with handle:
        starts = array("q")
        offset = 0
        for line in handle:
            # A last line without its newline is still being written by the transport: not a message yet.
            if line.endswith(b"\n") and line.strip():
                starts.append(offset)
            offset += len(line)
        total = len(starts)
        newest = total - 1 - (page - 1) * per_page
        items = []
        for index in range(newest, max(newest - per_page, -1), -1):
            handle.seek(starts[index])
            items.append(_message(handle.readline()))
    return OutboxPage(items=items, total=total, page=page, per_page=per_page)


def _message(line: bytes) -> OutboxMessage:
    try:
        record = json.loads(line.decode("utf-8", errors="replace"))
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return OutboxMessage(at=None, to="", subject=UNREADABLE, body="", key="", readable=False)
    return OutboxMessage(
        at=_moment(record.get("at")),
        to=str(record.get("to") or ""),
        subject=str(record.get("subject") or ""),
        body=str(record.get("body") or ""),
        key=str(record.get("key") or ""),
    )


def _moment(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
