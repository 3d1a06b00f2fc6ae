"""Fields the API answers with null are declared nullable; fields it reads stay as strict as before."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from preservation import models
from preservation.web.api import check_schemas, notice_schemas, scheduling_schemas, schemas
from tests.web.support import fetched, new_matter, new_obligation, new_order, new_source, refused


@pytest.fixture
def components(app: Flask) -> dict[str, Any]:
    """The schema components of the served OpenAPI document."""
    with app.test_client() as client:
        spec: dict[str, Any] = client.get("/api/openapi.json").get_json()
    return dict(spec["components"]["schemas"])


def test_no_required_field_is_nullable(components: dict[str, Any]) -> None:
    loose = [
        f"{name}.{field}"
        for name, component in components.items()
        for field in component.get("required", [])
        if component["properties"][field].get("nullable")
    ]
    assert loose == []


# Schemas that dump a model's rows, with the model: a nullable column must be a field allowed to be null.
DUMPED_MODELS: list[tuple[type[ma.Schema], type[Any]]] = [
    (schemas.MatterSchema, models.Matter),
    (schemas.OrderSchema, models.PreservationOrder),
    (schemas.ObligationSchema, models.Obligation),
    (schemas.DataSourceSchema, models.DataSource),
    (schemas.CustodianSchema, models.Custodian),
    (schemas.CustodianHoldSchema, models.CustodianHold),
    (check_schemas.CheckSchema, models.RetentionCheck),
    (check_schemas.FindingSchema, models.CheckFinding),
    (check_schemas.AttestationSchema, models.SourceAttestation),
    (notice_schemas.NoticeTemplateSchema, models.NoticeTemplate),
    (notice_schemas.HoldNoticeSchema, models.HoldNotice),
    (scheduling_schemas.DeadlineSchema, models.Deadline),
    (scheduling_schemas.AlertSchema, models.Alert),
    (scheduling_schemas.DeliverySchema, models.AlertDelivery),
    (scheduling_schemas.CalendarFeedSchema, models.CalendarFeed),
    (scheduling_schemas.LastRunSchema, models.JobRun),
    (schemas.AuditEventSchema, models.AuditEvent),
]


@pytest.mark.parametrize(("schema", "model"), DUMPED_MODELS, ids=[s.__name__ for s, _ in DUMPED_MODELS])
def test_a_nullable_column_is_a_nullable_field(schema: type[ma.Schema], model: type[Any]) -> None:
    columns = {column.key: column for column in sa.inspect(model).columns}
    fields = schema().fields
    not_declared = [
        name
        for name, field in fields.items()
        if (column := columns.get(field.attribute or name)) is not None and column.nullable and not field.allow_none
    ]
    assert not_declared == []


def test_read_only_fields_a_new_record_leaves_empty_are_nullable(components: dict[str, Any]) -> None:
    for component, fields in {
        "Order": ("released_on", "release_reason", "released_by", "superseded_by_id"),
        "DataSource": ("earliest_destruction_at", "last_checked_at", "retired_at", "retired_reason"),
        "CustodianHold": ("notice_sent_at", "acknowledged_at", "released_at"),
        "Check": ("earliest_destruction_at", "error"),
    }.items():
        for field in fields:
            declared = components[component]["properties"][field]
            assert declared["readOnly"], f"{component}.{field}"
            assert declared["nullable"], f"{component}.{field}"


def test_the_answers_hold_the_nulls_declared(api: Any) -> None:
    order = new_order(api, new_matter(api)["id"])
    source = fetched(api, f"/data-sources/{new_source(api)['id']}")
    assert [order[f] for f in ("released_on", "release_reason", "released_by", "superseded_by_id")] == [None] * 4
    assert [source[f] for f in ("earliest_destruction_at", "last_checked_at", "retired_at", "retired_reason")] == [
        None
    ] * 4


def test_null_for_a_required_field_is_refused_with_a_reason(api: Any, session: Session) -> None:
    matter = new_matter(api)["id"]
    error = refused(
        api, session, "post", f"/matters/{matter}/orders", {"kind": None, "title": "T"}, status=422, field="kind"
    )
    assert error["fields"]["kind"] == ["Field may not be null."]


def test_null_status_of_an_obligation_is_refused(api: Any, session: Session) -> None:
    order = new_order(api, new_matter(api)["id"])["id"]
    body = {"description": "D", "status": None}
    refused(api, session, "post", f"/orders/{order}/obligations", body, status=422, field="status")


def test_released_is_answered_but_not_accepted_for_a_new_obligation(api: Any, session: Session) -> None:
    order = new_order(api, new_matter(api)["id"])["id"]
    body = {"description": "D", "status": "released"}
    error = refused(api, session, "post", f"/orders/{order}/obligations", body, status=422, field="status")
    assert "not created released" in error["fields"]["status"][0]
    obligation = new_obligation(api, order)["id"]
    released = api.post(f"/api/v1/orders/{order}/release", json={"reason": "case settled"})
    assert released.status_code == 200, released.get_json()
    assert fetched(api, f"/obligations/{obligation}")["status"] == "released"
