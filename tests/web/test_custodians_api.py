"""Custodians: unique emails, the management chain, and holds that bind them to orders."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.web.support import (
    API,
    fetched,
    last_seq,
    new_custodian,
    new_matter,
    new_order,
    patched,
    refused,
    single_new_event,
)


def test_create_custodian_records_one_event(api: Any) -> None:
    manager = new_custodian(api, "port.director@example.org", name="Port director")
    before = last_seq(api)
    body = {
        "name": "CCTV administrator",
        "email": "CCTV-Admin@Example.org",
        "title": "Surveillance systems administrator",
        "department": "Office of Field Operations",
        "manager_id": manager["id"],
        "employment_status": "departed",
        "end_date": "2019-06-30",
    }
    custodian = new_custodian(api, **body)
    assert {name: custodian[name] for name in body} == body
    assert fetched(api, f"/custodians/{custodian['id']}") == custodian
    event = single_new_event(api, before)
    assert event["action"] == "custodian.created"
    assert event["subject_type"] == "custodian"
    assert event["subject_id"] == str(custodian["id"])
    assert event["matter_id"] is None
    assert event["details"] == body


def test_employment_status_defaults_to_active(api: Any) -> None:
    assert new_custodian(api)["employment_status"] == "active"


@pytest.mark.parametrize("email", ["steward@example.org", "STEWARD@EXAMPLE.ORG", "Steward@Example.Org"])
def test_duplicate_email_differing_only_in_case_is_409(api: Any, session: Session, email: str) -> None:
    new_custodian(api, "steward@example.org")
    refused(api, session, "post", "/custodians", {"name": "Twin", "email": email}, status=409, field="email")


def test_patch_to_another_custodians_email_is_409(api: Any, session: Session) -> None:
    new_custodian(api, "first@example.org")
    second = new_custodian(api, "second@example.org")
    refused(
        api, session, "patch", f"/custodians/{second['id']}", {"email": "FIRST@example.org"}, status=409, field="email"
    )


def test_custodian_may_change_the_case_of_their_own_email(api: Any) -> None:
    custodian = new_custodian(api, "steward@example.org")
    before = last_seq(api)
    assert patched(api, f"/custodians/{custodian['id']}", {"email": "Steward@example.org"})["email"] == (
        "Steward@example.org"
    )
    event = single_new_event(api, before)
    assert event["details"] == {"changes": {"email": {"from": "steward@example.org", "to": "Steward@example.org"}}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "N"}, "email"),
        ({"email": "a@example.org"}, "name"),
        ({"name": "N", "email": "not-an-email"}, "email"),
        ({"name": "N", "email": "a b@example.org"}, "email"),
        ({"name": "N", "email": "a@example"}, "email"),
        ({"name": "N", "email": "   "}, "email"),
        ({"name": "N", "email": "a@example.org\x0b"}, "email"),
        ({"name": "N", "email": "a@" + "e" * 320 + ".org"}, "email"),
        ({"name": "", "email": "a@example.org"}, "name"),
        ({"name": "N", "email": "a@example.org", "manager_id": 999}, "manager_id"),
        ({"name": "N", "email": "a@example.org", "manager_id": 0}, "manager_id"),
        ({"name": "N", "email": "a@example.org", "employment_status": "retired"}, "employment_status"),
        ({"name": "N", "email": "a@example.org", "end_date": "2019-06-31"}, "end_date"),
        ({"name": "N", "email": "a@example.org", "email_normalized": "a@example.org"}, "email_normalized"),
    ],
)
def test_create_custodian_refuses_bad_fields(api: Any, session: Session, body: dict[str, Any], field: str) -> None:
    refused(api, session, "post", "/custodians", body, status=422, field=field)


def test_patch_custodian_records_the_diff(api: Any) -> None:
    manager = new_custodian(api, "director@example.org")
    custodian = new_custodian(api)
    before = last_seq(api)
    body = {"manager_id": manager["id"], "employment_status": "departed", "end_date": "2019-06-30"}
    changed = patched(api, f"/custodians/{custodian['id']}", body)
    assert {name: changed[name] for name in body} == body
    event = single_new_event(api, before)
    assert event["action"] == "custodian.updated"
    assert event["matter_id"] is None
    assert event["details"] == {
        "changes": {
            "manager_id": {"from": None, "to": manager["id"]},
            "employment_status": {"from": "active", "to": "departed"},
            "end_date": {"from": None, "to": "2019-06-30"},
        }
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"name": "  "}, "name"),
        ({"email": None}, "email"),
        ({"email": ""}, "email"),
        ({"email": "nobody"}, "email"),
        ({"manager_id": 999}, "manager_id"),
        ({"manager_id": "2"}, "manager_id"),
        ({"employment_status": None}, "employment_status"),
        ({"title": "t" * 301}, "title"),
        ({"department": "OFO\x1b[31m"}, "department"),
    ],
)
def test_patch_custodian_refuses_bad_fields(api: Any, session: Session, body: dict[str, Any], field: str) -> None:
    custodian = new_custodian(api)
    refused(api, session, "patch", f"/custodians/{custodian['id']}", body, status=422, field=field)


def test_custodian_cannot_manage_themselves(api: Any, session: Session) -> None:
    custodian = new_custodian(api)
    refused(
        api,
        session,
        "patch",
        f"/custodians/{custodian['id']}",
        {"manager_id": custodian["id"]},
        status=422,
        field="manager_id",
    )


def test_manager_cycle_is_refused(api: Any, session: Session) -> None:
    top = new_custodian(api, "top@example.org")
    middle = new_custodian(api, "middle@example.org", manager_id=top["id"])
    bottom = new_custodian(api, "bottom@example.org", manager_id=middle["id"])
    refused(
        api, session, "patch", f"/custodians/{top['id']}", {"manager_id": bottom["id"]}, status=422, field="manager_id"
    )
    refused(
        api, session, "patch", f"/custodians/{top['id']}", {"manager_id": middle["id"]}, status=422, field="manager_id"
    )


def test_manager_may_be_moved_within_a_tree_without_a_cycle(api: Any) -> None:
    top = new_custodian(api, "top@example.org")
    middle = new_custodian(api, "middle@example.org", manager_id=top["id"])
    bottom = new_custodian(api, "bottom@example.org", manager_id=middle["id"])
    assert patched(api, f"/custodians/{bottom['id']}", {"manager_id": top["id"]})["manager_id"] == top["id"]
    assert patched(api, f"/custodians/{middle['id']}", {"manager_id": bottom["id"]})["manager_id"] == bottom["id"]
    assert patched(api, f"/custodians/{top['id']}", {"manager_id": None})["manager_id"] is None


def test_unknown_custodian_is_404(api: Any, session: Session) -> None:
    assert api.get(f"{API}/custodians/999").status_code == 404
    refused(api, session, "patch", "/custodians/999", {"name": "N"}, status=404)


def test_list_custodians_filters_by_email_without_regard_to_case(api: Any) -> None:
    first = new_custodian(api, "first@example.org")
    second = new_custodian(api, "Second@Example.org")
    assert [item["id"] for item in fetched(api, "/custodians")["items"]] == [first["id"], second["id"]]
    listed = fetched(api, "/custodians?email=SECOND@example.ORG")
    assert [item["id"] for item in listed["items"]] == [second["id"]]
    assert listed["total"] == 1
    assert fetched(api, "/custodians?email=nobody@example.org")["total"] == 0


@pytest.mark.parametrize("email", ["a%00b@example.org", "x" * 321])
def test_list_custodians_refuses_a_bad_email_filter(api: Any, email: str) -> None:
    response = api.get(f"{API}/custodians?email={email}")
    assert response.status_code == 422
    assert "email" in response.get_json()["fields"]


# Holds -------------------------------------------------------------------------------------------


@pytest.fixture
def order(api: Any) -> dict[str, Any]:
    """An active order."""
    return new_order(api, new_matter(api)["id"])


def test_place_hold_records_one_event(api: Any, order: dict[str, Any]) -> None:
    custodian = new_custodian(api)
    before = last_seq(api)
    response = api.post(
        f"{API}/orders/{order['id']}/custodians", json={"custodian_id": custodian["id"], "role": "data_steward"}
    )
    assert response.status_code == 201
    hold = response.get_json()
    assert (hold["order_id"], hold["custodian_id"], hold["role"]) == (order["id"], custodian["id"], "data_steward")
    assert hold["status"] == "pending"
    assert hold["notice_sent_at"] is None
    assert hold["released_at"] is None
    event = single_new_event(api, before)
    assert event["action"] == "custodian_hold.created"
    assert event["subject_type"] == "custodian_hold"
    assert event["subject_id"] == str(hold["id"])
    assert event["matter_id"] == order["matter_id"]
    assert event["details"] == {"order_id": order["id"], "custodian_id": custodian["id"], "role": "data_steward"}


def test_hold_role_defaults_to_custodian_and_list_is_in_order(api: Any, order: dict[str, Any]) -> None:
    other_order = new_order(api, order["matter_id"], title="Other")
    first = new_custodian(api, "first@example.org")
    second = new_custodian(api, "second@example.org")
    holds = [
        api.post(f"{API}/orders/{order_id}/custodians", json={"custodian_id": custodian_id}).get_json()
        for order_id, custodian_id in ((order["id"], first["id"]), (other_order["id"], first["id"]))
    ]
    third = api.post(f"{API}/orders/{order['id']}/custodians", json={"custodian_id": second["id"]}).get_json()
    assert holds[0]["role"] == "custodian"
    listed = fetched(api, f"/orders/{order['id']}/custodians")
    assert [item["id"] for item in listed["items"]] == [holds[0]["id"], third["id"]]
    assert listed["total"] == 2


def test_same_custodian_twice_on_an_order_is_409(api: Any, session: Session, order: dict[str, Any]) -> None:
    custodian = new_custodian(api)
    path = f"/orders/{order['id']}/custodians"
    assert api.post(f"{API}{path}", json={"custodian_id": custodian["id"]}).status_code == 201
    refused(
        api,
        session,
        "post",
        path,
        {"custodian_id": custodian["id"], "role": "data_steward"},
        status=409,
        field="custodian_id",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "custodian_id"),
        ({"custodian_id": 999}, "custodian_id"),
        ({"custodian_id": None}, "custodian_id"),
        ({"custodian_id": "1"}, "custodian_id"),
        ({"custodian_id": 1, "role": "witness"}, "role"),
        ({"custodian_id": 1, "status": "acknowledged"}, "status"),
        ({"custodian_id": 1, "notice_sent_at": "2020-01-01T00:00:00+00:00"}, "notice_sent_at"),
    ],
)
def test_place_hold_refuses_bad_fields(
    api: Any, session: Session, order: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    new_custodian(api)
    refused(api, session, "post", f"/orders/{order['id']}/custodians", body, status=422, field=field)


def test_hold_on_unknown_order_is_404(api: Any, session: Session) -> None:
    custodian = new_custodian(api)
    refused(api, session, "post", "/orders/999/custodians", {"custodian_id": custodian["id"]}, status=404)
