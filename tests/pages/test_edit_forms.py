"""Editing through the forms: a matter and an order change, the page shows it and the audit trail records it;
a bad edit shows its message beside the field and changes nothing."""

from __future__ import annotations

import json
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from preservation.models import AuditEvent, Matter, PreservationOrder
from tests.accounts.support import open_session
from tests.pages.conftest import SignIn
from tests.pages.support import populate

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _post(client: FlaskClient, path: str, fields: dict[str, str]) -> Any:
    found = _CSRF.search(client.get(path).get_data(as_text=True))
    assert found, path
    return client.post(path, data={"csrf_token": found.group(1), **fields})


def _changes(database_url: str, action: str, subject_id: int) -> list[dict[str, Any]]:
    with open_session(database_url) as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.subject_id == str(subject_id))
            .order_by(AuditEvent.seq)
        )
        return [json.loads(event.details)["changes"] for event in events]


MATTER = {"caption": "Acme v. Widget 0", "docket_number": "1:26-cv-0", "status": "open"}
ORDER = {"kind": "court_order", "title": "Order 0", "signed_on": "2026-01-05"}


def test_a_matter_and_an_order_are_edited_through_their_forms(sign_in_as: SignIn, database_url: str) -> None:
    ids = populate(database_url, 1)
    client = sign_in_as("counsel")
    matter_path = f"/matters/{ids['matter']}"
    edit_matter = f"{matter_path}/edit"
    assert 'value="Acme v. Widget 0"' in client.get(edit_matter).get_data(as_text=True)  # the form shows the record
    saved = _post(client, edit_matter, MATTER | {"caption": "Acme v. Widget (amended)", "court": "D. Del."})
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith(matter_path)
    page = client.get(matter_path).get_data(as_text=True)
    assert "Acme v. Widget (amended)" in page
    assert "D. Del." in page
    [changes] = _changes(database_url, "matter.updated", ids["matter"])
    assert changes["caption"] == {"from": "Acme v. Widget 0", "to": "Acme v. Widget (amended)"}
    assert changes["court"] == {"from": None, "to": "D. Del."}
    assert "docket_number" not in changes  # unchanged fields are not recorded as changes
    assert "matter.updated" in page  # and the matter's timeline shows the event

    edit_order = f"/matters/orders/{ids['order']}/edit"
    saved = _post(client, edit_order, ORDER | {"title": "Order 0, as entered", "entered_on": "2026-01-09"})
    assert saved.status_code == 303
    page = client.get(matter_path).get_data(as_text=True)
    assert "Order 0, as entered" in page
    assert "entered 2026-01-09" in page
    [changes] = _changes(database_url, "order.updated", ids["order"])
    assert changes == {
        "title": {"from": "Order 0", "to": "Order 0, as entered"},
        "entered_on": {"from": None, "to": "2026-01-09"},
    }


def test_a_bad_edit_shows_its_message_beside_the_field_and_changes_nothing(
    sign_in_as: SignIn, database_url: str
) -> None:
    ids = populate(database_url, 1)
    client = sign_in_as("counsel")
    edit_matter = f"/matters/{ids['matter']}/edit"
    refused = _post(client, edit_matter, MATTER | {"caption": "", "court": "D. Del."})
    assert refused.status_code == 200  # the form again
    html = refused.get_data(as_text=True)
    assert re.search(r'aria-invalid="true"[^>]*id="caption"|id="caption"[^>]*aria-invalid="true"', html), html
    assert re.search(r'<span class="field-error" id="caption-error">[^<]+</span>', html)
    assert 'value="D. Del."' in html  # what was typed stays in the form

    edit_order = f"/matters/orders/{ids['order']}/edit"
    # Entered before it was signed: the service refuses, and says so beside the dates.
    refused = _post(client, edit_order, ORDER | {"title": "Order 0, renamed", "entered_on": "2026-01-01"})
    assert refused.status_code == 200
    html = refused.get_data(as_text=True)
    assert re.search(r'id="(entered_on|signed_on)-error">[^<]+<', html), html

    with open_session(database_url) as session:
        matter = session.get(Matter, ids["matter"])
        order = session.get(PreservationOrder, ids["order"])
        assert matter is not None
        assert order is not None
        assert (matter.caption, matter.court) == ("Acme v. Widget 0", None)
        assert (order.title, order.entered_on) == ("Order 0", None)
    assert _changes(database_url, "matter.updated", ids["matter"]) == []
    assert _changes(database_url, "order.updated", ids["order"]) == []
