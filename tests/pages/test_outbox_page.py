"""The outbox page: what the console transport wrote, for admin and counsel, only while email goes to its file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import Settings
from jobs.context import JobContext
from preservation.adapters.outbox_file import UNREADABLE, outbox_file, read_outbox
from preservation.app import create_app
from preservation.domain.vocabulary import USER_ROLES
from preservation.services.unit import Unit, system_clock
from tests.accounts.support import make_person, open_session, signed_in_client
from tests.jobs.conftest import obligation_due
from tests.jobs.test_sweep_and_dispatch import run
from tests.pages.conftest import SignIn
from tests.pages.support import HOSTILE

OUTBOX_LINK = 'href="/outbox"'


def _message(index: int) -> str:
    at = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=index)
    record = {"at": at.isoformat(), "key": f"k{index}", "to": "counsel@example.org", "subject": f"Message {index}"}
    return json.dumps({**record, "body": f"Body {index}"}) + "\n"


def test_the_outbox_lists_a_message_the_dispatcher_wrote(
    sign_in_as: SignIn, settings: Settings, database_url: str
) -> None:
    counsel = sign_in_as("counsel")  # the default route mails every counsel
    with open_session(database_url) as session:
        obligation_due(Unit(session=session, actor="user:setup@example.com"), system_clock().date(), HOSTILE)
        session.commit()
    # The scheduler's own notifiers, built from the settings: the console transport writes the instance's file.
    context = JobContext.from_settings(settings, clock=system_clock)
    try:
        run(context, "deadline-sweep")
        assert run(context, "alert-dispatch").details["sent"] >= 1
    finally:
        context.close()

    response = counsel.get("/outbox")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "counsel@example.com" in page
    assert "&lt;script&gt;alert(" in page  # the obligation's description, in the subject and the body
    assert "<script>" not in page
    assert OUTBOX_LINK in page
    assert OUTBOX_LINK in counsel.get("/overview").get_data(as_text=True)


def test_the_outbox_is_paginated_newest_first(sign_in_as: SignIn, settings: Settings) -> None:
    path = outbox_file(settings.instance_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(_message(index) for index in range(30)))
    client = sign_in_as("admin")

    first = client.get("/outbox").get_data(as_text=True)
    assert first.index("Message 29") < first.index("Message 5")
    assert "Message 4<" not in first
    assert "2026-11-01 09:29 UTC" in first
    assert "Page 1 of 2 (30 in all)" in first
    second = client.get("/outbox?page=2").get_data(as_text=True)
    assert [f"Message {index}<" in second for index in (4, 0, 5)] == [True, True, False]


@pytest.mark.parametrize("role", USER_ROLES)
def test_admin_and_counsel_read_the_outbox_and_nobody_else(sign_in_as: SignIn, role: str) -> None:
    client = sign_in_as(role)
    allowed = role in {"admin", "counsel"}
    assert client.get("/outbox").status_code == (200 if allowed else 403)
    assert (OUTBOX_LINK in client.get("/overview").get_data(as_text=True)) is allowed


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/outbox")
    assert response.status_code == 303
    assert "/auth/sign-in" in response.headers["Location"]


def test_there_is_no_outbox_when_email_leaves_by_smtp(settings: Settings, database_url: str) -> None:
    smtp = dataclasses.replace(
        settings,
        scheduling=dataclasses.replace(settings.scheduling, mail_transport="smtp", smtp_host="smtp.example.org"),
    )
    outbox_file(smtp.instance_path).parent.mkdir(parents=True, exist_ok=True)
    outbox_file(smtp.instance_path).write_text(_message(1))
    app: Flask = create_app(smtp)
    try:
        admin = make_person(database_url, "admin@example.com", "admin", with_mfa=True)
        client = signed_in_client(app.test_client(), admin)
        response = client.get("/outbox")
        assert response.status_code == 404
        assert "email leaves by smtp" in response.get_data(as_text=True)
        assert "Message 1" not in response.get_data(as_text=True)
        assert OUTBOX_LINK not in client.get("/overview").get_data(as_text=True)
    finally:
        app.extensions["preservation"].engine.dispose()


def test_reading_skips_a_line_still_being_written_and_marks_one_that_is_not_a_message(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    assert read_outbox(path, 1, 25).total == 0  # no file yet: no messages
    path.write_text(_message(1) + "not json\n\n" + _message(2) + _message(3)[:20])

    found = read_outbox(path, 1, 25)
    assert found.total == 3
    assert [message.subject for message in found.items] == ["Message 2", UNREADABLE, "Message 1"]
    assert found.items[2].at == dt.datetime(2026, 11, 1, 9, 1, tzinfo=dt.UTC)
    assert read_outbox(path, 2, 25).items == []
