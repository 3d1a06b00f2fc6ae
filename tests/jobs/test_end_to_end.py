"""End to end: an obligation due a period after an event, entered through the API, goes through every
threshold as the days pass, each alert arriving by a real SMTP server, and is acknowledged from the email."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from flask import Flask

from config.settings import Settings
from jobs.context import JobContext
from preservation.adapters.mail import SmtpMailer
from tests.conftest import ApiClient
from tests.jobs.conftest import FrozenClock
from tests.jobs.servers import MailServer
from tests.jobs.test_sweep_and_dispatch import run

API = "/api/v1"


@pytest.fixture
def smtp_jobs(settings: Settings, clock: FrozenClock, mail_server: MailServer) -> Iterator[JobContext]:
    """The scheduler's jobs on the app's database, under the frozen clock, mailing through the local server."""
    context = JobContext.from_settings(settings, clock=clock)
    mailer = SmtpMailer("127.0.0.1", mail_server.port, sender="alerts@example.org", starttls=False, timeout=5)
    context.notifiers = {"email": mailer}
    yield context
    context.close()


def test_a_deadline_goes_through_every_threshold_to_acknowledgement_by_email(
    app: Flask, api: ApiClient, smtp_jobs: JobContext, clock: FrozenClock, mail_server: MailServer
) -> None:
    matter = api.post(f"{API}/matters", json={"caption": "Al Otro Lado, Inc. v. Nielsen"}).get_json()
    order = api.post(
        f"{API}/matters/{matter['id']}/orders", json={"kind": "court_order", "title": "Preservation order"}
    ).get_json()
    # 21 days after Friday 2027-01-01 is Friday 2027-01-22, a court day.
    obligation = api.post(
        f"{API}/orders/{order['id']}/obligations",
        json={"description": "Produce the POE video", "due_period_days": 21, "due_from": "2027-01-01"},
    ).get_json()
    assert obligation["due_on"] == "2027-01-22"

    expected = ["14d", "7d", "3d", "1d", "0d", "overdue-1d", "overdue-2d"]
    arrived: list[str] = []
    while clock.now.date() <= dt.date(2027, 1, 24):
        run(smtp_jobs, "deadline-sweep")
        run(smtp_jobs, "alert-dispatch")
        clock.advance(days=1)
    messages = mail_server.messages()
    for message in messages:
        threshold = str(message["X-Preservation-Alert"]).rsplit(":", 1)[1]
        if not arrived or arrived[-1] != threshold:
            arrived.append(threshold)
    assert arrived == expected
    # Each threshold reached both default recipients once.
    assert len(messages) == 2 * len(expected)
    assert {str(m["To"]) for m in messages} == {"admin@example.org", "counsel@example.org"}
    assert len({str(m["Message-ID"]) for m in messages}) == len(messages)
    first = messages[0].get_content()
    assert "Due on 2027-01-22: due in 14 days" in first
    assert "FRCP 6(a)(1)" in first

    # Counsel reads the latest email and acknowledges it through the link it carries.
    latest = [m for m in messages if m["To"] == "counsel@example.org"][-1]
    match = re.search(r"POST (/api/v1/alerts/(\d+)/acknowledge)", latest.get_content())
    assert match is not None
    acknowledged = api.post(match.group(1), role="counsel").get_json()
    assert acknowledged["threshold"] == "overdue-2d"
    assert acknowledged["acknowledged_by"] == "user:counsel@example.org"
    unread = api.get(f"{API}/alerts?acknowledged=false&per_page=200").get_json()
    assert unread["total"] == len(expected) - 1

    # The obligation is satisfied: no more reminders, however many days pass.
    api.patch(f"{API}/obligations/{obligation['id']}", json={"status": "satisfied"})
    for _day in range(3):
        run(smtp_jobs, "deadline-sweep")
        run(smtp_jobs, "alert-dispatch")
        clock.advance(days=1)
    assert len(mail_server.messages()) == len(messages)
    deadline = api.get(f"{API}/deadlines?status=any").get_json()["items"][0]
    assert deadline["status"] == "met"
    assert deadline["computation"]["rule"] == "FRCP 6(a)(1)"
