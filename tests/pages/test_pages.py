"""What the pages show and what their forms do; which role may open which page is walked in test_page_access.py."""

from __future__ import annotations

import datetime as dt
import re

from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from preservation.models import Deadline
from preservation.services.unit import system_clock
from tests.accounts.support import open_session
from tests.pages.conftest import SignIn
from tests.pages.support import populate

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _csrf(client: FlaskClient, path: str) -> str:
    found = _CSRF.search(client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def test_the_front_door_sends_browsers_to_the_overview_and_api_clients_json(client: FlaskClient) -> None:
    browser = client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 303
    assert browser.headers["Location"].endswith("/overview")
    assert client.get("/").json["api"] == "/api/v1"  # type: ignore[index]
    assert client.get("/", headers={"Accept": "application/json"}).json["api"] == "/api/v1"  # type: ignore[index]
    assert client.get("/livez").json == {"status": "ok"}


def test_overview_shows_the_risk_with_a_countdown_and_status_in_words(sign_in_as: SignIn, database_url: str) -> None:
    populate(database_url, 1)
    page = sign_in_as("viewer").get("/overview").get_data(as_text=True)
    assert "Logs bucket 0" in page
    assert "in 11 days" in page or "in 12 days" in page
    assert '<span class="badge warn">at risk</span>' in page
    assert "Pat 0" in page  # notified ten days ago, not acknowledged
    assert "Obligation 0 due" in page
    assert "<svg" in page
    assert "Data sources by status" in page
    assert "alive" in page
    assert "<script" not in page


def test_overview_lists_an_open_deadline_long_past_due_first_and_says_how_long_ago(
    sign_in_as: SignIn, database_url: str
) -> None:
    ids = populate(database_url, 1)
    now = system_clock()
    with open_session(database_url) as session:
        session.add(
            Deadline(
                kind="order_compliance",
                subject_type="order",
                subject_id=ids["order"],
                matter_id=ids["matter"],
                title="Certify compliance with the order",
                due_on=(now - dt.timedelta(days=40)).date(),
                computation={},
                status="open",
                known_since=now - dt.timedelta(days=60),
            )
        )
        session.commit()
    page = sign_in_as("viewer").get("/overview").get_data(as_text=True)
    section = page.split('id="deadlines"', 1)[1].split("</section>", 1)[0]
    assert "Open deadlines: overdue, or due in the next 30 days" in section
    assert section.index("Certify compliance with the order") < section.index("Obligation 0 due")
    assert "40 days ago" in section


def test_validation_messages_sit_beside_their_fields(sign_in_as: SignIn, database_url: str) -> None:
    ids = populate(database_url, 1)
    client = sign_in_as("counsel")
    path = f"/matters/{ids['matter']}/orders/new"
    response = client.post(
        path,
        data={
            "csrf_token": _csrf(client, path),
            "kind": "court_order",
            "title": "Order with dates out of order",
            "signed_on": "2026-03-10",
            "entered_on": "2026-03-01",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r'id="entered_on-error">[^<]+<|id="signed_on-error">[^<]+<', page), page
    missing = client.post("/matters/new", data={"csrf_token": _csrf(client, "/matters/new"), "caption": ""})
    assert 'id="caption-error"' in missing.get_data(as_text=True)
    bad = client.post(
        "/sources/new",
        data={"csrf_token": _csrf(client, "/sources/new"), "name": "x", "kind": "s3", "location": "not-a-bucket"},
    )
    assert 'id="location-error"' in bad.get_data(as_text=True)


def test_forms_create_and_edit_records(sign_in_as: SignIn, database_url: str) -> None:
    client = sign_in_as("counsel")
    created = client.post(
        "/matters/new",
        data={"csrf_token": _csrf(client, "/matters/new"), "caption": "Doe v. Roe", "status": "open"},
    )
    assert created.status_code == 303
    matter_path = created.headers["Location"]
    assert "Doe v. Roe" in client.get(matter_path).get_data(as_text=True)
    order_path = f"{matter_path}/orders/new"
    dates = {"signed_on": "2026-01-02", "filed_on": "2026-01-03", "entered_on": "2026-01-04"}
    order = client.post(
        order_path,
        data={"csrf_token": _csrf(client, order_path), "kind": "stipulation", "title": "Stipulated order", **dates},
    )
    assert order.status_code == 303
    page = client.get(matter_path).get_data(as_text=True)
    assert "Stipulated order" in page
    assert "filed 2026-01-03" in page
    found = client.get("/matters?q=doe").get_data(as_text=True)
    assert "Doe v. Roe" in found
    assert "Doe v. Roe" not in client.get("/matters?q=nothing-like-it").get_data(as_text=True)


def test_an_alert_is_acknowledged_from_its_page(sign_in_as: SignIn, database_url: str) -> None:
    populate(database_url, 1)
    client = sign_in_as("viewer")
    page = client.get("/alerts?state=open").get_data(as_text=True)
    action = re.search(r'action="(/alerts/\d+/acknowledge)"', page)
    assert action
    done = client.post(action.group(1), data={"csrf_token": _csrf(client, "/alerts")})
    assert done.status_code == 303
    assert "by user:viewer@example.com" in client.get("/alerts").get_data(as_text=True)
    assert "Due soon 0" not in client.get("/alerts?state=open").get_data(as_text=True)


def test_lists_paginate(sign_in_as: SignIn, database_url: str) -> None:
    populate(database_url, 27)
    client = sign_in_as("viewer")
    first = client.get("/matters").get_data(as_text=True)
    assert "Page 1 of 2 (27 in all)" in first
    second = client.get("/matters?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    assert 'rel="prev"' in second


def test_audit_page_shows_events_and_the_export_needs_a_checkpoint(sign_in_as: SignIn, database_url: str) -> None:
    ids = populate(database_url, 1)
    client = sign_in_as("auditor")
    page = client.get(f"/audit?matter={ids['matter']}&action=order.created").get_data(as_text=True)
    assert "order.created" in page
    assert "matter.created</td>" not in page
    assert "no signed checkpoint yet" in page
    assert client.get("/audit/export.zip").status_code == 409


def test_auditors_look_at_alerts_but_do_not_acknowledge_them(sign_in_as: SignIn, database_url: str) -> None:
    populate(database_url, 1)
    auditor = sign_in_as("auditor")
    page = auditor.get("/alerts").get_data(as_text=True)
    assert "Due soon 0" in page
    assert "/acknowledge" not in page
    viewer_page = sign_in_as("viewer").get("/alerts").get_data(as_text=True)
    action = re.search(r'action="(/alerts/\d+/acknowledge)"', viewer_page)
    assert action
    refused = auditor.post(action.group(1), data={"csrf_token": _csrf(auditor, "/custodians?q=x")})
    assert refused.status_code == 403


def test_audit_page_checks_the_whole_chain_when_asked(sign_in_as: SignIn, database_url: str, db_kind: str) -> None:
    populate(database_url, 1)
    client = sign_in_as("auditor")
    assert "Check the whole chain now" in client.get("/audit").get_data(as_text=True)
    intact = client.get("/audit?verify=1").get_data(as_text=True)
    assert "chain intact</span>" in intact
    assert "Without a signed checkpoint a deleted tail or a recomputed chain would go unnoticed" in intact

    engine = create_engine(database_url)
    with engine.begin() as connection:
        if db_kind == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
        # The columns are generated from the stored bytes: the forger rewrites those, keeping the stored hash.
        forged = connection.execute(
            text(
                "UPDATE audit_events SET canonical = replace(canonical, '\"actor\":\"' || actor || '\"', :forged)"
                " WHERE seq = 3 RETURNING actor"
            ),
            {"forged": '"actor":"user:mallory@example.org"'},
        )
        assert forged.scalar_one() == "user:mallory@example.org"
        if db_kind == "postgresql":
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    engine.dispose()
    broken = client.get("/audit?verify=1").get_data(as_text=True)
    assert "chain BROKEN</span> at seq 3: stored hash does not match the event&#39;s contents" in broken
