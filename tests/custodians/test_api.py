"""The API of notices: the list of an order's custodians gains acknowledgement state, steward notices,
a custodian's holds across matters, and who may do what."""

from __future__ import annotations

from sqlalchemy.orm import Session

from preservation.services import custodians, sources
from preservation.services.unit import Unit
from tests.conftest import ApiClient
from tests.custodians.conftest import json_of, make_world


def test_order_custodians_show_acknowledgement_state(api: ApiClient, session: Session) -> None:
    unit = Unit(session=session, actor="test")
    world = make_world(unit)
    for custodian in (world.ana, world.ben, world.max):
        custodians.place_custodian_hold(unit, world.order_id, custodian.id)
    custodians.place_custodian_hold(unit, world.other_order_id, world.ana.id)
    session.commit()
    order_id, other_id, ana_id, max_id = world.order_id, world.other_order_id, world.ana.id, world.max.id
    session.rollback()

    listed = json_of(api.get(f"/api/v1/orders/{order_id}/custodians"))["items"]
    assert [h["acknowledgement"] for h in listed] == ["not_notified"] * 3
    refused = api.post(f"/api/v1/orders/{order_id}/notices", json={}, role="viewer")
    assert refused.status_code == 403
    unknown = api.post(f"/api/v1/orders/{order_id}/notices", json={"custodian_ids": [999]})
    assert unknown.status_code == 422
    issued = api.post(f"/api/v1/orders/{order_id}/notices", json={"silent_custodian_ids": [max_id]})
    assert issued.status_code == 201
    listed = json_of(api.get(f"/api/v1/orders/{order_id}/custodians"))["items"]
    assert [h["acknowledgement"] for h in listed] == ["awaiting", "awaiting", "silent"]
    assert [h["status"] for h in listed] == ["notified", "notified", "pending"]

    across = json_of(api.get(f"/api/v1/custodians/{ana_id}/holds", role="auditor"))["items"]
    states = [(h["order_id"], h["acknowledgement"]) for h in across]
    assert states == [(order_id, "awaiting"), (other_id, "not_notified")]
    assert across[0]["matter_caption"] == "Doe v. Border Agency"


def test_steward_notice_for_a_data_source(api: ApiClient, session: Session) -> None:
    unit = Unit(session=session, actor="test")
    world = make_world(unit)
    source = sources.create_data_source(
        unit,
        {
            "name": "San Ysidro camera archive",
            "kind": "manual",
            "location": "nvr://sanysidro/archive",
            "steward_id": world.ben.id,
            "natural_retention_days": 30,
        },
    )
    session.commit()
    source_id, order_id, ben_id = source.id, world.order_id, world.ben.id
    session.rollback()
    answer = api.post(f"/api/v1/data-sources/{source_id}/steward-notices", json={"order_id": order_id})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    notice = json_of(answer)
    assert notice["kind"] == "steward"
    assert notice["data_source_id"] == source_id
    assert "stop every automatic deletion" in notice["body"]
    assert "nvr://sanysidro/archive" in notice["body"]
    assert "it keeps data for 30 days" in notice["body"]
    holds = json_of(api.get(f"/api/v1/orders/{order_id}/custodians"))["items"]
    assert [(h["custodian_id"], h["role"]) for h in holds] == [(ben_id, "data_steward")]


def test_steward_notices_under_the_old_path_still_work_and_are_marked_deprecated(
    api: ApiClient, session: Session
) -> None:
    unit = Unit(session=session, actor="test")
    world = make_world(unit)
    source = sources.create_data_source(
        unit, {"name": "Archive", "kind": "manual", "location": "nvr://a", "steward_id": world.ben.id}
    )
    session.commit()
    source_id, order_id = source.id, world.order_id
    session.rollback()
    for path in (f"/api/v1/sources/{source_id}/steward-notices", f"/api/v1/data-sources/{source_id}/steward-notices"):
        assert api.post(path, json={"order_id": order_id}, role="viewer").status_code == 403
        assert api.post(path, json={"order_id": order_id}, role=None).status_code == 401
    old = api.post(f"/api/v1/sources/{source_id}/steward-notices", json={"order_id": order_id})
    assert old.status_code == 201, old.get_data(as_text=True)
    assert json_of(old)["kind"] == "steward"
    paths = json_of(api.get("/api/openapi.json", role=None))["paths"]
    assert paths["/api/v1/sources/{source_id}/steward-notices"]["post"]["deprecated"] is True
    current = paths["/api/v1/data-sources/{source_id}/steward-notices"]["post"]
    assert not current.get("deprecated", False)
    assert current["responses"].keys() >= {"201", "403", "409", "422"}
