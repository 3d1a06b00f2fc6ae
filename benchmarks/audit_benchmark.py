"""Audit trail benchmarks: export and verification of 1,000,000 events on SQLite; chained appends on PostgreSQL.

Prints, measured in one run on one machine:

  export   the auditor's export of N events vs `sqlite3 -csv` dumping the same table       target <= 3x
           (also without events.csv, which `audit export --no-csv` leaves out)
  verify   `audit verify` over N events vs hashing the same canonical bytes with hashlib   target <= 2x
  memory   peak RSS of export and of verify at N events vs N/10                           target <= 1.2x
  appends  chained appends vs plain inserts into audit_events, 8 writers, PostgreSQL      target >= 30%

Wall-clock time is the verdict. Beside it each ratio is also printed in CPU time (user + system), for
reference: from wait4() for the whole process where the wall ratio takes the whole process, from
time.process_time() inside the step (with its waited-for children's) where it takes the step's own
seconds. On a shared machine wall time stretches with other work's load, more for Python than for the
C baselines; CPU time moves far less.
The export runs a second thread on a second database connection (events.csv), and verify walks the log
in segments, one per CPU, the others in worker processes (services.audit_walk); their wall time gains
from a second CPU when one is free, and their CPU time counts every thread and process (verify's workers
as the measured process's waited-for children); the baselines use one CPU.

The hashlib baseline is taken two ways and both are printed: the canonical bytes read from the
export's events.jsonl and hashed (hashing alone), and the stored canonical bytes read from the database
with Python's sqlite3 module and hashed (verify's reading and hashing, without its checks). The
stand-alone verify.py is timed against the first. The export is held against two dumps: the whole
table (`SELECT *`, which has SQLite compute the columns generated from each event's bytes) and the
columns it stores (seq, hash, canonical), the stricter baseline. Data is seeded with bulk inserts, the
chain computed in Python, and kept in --data-dir between runs. Every measured step runs in a fresh
process; its peak RSS comes from wait4().
Needs the sqlite3 command-line shell (apt-get install sqlite3) and, for appends, the PostgreSQL server
named by PRESERVATION_TEST_POSTGRES_URL (as the tests and the load script read it; default
postgresql+psycopg://postgres@127.0.0.1:5432/test), where a database of its own is created and dropped.

    python benchmarks/audit_benchmark.py [--events 1000000] [--data-dir DIR] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import resource
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
import zipfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from preservation import migrate
from preservation.adapters.signing import generate_key_file, load_signer
from preservation.db import begin_read_only, make_engine, make_session_factory
from preservation.domain.audit_chain import GENESIS_HASH, ChainEntry, StoredEvent, event_text, format_timestamp
from preservation.domain.checkpoints import checkpoint_body, sign_note, verifier_key
from preservation.domain.vocabulary import AUDIT_ACTIONS

POSTGRES_URL = os.environ.get("PRESERVATION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ACTORS = ("user:counsel@example.org", "user:paralegal@example.org", "cli:seed-demo", "job:retention-check")
# The bytes and their hash: the database generates every other column from the bytes (migration 0013).
INSERT = "INSERT INTO audit_events (seq, hash, canonical) VALUES (?, ?, ?)"


# Seeding -------------------------------------------------------------------------------------------------


def seed(path: Path, count: int, key_path: Path) -> None:
    """A migrated SQLite file with count chained events over 200 matters (a fifth outside any) and a checkpoint."""
    if path.exists():
        with sqlite3.connect(path) as connection:
            if connection.execute("SELECT count(*) FROM audit_checkpoints").fetchone()[0] == 1:
                return
        path.unlink()
    migrate.upgrade(f"sqlite:///{path}")
    rng = random.Random(count)
    actions = sorted(AUDIT_ACTIONS)
    previous, heads = GENESIS_HASH, {}
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    rows: list[tuple[Any, ...]] = []
    started = time.perf_counter()
    for seq in range(1, count + 1):
        matter = rng.randint(1, 200) if rng.random() < 0.8 else None
        matter_seq, matter_previous = heads.get(matter, (0, GENESIS_HASH)) if matter else (None, None)
        at = START + dt.timedelta(milliseconds=250 * seq)
        action = rng.choice(actions)
        details = json.dumps(
            {"field": "status", "from": "open", "to": "in_progress", "note": f"checked by custodian {seq % 977}"},
            sort_keys=True,
            separators=(",", ":"),
        )
        event = StoredEvent(
            seq,
            at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            rng.choice(ACTORS),
            action,
            action.split(".")[0],
            str(rng.randint(1, 50_000)),
            matter,
            None if matter_seq is None else matter_seq + 1,
            details,
            previous,
            matter_previous,
            "",
        )
        canonical = event_text(event)
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        rows.append((seq, digest, canonical))
        previous = digest
        if matter:
            heads[matter] = ((matter_seq or 0) + 1, digest)
        if len(rows) == 50_000:
            connection.executemany(INSERT, rows)
            rows.clear()
    connection.executemany(INSERT, rows)
    signer = load_signer(key_path)
    note = sign_note(checkpoint_body(signer.name, count, previous, "2026-11-28T00:00:00.000000Z", heads), signer)
    connection.execute(
        "INSERT INTO audit_checkpoints (created_at, tree_size, head_hash, public_key, note) VALUES (?, ?, ?, ?, ?)",
        ("2026-11-28 00:00:00.000000", count, previous, str(verifier_key(signer)), note),
    )
    connection.commit()
    connection.execute("VACUUM")
    connection.close()
    print(f"  seeded {count:,} events in {time.perf_counter() - started:.1f} s: {path}", flush=True)


# The measured steps, each run in its own process ----------------------------------------------------------


def child(step: str, source: str, target: str) -> None:
    """One measured step; prints the seconds (and CPU seconds) it took, excluding interpreter start-up and imports."""
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    if step in {"export", "export-nocsv"}:
        from preservation.services import checkpoints  # noqa: PLC0415 (imported inside the measured process)
        from preservation.services.audit_export import ExportFilter, stream_export  # noqa: PLC0415

        engine = make_engine(source)
        with make_session_factory(engine)() as session, open(target, "wb") as handle:
            begin_read_only(session)
            checkpoint = checkpoints.latest_checkpoint(session)
            if checkpoint is None:
                raise RuntimeError("the benchmark database has no checkpoint")
            with_csv = step == "export"
            for chunk in stream_export(session, checkpoint, ExportFilter(), now=START, with_csv=with_csv):
                handle.write(chunk)
    elif step == "verify":
        from preservation.domain.checkpoints import VerifierKey  # noqa: PLC0415
        from preservation.services.checkpoints import verify_log  # noqa: PLC0415

        engine = make_engine(source)
        with make_session_factory(engine)() as session:
            begin_read_only(session)
            verdict = verify_log(session, VerifierKey.parse(target))
        if not verdict.intact:
            raise RuntimeError(f"the benchmark log does not verify: {verdict.problem}")
    elif step == "hash-db":
        # The stored canonical bytes read from the database in the same batches and hashed, nothing checked.
        sha256 = hashlib.sha256
        connection = sqlite3.connect(source.removeprefix("sqlite:///"))
        after = 0
        while rows := connection.execute(
            "SELECT seq, CAST(canonical AS BLOB) FROM audit_events WHERE seq > ? ORDER BY seq LIMIT 10000", (after,)
        ).fetchall():
            for _seq, canonical in rows:
                sha256(canonical).hexdigest()
            after = rows[-1][0]
    elif step == "hash-jsonl":
        sha256 = hashlib.sha256
        with open(source, "rb") as lines:
            for line in lines:
                # The exact canonical bytes: {"event": ... ,"hash":"<64 hex>"}\n
                sha256(line[9:-76]).hexdigest()
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu": _cpu_seconds() - cpu_started}))


def _cpu_seconds() -> float:
    """This process's CPU seconds and those of its children it has waited for (verify's segment workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def measure(command: list[str]) -> tuple[float, float, int, float, float]:
    """Wall seconds, the seconds the step reported (or wall), the process's peak RSS in MB, its CPU seconds,
    and the CPU seconds the step reported (or the process's)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    out = process.stdout.read().decode() if process.stdout else ""
    err = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[:4]} failed: {out[-2000:]} {err[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    try:
        figures = json.loads(out.strip().splitlines()[-1])
        reported, reported_cpu = float(figures["seconds"]), float(figures["cpu"])
    except (ValueError, IndexError, KeyError):
        reported, reported_cpu = wall, cpu
    return wall, reported, usage.ru_maxrss // 1024, cpu, reported_cpu


def step_command(step: str, source: str, target: str) -> list[str]:
    return [sys.executable, __file__, "--child", step, source, target]


# The columns the table stores; `SELECT *` also has SQLite compute the generated ones from canonical.
COLUMNS = "seq, hash, canonical"


def sqlite_dump(path: Path, out: Path, columns: str = "*") -> tuple[float, float]:
    """Wall seconds and CPU seconds of `sqlite3 -csv` writing the table (or the columns given) to out."""
    started = time.perf_counter()
    with out.open("wb") as handle:
        process = subprocess.Popen(  # noqa: S603
            ["sqlite3", "-csv", str(path), f"SELECT {columns} FROM audit_events"],  # noqa: S607, S608 (constant columns)
            stdout=handle,
        )
        _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"sqlite3 -csv {path} failed")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


# Appends on PostgreSQL ------------------------------------------------------------------------------------


def appender(url: str, chained: bool, writer: int, count: int, start_at: float) -> tuple[int, float]:
    """One writer: count appends, each its own transaction, from start_at; (appends, finish time)."""
    from preservation.models import AuditEvent  # noqa: PLC0415
    from preservation.services import audit  # noqa: PLC0415
    from preservation.services.unit import Unit  # noqa: PLC0415

    engine = make_engine(url, pool_size=1)
    factory = make_session_factory(engine)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    time.sleep(max(0.0, start_at - time.time()))
    for index in range(count):
        with factory() as session:
            if chained:
                unit = Unit(session=session, actor="user:bench@example.org")
                audit.record(unit, "matter.updated", "matter", index, matter_id=writer + 1, details={"i": index})
            else:
                # The same row a chained append writes (its bytes, their hash, the columns the database
                # generates from them), without the chain: no lock, no heads, links that are random.
                entry = ChainEntry(
                    seq=10_000_000 * (writer + 1) + index,
                    occurred_at=format_timestamp(dt.datetime.now(dt.UTC)),
                    actor="user:bench@example.org",
                    action="matter.updated",
                    subject_type="matter",
                    subject_id=str(index),
                    matter_id=1000 + writer,  # matters of their own: the chained run used 1 to 8
                    matter_seq=index + 1,
                    details=json.dumps({"i": index}),
                    prev_hash=secrets.token_hex(32),
                    matter_prev_hash=secrets.token_hex(32),
                )
                canonical = entry.canonical_bytes()
                digest = hashlib.sha256(canonical).hexdigest()
                session.add(AuditEvent(seq=entry.seq, hash=digest, canonical=canonical.decode()))
            session.commit()
    engine.dispose()
    return count, time.time()


def append_throughput(url: str, chained: bool, writers: int, per_writer: int) -> float:
    """Appends per second with writers concurrent processes."""
    start_at = time.time() + 3.0
    with ProcessPoolExecutor(max_workers=writers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(appender, url, chained, w, per_writer, start_at) for w in range(writers)]
        results = [future.result() for future in futures]
    total = sum(count for count, _ in results)
    return total / (max(finished for _, finished in results) - start_at)


def postgres_appends(writers: int, per_writer: int) -> tuple[float, float]:
    admin_url = make_url(POSTGRES_URL)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"audit_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        chained = append_throughput(url, True, writers, per_writer)
        plain = append_throughput(url, False, writers, per_writer)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return chained, plain


# The run ------------------------------------------------------------------------------------------------


def verdict(ratio: float, target: float, *, at_most: bool = True) -> str:
    return "meets" if (ratio <= target if at_most else ratio >= target) else "MISSES"


def measure_sqlite(folder: Path, count: int, key: Path, public: str) -> dict[str, Any]:
    """Seed (once) and measure one log size; prints a line of figures."""
    database = folder / f"audit-{count}.db"
    seed(database, count, key)
    url = f"sqlite:///{database}"
    export = folder / f"export-{count}.zip"
    dumps = [sqlite_dump(database, folder / f"dump-{count}.csv")]
    got: dict[str, Any] = {"export": measure(step_command("export", url, str(export)))}
    got["export_nocsv"] = measure(step_command("export-nocsv", url, str(folder / f"export-nocsv-{count}.zip")))
    dumps.append(sqlite_dump(database, folder / f"dump-{count}.csv"))
    columns = [sqlite_dump(database, folder / f"dump-{count}.csv", COLUMNS) for _ in range(2)]
    # The faster of the runs, in wall time and (separately) in CPU time.
    got["dump"], got["dump_cpu"] = min(wall for wall, _ in dumps), min(cpu for _, cpu in dumps)
    got["dump_columns"], got["dump_columns_cpu"] = min(wall for wall, _ in columns), min(cpu for _, cpu in columns)
    unpacked = folder / f"export-{count}"
    shutil.rmtree(unpacked, ignore_errors=True)
    with zipfile.ZipFile(export) as archive:
        archive.extractall(unpacked)
    got["verify"] = measure(step_command("verify", url, public))
    got["hash_jsonl"] = measure(step_command("hash-jsonl", str(unpacked / "events.jsonl"), "-"))
    got["hash_db"] = measure(step_command("hash-db", url, "-"))
    got["verify_py"] = measure([sys.executable, "-I", "-S", str(unpacked / "verify.py"), str(unpacked)])
    got["export_mb"] = export.stat().st_size / 1e6
    print(
        f"  {count:>9,} events: sqlite3 -csv {got['dump']:.2f} s (the stored columns alone "
        f"{got['dump_columns']:.2f} s); export {got['export'][0]:.2f} s "
        f"({got['export'][1]:.2f} s in-process, {got['export_mb']:.0f} MB, peak RSS {got['export'][2]} MB); "
        f"export without events.csv {got['export_nocsv'][0]:.2f} s (peak RSS {got['export_nocsv'][2]} MB); "
        f"verify {got['verify'][1]:.2f} s (peak RSS {got['verify'][2]} MB); hashlib over events.jsonl "
        f"{got['hash_jsonl'][1]:.2f} s; hashlib over the stored bytes read from SQLite {got['hash_db'][1]:.2f} s; "
        f"verify.py {got['verify_py'][0]:.2f} s",
        flush=True,
    )
    print(
        f"  {count:>9,} events, CPU seconds: sqlite3 -csv {got['dump_cpu']:.2f} (columns "
        f"{got['dump_columns_cpu']:.2f}); export {got['export'][3]:.2f} (whole process); export without "
        f"events.csv {got['export_nocsv'][3]:.2f}; verify {got['verify'][4]:.2f} (in-process, as the others "
        f"below); hashlib over events.jsonl {got['hash_jsonl'][4]:.2f}; hashlib over the stored bytes "
        f"{got['hash_db'][4]:.2f}; "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/audit-benchmark"))  # noqa: S108
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--appends", type=int, default=300, help="appends per writer")
    parser.add_argument("--child", nargs=3, metavar=("STEP", "SOURCE", "TARGET"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(*arguments.child)
        return
    if shutil.which("sqlite3") is None:
        sys.exit("needs the sqlite3 command-line shell: apt-get install sqlite3")
    folder: Path = arguments.data_dir
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / "bench.key"
    if not key.exists():
        generate_key_file(key, "bench.example/preservation")
    public = str(verifier_key(load_signer(key)))
    large, small = arguments.events, arguments.events // 10
    version = sqlite3.connect(":memory:").execute("SELECT sqlite_version()").fetchone()[0]
    print(f"audit benchmark: Python {sys.version.split()[0]}, SQLite {version}, {os.cpu_count()} CPUs")
    little = measure_sqlite(folder, small, key, public)
    big = measure_sqlite(folder, large, key, public)
    rows = [
        ("export / sqlite3 -csv (whole process)", big["export"][0] / big["dump"], 3.0, True),
        ("export / sqlite3 -csv (export alone)", big["export"][1] / big["dump"], 3.0, True),
        ("export / sqlite3 -csv of the stored columns", big["export"][0] / big["dump_columns"], 3.0, True),
        ("export without events.csv / sqlite3 -csv", big["export_nocsv"][0] / big["dump"], 3.0, True),
        ("export without events.csv / the stored columns", big["export_nocsv"][0] / big["dump_columns"], 3.0, True),
        ("verify / hashlib over bytes from events.jsonl", big["verify"][1] / big["hash_jsonl"][1], 2.0, True),
        ("verify / hashlib over stored bytes read from SQLite", big["verify"][1] / big["hash_db"][1], 2.0, True),
        ("verify.py / hashlib over bytes from events.jsonl", big["verify_py"][0] / big["hash_jsonl"][1], 2.0, True),
        (f"export peak RSS {large:,} / {small:,}", big["export"][2] / little["export"][2], 1.2, True),
        (f"verify peak RSS {large:,} / {small:,}", big["verify"][2] / little["verify"][2], 1.2, True),
    ]
    cpu_rows = [
        ("export / sqlite3 -csv", big["export"][3] / big["dump_cpu"]),
        ("export / sqlite3 -csv of the stored columns", big["export"][3] / big["dump_columns_cpu"]),
        ("export without events.csv / sqlite3 -csv", big["export_nocsv"][3] / big["dump_cpu"]),
        ("export without events.csv / the stored columns", big["export_nocsv"][3] / big["dump_columns_cpu"]),
        ("verify / hashlib over bytes from events.jsonl", big["verify"][4] / big["hash_jsonl"][4]),
        ("verify / hashlib over stored bytes read from SQLite", big["verify"][4] / big["hash_db"][4]),
    ]
    if not arguments.skip_postgres:
        chained, plain = postgres_appends(arguments.writers, arguments.appends)
        writers = arguments.writers
        print(f"  PostgreSQL, {writers} writers: chained {chained:.0f} appends/s, plain {plain:.0f} inserts/s")
        rows.append(("chained appends / plain inserts", chained / plain, 0.30, False))
    print("ratios (target):")
    for label, ratio, target, at_most in rows:
        sign = "<=" if at_most else ">="
        print(f"  {label:<50} {ratio:6.2f}  ({sign} {target})  {verdict(ratio, target, at_most=at_most)}")
    print("the same ratios in CPU time (for reference; the verdict is the wall-clock ratio above):")
    for label, ratio in cpu_rows:
        print(f"  {label:<50} {ratio:6.2f}")


if __name__ == "__main__":
    main()
