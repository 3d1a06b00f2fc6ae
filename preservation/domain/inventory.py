"""S3 Inventory reports: the manifest, the data files streamed row by row, and the rows as object versions.

A report is `manifest.json` (its MD5 in `manifest.checksum`) naming gzipped CSV data files without a
header row, each with the MD5 of the stored file; the column order is the manifest's `fileSchema`, and
keys are URL-encoded. Files are read as a stream: the MD5 is computed over the compressed bytes as
they pass, and a mismatch found at the end of a file fails the whole reading (InventoryError), so a
report that cannot be trusted never produces an answer.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import itertools
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote_plus

# Columns a report must have to stand in for a version listing plus a HEAD per version.
REQUIRED_COLUMNS = ("Key", "VersionId", "IsLatest", "IsDeleteMarker", "LastModifiedDate")
LOCK_COLUMNS = ("ObjectLockLegalHoldStatus", "ObjectLockRetainUntilDate", "ObjectLockMode")
# Decompressed bytes per block: rows of one block are held at once.
_BLOCK_BYTES = 1 << 18
_REPORT_FOLDER = re.compile(r"/(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z)/manifest\.json$")


class InventoryError(ValueError):
    """The report cannot be trusted or read: a checksum mismatch, a missing column, an unknown format."""


@dataclass(frozen=True)
class InventoryFile:
    """One data file of a report."""

    key: str
    md5: str
    size: int | None = None


@dataclass(frozen=True)
class InventoryManifest:
    """What manifest.json says about a report."""

    source_bucket: str
    destination_bucket: str
    created_at: dt.datetime
    columns: tuple[str, ...]
    files: tuple[InventoryFile, ...]

    def index(self, column: str) -> int | None:
        """The position of a column in every row, or None when the report leaves it out."""
        return self.columns.index(column) if column in self.columns else None


def report_prefix(destination_prefix: str, source_bucket: str, configuration_id: str) -> str:
    """Where the reports of one configuration are published in the destination bucket."""
    base = destination_prefix.strip("/")
    return f"{base + '/' if base else ''}{source_bucket}/{configuration_id}/"


def newest_manifest_key(keys: Iterable[str]) -> str | None:
    """The manifest.json of the newest report among listed keys (report folders sort by their UTC time)."""
    manifests = [(match.group(1), key) for key in keys if (match := _REPORT_FOLDER.search(key))]
    return max(manifests)[1] if manifests else None


def parse_manifest(raw: bytes, checksum: str | None) -> InventoryManifest:
    """Check manifest.json against manifest.checksum and read it; only CSV reports of all versions are used."""
    if checksum is not None and hashlib.md5(raw, usedforsecurity=False).hexdigest() != checksum.strip().lower():
        raise InventoryError("manifest.json does not match manifest.checksum")
    try:
        document = json.loads(raw)
        file_format = document["fileFormat"]
        columns = tuple(column.strip() for column in document["fileSchema"].split(","))
        files = tuple(
            InventoryFile(key=f["key"], md5=str(f["MD5checksum"]).lower(), size=f.get("size"))
            for f in document["files"]
        )
        created_at = dt.datetime.fromtimestamp(int(document["creationTimestamp"]) / 1000, tz=dt.UTC)
    except (ValueError, KeyError, TypeError) as error:
        raise InventoryError(f"manifest.json is not an inventory manifest: {error}") from None
    if file_format != "CSV":
        raise InventoryError(f"only CSV reports are read, this one is {file_format}")
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise InventoryError(f"the report lacks {', '.join(missing)}: configure it to include all object versions")
    return InventoryManifest(
        source_bucket=str(document.get("sourceBucket", "")),
        destination_bucket=str(document.get("destinationBucket", "")),
        created_at=created_at,
        columns=columns,
        files=files,
    )


def read_blocks(chunks: Iterable[bytes], expected_md5: str) -> Iterator[Iterable[list[str]]]:
    """The rows of one gzipped, headerless CSV data file, a decompressed block at a time, streamed.

    Each block is cut after its last line break: inventory fields never hold a line break (keys are
    URL-encoded). A block where no field holds a quote (as S3 writes them) is split at C speed, a row
    at a time; any other block goes line by line, through the csv module where a line is not that
    simple, so both give csv's fields. The MD5 covers the compressed bytes as they pass;
    InventoryError at the end when it differs from the manifest's, or when the gzip stream is cut short.
    """
    digest = hashlib.md5(usedforsecurity=False)
    unzip = zlib.decompressobj(wbits=31)
    decode = codecs.getincrementaldecoder("utf-8")().decode
    pending = ""
    for chunk in chunks:
        digest.update(chunk)
        data = unzip.decompress(chunk, _BLOCK_BYTES)
        while True:
            block, _, pending = (pending + decode(data)).rpartition("\n")
            if block:
                yield _split(block)
            if unzip.unconsumed_tail or len(data) == _BLOCK_BYTES:
                # The block was cut at its size: the rest of this chunk's output comes next.
                data = unzip.decompress(unzip.unconsumed_tail, _BLOCK_BYTES)
            elif unzip.eof and unzip.unused_data:
                # A file may hold several gzip members one after the other.
                rest = unzip.unused_data
                unzip = zlib.decompressobj(wbits=31)
                data = unzip.decompress(rest, _BLOCK_BYTES)
            else:
                break
    rest_text = pending + decode(unzip.flush(), final=True)
    if rest_text:
        yield _split(rest_text)
    if not unzip.eof:
        raise InventoryError("an inventory data file ends in the middle of its gzip stream")
    if digest.hexdigest() != expected_md5.lower():
        raise InventoryError("an inventory data file does not match the MD5 the manifest gives for it")


def _split(text: str) -> Iterable[list[str]]:
    """The rows of whole lines of text."""
    lines = text.count("\n") + 1
    # Lines end in "\n", or in "\r\n" as the csv module writes them (the block was cut before a "\n").
    crlf = text[-1] == "\r"
    end = '"\r\n"' if crlf else '"\n"'
    # Every line opens and closes with a quote, no '","' touches those, and every other quote belongs to
    # a '","' between two fields: no field holds a quote, so splitting is what csv would read.
    if (
        text[0] == '"'
        and text[-2 if crlf else -1] == '"'
        and 2 * text.count('","') == text.count('"') - 2 * lines
        and not text.startswith('","')
        and not text.endswith('","\r' if crlf else '","')
        and '","' + end[1:] not in text
        and end[:-1] + '","' not in text
    ):
        inner = (text[1:-2] if crlf else text[1:-1]).split(end)
        if len(inner) == lines:
            # The lines are strings and the rows are made one at a time: nothing for the garbage collector.
            return map(str.split, inner, itertools.repeat('","'))
    # Line by line, with the same test for each line.
    return (
        line[1:-1].split('","')
        if line[0] == '"'
        and line[-1] == '"'
        and line.count('"') == 2 * line.count('","') + 2
        and not line.startswith('","')
        and not line.endswith('","')
        else next(csv.reader([line]))
        for line in text.splitlines()
        if line
    )


def read_rows(chunks: Iterable[bytes], expected_md5: str) -> Iterator[list[str]]:
    """The rows of one data file, one by one (see read_blocks)."""
    return itertools.chain.from_iterable(read_blocks(chunks, expected_md5))


def decode_key(raw: str) -> str:
    """An inventory key as stored in S3 (reports URL-encode keys, spaces as '+')."""
    return unquote_plus(raw) if "%" in raw or "+" in raw else raw
