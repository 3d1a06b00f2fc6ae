#!/usr/bin/env python3
"""Verify a preservation-tracker audit export without trusting the service that made it.

    python3 verify.py [EXPORT] [--public-key KEY]

EXPORT is the export's .zip or the folder it was extracted to (default: the folder holding this file).
KEY is the operator's published verifier key, NAME+KEYID+BASE64; without it the key in manifest.json is
used and its fingerprint printed, to be compared with the one the operator publishes.

Needs Python 3.9 or later and nothing outside its standard library. Checks, and names the file, line
and seq of every problem: the Ed25519 signature on checkpoint.txt (RFC 8032, implemented below); that
each event's exact bytes hash (SHA-256) to the hash beside them; that each event names the one before
it (seq and prev_hash, or matter_seq and matter_prev_hash for a one-matter export) with nothing missing,
added or reordered; that the chain ends exactly at the head the checkpoint signs; that events.jsonl
holds every event of the chosen range and proof.jsonl only events outside it; that events.csv is what
events.jsonl derives to; and each file's SHA-256 and line count against manifest.json.
Exit status: 0 verified, 1 a problem was found, 2 the export could not be read.

The service ships this file inside every export; it is also the module the service verifies with.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import heapq
import io
import json
import os
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

GENESIS_HASH = "0" * 64
CSV_COLUMNS = (
    *("seq", "occurred_at", "actor", "action", "subject_type", "subject_id"),
    *("matter_id", "matter_seq", "details", "prev_hash", "matter_prev_hash", "hash"),
)
EVENT_KEYS = frozenset(CSV_COLUMNS) - {"hash"}
# A spreadsheet runs a cell starting with one of these as a formula; exports prefix such cells with '.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LINE_PREFIX = b'{"event":'
LINE_SUFFIX_LENGTH = len(b',"hash":"') + 64 + len(b'"}')
HEX = frozenset("0123456789abcdef")

# Ed25519 signature verification, RFC 8032 section 5.1 ------------------------------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z


def _add(a: Point, b: Point) -> Point:
    """Point addition (RFC 8032 5.1.4); the formula is complete, so it also doubles."""
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    e1 = (y1 - x1) * (y2 - x2) % _P
    e2 = (y1 + x1) * (y2 + x2) % _P
    c = 2 * t1 * t2 * _D % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = e2 - e1, d - c, d + c, e2 + e1
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _multiply(scalar: int, point: Point) -> Point:
    result: Point = (0, 1, 1, 0)  # the neutral element
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _same_point(a: Point, b: Point) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _recover_x(y: int, sign: int) -> int | None:
    """x from y and the sign bit (RFC 8032 5.1.3), or None when no point has this y."""
    if y >= _P:
        return None
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    if (v * x * x - u) % _P != 0:
        if (v * x * x + u) % _P != 0:
            return None
        x = x * _SQRT_M1 % _P
    if x == 0 and sign:
        return None
    return _P - x if x & 1 != sign else x


def _decode_point(encoded: bytes) -> Point | None:
    number = int.from_bytes(encoded, "little")
    y = number & ((1 << 255) - 1)
    x = _recover_x(y, number >> 255)
    return None if x is None else (x, y, 1, x * y % _P)


_BASE_Y = 4 * pow(5, _P - 2, _P) % _P
_BASE: Point = (_recover_x(_BASE_Y, 0) or 0, _BASE_Y, 1, (_recover_x(_BASE_Y, 0) or 0) * _BASE_Y % _P)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when signature is a valid Ed25519 signature of message by public_key (RFC 8032 5.1.7)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a, r = _decode_point(public_key), _decode_point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % _L
    left, right = _multiply(s, _BASE), _add(r, _multiply(k, a))
    # The group equation with the cofactor 8, as RFC 8032 states it.
    return _same_point(_multiply(8, left), _multiply(8, right))


# Signed notes (C2SP signed-note) and checkpoints -------------------------------------------------------

SIGNATURE_DASH = "\u2014 "
ED25519_ALGORITHM = b"\x01"


class NoteError(ValueError):
    """A signed note or key that cannot be read or does not verify; the message says why."""


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key hash of the signed-note format: SHA-256(name, newline, algorithm byte, key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_ALGORITHM + public_key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """An Ed25519 public key with its signed-note name, as in NAME+KEYID+BASE64."""

    name: str
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Read NAME+KEYID+BASE64(0x01 || key)."""
        parts = text.strip().split("+", 2)  # base64 may itself hold '+'; names may not
        if len(parts) != 3:
            raise NoteError("a verifier key reads NAME+KEYID+BASE64")
        name, hex_id, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise NoteError("the verifier key's last part is not base64") from None
        if len(raw) != 33 or raw[:1] != ED25519_ALGORITHM:
            raise NoteError("the verifier key is not an Ed25519 key")
        key = cls(name, raw[1:])
        if key_id(name, key.public_key).hex() != hex_id:
            raise NoteError("the verifier key's id does not match its name and key")
        return key

    def __str__(self) -> str:
        encoded = base64.b64encode(ED25519_ALGORITHM + self.public_key).decode()
        return f"{self.name}+{key_id(self.name, self.public_key).hex()}+{encoded}"

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw public key, for comparing keys by eye."""
        return "sha256:" + hashlib.sha256(self.public_key).hexdigest()


def open_note(note: str, key: VerifierKey) -> str:
    """The signed text of a note, once a signature line by key verifies over it."""
    body, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteError("not a signed note: no blank line before the signature lines")
    body += "\n"
    wanted = key_id(key.name, key.public_key)
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_DASH):
            raise NoteError(f"malformed signature line {line!r}")
        name, _, encoded = line[len(SIGNATURE_DASH) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise NoteError("a signature line is not base64") from None
        if name == key.name and raw[:4] == wanted:
            if len(raw) == 68 and ed25519_verify(key.public_key, body.encode(), raw[4:]):
                return body
            raise NoteError(f"the signature by {key.name} does not verify: the note was altered or forged")
    raise NoteError(f"the note carries no signature by {key.name} ({wanted.hex()})")


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint signs: the log's size and head hash, its time, and every matter's head."""

    origin: str
    tree_size: int
    head_hash: str
    time: str
    matter_heads: dict[int, tuple[int, str]]


def _number(text: str) -> int:
    if not text.isdigit() or not text.isascii() or (text.startswith("0") and text != "0"):
        raise NoteError(f"{text!r} is not a decimal number")
    return int(text)


def _hash(text: str) -> str:
    if len(text) != 64 or not set(text) <= HEX:
        raise NoteError(f"{text!r} is not a SHA-256 hash in lowercase hex")
    return text


def parse_checkpoint(body: str) -> Checkpoint:
    """Read a checkpoint body: origin, size, head hash, `time T`, then `matter ID MATTER_SEQ HASH` lines."""
    lines = body.split("\n")
    if len(lines) < 5 or lines[-1] != "" or not lines[3].startswith("time "):
        raise NoteError("a checkpoint reads: origin, size, head hash, time, matter lines")
    heads: dict[int, tuple[int, str]] = {}
    for line in lines[4:-1]:
        words = line.split(" ")
        if len(words) != 4 or words[0] != "matter":
            raise NoteError(f"unexpected checkpoint line {line!r}")
        matter = _number(words[1])
        if heads and matter <= max(heads):
            raise NoteError("matter lines must be in increasing matter order")
        heads[matter] = (_number(words[2]), _hash(words[3]))
    return Checkpoint(lines[0], _number(lines[1]), _hash(lines[2]), lines[3][5:], heads)


# The export ------------------------------------------------------------------------------------------


class Problems:
    """Every problem found, each naming where it is; the first hundred are kept word for word."""

    KEEP = 100

    def __init__(self) -> None:
        self.found: list[str] = []
        self.count = 0

    def add(self, where: str, why: str) -> None:
        self.count += 1
        if len(self.found) < self.KEEP:
            self.found.append(f"{where}: {why}")


@dataclass
class Line:
    """One event line: where it is, the parsed event and the hash beside it."""

    file: str
    number: int
    event: dict[str, Any]
    hash: str
    selected: bool

    @property
    def where(self) -> str:
        return f"{self.file} line {self.number} (seq {self.event['seq']})"


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the one JSON spelling the service hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def csv_cells(event: dict[str, Any], event_hash: str) -> list[str]:
    """The events.csv row of an event: its fields as text, formula-like cells prefixed with '."""
    values = dict(event, details=canonical_json(event["details"]), hash=event_hash)
    cells = ["" if values[name] is None else str(values[name]) for name in CSV_COLUMNS]
    return ["'" + cell if cell.startswith(FORMULA_STARTS) else cell for cell in cells]


def _well_typed(event: Any) -> bool:
    if not isinstance(event, dict) or set(event) != EVENT_KEYS:
        return False
    numbers = (event["seq"], event["matter_id"], event["matter_seq"])
    texts = (event["occurred_at"], event["prev_hash"], event["actor"], event["action"])
    return (
        all(number is None or (isinstance(number, int) and not isinstance(number, bool)) for number in numbers)
        and isinstance(event["seq"], int)
        and all(isinstance(text, str) for text in texts)
        and (event["matter_id"] is None) == (event["matter_seq"] is None) == (event["matter_prev_hash"] is None)
    )


def read_lines(stream: IO[bytes], name: str, selected: bool, digest: Any, problems: Problems) -> Iterator[Line]:
    """The event lines of one file, each hash recomputed from the exact bytes; the file is hashed as it passes.

    A line is {"event":E,"hash":H}: E is byte for byte what the service hashed, so SHA-256(E) must be H.
    """
    for number, raw in enumerate(stream, 1):
        digest.update(raw)
        where = f"{name} line {number}"
        exact, suffix = raw[len(LINE_PREFIX) : -1 - LINE_SUFFIX_LENGTH], raw[-1 - LINE_SUFFIX_LENGTH : -1]
        stored = suffix[9:-2].decode("ascii", "replace")
        framed = raw.startswith(LINE_PREFIX) and raw.endswith(b'"}\n') and suffix.startswith(b',"hash":"')
        if not framed or len(stored) != 64 or not set(stored) <= HEX:
            problems.add(where, 'malformed line: not {"event":...,"hash":"<64 hex>"} and a newline')
            continue
        try:
            event = json.loads(exact.decode("utf-8"))
        except ValueError:
            problems.add(where, "the event is not valid UTF-8 JSON")
            continue
        if not _well_typed(event):
            problems.add(where, "the event does not have the fields of an audit event, each of its type")
            continue
        line = Line(name, number, event, stored, selected)
        if hashlib.sha256(exact).hexdigest() != stored:
            problems.add(line.where, "the event's bytes do not hash to the hash beside them: the event was altered")
        yield line


class _HashingReader(io.RawIOBase):
    """Reads through to a stream, feeding every byte to a digest."""

    def __init__(self, stream: IO[bytes], digest: Any) -> None:
        self._stream, self._digest = stream, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        self._digest.update(data)
        buffer[: len(data)] = data
        return len(data)


def check_csv(lines: Iterator[Line], stream: IO[bytes], digest: Any, problems: Problems) -> Iterator[Line]:
    """Pass events.jsonl's lines through, comparing each with the next row of events.csv."""
    text = io.TextIOWrapper(io.BufferedReader(_HashingReader(stream, digest)), encoding="utf-8", newline="")
    rows = csv.reader(text)
    try:
        if next(rows, None) != list(CSV_COLUMNS):
            problems.add("events.csv line 1", "the header is not the expected column names")
        for number, line in enumerate(lines, 2):
            if next(rows, None) != csv_cells(line.event, line.hash):
                problems.add(f"events.csv row {number}", f"differs from {line.where}")
            yield line
        if next(rows, None) is not None:
            problems.add("events.csv", "holds more rows than events.jsonl holds events")
        for _ in rows:
            pass  # the rest of the file is hashed too
    except (csv.Error, UnicodeDecodeError) as error:
        problems.add("events.csv", f"cannot be read as UTF-8 CSV: {error}")


class ChainCheck:
    """Follows the exported chain, in order, from its first event to the head the checkpoint signs.

    A whole-log export follows seq and prev_hash (and each matter's matter_seq and matter_prev_hash);
    a one-matter export follows matter_seq and matter_prev_hash. With a time range, proof.jsonl adds
    the event just before the range and every event after it up to the checkpoint, so the range is
    shown to be complete: occurred_at is taken under the lock that orders appends, so it rises with seq.
    """

    def __init__(self, filters: dict[str, Any], problems: Problems) -> None:
        self.matter: int | None = filters.get("matter_id")
        self.since: str | None = filters.get("since")
        self.until: str | None = filters.get("until")
        self.position, self.link = ("matter_seq", "matter_prev_hash") if self.matter else ("seq", "prev_hash")
        self.problems = problems
        self.last: Line | None = None
        self.from_start = False
        self.matter_heads: dict[int, tuple[int, str]] = {}
        self.counts = {"events.jsonl": 0, "proof.jsonl": 0}
        self.selected_seqs: list[int] = []

    def sort_key(self, line: Line) -> int:
        value = line.event[self.position]
        return value if isinstance(value, int) else -1

    def step(self, line: Line) -> None:
        event, where = line.event, line.where
        self.counts[line.file] += 1
        if line.selected:
            self.selected_seqs[1:] = [event["seq"]]
            if len(self.selected_seqs) == 1:
                self.selected_seqs.insert(0, event["seq"])
        if self.matter and event["matter_id"] != self.matter:
            self.problems.add(where, f"the event belongs to matter {event['matter_id']}, not matter {self.matter}")
        position = self.sort_key(line)
        if self.last is None:
            self.from_start = position == 1
            if position == 1 and event[self.link] != GENESIS_HASH:
                self.problems.add(where, f"the first event's {self.link} is not the genesis hash")
            elif position != 1 and (line.selected or self.since is None):
                self.problems.add(where, f"the chain starts at {self.position} {position}: earlier events are missing")
        else:
            expected = self.sort_key(self.last) + 1
            if position != expected:
                what = "missing or out of order" if position > expected else "duplicated or out of order"
                self.problems.add(where, f"expected {self.position} {expected}, found {position}: events are {what}")
            if event[self.link] != self.last.hash:
                self.problems.add(where, f"{self.link} is not the hash of the event before it: the chain is broken")
        if not self.matter:
            self._follow_matter(line)
        self._check_range(line)
        self.last = line

    def _follow_matter(self, line: Line) -> None:
        event = line.event
        matter = event["matter_id"]
        if matter is None:
            return
        if matter in self.matter_heads or self.from_start:
            last_seq, last_hash = self.matter_heads.get(matter, (0, GENESIS_HASH))
            if event["matter_seq"] != last_seq + 1 or event["matter_prev_hash"] != last_hash:
                why = f"matter {matter}: expected matter_seq {last_seq + 1} linked to that matter's previous event"
                self.problems.add(line.where, why)
        self.matter_heads[matter] = (event["matter_seq"], line.hash)

    def _check_range(self, line: Line) -> None:
        if self.since is None and self.until is None:
            return
        moment = line.event["occurred_at"]
        inside = (self.since is None or moment >= self.since) and (self.until is None or moment < self.until)
        if line.selected and not inside:
            self.problems.add(line.where, f"occurred_at {moment} lies outside the exported range")
        elif not line.selected and inside:
            why = f"occurred_at {moment} lies in the range, yet the event is not in events.jsonl"
            self.problems.add(line.where, why)
        if self.last is not None and moment < self.last.event["occurred_at"]:
            self.problems.add(line.where, "occurred_at goes back in time, so the range cannot be shown complete")

    def finish(self, checkpoint: Checkpoint) -> None:
        """The chain must end exactly at the checkpoint's head (the matter's head for a one-matter export)."""
        if self.matter:
            end, head = checkpoint.matter_heads.get(self.matter, (0, GENESIS_HASH))
        else:
            end, head = checkpoint.tree_size, checkpoint.head_hash
        if self.last is None:
            if end:
                why = f"holds no events, yet the checkpoint's chain runs to {self.position} {end}"
                self.problems.add("export", why)
            return
        reached = self.sort_key(self.last)
        if reached < end:
            why = f"missing tail: the chain stops at {self.position} {reached}, the checkpoint signs {end}"
            self.problems.add(f"after {self.last.where}", f"{why}: the last {end - reached} events are missing")
        elif reached > end:
            self.problems.add(self.last.where, f"the chain runs past the checkpoint's {self.position} {end}")
        else:
            if self.last.hash != head:
                why = "the head hash differs from the one the checkpoint signs: events were altered, hashes recomputed"
                self.problems.add(self.last.where, why)
            if not self.matter and self.from_start:
                for matter in sorted(set(self.matter_heads) | set(checkpoint.matter_heads)):
                    if self.matter_heads.get(matter) != checkpoint.matter_heads.get(matter):
                        self.problems.add(f"matter {matter}", "its head differs from the one the checkpoint signs")


class ExportFiles:
    """The files of an export, in a .zip or in the folder it was extracted to."""

    def __init__(self, path: str) -> None:
        self.archive = zipfile.ZipFile(path) if os.path.isfile(path) else None
        self.path = path

    def open(self, name: str) -> IO[bytes]:
        if self.archive is not None:
            return self.archive.open(name)
        return open(os.path.join(self.path, name), "rb")

    def read(self, name: str) -> bytes:
        with self.open(name) as stream:
            return stream.read()


def verify_export(files: ExportFiles, pinned: VerifierKey | None, out: IO[str]) -> bool:
    """Check everything an export claims; print what was checked and every problem; True when none."""
    problems = Problems()
    manifest = json.loads(files.read("manifest.json").decode("utf-8"))
    key = pinned or VerifierKey.parse(manifest["public_key"])
    how = "given with --public-key" if pinned else "from manifest.json: compare it with the one the operator publishes"
    out.write(f"key         {key.name} {key.fingerprint} ({how})\n")
    note = files.read("checkpoint.txt").decode("utf-8")
    try:
        checkpoint = parse_checkpoint(open_note(note, key))
    except NoteError as error:
        problems.add("checkpoint.txt", str(error))
        checkpoint = parse_checkpoint(note.rpartition("\n\n")[0] + "\n")
    out.write(f"checkpoint  {checkpoint.origin}: {checkpoint.tree_size} events, head {checkpoint.head_hash}")
    out.write(f", signed {checkpoint.time}\n")
    filters = manifest["filters"]
    check = ChainCheck(filters, problems)
    # events.csv is derived data, left out of exports made without it; events.jsonl is the evidence.
    with_csv = "events.csv" in manifest["files"]
    names = ("events.jsonl", "proof.jsonl", "events.csv") if with_csv else ("events.jsonl", "proof.jsonl")
    digests = {name: hashlib.sha256() for name in names}
    with files.open("events.jsonl") as events, files.open("proof.jsonl") as proof:
        selected = read_lines(events, "events.jsonl", True, digests["events.jsonl"], problems)
        context = read_lines(proof, "proof.jsonl", False, digests["proof.jsonl"], problems)
        table = files.open("events.csv") if with_csv else None
        try:
            if table is not None:
                selected = check_csv(selected, table, digests["events.csv"], problems)
            for line in heapq.merge(context, selected, key=check.sort_key):
                check.step(line)
        finally:
            if table is not None:
                table.close()
    check.finish(checkpoint)
    for name, digest in digests.items():
        if manifest["files"][name]["sha256"] != digest.hexdigest():
            problems.add(name, "its SHA-256 differs from the one in manifest.json")
        claimed = manifest["files"][name].get("lines")
        if name != "events.csv" and claimed != check.counts[name]:
            problems.add(name, f"holds {check.counts[name]} events, manifest.json says {claimed}")
    for name in ("checkpoint.txt", "verify.py"):
        if manifest["files"][name]["sha256"] != hashlib.sha256(files.read(name)).hexdigest():
            problems.add(name, "its SHA-256 differs from the one in manifest.json")
    scope = f"matter {check.matter}" if check.matter else "the whole log"
    window = f" from {filters.get('since') or 'the start'} until {filters.get('until') or 'the checkpoint'}"
    seqs = "seq {} to {}".format(*check.selected_seqs) if check.selected_seqs else "none"
    out.write(f"export      {scope}{window}: {check.counts['events.jsonl']} events ({seqs})")
    out.write(f", {check.counts['proof.jsonl']} proof events{'' if with_csv else ', no events.csv'}\n")
    if problems.count:
        out.write(f"FAILED: {problems.count} problem(s)\n")
        out.writelines(f"  - {problem}\n" for problem in problems.found)
        if problems.count > len(problems.found):
            out.write(f"  ... and {problems.count - len(problems.found)} more\n")
        return False
    out.write(f"VERIFIED: every event of {scope}{window} is present, unaltered and in order, up to the signed head\n")
    return True


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description="Verify a preservation-tracker audit export.")
    parser.add_argument("export", nargs="?", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--public-key", help="the operator's verifier key, NAME+KEYID+BASE64")
    arguments = parser.parse_args(argv)
    try:
        pinned = VerifierKey.parse(arguments.public_key) if arguments.public_key else None
        verified = verify_export(ExportFiles(arguments.export), pinned, sys.stdout)
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as error:
        sys.stdout.write(f"FAILED: the export cannot be read ({type(error).__name__}: {error})\n")
        return 2
    return 0 if verified else 1


if __name__ == "__main__":
    sys.exit(main())
