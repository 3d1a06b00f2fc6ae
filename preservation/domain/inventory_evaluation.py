"""Judging the rows of an S3 Inventory report as object versions, streamed, with the same rules as a listing.

Rows are grouped by key as they come. S3 writes the versions of a key together, newest first, as a
listing does; a key split over two data files arrives as two groups, and a group without the current
version cannot know its first entry's successor nor how many newer noncurrent versions exist, so it is
judged as early as it could be destroyed: noncurrent since its own LastModified and never among the
newest kept (fail closed). How one version is judged, and why a million of them stay cheap, is
`inventory_judge`'s part; this module reads the rows, decodes each key once and hands the versions over.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from preservation.domain.inventory_judge import VersionJudge
from preservation.domain.s3_findings import VersionTallies

# Stands for "not among any rule's newest noncurrent versions".
_FAR_RANK = 1 << 30


class InventoryEvaluator(VersionJudge):
    """Feed it the rows of every data file of one report; `finish()` then returns the tallies."""

    def feed(self, rows: Iterable[list[str]]) -> None:  # noqa: PLR0912  (one flat loop: calls cost time per row)
        """Judge rows, grouping consecutive rows of the same key (a key is judged when the next one starts)."""
        key_column, latest, marker, modified_column = self._key, self._latest, self._marker, self._modified
        fresh, judge_group = self._fresh_judge_bound, self._group
        # A held version written once is only counted: tested here, without a call per row. Without a
        # hold to read, IsLatest stands in: it is "true" where this is read, never "ON".
        hold = self._hold if self._hold is not None and not self._lock_off else latest
        raw_prefixes, prefix, decode, folders = self._raw_prefixes, self._prefix, self._decode, self._folders
        ((low, high), *more_days) = self._stamp_bounds
        in_days = self._in_days
        held = 0
        stream = iter(rows)
        first = next(stream, None)
        if first is None:
            return
        current = first[key_column]
        group: list[list[str]] | None = None
        count = 1
        for count, row in enumerate(stream, 2):  # noqa: B007  (count is read after the loop)
            raw_key = row[key_column]
            if raw_key == current:
                if group is None:
                    group = [first]
                group.append(row)
                continue
            if group is not None:
                judge_group(group)
                group = None
            elif first[latest] != "true" or first[marker] == "true":
                judge_group([first])
            else:
                # The common case: a key written once. Out of scope or held, it is settled here.
                modified = first[modified_column]
                if low <= modified <= high or (more_days and in_days(modified[:10])):
                    if first[hold] == "ON":
                        if current.startswith(raw_prefixes) or decode(current).startswith(prefix):
                            held += 1
                    elif "%" in current or "+" in current:
                        # self._decode, inlined for its common case: a folder seen before, a name without escapes.
                        folder, slash, name = current.rpartition("%2F")
                        decoded_folder = folders.get(folder) if slash else None
                        if decoded_folder is None or "%" in name or "+" in name:
                            fresh(first, decode(current), modified)
                        else:
                            fresh(first, decoded_folder + "/" + name, modified)
                    else:
                        fresh(first, current, modified)
            first = row
            current = raw_key
        judge_group(group if group is not None else [first])
        self._tallies.in_scope += held
        self.rows += count

    def _group(self, rows: list[list[str]]) -> None:
        """All rows of one key (or of the part of it a data file holds): each version with its successor."""
        latest, marker, modified = self._latest, self._marker, self._modified
        judge, key = self._version_judge_bound, self._decode(rows[0][self._key])
        entries = rows
        for newer, older in itertools.pairwise(rows):
            if newer[modified] < older[modified] or (
                newer[modified] == older[modified] and newer[latest] != "true" and older[latest] == "true"
            ):
                # Not newest first (the order S3 writes): sorted, stably, as if it had been.
                entries = sorted(rows, key=lambda r: (r[modified], r[latest] == "true"), reverse=True)
                break
        complete = entries[0][latest] == "true"
        hidden = complete and entries[0][marker] == "true"
        rank = 0
        judged = False
        for position, row in enumerate(entries):
            if row[marker] == "true":
                continue
            if row[latest] == "true":
                judge(row, key, None, 0, False)
                continue
            if complete:
                judged = judge(row, key, entries[position - 1][modified], rank, hidden) or judged
            else:
                judge(row, key, row[modified], _FAR_RANK, False)
            rank += 1
        if hidden and judged:
            self._tallies.hidden_keys += 1

    def finish(self) -> VersionTallies:
        """Fold the counted outcomes into the tallies and return them."""
        return self.fold()
