"""`preservation demo` end to end, in a real process: the at-risk bucket shows its date, Ctrl-C stops it."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

DEMO_TIMEOUT_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _statuses(database: Path) -> dict[str, tuple[str, str | None]]:
    if not database.exists():
        return {}
    try:
        with sqlite3.connect(database) as connection:
            rows = connection.execute("SELECT name, status, earliest_destruction_at FROM data_sources").fetchall()
    except sqlite3.OperationalError:
        return {}  # the schema is still being created
    return {name.split(" (")[0]: (status, destruction) for name, status, destruction in rows}


def test_demo_shows_the_at_risk_bucket_with_its_date_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    started = dt.datetime.now(dt.UTC).date()
    folder = tmp_path / "demo"
    port = _free_port()
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "PRESERVATION_"))}
    process = subprocess.Popen(  # noqa: S603 (our own entry point, fixed arguments)
        [sys.executable, "-m", "preservation.cli", "demo", "--port", str(port), "--folder", str(folder)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + DEMO_TIMEOUT_SECONDS
        statuses: dict[str, tuple[str, str | None]] = {}
        while time.monotonic() < deadline:
            statuses = _statuses(folder / "preservation.db")
            if statuses.get("Otay Mesa POE video archive", ("",))[0] == "at_risk":
                break
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(1)
        assert statuses["Otay Mesa POE video archive"][0] == "at_risk"
        # Today's recordings become noncurrent 30 days on (rounded up to UTC midnight), then live one more day.
        destruction = statuses["Otay Mesa POE video archive"][1] or ""
        expected = {(day + dt.timedelta(days=32)).isoformat() for day in (started, dt.datetime.now(dt.UTC).date())}
        assert destruction[:10] in expected
        assert statuses["San Ysidro POE video archive"][0] == "preserved"
        assert statuses["Calexico POE video archive"][0] != "preserved"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert re.search(rf"http://127\.0\.0\.1:{port}/", output)
    assert re.search(r"sign in as demo-counsel@example\.org with the password \S+", output)
    assert "demo stopped" in output
