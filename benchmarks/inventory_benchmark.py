"""Evaluating a 1,000,000-row S3 Inventory report against Python's csv module reading the same rows.

Generates a gzipped, headerless CSV report (URL-encoded keys; a mix of held, retained, unprotected,
noncurrent and deleted versions; an expiring lifecycle rule), then times, in the same run:

  baseline:  csv.reader over the decompressed rows, doing nothing with them
  evaluated: MD5 check, gunzip, csv, URL-decoding, and judging every row into findings

and prints the ratio of their CPU times, best of --repeat interleaved runs. The evaluation runs again in
a fresh process to report its peak memory (RSS). Target: ratio at most 2.5, peak at most 200 MB.

    python benchmarks/inventory_benchmark.py [--rows N]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote_plus

from preservation.domain.destruction import parse_lifecycle_rules
from preservation.domain.inventory import parse_manifest, read_rows
from preservation.domain.inventory_evaluation import InventoryEvaluator
from preservation.domain.s3_findings import version_findings
from preservation.domain.scope import DateRange

SCHEMA = (
    "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass, "
    "ObjectLockRetainUntilDate, ObjectLockMode, ObjectLockLegalHoldStatus"
)
RULES = [
    {
        "ID": "overwrite-loop",
        "Status": "Enabled",
        "Filter": {"Prefix": "recordings/"},
        "Expiration": {"Days": 30},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
    }
]
NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def generate(folder: Path, rows: int, seed: int = 7) -> tuple[Path, Path, bytes]:
    """The gzipped data file, the same rows decompressed, and manifest.json naming the data file."""
    rng = random.Random(seed)
    plain = folder / "data.csv"
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    written = 0
    number = 0
    with plain.open("w", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        while written < rows:
            number += 1
            site = f"site {number % 7}" if number % 5 == 0 else f"site-{number % 7}"
            key = quote_plus(f"recordings/{site}/cam-{number:08d}.mp4", safe="")
            versions = 1 if rng.random() < 0.9 else rng.randint(2, 3)
            deleted = rng.random() < 0.02
            moment = start + dt.timedelta(seconds=rng.randint(0, 330 * 86_400))
            entries = []
            for index in range(versions):
                entries.append((moment + dt.timedelta(hours=index), False))
            if deleted:
                entries.append((moment + dt.timedelta(hours=versions), True))
            entries.reverse()  # newest first, as S3 writes them
            for position, (when, marker) in enumerate(entries):
                if written == rows:
                    break
                roll = rng.random()
                hold, mode, retain = "OFF", "", ""
                if roll < 0.5:
                    hold = "ON"
                elif roll < 0.7:
                    mode, retain = "GOVERNANCE", _stamp(when + dt.timedelta(days=400))
                writer.writerow(
                    [
                        "poe-video",
                        key,
                        f"{number:016x}{position:016x}",
                        "true" if position == 0 else "false",
                        "true" if marker else "false",
                        "" if marker else str(rng.randint(1_000, 2_000_000_000)),
                        _stamp(when),
                        "" if marker else f"{rng.getrandbits(128):032x}",
                        "" if marker else "STANDARD",
                        "" if marker else retain,
                        "" if marker else mode,
                        "" if marker else hold,
                    ]
                )
                written += 1
    packed = folder / "data.csv.gz"
    with plain.open("rb") as source, gzip.open(packed, "wb", compresslevel=6) as target:
        while chunk := source.read(1 << 20):
            target.write(chunk)
    manifest = {
        "sourceBucket": "poe-video",
        "destinationBucket": "arn:aws:s3:::poe-inventory",
        "version": "2016-11-30",
        "creationTimestamp": str(int(NOW.timestamp() * 1000)),
        "fileFormat": "CSV",
        "fileSchema": SCHEMA,
        "files": [
            {
                "key": "inventory/poe-video/all-versions/data/data.csv.gz",
                "size": packed.stat().st_size,
                "MD5checksum": hashlib.md5(packed.read_bytes(), usedforsecurity=False).hexdigest(),
            }
        ],
    }
    return packed, plain, json.dumps(manifest).encode()


def baseline(plain: Path) -> int:
    """csv.reader over the decompressed rows."""
    count = 0
    with plain.open(newline="") as handle:
        for _row in csv.reader(handle):
            count += 1
    return count


def _chunks(path: Path) -> object:
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk


def evaluate(packed: Path, manifest_bytes: bytes) -> tuple[int, list[str]]:
    """Check, decompress, parse and judge every row; the rows read and the finding codes."""
    manifest = parse_manifest(manifest_bytes, hashlib.md5(manifest_bytes, usedforsecurity=False).hexdigest())
    evaluator = InventoryEvaluator(
        manifest,
        prefix="recordings/",
        scope=[DateRange(dt.date(2026, 1, 1), None)],
        now=NOW,
        rules=parse_lifecycle_rules(RULES),
        versioning="Enabled",
        object_lock="enabled",
    )
    for data_file in manifest.files:
        evaluator.feed(read_rows(_chunks(packed), data_file.md5))  # type: ignore[arg-type]
    findings = version_findings(evaluator.finish(), default_retention=None)
    return evaluator.rows, [f"{f.code} x{f.count}" for f in findings]


def _child(folder: str) -> None:
    path = Path(folder)
    rows, codes = evaluate(path / "data.csv.gz", (path / "manifest.json").read_bytes())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "codes": codes, "peak_mb": peak_mb}))


def _runs(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


def main() -> None:
    """Generate, time both, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; the best counts")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        _child(arguments.child)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        started = time.perf_counter()
        packed, plain, manifest_bytes = generate(path, arguments.rows)
        (path / "manifest.json").write_bytes(manifest_bytes)
        print(
            f"generated {arguments.rows:,} rows in {time.perf_counter() - started:.1f} s "
            f"({packed.stat().st_size / 1e6:.1f} MB gzipped, {plain.stat().st_size / 1e6:.1f} MB plain)"
        )
        csv_times, evaluated_times = [], []
        for _ in range(arguments.repeat):
            # CPU time of this process, best of the repeats: other work on the machine skews wall time.
            started = time.process_time()
            counted = baseline(plain)
            csv_times.append(time.process_time() - started)
            started = time.process_time()
            rows, codes = evaluate(packed, manifest_bytes)
            evaluated_times.append(time.process_time() - started)
        csv_seconds, evaluated_seconds = min(csv_times), min(evaluated_times)
        if not rows == counted == arguments.rows:
            raise SystemExit(f"row counts differ: evaluated {rows}, csv {counted}, generated {arguments.rows}")
        child = subprocess.run(  # noqa: S603  (this very script, with the same interpreter)
            [sys.executable, __file__, "--child", folder], capture_output=True, text=True, check=True
        )
        peak = json.loads(child.stdout)["peak_mb"]
    print(f"csv.reader over the decompressed rows: {csv_seconds:.2f} s CPU (runs: {_runs(csv_times)})")
    print(f"evaluating the gzipped report:         {evaluated_seconds:.2f} s CPU (runs: {_runs(evaluated_times)})")
    print(f"ratio: {evaluated_seconds / csv_seconds:.2f} (target <= 2.5)")
    print(f"peak memory of the evaluation (RSS, fresh process): {peak:.0f} MB (target <= 200)")
    print("findings: " + "; ".join(codes))


if __name__ == "__main__":
    main()
