"""The audit trail through the API: one event per change, chained, filtered and paged by seq."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import pytest
from sqlalchemy.orm import Session

from preservation.domain.audit_chain import GENESIS_HASH, canonical_json
from tests.web.support import (
    API,
    audit_events,
    created,
    fetched,
    last_seq,
    new_custodian,
    new_matter,
    new_obligation,
    new_order,
    new_source,
    nothing_changes,
    patched,
)


def workload(api: Any) -> dict[str, int]:
    """A mixed run of changes over two matters; returns the ids it made."""
    first = new_matter(api, caption="First")
    second = new_matter(api, caption="Second")
    order = new_order(api, first["id"])
    other_order = new_order(api, second["id"])
    obligation = new_obligation(api, order["id"])
    source = new_source(api)
    custodian = new_custodian(api)
    created(api, f"/obligations/{obligation['id']}/data-sources", {"data_source_id": source["id"]})
    created(api, f"/orders/{order['id']}/custodians", {"custodian_id": custodian["id"]})
    patched(api, f"/matters/{second['id']}", {"judge": "Judge Crawford"})
    new_order(api, second["id"], title="Modified", supersedes_id=other_order["id"])
    assert api.post(f"{API}/orders/{order['id']}/release", json={"reason": "settled"}).status_code == 200
    return {"first": first["id"], "second": second["id"], "order": order["id"], "other_order": other_order["id"]}


def test_each_change_writes_exactly_one_event_with_its_action_and_matter(api: Any) -> None:
    """Walk a workflow step by step; after each step exactly the expected events exist."""
    matter = new_matter(api)
    mid = matter["id"]
    order = new_order(api, mid)
    obligation = new_obligation(api, order["id"])
    source = new_source(api)
    custodian = new_custodian(api)
    steps: list[tuple[str, str, dict[str, Any], str | list[str], int | None]] = [
        ("patch", f"/matters/{mid}", {"court": "S.D. Cal."}, "matter.updated", mid),
        ("patch", f"/orders/{order['id']}", {"docket_entry": "170"}, "order.updated", mid),
        ("post", f"/orders/{order['id']}/obligations", {"description": "More"}, "obligation.created", mid),
        ("patch", f"/obligations/{obligation['id']}", {"due_on": "2018-10-11"}, "obligation.updated", mid),
        (
            "post",
            f"/obligations/{obligation['id']}/data-sources",
            {"data_source_id": source["id"]},
            "obligation.source_linked",
            mid,
        ),
        ("patch", f"/data-sources/{source['id']}", {"region": "us-west-2"}, "data_source.updated", None),
        ("post", "/custodians", {"name": "Second", "email": "second@example.org"}, "custodian.created", None),
        ("patch", f"/custodians/{custodian['id']}", {"title": "Administrator"}, "custodian.updated", None),
        (
            "post",
            f"/orders/{order['id']}/custodians",
            {"custodian_id": custodian["id"]},
            "custodian_hold.created",
            mid,
        ),
        # the release notice of the one hold, and its default template saved on first use, come with it
        (
            "post",
            f"/orders/{order['id']}/release",
            {"reason": "settled"},
            ["order.released", "notice_template.saved", "custodian_notice.released"],
            mid,
        ),
        ("post", f"/data-sources/{source['id']}/retire", {"reason": "replaced"}, "data_source.retired", None),
    ]
    for method, path, body, action, matter_id in steps:
        before = last_seq(api)
        response = getattr(api, method)(f"{API}{path}", json=body)
        assert response.status_code in {200, 201}, (path, response.get_json())
        events = audit_events(api, before)
        actions = [action] if isinstance(action, str) else action
        assert [event["action"] for event in events] == actions, path
        assert events[0]["matter_id"] == matter_id, path
        assert events[0]["seq"] == before + 1
        assert events[0]["actor"] == "user:counsel@example.org"


def test_the_chain_links_every_event_to_the_one_before(api: Any) -> None:
    workload(api)
    events = audit_events(api)
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    assert events[0]["prev_hash"] == GENESIS_HASH
    for previous, event in itertools.pairwise(events):
        assert event["prev_hash"] == previous["hash"], event["seq"]
    for event in events:
        hashed = {name: value for name, value in event.items() if name != "hash"}
        assert hashlib.sha256(canonical_json(hashed).encode()).hexdigest() == event["hash"], event["seq"]
    assert len({event["hash"] for event in events}) == len(events)


def test_each_matter_has_a_chain_of_its_own(api: Any) -> None:
    ids = workload(api)
    events = audit_events(api)
    outside = [event for event in events if event["matter_id"] is None]
    assert {event["action"] for event in outside} >= {"user.created", "data_source.created", "custodian.created"}
    assert all(event["matter_seq"] is None and event["matter_prev_hash"] is None for event in outside)
    for matter_id in (ids["first"], ids["second"]):
        own = [event for event in events if event["matter_id"] == matter_id]
        assert len(own) >= 3
        assert [event["matter_seq"] for event in own] == list(range(1, len(own) + 1))
        assert own[0]["matter_prev_hash"] == GENESIS_HASH
        for previous, event in itertools.pairwise(own):
            assert event["matter_prev_hash"] == previous["hash"]


def test_filter_by_matter(api: Any) -> None:
    ids = workload(api)
    everything = audit_events(api)
    for matter_id in (ids["first"], ids["second"]):
        filtered = audit_events(api, matter_id=matter_id)
        assert filtered == [event for event in everything if event["matter_id"] == matter_id]
    assert [event["action"] for event in audit_events(api, matter_id=ids["second"])] == [
        "matter.created",
        "order.created",
        "matter.updated",
        "order.created",
        "order.superseded",
    ]
    assert audit_events(api, matter_id=999) == []


def test_filter_by_time_range(api: Any) -> None:
    workload(api)
    events = audit_events(api)
    middle = events[len(events) // 2]
    later = audit_events(api, since=middle["occurred_at"])
    earlier = audit_events(api, until=middle["occurred_at"])
    assert later[0] == middle
    assert earlier[-1]["seq"] < middle["seq"]
    assert earlier + later == events
    window = audit_events(api, since=events[-6]["occurred_at"], until=events[-3]["occurred_at"])
    assert window == events[-6:-3]
    assert audit_events(api, since="2999-01-01T00:00:00+00:00") == []
    assert audit_events(api, until="2000-01-01T00:00:00-05:00") == []


def test_pages_follow_seq_with_a_cursor(api: Any) -> None:
    workload(api)
    everything = audit_events(api)
    pages: list[list[int]] = []
    cursor: int | None = 0
    while cursor is not None:
        body = fetched(api, f"/audit/events?after_seq={cursor}&limit=4")
        seqs = [event["seq"] for event in body["items"]]
        pages.append(seqs)
        assert body["next_after_seq"] in {None, seqs[-1]}
        cursor = body["next_after_seq"]
    assert [seq for page in pages for seq in page] == [event["seq"] for event in everything]
    assert all(len(page) == 4 for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= 4


def test_cursor_is_null_on_an_exact_last_page(api: Any) -> None:
    total = len(audit_events(api))
    body = fetched(api, f"/audit/events?limit={total}")
    assert len(body["items"]) == total
    assert body["next_after_seq"] is None
    short = fetched(api, f"/audit/events?limit={total - 1}")
    assert short["next_after_seq"] == total - 1
    assert fetched(api, f"/audit/events?after_seq={total}")["items"] == []


def test_cursor_with_a_matter_filter_skips_other_matters(api: Any) -> None:
    ids = workload(api)
    own = audit_events(api, matter_id=ids["first"])
    body = fetched(api, f"/audit/events?matter_id={ids['first']}&limit=2")
    assert body["items"] == own[:2]
    assert body["next_after_seq"] == own[1]["seq"]
    rest = fetched(api, f"/audit/events?matter_id={ids['first']}&after_seq={body['next_after_seq']}&limit=1000")
    assert rest["items"] == own[2:]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "0"),
        ("limit", "1001"),
        ("limit", "many"),
        ("after_seq", "-1"),
        ("after_seq", str(2**62 + 1)),
        ("after_seq", "1.5"),
        ("matter_id", "0"),
        ("matter_id", str(2**31)),
        ("matter_id", "first"),
        ("since", "2020-01-01T00:00:00"),
        ("since", "yesterday"),
        ("since", "9999-12-31T23:59:59-05:00"),
        ("until", "0001-01-01T00:00:00+05:00"),
        ("until", "2020-02-30T00:00:00Z"),
    ],
)
def test_bad_filters_are_refused(api: Any, session: Session, name: str, value: str) -> None:
    with nothing_changes(session):
        response = api.get(f"{API}/audit/events", query_string={name: value})
    assert response.status_code == 422
    assert name in response.get_json()["fields"]


def test_limit_bounds_are_inclusive(api: Any) -> None:
    assert len(fetched(api, "/audit/events?limit=1")["items"]) == 1
    assert fetched(api, "/audit/events?limit=1000")["next_after_seq"] is None


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_readers_see_the_trail_but_write_nothing(api: Any, role: str) -> None:
    response = api.get(f"{API}/audit/events", role=role)
    assert response.status_code == 200
    assert response.get_json()["items"][0]["action"] == "user.created"
    refusal = api.post(f"{API}/matters", json={"caption": "C"}, role=role)
    assert refusal.status_code == 403
