"""events.csv, the export's spreadsheet view of events.jsonl, safe to open: no cell runs as a formula.

A cell that starts with = + - @, a tab or a carriage return is prefixed with an apostrophe (OWASP's
advice for CSV injection); the verifier derives the same cells from events.jsonl and compares.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from preservation.domain.audit_chain import StoredEvent
from preservation.domain.export_verifier import CSV_COLUMNS, FORMULA_STARTS

_FORMULA_FIRST = frozenset("".join(FORMULA_STARTS))


def neutralise(cell: str) -> str:
    """The cell with an apostrophe in front when a spreadsheet would run it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_cells(event: StoredEvent) -> list[str]:
    """The events.csv row of an event, neutralised."""
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


def csv_text(rows: Iterable[list[str]]) -> str:
    """Rows through the csv module (excel dialect, CRLF)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def csv_header() -> str:
    """The header line."""
    return csv_text([list(CSV_COLUMNS)])


def csv_lines(batch: Iterable[Sequence[Any]]) -> str:
    """The rows of a batch of events (StoredEvents, or tuples in their order, extra fields ignored), as the csv
    module writes them.

    The usual row (plain ids, hashes and names; details JSON that needs quoting) is written directly;
    any row holding a quote, comma or line break outside details, or a formula-like cell, goes through
    the csv module and neutralise.
    """
    lines = []
    for row in batch:
        (seq_, occurred_at, actor, action, subject_type, subject_id, matter_id, matter_seq_, details) = row[:9]
        prev_hash, matter_prev, stored_hash = row[9], row[10] or "", row[11]
        seq = str(seq_)
        matter = "" if matter_id is None else str(matter_id)
        matter_seq = "" if matter_seq_ is None else str(matter_seq_)
        others = "\x1f".join(
            (
                seq,
                occurred_at,
                actor,
                action,
                subject_type,
                subject_id,
                matter,
                matter_seq,
                prev_hash,
                matter_prev,
                stored_hash,
            )
        )
        if (
            others[:1] in _FORMULA_FIRST
            # In the cells other than details, joined by \x1f: anything CSV must quote, or a cell starting like
            # a formula (one of FORMULA_STARTS after \x1f). Substring tests chained with `or` are a fifth faster
            # than any(map(...)) and far faster than a regular expression.
            or '"' in others
            or "," in others
            or "\r" in others
            or "\n" in others
            or "\x1f=" in others
            or "\x1f+" in others
            or "\x1f-" in others
            or "\x1f@" in others
            or "\x1f\t" in others
            or "\x1f\r" in others
            or details[:1] in _FORMULA_FIRST
            or "\r" in details
            or "\n" in details
        ):
            lines.append(csv_text([csv_cells(StoredEvent._make(row[:12]))]))
            continue
        if '"' in details or "," in details:
            details = '"' + details.replace('"', '""') + '"'
        lines.append(
            f"{seq},{occurred_at},{actor},{action},{subject_type},{subject_id},"
            f"{matter},{matter_seq},{details},{prev_hash},{matter_prev},{stored_hash}\r\n"
        )
    return "".join(lines)
