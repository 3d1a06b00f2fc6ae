"""A notice through a real SMTP server: the custodian is reminded by email, follows the emailed link,
acknowledges, and the reminders stop for them while they go on for the custodian who did not."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.scheduling import SchedulingSettings
from config.settings import Settings
from jobs import reconcile
from jobs.context import JobContext
from preservation.adapters.mail import SmtpMailer
from preservation.app import create_app
from preservation.db import make_engine, make_session_factory
from preservation.models import AuditEvent, CustodianHold, HoldNotice
from preservation.services import custodians
from preservation.services.unit import Unit
from tests.conftest import ApiClient
from tests.custodians.conftest import FrozenClock, Inbox, csrf_token, json_of, make_world

LINK = re.compile(r"http://localhost(/notices/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def public_settings(settings: Settings) -> Settings:
    """Settings whose emails link to http://localhost."""
    return dataclasses.replace(settings, scheduling=SchedulingSettings(public_url="http://localhost"))


@pytest.fixture
def public_app(public_settings: Settings) -> Iterator[Flask]:
    """The app, configured with a public address."""
    application = create_app(public_settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["preservation"].engine.dispose()


@pytest.fixture
def job_context(public_settings: Settings, smtp_server: Inbox) -> Iterator[JobContext]:
    """The scheduler's context on the test database, sending email to the local SMTP server, on a frozen clock."""
    engine = make_engine(public_settings.database_url)
    ctx = JobContext(
        settings=public_settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=FrozenClock(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)),
        notifiers={"email": SmtpMailer("127.0.0.1", smtp_server.port, sender="holds@example.org", starttls=False)},
    )
    yield ctx
    ctx.close()


def _link(inbox: Inbox, address: str, subject_starts: str = "Legal hold") -> str:
    [message] = [m for m in inbox.to(address) if str(m["Subject"]).startswith(subject_starts)]
    body = message.get_content()
    match = LINK.search(body)
    assert match, body
    return match.group(1)


def test_notice_email_link_acknowledgement_and_reminders(
    public_app: Flask, session: Session, tokens: dict[str, str], job_context: JobContext, smtp_server: Inbox
) -> None:
    world = make_world(Unit(session=session, actor="user:counsel@example.org"))
    for custodian in (world.ana, world.ben):
        custodians.place_custodian_hold(Unit(session=session, actor="test"), world.order_id, custodian.id)
    session.commit()
    api = ApiClient(public_app.test_client(), tokens)

    issued = api.post(f"/api/v1/orders/{world.order_id}/notices", json={})
    assert issued.status_code == 201, issued.get_data(as_text=True)
    assert [n["custodian_id"] for n in json_of(issued)["items"]] == [world.ana.id, world.ben.id]
    assert smtp_server.messages == []  # nothing leaves before the dispatcher runs
    assert reconcile.alert_dispatch(job_context)["sent"] == 2

    # Neither answers within the cadence: both are reminded by email, each with their link.
    clock = job_context.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(days=3, minutes=1)
    assert reconcile.custodian_reminders(job_context)["reminders"] == 2
    assert reconcile.alert_dispatch(job_context)["sent"] == 2
    reminder_link = _link(smtp_server, "ana@example.org", "Reminder")

    # Ana follows the link in the reminder she received.
    browser: FlaskClient = public_app.test_client()
    page = browser.get(reminder_link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "I acknowledge and will comply" in html
    assert "Order to preserve camera footage" in html
    assert page.headers["Cache-Control"] == "no-store"

    answer = browser.post(f"{reminder_link}/acknowledge", data={"csrf_token": csrf_token(html)})
    assert answer.status_code == 200
    assert "your acknowledgement is recorded" in answer.get_data(as_text=True)

    session.expire_all()
    ana_notice = session.scalars(select(HoldNotice).where(HoldNotice.custodian_id == world.ana.id)).one()
    assert ana_notice.acknowledged_at is not None
    assert ana_notice.template_version == 1
    ana_hold = session.get(CustodianHold, ana_notice.hold_id)
    assert ana_hold is not None
    assert ana_hold.status == "acknowledged"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "custodian_notice.acknowledged")).one()
    assert event.actor == "custodian:ana@example.org"
    assert json.loads(event.details)["template_version"] == 1
    session.rollback()  # end the read, so SQLite lets the app write

    # Ben asks a question instead: it reaches counsel through the outbox.
    ben_link = _link(smtp_server, "ben@example.org")
    ben_page = browser.get(ben_link).get_data(as_text=True)
    asked = browser.post(
        f"{ben_link}/question", data={"csrf_token": csrf_token(ben_page), "question": "Does this cover my phone?"}
    )
    assert asked.status_code == 200

    received_by_ana = len(smtp_server.to("ana@example.org"))
    assert received_by_ana == 2  # the notice and one reminder
    for _ in range(3):
        clock.advance(days=3, minutes=1)
        details = reconcile.custodian_reminders(job_context)
        assert details["reminders"] == 1
        reconcile.alert_dispatch(job_context)
    to_counsel = [m for m in smtp_server.messages if "Does this cover my phone?" in m.get_content()]
    assert {str(m["To"]) for m in to_counsel} == {"counsel@example.org", "lawyer@example.org"}
    reminders = [m for m in smtp_server.messages if str(m["Subject"]).startswith("Reminder")]
    assert sorted(str(m["To"]) for m in reminders) == ["ana@example.org"] + ["ben@example.org"] * 4
    assert len(smtp_server.to("ana@example.org")) == received_by_ana  # acknowledged: no reminder since

    state = json_of(api.get(f"/api/v1/orders/{world.order_id}/acknowledgements"))["items"]
    assert [(s["custodian_email"], s["acknowledgement"]) for s in state] == [
        ("ana@example.org", "acknowledged"),
        ("ben@example.org", "escalated"),
    ]
    # The existing list of an order's custodians keeps working.
    assert api.get(f"/api/v1/orders/{world.order_id}/custodians").status_code == 200
