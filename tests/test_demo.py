"""`preservation demo` end to end, in a real process: the at-risk bucket shows its date on the overview page to
the printed sign-in, the outbox page answers, Ctrl-C stops it."""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
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


def _printed_password(lines: list[str]) -> str | None:
    for line in lines:
        found = re.search(r"sign in as demo-counsel@example\.org with the password (\S+)", line)
        if found:
            return found.group(1)
    return None


def _signed_in(base: str, password: str) -> urllib.request.OpenerDirector:
    """A browser that signed in through the sign-in form with the printed credentials."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base}/auth/sign-in", timeout=30) as answer:
        page = answer.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert token, page
    form = {"csrf_token": token.group(1), "email": "demo-counsel@example.org", "password": password}
    body = urllib.parse.urlencode(form).encode()
    sign_in = urllib.request.Request(f"{base}/auth/sign-in", data=body, method="POST")  # noqa: S310 (loopback)
    with opener.open(sign_in, timeout=30) as landed:
        assert landed.url.endswith("/overview"), landed.url  # signed in: not sent back to the form
    return opener


def _page(browser: urllib.request.OpenerDirector, url: str) -> str:
    with browser.open(url, timeout=30) as answer:
        assert answer.status == 200, url
        return str(answer.read().decode())


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
    # Read the output as it comes, so the printed sign-in can be used while the demo runs.
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + DEMO_TIMEOUT_SECONDS
        statuses: dict[str, tuple[str, str | None]] = {}
        while time.monotonic() < deadline:
            statuses = _statuses(folder / "preservation.db")
            if statuses.get("Otay Mesa POE video archive", ("",))[0] == "at_risk":
                break
            assert process.poll() is None, "".join(lines)
            time.sleep(1)
        assert statuses["Otay Mesa POE video archive"][0] == "at_risk"
        # Today's recordings become noncurrent 30 days on (rounded up to UTC midnight), then live one more day.
        destruction = statuses["Otay Mesa POE video archive"][1] or ""
        expected = {(day + dt.timedelta(days=32)).isoformat() for day in (started, dt.datetime.now(dt.UTC).date())}
        assert destruction[:10] in expected
        assert statuses["San Ysidro POE video archive"][0] == "preserved"
        assert statuses["Calexico POE video archive"][0] != "preserved"

        # What a newcomer sees: the printed sign-in opens the overview, with the bucket at risk and its date.
        password = _printed_password(lines)
        assert password, "".join(lines)
        browser = _signed_in(f"http://127.0.0.1:{port}", password)
        rows = re.findall(r"<tr>.*?</tr>", _page(browser, f"http://127.0.0.1:{port}/overview"), re.DOTALL)
        otay_mesa = next(row for row in rows if "Otay Mesa POE video archive" in row)
        assert "at risk" in otay_mesa
        assert destruction[:10] in otay_mesa
        assert "<h1>Outbox</h1>" in _page(browser, f"http://127.0.0.1:{port}/outbox")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        reader.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    output = "".join(lines)
    assert process.returncode == 0, output
    assert re.search(rf"http://127\.0\.0\.1:{port}/", output)
    assert re.search(r"sign in as demo-counsel@example\.org with the password \S+", output)
    assert "demo stopped" in output
