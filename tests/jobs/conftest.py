"""Fixtures of the scheduler tests: a frozen clock, a job context on the test database, a real SMTP server,
a tiny webhook server, and records with due dates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.scheduling import SchedulingSettings
from config.settings import Settings
from jobs.context import JobContext
from preservation.adapters.notifiers import ConsoleNotifier
from preservation.services import matters, orders, users
from preservation.services.unit import Unit
from tests.clock import FrozenClock
from tests.jobs.servers import MailServer, WebhookServer

START = dt.datetime(2027, 1, 1, 14, 0, tzinfo=dt.UTC)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock at 2027-01-01 14:00 UTC."""
    return FrozenClock(START)


@pytest.fixture
def scheduling() -> SchedulingSettings:
    """Scheduling settings of a test instance: quick retries, alerts to the console unless a test says."""
    return SchedulingSettings(alert_retry_seconds=60, alert_retry_max_seconds=3600, alert_max_attempts=4)


@pytest.fixture
def job_settings(database_url: str, tmp_path: Path, scheduling: SchedulingSettings) -> Settings:
    """Settings of a test instance with the scheduling settings above."""
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key",
        instance_path=tmp_path / "instance",
        scheduling=scheduling,
    )


@pytest.fixture
def ctx(job_settings: Settings, clock: FrozenClock, tmp_path: Path) -> Iterator[JobContext]:
    """A job context on the test database with the frozen clock; the console writes to outbox.jsonl."""
    context = JobContext.from_settings(job_settings, clock=clock)
    console = ConsoleNotifier(tmp_path / "outbox.jsonl", clock)
    context.notifiers = {"email": console, "console": console}
    yield context
    context.close()


def with_scheduling(settings: Settings, **changes: Any) -> Settings:
    """The settings with some scheduling settings changed."""
    return dataclasses.replace(settings, scheduling=dataclasses.replace(settings.scheduling, **changes))


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A real SMTP server (aiosmtpd) on a free local port, stopped at the end."""
    server = MailServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    """A local HTTP server answering webhook posts as each test scripts it."""
    server = WebhookServer()
    yield server
    server.stop()


@pytest.fixture
def counsel(ctx: JobContext) -> str:
    """An active counsel user, the default recipient of alerts; their email."""
    with ctx.unit(fenced=False) as unit:
        users.create_user(unit, "counsel@example.org", "counsel", "Counsel")
    return "counsel@example.org"


def obligation_due(unit: Unit, due_on: dt.date, description: str = "Produce the preserved video") -> int:
    """A matter, an active order and an obligation due on a day; the obligation's id (flushed)."""
    matter = matters.create_matter(unit, {"caption": "Al Otro Lado, Inc. v. Nielsen"})
    order = orders.create_order(unit, matter.id, {"kind": "court_order", "title": "Preservation order"})
    obligation = orders.create_obligation(unit, order.id, {"description": description, "due_on": due_on})
    return obligation.id
