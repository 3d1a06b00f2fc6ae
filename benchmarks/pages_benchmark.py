"""Page benchmark: server time of every dashboard page at a small and a large database, and their ratio.

The large database is `preservation seed-scale` at --scale (1.0: 500 matters, 20,000 custodians, 5,000
sources, 100,000 findings, 1,000,000 audit events); the small one at --small-scale. Each page is
requested through the app (Flask's test client, no network) --repeat times after a warm-up; the median
is reported with the number of SQL statements it issued, and so is the median CPU time of the process
(time.process_time), which other work on a shared machine disturbs far less than the clock on the wall.
Target: large / small <= 2x for every page.

    python benchmarks/pages_benchmark.py [--scale 1.0] [--small-scale 0.01] [--repeat 15] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.settings import Settings  # noqa: E402
from preservation import migrate  # noqa: E402
from preservation.app import create_app  # noqa: E402
from preservation.db import make_engine, make_session_factory  # noqa: E402
from preservation.services import accounts, users  # noqa: E402
from preservation.services.scale_seed import ScaleSizes, seed_scale  # noqa: E402
from preservation.services.unit import Unit  # noqa: E402

PAGES = (
    "/overview",
    "/matters",
    "/matters/{matter}",
    "/sources",
    "/sources/{source}",
    "/custodians",
    "/custodians/{custodian}",
    "/matters/orders/{order}/acknowledgements",
    "/alerts",
    "/scheduler",
    "/audit",
    "/audit?matter={matter}",
)
PASSWORD = "benchmark pages password 1"  # noqa: S105 - a throwaway user in a throwaway database


def _database(path: Path, scale: float) -> str:
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    started = time.perf_counter()
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        added = seed_scale(session, ScaleSizes.at(scale), dt.datetime.now(dt.UTC))
        unit = Unit(session=session, actor="cli")
        auditor = users.create_user(unit, "auditor@bench.example", "auditor", None)
        accounts.set_password(unit, auditor, PASSWORD)
        session.commit()
    engine.dispose()
    print(f"seeded {path.name} at scale {scale} in {time.perf_counter() - started:.0f}s: {added}", file=sys.stderr)
    return url


def _measure(url: str, instance: Path, repeat: int) -> dict[str, tuple[float, float, int]]:
    app = create_app(
        Settings(
            database_url=url,
            secret_key="benchmark",  # noqa: S106 - a throwaway app
            instance_path=instance,
        )
    )
    client = app.test_client()
    page = client.get("/auth/sign-in").get_data(as_text=True)
    found_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if found_token is None:
        raise SystemExit("no sign-in form")
    token = found_token.group(1)
    signed = client.post(
        "/auth/sign-in", data={"csrf_token": token, "email": "auditor@bench.example", "password": PASSWORD}
    )
    if signed.status_code != 303:
        raise SystemExit(f"sign-in answered {signed.status_code}")
    ids = {"matter": 1, "source": 1, "custodian": 1, "order": 1}
    statements: list[Any] = []
    engine = app.extensions["preservation"].engine
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    found = {}
    for template in PAGES:
        path = template.format(**ids)
        if client.get(path).status_code != 200:
            raise SystemExit(f"{path} did not answer 200")
        times, cpu = [], []
        for _ in range(repeat):
            statements.clear()
            started, cpu_started = time.perf_counter(), time.process_time()
            client.get(path)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        found[template] = (statistics.median(times), statistics.median(cpu), len(statements))
    engine.dispose()
    return found


def main() -> None:
    """Seed (or reuse) both databases, time every page on each, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--small-scale", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "instance" / "pages-benchmark")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    small = _measure(
        _database(args.data_dir / f"small-{args.small_scale}.db", args.small_scale), args.data_dir, args.repeat
    )
    large = _measure(_database(args.data_dir / f"large-{args.scale}.db", args.scale), args.data_dir, args.repeat)
    print(f"{'page':40} {'small ms':>9} {'large ms':>9} {'ratio':>6} {'cpu ms':>13} {'cpu ratio':>9} {'queries':>8}")
    worst = 0.0
    for template in PAGES:
        (fast, cpu_small, count_small), (slow, cpu_large, count_large) = small[template], large[template]
        ratio = slow / fast
        worst = max(worst, ratio)
        queries = f"{count_small}/{count_large}"
        cpu = f"{cpu_small * 1000:.1f}/{cpu_large * 1000:.1f}"
        print(
            f"{template:40} {fast * 1000:9.1f} {slow * 1000:9.1f} {ratio:6.2f} {cpu:>13} {cpu_large / cpu_small:9.2f}"
            f" {queries:>8}"
        )
    print(f"worst ratio {worst:.2f} (target <= 2x)")


if __name__ == "__main__":
    main()
