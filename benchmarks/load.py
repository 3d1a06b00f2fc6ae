"""Load test: gunicorn (2 workers) on PostgreSQL with the scale data set, wrk on loopback.

Runs wrk with 50 connections for 30 seconds against /livez (the baseline: no database, no templates),
the API (GET /api/v1/matters and GET /api/v1/data-sources) and the overview page, all in the same run,
and prints each one's p99 latency beside the baseline's, plus errors (which must be zero). Every answer
other than 2xx is an error, redirects included (benchmarks/wrk_status.lua counts them), and the signed-in
session must open the overview before any load starts.

    python benchmarks/load.py [--scale 1.0] [--duration 30] [--connections 50] [--seed-timeout 1200]

Needs: wrk (`apt-get install wrk`), gunicorn (installed with the package), and the PostgreSQL server
named by PRESERVATION_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
a database of its own is created and dropped.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("PRESERVATION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
VIEWER = "load-viewer@example.org"
PASSWORD = "quiet harbour lantern 42"  # noqa: S105 (a throwaway account in a throwaway database)
STATUS_SCRIPT = Path(__file__).resolve().parent / "wrk_status.lua"
# Every other command (migrations, users, tokens) is quick; a hung one must not hold the run.
COMMAND_TIMEOUT_SECONDS = 120


@dataclass
class WrkResult:
    """What wrk measured for one target."""

    name: str
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(
    args: list[str], env: dict[str, str], stdin: str | None = None, timeout: float = COMMAND_TIMEOUT_SECONDS
) -> str:
    try:
        done = subprocess.run(  # noqa: S603
            args, env=env, input=stdin, capture_output=True, text=True, check=False, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(f"{' '.join(args)} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _wrk(name: str, url: str, headers: list[str], duration: int, connections: int) -> WrkResult:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    args += ["-s", str(STATUS_SCRIPT)]
    for header in headers:
        args += ["-H", header]
    output = subprocess.run(  # noqa: S603
        [*args, url], capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)\.?0*%\s+(\S+)\s*$", output, re.MULTILINE))
    if "50" not in latency or "99" not in latency:
        raise SystemExit(f"wrk printed no latency distribution for {name}:\n{output}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    # wrk's own count covers 4xx and 5xx only; the script's covers every answer that is not 2xx, 3xx included.
    not_2xx = re.search(r"Answers other than 2xx: (\d+)", output)
    if not_2xx is None:
        raise SystemExit(f"wrk did not run {STATUS_SCRIPT.name} for {name}:\n{output}")
    wrk_errors = int(non_2xx.group(1)) if non_2xx else 0
    errors = max(wrk_errors, int(not_2xx.group(1))) + (sum(map(int, sockets.groups())) if sockets else 0)
    if requests == 0:
        errors += 1  # nothing completed at all: every request timed out
    return WrkResult(name, requests, rate, _milliseconds(latency["50"]), _milliseconds(latency["99"]), errors)


def _session_cookie(base: str) -> str:
    """Sign in as the viewer through the real form (CSRF token included) and return the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/auth/sign-in").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    if token is None:
        raise SystemExit("no CSRF token on the sign-in page")
    form = urllib.parse.urlencode({"csrf_token": token.group(1), "email": VIEWER, "password": PASSWORD}).encode()
    opener.open(urllib.request.Request(f"{base}/auth/sign-in", data=form, method="POST"))  # noqa: S310 (loopback)
    cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)
    # Flask sets a cookie on the sign-in page itself (for its CSRF token): only the overview proves a session.
    _require_ok(f"{base}/overview", [f"Cookie: {cookies}"], "<h1>Overview</h1>")
    return f"Cookie: {cookies}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


def _require_ok(url: str, headers: list[str], marker: str) -> None:
    """One request as the load will send it: it must answer 200 with the marker, not a redirect to sign in."""
    request = urllib.request.Request(url, headers=dict(header.split(": ", 1) for header in headers))  # noqa: S310
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=30) as response:
            status, body = response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode(errors="replace")
    if status != 200 or marker not in body:
        raise SystemExit(f"GET {url} answered {status} without {marker!r}; nothing would be measured")


def _wait_until_live(base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(120):
        if server.poll() is not None:
            raise SystemExit("gunicorn exited early")
        try:
            if urllib.request.urlopen(f"{base}/livez", timeout=2).status == 200:  # noqa: S310 (loopback)
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not answer /livez")


def main() -> int:
    """Seed, serve, load, report; exit 1 if any request failed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full scale data set")
    parser.add_argument("--duration", type=int, default=30, help="seconds per target")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--seed-timeout", type=float, default=1200.0, help="seconds seed-scale may take before the run gives up"
    )
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    admin = create_engine(make_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    name = f"preservation_load_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    instance = Path(tempfile.mkdtemp(prefix="preservation-load-"))
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("PRESERVATION_")},
        "PRESERVATION_DATABASE_URL": database_url,
        "PRESERVATION_INSTANCE_PATH": str(instance),
        "PRESERVATION_SECRET_KEY": "load-test-secret-key-load-test-secret-key",
        "PRESERVATION_SESSION_COOKIE_SECURE": "0",
        "PRESERVATION_LOG_LEVEL": "WARNING",
    }
    server: subprocess.Popen[bytes] | None = None
    try:
        cli = str(BIN / "preservation")
        started = time.perf_counter()
        _run([cli, "db", "upgrade"], env)
        _run([cli, "seed-scale", "--scale", str(options.scale)], env, timeout=options.seed_timeout)
        print(f"seeded scale {options.scale} in {time.perf_counter() - started:.0f} s")
        _run([cli, "users", "add", VIEWER, "--role", "viewer", "--password-stdin"], env, stdin=PASSWORD + "\n")
        token = _run([cli, "tokens", "issue", VIEWER], env).splitlines()[-1]

        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(  # noqa: S603
            [str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "-b", f"127.0.0.1:{port}", "-w", "2", "wsgi:app"],
            cwd=ROOT,
            env=env,
        )
        _wait_until_live(base, server)
        cookie = _session_cookie(base)
        bearer = f"Authorization: Bearer {token}"
        targets = [
            ("GET /livez (baseline)", f"{base}/livez", []),
            ("GET /api/v1/matters", f"{base}/api/v1/matters", [bearer]),
            ("GET /api/v1/data-sources", f"{base}/api/v1/data-sources", [bearer]),
            ("GET /overview (page)", f"{base}/overview", [cookie]),
        ]
        for _, url, headers in targets[1:3]:
            _require_ok(url, headers, '"items"')
        results = [_wrk(label, url, headers, options.duration, options.connections) for label, url, headers in targets]
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(instance, ignore_errors=True)

    print(f"\n{options.connections} connections, {options.duration} s per target, gunicorn 2 workers, PostgreSQL")
    return _report(results)


def _report(results: list[WrkResult]) -> int:
    """Print each target beside the baseline (the first); 1 if any request failed."""
    baseline = results[0]
    print(f"{'target':28} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p99/livez':>10} {'errors':>7}")
    for result in results:
        print(
            f"{result.name:28} {result.requests:>9} {result.requests_per_second:>8.1f} {result.p50_ms:>8.1f} "
            f"{result.p99_ms:>8.1f} {result.p99_ms / baseline.p99_ms:>10.2f} {result.errors:>7}"
        )
    failed = sum(result.errors for result in results)
    print("errors: none" if failed == 0 else f"errors: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
