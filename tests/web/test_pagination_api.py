"""Every list: a stable order, a total, and page bounds that are enforced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from sqlalchemy.orm import Session

from tests.web.support import (
    API,
    created,
    fetched,
    new_custodian,
    new_matter,
    new_obligation,
    new_order,
    new_source,
    nothing_changes,
    patched,
)

ROWS = 5


class Listing(NamedTuple):
    """A list route, how to add one row to it, and the path that changes that row."""

    name: str
    path: str
    add: Callable[[Any, dict[str, int], int], dict[str, Any]]
    record_path: str


def _hold(api: Any, world: dict[str, int], n: int) -> dict[str, Any]:
    custodian = new_custodian(api, f"held{n}@example.org")
    return created(api, f"/orders/{world['order']}/custodians", {"custodian_id": custodian["id"]})


LISTINGS = [
    Listing("matters", "/matters", lambda api, _, n: new_matter(api, caption=f"Matter {n}"), "/matters/{id}"),
    Listing(
        "orders",
        "/matters/{matter}/orders",
        lambda api, w, n: new_order(api, w["matter"], title=f"Order {n}"),
        "/orders/{id}",
    ),
    Listing(
        "obligations",
        "/orders/{order}/obligations",
        lambda api, w, n: new_obligation(api, w["order"], description=f"Duty {n}"),
        "/obligations/{id}",
    ),
    Listing(
        "data-sources",
        "/data-sources",
        lambda api, _, n: new_source(api, name=f"Source {n}", location=f"s3://poe-video-{n}"),
        "/data-sources/{id}",
    ),
    Listing("custodians", "/custodians", lambda api, _, n: new_custodian(api, f"c{n}@example.org"), "/custodians/{id}"),
    Listing("holds", "/orders/{order}/custodians", _hold, ""),
]
listings = pytest.mark.parametrize("listing", LISTINGS, ids=[listing.name for listing in LISTINGS])


@pytest.fixture
def world(api: Any) -> dict[str, int]:
    """A matter with an order, for the lists that hang from them; they count as rows of their own lists."""
    matter = new_matter(api, caption="Matter 0")
    return {"matter": matter["id"], "order": new_order(api, matter["id"], title="Order 0")["id"]}


def filled(api: Any, world: dict[str, int], listing: Listing) -> tuple[str, list[int]]:
    """The list's path and the ids of its rows, oldest first, after adding rows until there are ROWS."""
    path = listing.path.format(**world)
    existing = [item["id"] for item in fetched(api, path)["items"]]
    added = [listing.add(api, world, n)["id"] for n in range(1, ROWS + 1 - len(existing))]
    return path, existing + added


@listings
def test_pages_follow_creation_order_and_count_the_whole_list(
    api: Any, world: dict[str, int], listing: Listing
) -> None:
    path, ids = filled(api, world, listing)
    assert len(ids) == ROWS
    assert ids == sorted(ids)
    seen: list[int] = []
    for page in (1, 2, 3):
        body = fetched(api, f"{path}?page={page}&per_page=2")
        assert (body["page"], body["per_page"], body["total"]) == (page, 2, ROWS)
        seen.extend(item["id"] for item in body["items"])
    assert seen == ids
    beyond = fetched(api, f"{path}?page=4&per_page=2")
    assert beyond["items"] == []
    assert beyond["total"] == ROWS


@listings
def test_default_page_holds_fifty(api: Any, world: dict[str, int], listing: Listing) -> None:
    path, ids = filled(api, world, listing)
    body = fetched(api, path)
    assert (body["page"], body["per_page"], body["total"]) == (1, 50, ROWS)
    assert [item["id"] for item in body["items"]] == ids


@listings
def test_changing_a_row_does_not_move_it(api: Any, world: dict[str, int], listing: Listing) -> None:
    path, ids = filled(api, world, listing)
    if listing.record_path:
        field = {
            "matters": "caption",
            "orders": "title",
            "obligations": "description",
            "data-sources": "name",
            "custodians": "name",
        }[listing.name]
        patched(api, listing.record_path.format(id=ids[0]), {field: "Changed last"})
    assert [item["id"] for item in fetched(api, f"{path}?per_page=200")["items"]] == ids


@listings
def test_page_bounds_are_enforced(api: Any, session: Session, world: dict[str, int], listing: Listing) -> None:
    path = listing.path.format(**world)
    assert fetched(api, f"{path}?per_page=200")["per_page"] == 200
    assert fetched(api, f"{path}?per_page=1")["per_page"] == 1
    assert fetched(api, f"{path}?page=1000000")["items"] == []
    bad = {
        "per_page": ["0", "201", "-1", "1.5", "ten", "", "1e2", "99999999999999999999"],
        "page": ["0", "-1", "1000001", "two", "", "1.0"],
    }
    for name, values in bad.items():
        for value in values:
            with nothing_changes(session):
                response = api.get(f"{API}{path}", query_string={name: value})
            assert response.status_code == 422, (name, value)
            error = response.get_json()
            assert error["code"] == "validation_error"
            assert name in error["fields"], error


@pytest.mark.parametrize("role", ["viewer", "auditor", "counsel", "admin"])
def test_every_role_may_read_lists(api: Any, world: dict[str, int], role: str) -> None:
    for listing in LISTINGS:
        response = api.get(f"{API}{listing.path.format(**world)}", role=role)
        assert response.status_code == 200, listing.name


def test_reads_change_nothing(api: Any, session: Session, world: dict[str, int]) -> None:
    obligation = new_obligation(api, world["order"])
    source = new_source(api)
    custodian = new_custodian(api)
    paths = [listing.path.format(**world) for listing in LISTINGS] + [
        f"/matters/{world['matter']}",
        f"/orders/{world['order']}",
        f"/obligations/{obligation['id']}",
        f"/data-sources/{source['id']}",
        f"/custodians/{custodian['id']}",
        "/audit/events",
    ]
    with nothing_changes(session):
        for path in paths:
            assert api.get(f"{API}{path}", role="viewer").status_code == 200, path
