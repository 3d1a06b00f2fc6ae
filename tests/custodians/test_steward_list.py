"""The data-source list shows each source's steward notices at a fixed number of queries, the same states a
single source's representation shows."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from preservation.services import custodian_notices, orders, sources
from preservation.services.notice_mail import NoticePolicy
from preservation.services.unit import Unit
from tests.conftest import ApiClient
from tests.custodians.conftest import World, json_of, make_world
from tests.pages.test_query_counts import counting


def _add_sources(unit: Unit, world: World, policy: NoticePolicy, first: int, count: int) -> None:
    """Sources with a steward each, noticed under the active order; every third one confirmed, every fourth
    one noticed under an order released since (its notice no longer binds)."""
    released = orders.create_order(unit, world.matter_id, {"kind": "litigation_hold", "title": f"Hold {first}"})
    for index in range(first, first + count):
        steward = (world.ana, world.ben, world.max)[index % 3]
        fields = {"name": f"Camera archive {index}", "kind": "manual", "location": f"nvr://{index}"}
        source = sources.create_data_source(unit, fields | {"steward_id": steward.id})
        order_id = released.id if index % 4 == 3 else world.order_id
        notice = custodian_notices.issue_steward_notice(unit, order_id, source.id, policy)
        if index % 3 == 0:
            custodian_notices.acknowledge(unit, notice)
    orders.release_order(unit, released.id, "superseded by the court's order")
    unit.session.commit()


def _listed(app: Flask, api: ApiClient) -> tuple[list[dict[str, Any]], int]:
    path = "/api/v1/data-sources?per_page=100"
    api.get(path)  # the first call may warm caches; count the second
    with counting(app) as statements:
        answer = api.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return json_of(answer)["items"], len(statements)


def test_the_list_costs_the_same_queries_however_many_sources_and_agrees_with_each_source(
    app: Flask, api: ApiClient, session: Session, policy: NoticePolicy
) -> None:
    unit = Unit(session=session, actor="user:counsel@example.org")
    world = make_world(unit)
    _add_sources(unit, world, policy, 0, 4)
    small_items, small = _listed(app, api)
    _add_sources(unit, world, policy, 4, 20)
    items, large = _listed(app, api)

    assert len(small_items) == 4
    assert len(items) == 24
    assert large == small
    states = {item["steward_notice"]["state"] for item in items}
    assert states == {"awaiting", "confirmed", "none"}, states
    for item in items:
        alone = json_of(api.get(f"/api/v1/data-sources/{item['id']}"))
        assert item["steward_notice"] == alone["steward_notice"], item["name"]
    confirmed = [item for item in items if item["steward_notice"]["state"] == "confirmed"]
    assert all(item["steward_notice"]["confirmed_at"] for item in confirmed)
