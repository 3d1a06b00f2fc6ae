"""Matters: recording, reading, changing and listing them, and the orders recorded on them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.web.support import (
    API,
    audit_events,
    fetched,
    last_seq,
    new_matter,
    new_order,
    nothing_changes,
    patched,
    refused,
    single_new_event,
)

FULL_MATTER = {
    "caption": "Al Otro Lado, Inc. v. Nielsen",
    "docket_number": "3:17-cv-02366-BAS-KSC",
    "court": "U.S. District Court for the Southern District of California",
    "judge": "Karen S. Crawford",
    "status": "open",
    "trigger_date": "2017-07-12",
    "trigger_description": "Complaint filed",
    "trigger_decided_by": "Litigation counsel",
    "description": "Turnbacks at ports of entry.",
}


def test_create_matter_returns_every_field_and_records_one_event(api: Any) -> None:
    before = last_seq(api)
    matter = new_matter(api, **FULL_MATTER)
    assert {name: matter[name] for name in FULL_MATTER} == FULL_MATTER
    assert isinstance(matter["id"], int)
    assert matter["created_at"].endswith("+00:00")
    event = single_new_event(api, before)
    assert event["action"] == "matter.created"
    assert event["subject_type"] == "matter"
    assert event["subject_id"] == str(matter["id"])
    assert event["matter_id"] == matter["id"]
    assert event["matter_seq"] == 1
    assert event["actor"] == "user:counsel@example.org"
    assert event["details"] == FULL_MATTER


def test_new_matter_defaults_to_open(api: Any) -> None:
    matter = new_matter(api)
    assert matter["status"] == "open"
    assert matter["docket_number"] is None


def test_get_matter_reads_what_was_stored(api: Any) -> None:
    matter = new_matter(api, **FULL_MATTER)
    assert fetched(api, f"/matters/{matter['id']}") == matter


@pytest.mark.parametrize("path", ["/matters/999", "/matters/0", "/matters/99999999999", "/matters/999/orders"])
def test_unknown_matter_is_404(api: Any, path: str) -> None:
    response = api.get(f"{API}{path}")
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_patch_matter_changes_only_the_given_fields_and_records_the_diff(api: Any) -> None:
    matter = new_matter(api, **FULL_MATTER)
    before = last_seq(api)
    changed = patched(api, f"/matters/{matter['id']}", {"status": "closed", "judge": None})
    assert changed["status"] == "closed"
    assert changed["judge"] is None
    assert changed["caption"] == FULL_MATTER["caption"]
    assert fetched(api, f"/matters/{matter['id']}") == changed
    event = single_new_event(api, before)
    assert event["action"] == "matter.updated"
    assert event["matter_id"] == matter["id"]
    assert event["matter_seq"] == 2
    assert event["details"] == {
        "changes": {
            "status": {"from": "open", "to": "closed"},
            "judge": {"from": FULL_MATTER["judge"], "to": None},
        }
    }


def test_patch_with_the_stored_values_writes_no_event(api: Any, session: Session) -> None:
    matter = new_matter(api, **FULL_MATTER)
    with nothing_changes(session):
        response = api.patch(f"{API}/matters/{matter['id']}", json={"caption": FULL_MATTER["caption"]})
    assert response.status_code == 200


def test_empty_patch_changes_nothing(api: Any, session: Session) -> None:
    matter = new_matter(api)
    with nothing_changes(session):
        response = api.patch(f"{API}/matters/{matter['id']}", json={})
    assert response.status_code == 200
    assert response.get_json() == matter


def test_patch_unknown_matter_is_404(api: Any, session: Session) -> None:
    refused(api, session, "patch", "/matters/999", {"status": "closed"}, status=404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"caption": None}, "caption"),
        ({"caption": ""}, "caption"),
        ({"caption": "   "}, "caption"),
        ({"status": None}, "status"),
        ({"status": "archived"}, "status"),
        ({"id": 5}, "id"),
        ({"created_at": "2020-01-01T00:00:00+00:00"}, "created_at"),
        ({"trigger_date": "12/07/2017"}, "trigger_date"),
        ({"court": ["a list"]}, "court"),
        ({"description": "x" * 10_001}, "description"),
    ],
)
def test_patch_matter_refuses_bad_fields(api: Any, session: Session, body: dict[str, Any], field: str) -> None:
    matter = new_matter(api)
    refused(api, session, "patch", f"/matters/{matter['id']}", body, status=422, field=field)


def test_list_matters_filters_by_status(api: Any) -> None:
    open_matter = new_matter(api, caption="Open")
    closed = new_matter(api, caption="Closed", status="closed")
    listed = fetched(api, "/matters?status=closed")
    assert [item["id"] for item in listed["items"]] == [closed["id"]]
    assert listed["total"] == 1
    everything = fetched(api, "/matters")
    assert [item["id"] for item in everything["items"]] == [open_matter["id"], closed["id"]]


def test_list_matters_refuses_an_unknown_status(api: Any) -> None:
    response = api.get(f"{API}/matters?status=archived")
    assert response.status_code == 422
    assert "status" in response.get_json()["fields"]


# Orders on a matter ----------------------------------------------------------------------------------


FULL_ORDER = {
    "kind": "court_order",
    "title": "Order Granting in Part Defendants' Motion for Protective Order",
    "docket_entry": "170",
    "issued_by": "Magistrate Judge Karen S. Crawford",
    "signed_on": "2018-09-27",
    "filed_on": "2018-09-17",
    "entered_on": "2018-09-27",
    "effective_on": "2018-09-28",
    "compliance_due_on": "2018-10-11",
    "scope": "Video and audio data collected at ports of entry.",
    "reaffirm_every_days": 90,
}


def test_create_order_keeps_every_date_apart_and_records_one_event(api: Any) -> None:
    matter = new_matter(api)
    before = last_seq(api)
    order = new_order(api, matter["id"], **FULL_ORDER)
    assert {name: order[name] for name in FULL_ORDER} == FULL_ORDER
    assert order["matter_id"] == matter["id"]
    assert order["status"] == "active"
    assert order["supersedes_id"] is None
    assert order["superseded_by_id"] is None
    assert order["released_on"] is None
    event = single_new_event(api, before)
    assert event["action"] == "order.created"
    assert event["subject_type"] == "order"
    assert event["subject_id"] == str(order["id"])
    assert event["matter_id"] == matter["id"]
    assert event["details"] == {**FULL_ORDER, "status": "active", "supersedes_id": None}


def test_list_orders_of_a_matter_only(api: Any) -> None:
    matter = new_matter(api)
    other = new_matter(api, caption="Other")
    first = new_order(api, matter["id"], title="First")
    new_order(api, other["id"], title="Elsewhere")
    second = new_order(api, matter["id"], title="Second")
    listed = fetched(api, f"/matters/{matter['id']}/orders")
    assert [item["id"] for item in listed["items"]] == [first["id"], second["id"]]
    assert listed["total"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "court_order", "title": "T", "signed_on": "2018-09-27", "entered_on": "2018-09-26"}, "entered_on"),
        ({"title": "T"}, "kind"),
        ({"kind": "court_order"}, "title"),
        ({"kind": "decree", "title": "T"}, "kind"),
        ({"kind": "court_order", "title": " \t "}, "title"),
        ({"kind": "court_order", "title": "T", "status": "released"}, "status"),
        ({"kind": "court_order", "title": "T", "signed_on": 20180927}, "signed_on"),
        ({"kind": "court_order", "title": "T", "supersedes_id": "1"}, "supersedes_id"),
        ({"kind": "court_order", "title": "T", "supersedes_id": 999}, "supersedes_id"),
        ({"kind": "court_order", "title": "T", "supersedes_id": 2**31}, "supersedes_id"),
        ({"kind": "court_order", "title": "T", "matter_id": 1}, "matter_id"),
    ],
)
def test_create_order_refuses_bad_fields(api: Any, session: Session, body: dict[str, Any], field: str) -> None:
    matter = new_matter(api)
    refused(api, session, "post", f"/matters/{matter['id']}/orders", body, status=422, field=field)


def test_order_may_be_entered_on_the_day_it_was_signed_or_later(api: Any) -> None:
    matter = new_matter(api)
    same_day = new_order(api, matter["id"], signed_on="2018-09-27", entered_on="2018-09-27")
    later = new_order(api, matter["id"], signed_on="2018-09-27", entered_on="2018-10-01")
    filed_before_signed = new_order(api, matter["id"], filed_on="2018-09-17", signed_on="2018-09-27")
    assert same_day["entered_on"] == "2018-09-27"
    assert later["entered_on"] == "2018-10-01"
    assert filed_before_signed["filed_on"] == "2018-09-17"


def test_order_on_unknown_matter_is_404(api: Any, session: Session) -> None:
    refused(api, session, "post", "/matters/999/orders", {"kind": "court_order", "title": "T"}, status=404)


def test_closed_matter_takes_no_orders(api: Any, session: Session) -> None:
    matter = new_matter(api, status="closed")
    refused(api, session, "post", f"/matters/{matter['id']}/orders", {"kind": "court_order", "title": "T"}, status=409)


def test_superseding_order_marks_the_earlier_one_modified(api: Any) -> None:
    matter = new_matter(api)
    earlier = new_order(api, matter["id"], title="September order")
    before = last_seq(api)
    later = new_order(api, matter["id"], title="Modified order", supersedes_id=earlier["id"])
    assert later["supersedes_id"] == earlier["id"]
    assert later["status"] == "active"
    stored = fetched(api, f"/orders/{earlier['id']}")
    assert stored["status"] == "modified"
    assert stored["superseded_by_id"] == later["id"]
    events = audit_events(api, before)
    assert [(event["action"], event["subject_id"]) for event in events] == [
        ("order.created", str(later["id"])),
        ("order.superseded", str(earlier["id"])),
    ]
    assert events[1]["details"] == {"superseded_by": later["id"], "status": {"from": "active", "to": "modified"}}
    assert {event["matter_id"] for event in events} == {matter["id"]}


def test_only_an_active_order_can_be_superseded(api: Any, session: Session) -> None:
    matter = new_matter(api)
    earlier = new_order(api, matter["id"])
    new_order(api, matter["id"], supersedes_id=earlier["id"])
    body = {"kind": "court_order", "title": "Again", "supersedes_id": earlier["id"]}
    refused(api, session, "post", f"/matters/{matter['id']}/orders", body, status=409, field="supersedes_id")


def test_released_order_cannot_be_superseded(api: Any, session: Session) -> None:
    matter = new_matter(api)
    earlier = new_order(api, matter["id"])
    assert api.post(f"{API}/orders/{earlier['id']}/release", json={"reason": "case settled"}).status_code == 200
    body = {"kind": "court_order", "title": "Late", "supersedes_id": earlier["id"]}
    refused(api, session, "post", f"/matters/{matter['id']}/orders", body, status=409, field="supersedes_id")


def test_order_of_another_matter_cannot_be_superseded(api: Any, session: Session) -> None:
    matter = new_matter(api)
    other = new_matter(api, caption="Other")
    foreign = new_order(api, other["id"])
    body = {"kind": "court_order", "title": "T", "supersedes_id": foreign["id"]}
    refused(api, session, "post", f"/matters/{matter['id']}/orders", body, status=422, field="supersedes_id")
    assert fetched(api, f"/orders/{foreign['id']}")["status"] == "active"
