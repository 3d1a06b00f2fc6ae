"""The export's lines spelled by SQLite, a batch at a time, so that Python handles one string per batch.

events.jsonl and events.csv lines are the same bytes the Python spelling gives (jsonl_text,
domain.audit_csv.csv_lines; tests hold them equal), built in C by one aggregate query per batch of
10,000 events. Python's sqlite3 module releases the GIL while SQLite runs a statement, so building
events.csv this way on a second connection in a thread (CsvSpool) runs on a second CPU beside the
writing of events.jsonl, which needs the GIL only for a few calls per batch.

Each batch is checked before its text is used: the positions come back in order without a gap, one
line an event (a NULL where the application writes none would drop one), and no cell holds what CSV
must quote or a spreadsheet would run as a formula (details aside, which is quoted as the csv module
quotes it). A batch that fails a check, which only a hand in the database causes, is spelled by Python
from its rows instead.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import Engine

from preservation.db import READ_ONLY_OPTION
from preservation.domain.audit_chain import encode_string
from preservation.domain.audit_csv import csv_lines
from preservation.domain.export_verifier import FORMULA_STARTS

BATCH = 10_000
# The columns Python's spelling reads, in StoredEvent's order with the canonical JSON last (audit_rows._query).
_ROW_COLUMNS = (
    "seq, substr(occurred_at, 1, 10) || 'T' || substr(occurred_at, 12) || 'Z', actor, action, subject_type,"
    " subject_id, matter_id, matter_seq, details, prev_hash, matter_prev_hash, hash, canonical"
)
_JSONL_LINE = "'{\"event\":' || canonical || ',\"hash\":' || json_quote(hash) || '}' || char(10)"
# A CSV row is head || details || tail: the eight cells before details and the three after, each with its
# commas, and details quoted as the csv module quotes it. Concatenated, not printf'd: printf's %s stops at
# a NUL character, || keeps it. A NULL in a column that has none leaves the row out, which the count shows.
_CSV_HEAD = (
    "seq || ',' || substr(occurred_at, 1, 10) || 'T' || substr(occurred_at, 12) || 'Z,' || actor || ',' || action"
    " || ',' || subject_type || ',' || subject_id || ',' || coalesce(matter_id, '') || ','"
    " || coalesce(matter_seq, '') || ','"
)
_CSV_DETAILS = (
    "CASE WHEN instr(details, '\"') OR instr(details, ',') THEN '\"' || replace(details, '\"', '\"\"') || '\"'"
    " ELSE details END"
)
_CSV_TAIL = "',' || prev_hash || ',' || coalesce(matter_prev_hash, '') || ',' || hash || char(13, 10)"
# The first character of every cell, for Python to look for a cell that starts like a formula.
_CSV_FIRSTS = (
    "printf('" + "%!.1s" * 12 + "', seq, occurred_at, actor, action, subject_type, subject_id, matter_id,"
    " matter_seq, details, prev_hash, matter_prev_hash, hash)"
)
_CSV_ROW_COMMAS = 11
_FORMULA_FIRST = tuple(sorted(set("".join(FORMULA_STARTS))))


def _where(matter_id: int | None, last: int) -> tuple[str, str]:
    position = "seq" if matter_id is None else "matter_seq"
    scope = "" if matter_id is None else f" AND matter_id = {int(matter_id)}"
    return position, f"{position} > ? AND {position} <= {int(last)}{scope}"


def _rows_sql(matter_id: int | None, last: int) -> str:
    position, where = _where(matter_id, last)
    return f"SELECT {_ROW_COLUMNS} FROM audit_events WHERE {where} ORDER BY {position} LIMIT {BATCH}"  # noqa: S608


def _jsonl_sql(matter_id: int | None, last: int) -> str:
    """One batch: count, lines (a NULL column makes none), last position, the positions in order, the lines."""
    position, where = _where(matter_id, last)
    return (
        "SELECT count(*), count(line), max(pos), group_concat(pos), CAST(group_concat(line, '') AS BLOB) FROM"  # noqa: S608
        f" (SELECT {position} AS pos, {_JSONL_LINE} AS line FROM audit_events WHERE {where}"
        f" ORDER BY {position} LIMIT {BATCH})"
    )


def _csv_sql(matter_id: int | None, last: int) -> str:
    """One batch: count, rows a NULL column leaves out, last position, the positions in order, the rows, the
    rows without details, and the cells' first characters."""
    position, where = _where(matter_id, last)
    return (
        "SELECT count(*), sum(head IS NULL OR details IS NULL OR tail IS NULL), max(pos), group_concat(pos),"  # noqa: S608
        " CAST(group_concat(head || details || tail, '') AS BLOB), CAST(group_concat(head || tail, '') AS BLOB),"
        " group_concat(firsts, '') FROM"
        f" (SELECT {position} AS pos, {_CSV_HEAD} AS head, {_CSV_DETAILS} AS details, {_CSV_TAIL} AS tail,"
        f" {_CSV_FIRSTS} AS firsts FROM audit_events WHERE {where} ORDER BY {position} LIMIT {BATCH})"
    )


def _in_order(positions: str | None, after: int, count: int) -> bool:
    """Whether the positions of a batch, as group_concat gave them, run after + 1, after + 2, ... in order."""
    return positions == ",".join(map(str, range(after + 1, after + 1 + count)))


def jsonl_chunks(connection: Any, *, first: int, last: int, matter_id: int | None) -> Iterator[tuple[bytes, int]]:
    """events.jsonl (or proof.jsonl) lines for positions first..last, a batch at a time, with the count of each.

    connection is a DB-API sqlite3 connection, in the caller's transaction.
    """
    query = _jsonl_sql(matter_id, last)
    after = first - 1
    while after < last:
        count, lines, final, positions, text = connection.execute(query, (after,)).fetchone()
        if not count:
            return
        if lines != count or not _in_order(positions, after, count):
            rows = connection.execute(_rows_sql(matter_id, last), (after,)).fetchall()
            text = jsonl_text(rows).encode()
            final = rows[-1][0 if matter_id is None else 7]
        yield text, count
        after = final


def jsonl_text(rows: list[tuple[Any, ...]]) -> str:
    """The lines of rows in StoredEvent's order with the stored canonical JSON last, straight from the bytes."""
    quote = encode_string
    return "".join([f'{{"event":{row[12]},"hash":{quote(row[11])}}}\n' for row in rows])


def csv_chunks(connection: Any, *, first: int, last: int, matter_id: int | None) -> Iterator[tuple[bytes, int]]:
    """events.csv rows for positions first..last (no header), a batch at a time, with the count of each."""
    query = _csv_sql(matter_id, last)
    after = first - 1
    while after < last:
        count, missing, final, positions, text, bare, firsts = connection.execute(query, (after,)).fetchone()
        if not count:
            return
        if missing or not _csv_spelled_right(count, positions, after, text=text, bare=bare, firsts=firsts):
            rows = connection.execute(_rows_sql(matter_id, last), (after,)).fetchall()
            text = csv_lines(rows).encode()
            final = rows[-1][0 if matter_id is None else 7]
        yield text, count
        after = final


def _csv_spelled_right(
    count: int, positions: str | None, after: int, *, text: bytes | None, bare: bytes | None, firsts: str | None
) -> bool:
    """Whether SQLite's rows of a batch are the csv module's: in order, one a line, and no cell but details
    holding a quote, comma or line break (bare, the rows without details, has only the template's), none
    with a line break in details, and none starting like a formula. Counting is done in C, over the batch."""
    return (
        text is not None
        and bare is not None
        and firsts is not None
        and _in_order(positions, after, count)
        and bare.count(b",") == _CSV_ROW_COMMAS * count
        and b'"' not in bare
        and bare.count(b"\r") == count
        and bare.count(b"\n") == count
        and text.count(b"\r") == count
        and text.count(b"\n") == count
        and not any(start in firsts for start in _FORMULA_FIRST)
    )


class CsvSpool:
    """events.csv for positions first..last, written to a temporary file by a thread on its own connection.

    The thread reads in a transaction of its own; the events it reads lie at or below the checkpoint's
    head, which appends never change, so it sees what the export's own transaction sees. Its work is
    almost all inside SQLite, where the GIL is released, so it takes a second CPU, not the first's time.
    """

    def __init__(self, engine: Engine, *, header: str, first: int, last: int, matter_id: int | None) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self.rows = 0
        self.size = 0
        self._digest = hashlib.sha256()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._write(header.encode())
        self._thread = threading.Thread(
            target=self._run, args=(engine, first, last, matter_id), name="audit-export-csv", daemon=True
        )
        self._thread.start()

    def _write(self, data: bytes) -> None:
        self.file.write(data)
        self._digest.update(data)
        self.size += len(data)

    def _run(self, engine: Engine, first: int, last: int, matter_id: int | None) -> None:
        try:
            with engine.connect() as connection:
                # A reader: on SQLite it begins DEFERRED, holding nothing that writers wait for.
                connection.execution_options(**{READ_ONLY_OPTION: True})
                connection.exec_driver_sql("SELECT 1")  # begins the transaction
                dbapi = connection.connection.dbapi_connection
                for text, count in csv_chunks(dbapi, first=first, last=last, matter_id=matter_id):
                    if self._stop.is_set():
                        return
                    self._write(text)
                    self.rows += count
        except BaseException as error:  # handed to the caller of finish()
            self._error = error

    def finish(self) -> str:
        """Wait for the thread to write the whole file; its SHA-256. The file is left at its start."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        self.file.seek(0)
        return self._digest.hexdigest()

    def close(self) -> None:
        """Stop the thread (if it still runs) and drop the file."""
        self._stop.set()
        self._thread.join()
        self.file.close()
