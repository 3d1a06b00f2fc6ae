"""Helpers of the API tests: create records through the API, read the audit trail, prove nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

API = "/api/v1"

# Every table a request could write, except api_tokens: each request stamps its token's last use.
STATE_TABLES = (
    "matters",
    "preservation_orders",
    "obligations",
    "data_sources",
    "obligation_data_sources",
    "custodians",
    "custodian_holds",
    "users",
    "audit_events",
)


def created(api: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a body that must be accepted; the new record."""
    response = api.post(f"{API}{path}", json=body)
    assert response.status_code == 201, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def fetched(api: Any, path: str) -> dict[str, Any]:
    """GET a record that must exist."""
    response = api.get(f"{API}{path}")
    assert response.status_code == 200, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def patched(api: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """PATCH a change that must be accepted."""
    response = api.patch(f"{API}{path}", json=body)
    assert response.status_code == 200, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def new_matter(api: Any, **fields: Any) -> dict[str, Any]:
    """A matter with a caption unless told."""
    return created(api, "/matters", {"caption": "Al Otro Lado, Inc. v. Nielsen", **fields})


def new_order(api: Any, matter_id: int, **fields: Any) -> dict[str, Any]:
    """An active court order on a matter."""
    body = {"kind": "court_order", "title": "Preservation order", **fields}
    return created(api, f"/matters/{matter_id}/orders", body)


def new_obligation(api: Any, order_id: int, **fields: Any) -> dict[str, Any]:
    """An obligation carved out of an order."""
    return created(api, f"/orders/{order_id}/obligations", {"description": "Preserve POE video", **fields})


def new_source(api: Any, **fields: Any) -> dict[str, Any]:
    """An S3 data source unless told."""
    body = {"name": "San Ysidro recordings", "kind": "s3", "location": "s3://poe-video/recordings/", **fields}
    return created(api, "/data-sources", body)


def new_custodian(api: Any, email: str = "steward@example.org", **fields: Any) -> dict[str, Any]:
    """A custodian with a unique email."""
    return created(api, "/custodians", {"name": "CCTV administrator", "email": email, **fields})


def audit_events(api: Any, after_seq: int = 0, **filters: Any) -> list[dict[str, Any]]:
    """Every audit event after a seq, following the cursor to the end."""
    events: list[dict[str, Any]] = []
    cursor: int | None = after_seq
    while cursor is not None:
        response = api.get(f"{API}/audit/events", query_string={"after_seq": cursor, "limit": 1000, **filters})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        events.extend(body["items"])
        cursor = body["next_after_seq"]
    return events


def last_seq(api: Any) -> int:
    """The seq of the newest audit event."""
    events = audit_events(api)
    return int(events[-1]["seq"]) if events else 0


def single_new_event(api: Any, after_seq: int) -> dict[str, Any]:
    """The one event written after a seq; fails when there is none or more than one."""
    events = audit_events(api, after_seq)
    assert len(events) == 1, [event["action"] for event in events]
    return events[0]


def database_state(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a request could change, read in a transaction that ends at once."""
    try:
        return {
            table: sorted((tuple(row) for row in session.execute(text(f"SELECT * FROM {table}"))), key=repr)  # noqa: S608 (fixed names)
            for table in STATE_TABLES
        }
    finally:
        session.rollback()


@contextmanager
def nothing_changes(session: Session) -> Iterator[None]:
    """Assert the block leaves every row, and the audit trail, as it found them."""
    before = database_state(session)
    yield
    after = database_state(session)
    for table in STATE_TABLES:
        assert after[table] == before[table], f"{table} changed"


def refused(
    api: Any,
    session: Session,
    method: str,
    path: str,
    body: Any,
    *,
    status: int,
    field: str | None = None,
) -> dict[str, Any]:
    """Send a request that must be refused with `status`, naming `field`, and changing nothing."""
    with nothing_changes(session):
        response = getattr(api, method)(f"{API}{path}", json=body)
    assert response.status_code == status, response.get_json()
    error: dict[str, Any] = response.get_json()
    assert error["status"] == status
    if field is not None:
        assert field in error["fields"], error
        assert all(reason for reason in error["fields"][field])
    return error
