"""Bad input on every write route: a 4xx JSON answer naming the field, and nothing changed."""

from __future__ import annotations

import json
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
    refused,
)

MAX_BODY = 1024 * 1024


@pytest.fixture
def world(api: Any) -> dict[str, int]:
    """One record of each kind, to aim requests at."""
    matter = new_matter(api)
    order = new_order(api, matter["id"])
    return {
        "matter": matter["id"],
        "order": order["id"],
        "obligation": new_obligation(api, order["id"])["id"],
        "source": new_source(api)["id"],
        "custodian": new_custodian(api)["id"],
        "other_custodian": new_custodian(api, "other@example.org")["id"],
    }


def fill(world: dict[str, int], value: Any) -> Any:
    """A value with a "{name}" placeholder replaced by that record's id."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return world[value[1:-1]]
    return value


class Route(NamedTuple):
    """A write route and a body it accepts; "{name}" stands for the id of a record of the world."""

    method: str
    path: str
    body: dict[str, Any]

    def aimed(self, world: dict[str, int]) -> tuple[str, dict[str, Any]]:
        """The path and body with the world's ids filled in."""
        return self.path.format(**world), {name: fill(world, value) for name, value in self.body.items()}


WRITE_ROUTES = [
    Route("post", "/matters", {"caption": "C"}),
    Route("patch", "/matters/{matter}", {"caption": "C"}),
    Route("post", "/matters/{matter}/orders", {"kind": "stipulation", "title": "T"}),
    Route("patch", "/orders/{order}", {"title": "T"}),
    Route("post", "/orders/{order}/release", {"reason": "settled"}),
    Route("post", "/orders/{order}/obligations", {"description": "D"}),
    Route("patch", "/obligations/{obligation}", {"description": "D"}),
    Route("post", "/obligations/{obligation}/data-sources", {"data_source_id": "{source}"}),
    Route("post", "/data-sources", {"name": "N", "kind": "manual", "location": "Room 2"}),
    Route("patch", "/data-sources/{source}", {"name": "N"}),
    Route("post", "/data-sources/{source}/retire", {"reason": "gone"}),
    Route("post", "/custodians", {"name": "N", "email": "new@example.org"}),
    Route("patch", "/custodians/{custodian}", {"name": "N"}),
    Route("post", "/orders/{order}/custodians", {"custodian_id": "{other_custodian}"}),
]
write_routes = pytest.mark.parametrize("route", WRITE_ROUTES, ids=[f"{r.method} {r.path}" for r in WRITE_ROUTES])


@write_routes
def test_unknown_field_is_refused(api: Any, session: Session, world: dict[str, int], route: Route) -> None:
    path, body = route.aimed(world)
    error = refused(api, session, route.method, path, {**body, "unexpected": 1}, status=422, field="unexpected")
    assert error["code"] == "validation_error"
    assert "unexpected" in error["message"]
    # Without the stray field the same body goes through: the refusal was about that field alone.
    response = getattr(api, route.method)(f"{API}{path}", json=body)
    assert response.status_code in {200, 201}, response.get_json()


@write_routes
def test_invalid_json_is_400(api: Any, session: Session, world: dict[str, int], route: Route) -> None:
    path, _ = route.aimed(world)
    for raw in ('{"caption": ', "{'caption': 'x'}", "nul\x00", '{"a": 1} trailing', b"\xff\xfe{}"):
        with nothing_changes(session):
            response = getattr(api, route.method)(f"{API}{path}", data=raw, content_type="application/json")
        assert response.status_code == 400, raw
        error = response.get_json()
        assert error["code"] == "invalid_json"
        assert "_body" in error["fields"]


@write_routes
def test_body_over_one_mebibyte_is_413(api: Any, session: Session, world: dict[str, int], route: Route) -> None:
    path, body = route.aimed(world)
    padded = json.dumps({**body, "padding": "x" * MAX_BODY})
    with nothing_changes(session):
        response = getattr(api, route.method)(f"{API}{path}", data=padded, content_type="application/json")
    assert response.status_code == 413
    error = response.get_json()
    assert error["code"] == "request_entity_too_large"
    assert str(MAX_BODY) in error["message"]


def test_body_just_under_the_limit_is_read_and_judged(api: Any, session: Session) -> None:
    body = json.dumps({"caption": "x" * (MAX_BODY - 20)})
    assert len(body) <= MAX_BODY
    with nothing_changes(session):
        response = api.post(f"{API}/matters", data=body, content_type="application/json")
    assert response.status_code == 422
    assert "caption" in response.get_json()["fields"]


@write_routes
def test_body_that_is_not_an_object_is_refused(api: Any, session: Session, world: dict[str, int], route: Route) -> None:
    path, body = route.aimed(world)
    for document in ([], [body], "caption", 42, True):
        refused(api, session, route.method, path, document, status=422, field="_schema")


def test_form_encoded_body_is_not_read_as_fields(api: Any, session: Session) -> None:
    with nothing_changes(session):
        response = api.post(f"{API}/matters", data={"caption": "Form"})
    assert response.status_code == 422
    assert "caption" in response.get_json()["fields"]


# Strings: length limits, control characters, blanks --------------------------------------------------


class TextField(NamedTuple):
    """A string field of a create route, with a body that is valid without it, and its length limit."""

    path: str
    body: dict[str, Any]
    field: str
    limit: int


TEXT_FIELDS = [
    TextField("/matters", {}, "caption", 500),
    TextField("/matters", {"caption": "C"}, "docket_number", 100),
    TextField("/matters", {"caption": "C"}, "court", 200),
    TextField("/matters", {"caption": "C"}, "judge", 200),
    TextField("/matters", {"caption": "C"}, "trigger_description", 10_000),
    TextField("/matters", {"caption": "C"}, "trigger_decided_by", 200),
    TextField("/matters", {"caption": "C"}, "description", 10_000),
    TextField("/matters/{matter}/orders", {"kind": "court_order"}, "title", 500),
    TextField("/matters/{matter}/orders", {"kind": "court_order", "title": "T"}, "docket_entry", 100),
    TextField("/matters/{matter}/orders", {"kind": "court_order", "title": "T"}, "issued_by", 200),
    TextField("/matters/{matter}/orders", {"kind": "court_order", "title": "T"}, "scope", 50_000),
    TextField("/orders/{order}/obligations", {}, "description", 20_000),
    TextField("/data-sources", {"kind": "manual", "location": "Room 2"}, "name", 300),
    TextField("/data-sources", {"name": "N", "kind": "manual"}, "location", 2048),
    TextField("/data-sources", {"name": "N", "kind": "manual", "location": "Room 2"}, "description", 10_000),
    TextField("/custodians", {"email": "n@example.org"}, "name", 300),
    TextField("/custodians", {"name": "N", "email": "n@example.org"}, "title", 300),
    TextField("/custodians", {"name": "N", "email": "n@example.org"}, "department", 300),
]
text_fields = pytest.mark.parametrize("case", TEXT_FIELDS, ids=[f"{t.path} {t.field}" for t in TEXT_FIELDS])


@text_fields
def test_string_at_its_limit_is_stored_whole(api: Any, world: dict[str, int], case: TextField) -> None:
    # Two-byte characters: the limit counts characters, and every database must store them all.
    value = "é" * (case.limit - 1) + "x"
    record = created(api, case.path.format(**world), {**case.body, case.field: value})
    assert record[case.field] == value


@text_fields
def test_string_over_its_limit_is_refused(api: Any, session: Session, world: dict[str, int], case: TextField) -> None:
    body = {**case.body, case.field: "x" * (case.limit + 1)}
    refused(api, session, "post", case.path.format(**world), body, status=422, field=case.field)


@text_fields
def test_control_characters_are_refused(api: Any, session: Session, world: dict[str, int], case: TextField) -> None:
    for bad in ("\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f"):
        body = {**case.body, case.field: f"a{bad}b"}
        refused(api, session, "post", case.path.format(**world), body, status=422, field=case.field)


def test_longest_email_is_stored_whole(api: Any) -> None:
    email = "a" * 64 + "@" + "e" * (320 - 64 - 1 - 4) + ".org"
    assert len(email) == 320
    assert new_custodian(api, email)["email"] == email
    assert fetched(api, "/custodians?email=" + email.upper())["total"] == 1


def test_tabs_newlines_and_non_ascii_are_kept(api: Any) -> None:
    description = "Línea 1\r\n\tSan Ysidro → Otay Mesa 🎥"
    matter = new_matter(api, caption="Al Otro Lado, Inc. v. Nielsen — «POE»", description=description)
    assert fetched(api, f"/matters/{matter['id']}")["description"] == description


class Field(NamedTuple):
    """A field of a write route, with a body that is valid without the field."""

    method: str
    path: str
    body: dict[str, Any]
    field: str


REQUIRED_STRINGS = [
    Field("post", "/matters", {}, "caption"),
    Field("patch", "/matters/{matter}", {}, "caption"),
    Field("post", "/matters/{matter}/orders", {"kind": "court_order"}, "title"),
    Field("patch", "/orders/{order}", {}, "title"),
    Field("post", "/orders/{order}/release", {}, "reason"),
    Field("post", "/orders/{order}/obligations", {}, "description"),
    Field("patch", "/obligations/{obligation}", {}, "description"),
    Field("post", "/data-sources", {"kind": "manual", "location": "Room 2"}, "name"),
    Field("post", "/data-sources", {"name": "N", "kind": "manual"}, "location"),
    Field("patch", "/data-sources/{source}", {}, "name"),
    Field("patch", "/data-sources/{source}", {}, "location"),
    Field("post", "/data-sources/{source}/retire", {}, "reason"),
    Field("post", "/custodians", {"email": "n@example.org"}, "name"),
    Field("post", "/custodians", {"name": "N"}, "email"),
    Field("patch", "/custodians/{custodian}", {}, "name"),
    Field("patch", "/custodians/{custodian}", {}, "email"),
]


@pytest.mark.parametrize("case", REQUIRED_STRINGS, ids=[f"{c.method} {c.path} {c.field}" for c in REQUIRED_STRINGS])
def test_required_string_must_be_a_string_with_content(
    api: Any, session: Session, world: dict[str, int], case: Field
) -> None:
    for value in ("", " ", "\t\n", "\u00a0\u2003", None, 7, ["x"], {"x": 1}, False):
        body = {**case.body, case.field: value}
        refused(api, session, case.method, case.path.format(**world), body, status=422, field=case.field)


# Other types and ranges -----------------------------------------------------------------------------


class BadValues(NamedTuple):
    """A create route, a body it accepts, and values of one field it must refuse."""

    path: str
    body: dict[str, Any]
    field: str
    values: list[Any]


WRONG_VALUES = [
    BadValues("/matters", {"caption": "C"}, "trigger_date", ["2017-07-12T00:00:00", "2017-7-12", "July 12", 2017, []]),
    BadValues("/matters", {"caption": "C"}, "status", ["OPEN", 1, True, None]),
    BadValues("/matters/{matter}/orders", {"kind": "court_order", "title": "T"}, "kind", ["Court Order", 0, None]),
    BadValues("/matters/{matter}/orders", {"kind": "court_order", "title": "T"}, "effective_on", ["2018-02-30", {}]),
    BadValues("/orders/{order}/obligations", {"description": "D"}, "preserve_from", ["2016", "01/01/2016", 1.5]),
    BadValues("/data-sources", {"name": "N", "kind": "manual", "location": "Room 2"}, "kind", ["S3", "file", None]),
    BadValues("/data-sources", {"name": "N", "kind": "manual", "location": "Room 2"}, "steward_id", [-1, 2**31, "1"]),
    BadValues("/custodians", {"name": "N", "email": "n@example.org"}, "manager_id", [0, 2**31, True, "{custodian}"]),
    BadValues("/custodians", {"name": "N", "email": "n@example.org"}, "end_date", ["2019-06-31", "tomorrow", 0]),
]


@pytest.mark.parametrize("case", WRONG_VALUES, ids=[f"{c.path} {c.field}" for c in WRONG_VALUES])
def test_wrong_type_or_range_is_refused(api: Any, session: Session, world: dict[str, int], case: BadValues) -> None:
    path = case.path.format(**world)
    for value in case.values:
        # "{custodian}" as a string: an id must be a JSON number, not text that looks like one.
        bad = str(fill(world, value)) if value == "{custodian}" else value
        refused(api, session, "post", path, {**case.body, case.field: bad}, status=422, field=case.field)
    # The body as it was is accepted, so each refusal was about the field's value.
    created(api, path, case.body)


# Nothing is deleted -----------------------------------------------------------------------------------

RECORD_PATHS = [
    "/matters",
    "/matters/{matter}",
    "/matters/{matter}/orders",
    "/orders/{order}",
    "/orders/{order}/obligations",
    "/obligations/{obligation}",
    "/obligations/{obligation}/data-sources",
    "/data-sources",
    "/data-sources/{source}",
    "/custodians",
    "/custodians/{custodian}",
    "/orders/{order}/custodians",
    "/audit/events",
]


@pytest.mark.parametrize("path", RECORD_PATHS)
def test_nothing_can_be_deleted_or_replaced(api: Any, session: Session, world: dict[str, int], path: str) -> None:
    for method in ("delete", "put"):
        with nothing_changes(session):
            response = getattr(api.client, method)(
                f"{API}{path.format(**world)}", headers={"Authorization": f"Bearer {api.tokens['admin']}"}, json={}
            )
        assert response.status_code == 405, method
        assert response.get_json()["code"] == "method_not_allowed"
        assert "DELETE" not in response.headers["Allow"]


def test_audit_trail_takes_no_writes(api: Any, session: Session) -> None:
    for method in ("post", "patch"):
        with nothing_changes(session):
            response = getattr(api, method)(f"{API}/audit/events", json={}, role="admin")
        assert response.status_code == 405
