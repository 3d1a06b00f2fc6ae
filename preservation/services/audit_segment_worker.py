"""One segment of the chain walk, run in a process of its own beside the verifying one.

Started as `python -I -S -c ...` (see audit_walk.walk_log) with a JSON request on standard input:
{"database": path, "first": seq, "last": seq, "cut": seq or null, "marks": [seq, ...], "signed_heads":
{matter: [matter_seq, hash]} or null} (see audit_walk.WalkPlan). It opens the
SQLite file read-only, walks seq first..last with an open start and prints the SegmentResult as JSON.
It imports nothing beyond the standard library and the domain's chain walk, so it starts in milliseconds.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from preservation.domain.audit_chain import ChainWalk, CheckedRow
from preservation.domain.audit_segments import walk_segment

BATCH = 10_000
_ROWS = "SELECT seq, CAST(canonical AS BLOB), hash FROM audit_events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"


def rows(connection: sqlite3.Connection, first: int, last: int) -> Iterator[list[CheckedRow]]:
    """seq first..last in batches: seq, the stored bytes and the stored hash, as the walk reads them."""
    after = first - 1
    while after < last:
        batch = connection.execute(_ROWS, (after, last, BATCH)).fetchall()
        if not batch:
            return
        yield batch
        after = batch[-1][0]


def main() -> None:
    """Walk the segment asked for on standard input; print what was found."""
    request = json.load(sys.stdin)
    path = Path(request["database"])
    connection = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    try:
        connection.execute("BEGIN")  # one snapshot for the whole segment
        first, last = int(request["first"]), int(request["last"])
        walk = ChainWalk(first_seq=first, open_start=True)
        heads = request.get("signed_heads")
        result = walk_segment(
            rows(connection, first, last),
            walk=walk,
            cut=request["cut"],
            marks=request["marks"],
            signed_heads=None if heads is None else {int(m): (int(s), str(h)) for m, (s, h) in heads.items()},
        )
    finally:
        connection.close()
    json.dump(result.to_json(), sys.stdout)


if __name__ == "__main__":
    main()
