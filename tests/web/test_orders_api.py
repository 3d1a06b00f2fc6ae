"""Orders: correcting them, releasing them, and the obligations carved out of them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.web.support import (
    API,
    audit_events,
    fetched,
    last_seq,
    new_custodian,
    new_matter,
    new_obligation,
    new_order,
    new_source,
    patched,
    refused,
    single_new_event,
)


@pytest.fixture
def order(api: Any) -> dict[str, Any]:
    """An active order signed on 27 September 2018."""
    matter = new_matter(api)
    return new_order(api, matter["id"], signed_on="2018-09-27", entered_on="2018-09-28")


def release(api: Any, order_id: int, reason: str = "case settled", **extra: Any) -> Any:
    return api.post(f"{API}/orders/{order_id}/release", json={"reason": reason, **extra})


# Reading and correcting -----------------------------------------------------------------------------


def test_get_order(api: Any, order: dict[str, Any]) -> None:
    assert fetched(api, f"/orders/{order['id']}") == order


def test_unknown_order_is_404(api: Any) -> None:
    for path in ("/orders/999", "/orders/999/obligations", "/orders/999/custodians"):
        assert api.get(f"{API}{path}").status_code == 404


def test_patch_order_records_the_diff(api: Any, order: dict[str, Any]) -> None:
    before = last_seq(api)
    changed = patched(api, f"/orders/{order['id']}", {"title": "Corrected title", "entered_on": "2018-10-01"})
    assert changed["title"] == "Corrected title"
    assert changed["entered_on"] == "2018-10-01"
    assert changed["signed_on"] == "2018-09-27"
    event = single_new_event(api, before)
    assert event["action"] == "order.updated"
    assert event["subject_id"] == str(order["id"])
    assert event["matter_id"] == order["matter_id"]
    assert event["details"] == {
        "changes": {
            "title": {"from": "Preservation order", "to": "Corrected title"},
            "entered_on": {"from": "2018-09-28", "to": "2018-10-01"},
        }
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # Checked against the stored signed_on (2018-09-27) and entered_on (2018-09-28).
        ({"entered_on": "2018-09-26"}, "entered_on"),
        ({"signed_on": "2018-09-29"}, "entered_on"),
        ({"signed_on": "2018-10-02", "entered_on": "2018-10-01"}, "entered_on"),
        ({"title": None}, "title"),
        ({"title": ""}, "title"),
        ({"title": "  "}, "title"),
        ({"kind": None}, "kind"),
        ({"kind": "decree"}, "kind"),
        ({"status": "released"}, "status"),
        ({"supersedes_id": 1}, "supersedes_id"),
        ({"released_on": "2020-01-01"}, "released_on"),
        ({"scope": "x" * 50_001}, "scope"),
        ({"docket_entry": "170\x07"}, "docket_entry"),
        ({"signed_on": "not a date"}, "signed_on"),
    ],
)
def test_patch_order_refuses_bad_fields(
    api: Any, session: Session, order: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    refused(api, session, "patch", f"/orders/{order['id']}", body, status=422, field=field)


def test_clearing_signed_on_lifts_the_date_rule(api: Any, order: dict[str, Any]) -> None:
    changed = patched(api, f"/orders/{order['id']}", {"signed_on": None, "entered_on": "2018-01-01"})
    assert changed["signed_on"] is None
    assert changed["entered_on"] == "2018-01-01"


def test_patch_unknown_order_is_404(api: Any, session: Session) -> None:
    refused(api, session, "patch", "/orders/999", {"title": "T"}, status=404)


# Release --------------------------------------------------------------------------------------------


def test_release_cascades_to_obligations_and_holds_in_one_event(api: Any, order: dict[str, Any]) -> None:
    open_obligation = new_obligation(api, order["id"])
    satisfied = new_obligation(api, order["id"], status="satisfied")
    custodian = new_custodian(api)
    hold = api.post(f"{API}/orders/{order['id']}/custodians", json={"custodian_id": custodian["id"]}).get_json()
    before = last_seq(api)

    response = release(api, order["id"], "case settled", released_on="2020-03-01")
    assert response.status_code == 200
    released = response.get_json()
    assert released["status"] == "released"
    assert released["released_on"] == "2020-03-01"
    assert released["release_reason"] == "case settled"
    assert released["released_by"] == "user:counsel@example.org"
    assert fetched(api, f"/orders/{order['id']}") == released

    obligations = fetched(api, f"/orders/{order['id']}/obligations")["items"]
    assert {item["id"]: item["status"] for item in obligations} == {
        open_obligation["id"]: "released",
        satisfied["id"]: "released",
    }
    holds = fetched(api, f"/orders/{order['id']}/custodians")["items"]
    assert [(item["id"], item["status"]) for item in holds] == [(hold["id"], "released")]
    assert holds[0]["released_at"] is not None

    # One event tells the release and its cascade; the custodian's release notice is a record of its own
    # (silent: this custodian was never sent the hold notice), and its template is saved on first use.
    events = audit_events(api, before)
    assert sorted(item["action"] for item in events) == [
        "custodian_notice.released",
        "notice_template.saved",
        "order.released",
    ]
    event = next(item for item in events if item["action"] == "order.released")
    assert event["subject_id"] == str(order["id"])
    assert event["matter_id"] == order["matter_id"]
    assert event["details"] == {
        "reason": "case settled",
        "released_on": "2020-03-01",
        "released_obligations": [open_obligation["id"], satisfied["id"]],
        "released_custodian_holds": [hold["id"]],
    }


def test_release_defaults_to_today(api: Any, order: dict[str, Any]) -> None:
    released = release(api, order["id"]).get_json()
    assert released["released_on"] == released["updated_at"][:10]


def test_release_twice_is_409(api: Any, session: Session, order: dict[str, Any]) -> None:
    assert release(api, order["id"]).status_code == 200
    refused(api, session, "post", f"/orders/{order['id']}/release", {"reason": "again"}, status=409)


def test_superseded_order_cannot_be_released(api: Any, session: Session, order: dict[str, Any]) -> None:
    new_order(api, order["matter_id"], supersedes_id=order["id"])
    refused(api, session, "post", f"/orders/{order['id']}/release", {"reason": "done"}, status=409)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": None}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": 42}, "reason"),
        ({"reason": "settled\x00"}, "reason"),
        ({"reason": "settled", "released_on": "soon"}, "released_on"),
        ({"reason": "settled", "released_by": "someone"}, "released_by"),
    ],
)
def test_release_needs_a_reason(
    api: Any, session: Session, order: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    refused(api, session, "post", f"/orders/{order['id']}/release", body, status=422, field=field)


def test_release_unknown_order_is_404(api: Any, session: Session) -> None:
    refused(api, session, "post", "/orders/999/release", {"reason": "settled"}, status=404)


def test_released_order_cannot_be_patched(api: Any, session: Session, order: dict[str, Any]) -> None:
    assert release(api, order["id"]).status_code == 200
    refused(api, session, "patch", f"/orders/{order['id']}", {"title": "Rewritten"}, status=409)


def test_released_order_takes_no_obligations_or_holds(api: Any, session: Session, order: dict[str, Any]) -> None:
    custodian = new_custodian(api)
    assert release(api, order["id"]).status_code == 200
    refused(api, session, "post", f"/orders/{order['id']}/obligations", {"description": "More"}, status=409)
    refused(api, session, "post", f"/orders/{order['id']}/custodians", {"custodian_id": custodian["id"]}, status=409)


def test_superseded_order_takes_no_obligations(api: Any, session: Session, order: dict[str, Any]) -> None:
    new_order(api, order["matter_id"], supersedes_id=order["id"])
    refused(api, session, "post", f"/orders/{order['id']}/obligations", {"description": "More"}, status=409)


# Obligations ----------------------------------------------------------------------------------------


def test_create_obligation_records_one_event(api: Any, order: dict[str, Any]) -> None:
    before = last_seq(api)
    body = {"due_on": "2018-10-11", "preserve_from": "2016-01-01", "preserve_until": "2018-09-27", "status": "open"}
    obligation = new_obligation(api, order["id"], **body)
    assert {name: obligation[name] for name in body} == body
    assert obligation["order_id"] == order["id"]
    assert obligation["data_source_ids"] == []
    assert fetched(api, f"/obligations/{obligation['id']}") == obligation
    event = single_new_event(api, before)
    assert event["action"] == "obligation.created"
    assert event["subject_type"] == "obligation"
    assert event["subject_id"] == str(obligation["id"])
    assert event["matter_id"] == order["matter_id"]
    assert event["details"] == {**body, "order_id": order["id"], "description": "Preserve POE video"}


def test_obligation_range_may_be_one_day_or_open_ended(api: Any, order: dict[str, Any]) -> None:
    one_day = new_obligation(api, order["id"], preserve_from="2018-01-01", preserve_until="2018-01-01")
    open_ended = new_obligation(api, order["id"], preserve_from="2018-01-01")
    assert one_day["preserve_until"] == "2018-01-01"
    assert open_ended["preserve_until"] is None
    assert open_ended["status"] == "open"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": "D", "preserve_from": "2018-01-02", "preserve_until": "2018-01-01"}, "preserve_until"),
        ({}, "description"),
        ({"description": None}, "description"),
        ({"description": "\n\t "}, "description"),
        ({"description": "x" * 20_001}, "description"),
        ({"description": "D", "status": "released"}, "status"),
        ({"description": "D", "status": "done"}, "status"),
        ({"description": "D", "due_on": True}, "due_on"),
        ({"description": "D", "data_source_ids": [1]}, "data_source_ids"),
        ({"description": "D", "order_id": 1}, "order_id"),
    ],
)
def test_create_obligation_refuses_bad_fields(
    api: Any, session: Session, order: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    refused(api, session, "post", f"/orders/{order['id']}/obligations", body, status=422, field=field)


def test_obligation_on_unknown_order_is_404(api: Any, session: Session) -> None:
    refused(api, session, "post", "/orders/999/obligations", {"description": "D"}, status=404)


def test_patch_obligation_records_the_diff(api: Any, order: dict[str, Any]) -> None:
    obligation = new_obligation(api, order["id"], preserve_from="2016-01-01")
    before = last_seq(api)
    changed = patched(api, f"/obligations/{obligation['id']}", {"preserve_until": "2018-12-31", "status": "satisfied"})
    assert changed["preserve_until"] == "2018-12-31"
    assert changed["status"] == "satisfied"
    event = single_new_event(api, before)
    assert event["action"] == "obligation.updated"
    assert event["matter_id"] == order["matter_id"]
    assert event["details"] == {
        "changes": {
            "preserve_until": {"from": None, "to": "2018-12-31"},
            "status": {"from": "open", "to": "satisfied"},
        }
    }


def test_releasing_one_obligation_freezes_it(api: Any, session: Session, order: dict[str, Any]) -> None:
    obligation = new_obligation(api, order["id"])
    before = last_seq(api)
    assert patched(api, f"/obligations/{obligation['id']}", {"status": "released"})["status"] == "released"
    assert single_new_event(api, before)["action"] == "obligation.released"
    refused(api, session, "patch", f"/obligations/{obligation['id']}", {"description": "Changed"}, status=409)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # Checked against the stored range 2016-01-01 .. 2018-12-31.
        ({"preserve_until": "2015-12-31"}, "preserve_until"),
        ({"preserve_from": "2019-01-01"}, "preserve_until"),
        ({"preserve_from": "2020-01-01", "preserve_until": "2019-01-01"}, "preserve_until"),
        ({"description": None}, "description"),
        ({"description": ""}, "description"),
        ({"status": None}, "status"),
        ({"status": "closed"}, "status"),
        ({"order_id": 2}, "order_id"),
        ({"preserve_from": "2016-02-30"}, "preserve_from"),
    ],
)
def test_patch_obligation_refuses_bad_fields(
    api: Any, session: Session, order: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    obligation = new_obligation(api, order["id"], preserve_from="2016-01-01", preserve_until="2018-12-31")
    refused(api, session, "patch", f"/obligations/{obligation['id']}", body, status=422, field=field)


def test_obligation_of_a_released_order_cannot_be_patched(api: Any, session: Session, order: dict[str, Any]) -> None:
    obligation = new_obligation(api, order["id"])
    assert release(api, order["id"]).status_code == 200
    refused(api, session, "patch", f"/obligations/{obligation['id']}", {"status": "open"}, status=409)


def test_unknown_obligation_is_404(api: Any, session: Session) -> None:
    assert api.get(f"{API}/obligations/999").status_code == 404
    refused(api, session, "patch", "/obligations/999", {"description": "D"}, status=404)
    source = new_source(api)
    refused(api, session, "post", "/obligations/999/data-sources", {"data_source_id": source["id"]}, status=404)


def test_list_obligations_of_an_order_only(api: Any, order: dict[str, Any]) -> None:
    other = new_order(api, order["matter_id"], title="Other order")
    first = new_obligation(api, order["id"], description="First")
    new_obligation(api, other["id"], description="Elsewhere")
    second = new_obligation(api, order["id"], description="Second")
    listed = fetched(api, f"/orders/{order['id']}/obligations")
    assert [item["id"] for item in listed["items"]] == [first["id"], second["id"]]
    assert listed["total"] == 2
