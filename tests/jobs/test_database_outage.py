"""The database goes away during runs: each run is recorded failed as soon as it can be, and the next run
succeeds once the database is back. SQLite loses its file; PostgreSQL loses its network."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from config.settings import Settings
from jobs.context import JobContext
from jobs.registry import JobSpec, find
from jobs.runner import JobRunner
from preservation.models import JobRun
from tests.jobs.conftest import FrozenClock
from tests.jobs.servers import TcpProxy


@dataclass
class Outage:
    """Takes the database away and brings it back."""

    url: str
    down: Any
    up: Any


@pytest.fixture
def outage(database_url: str, tmp_path: Path) -> Iterator[Outage]:
    """A URL to the test database that the test can cut off."""
    if database_url.startswith("sqlite"):
        here = Path(make_url(database_url).database or "")
        home = tmp_path / "db-home"
        away = tmp_path / "db-away"
        home.mkdir()
        shutil.copyfile(here, home / "preservation.db")
        yield Outage(
            f"sqlite:///{home / 'preservation.db'}",
            down=lambda: home.rename(away),
            up=lambda: away.rename(home),
        )
        return
    url = make_url(database_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    yield Outage(
        url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy.cut, proxy.restore
    )
    proxy.cut()


@pytest.fixture
def cut_ctx(job_settings: Settings, outage: Outage, clock: FrozenClock) -> Iterator[JobContext]:
    """A job context whose database can be taken away."""
    settings = Settings(
        database_url=outage.url,
        secret_key=job_settings.secret_key,
        instance_path=job_settings.instance_path,
        sqlite_busy_timeout_seconds=1,
        scheduling=job_settings.scheduling,
    )
    context = JobContext.from_settings(settings, clock=clock)
    yield context
    context.close()


def recorded(ctx: JobContext) -> list[tuple[str, str]]:
    with ctx.unit(fenced=False) as unit:
        return [(r.job_id, r.outcome) for r in unit.session.scalars(select(JobRun).order_by(JobRun.id))]


def test_a_run_while_the_database_is_away_is_recorded_failed_once_it_is_back(
    cut_ctx: JobContext, outage: Outage, clock: FrozenClock
) -> None:
    ctx = cut_ctx
    runner = JobRunner(ctx, "test-runner")
    assert runner.run(find("heartbeat")).outcome == "succeeded"

    outage.down()
    ctx.engine.dispose()  # pooled connections would outlive a vanished SQLite file
    clock.advance(minutes=5)
    failed = runner.run(find("deadline-sweep"))
    assert failed.outcome == "failed"
    assert "OperationalError" in (failed.error or "")
    assert runner.unsaved == 1

    outage.up()
    clock.advance(minutes=5)
    assert runner.run(find("deadline-sweep")).outcome == "succeeded"
    assert runner.unsaved == 0
    assert recorded(ctx) == [("heartbeat", "succeeded"), ("deadline-sweep", "failed"), ("deadline-sweep", "succeeded")]


def test_a_database_lost_in_the_middle_of_a_run_leaves_no_run_marked_running(
    cut_ctx: JobContext, outage: Outage
) -> None:
    ctx = cut_ctx

    def sweep_that_loses_the_database(context: JobContext) -> dict[str, Any]:
        outage.down()
        context.engine.dispose()
        with context.unit() as unit:
            unit.session.scalar(select(JobRun.id))
        return {}

    runner = JobRunner(ctx, "test-runner")
    record = runner.run(JobSpec("deadline-sweep", 60, sweep_that_loses_the_database, "loses its database"))
    assert record.outcome == "failed"
    assert record.run_id is not None  # its start was recorded before the database went
    assert runner.unsaved == 1

    outage.up()
    assert runner.run(find("heartbeat")).outcome == "succeeded"
    assert recorded(ctx) == [("deadline-sweep", "failed"), ("heartbeat", "succeeded")]
