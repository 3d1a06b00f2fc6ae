"""Request and response schemas of the JSON API; they generate the OpenAPI document too."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from marshmallow import validate

from preservation.domain.rules import EARLIEST_DAY, LATEST_DAY
from preservation.domain.scope import DateRange, union_of_ranges
from preservation.domain.vocabulary import (
    CUSTODIAN_HOLD_ROLES,
    CUSTODIAN_HOLD_STATUSES,
    DATA_SOURCE_KINDS,
    DATA_SOURCE_STATUSES,
    EMPLOYMENT_STATUSES,
    MATTER_STATUSES,
    OBLIGATION_STATUSES,
    ORDER_KINDS,
    ORDER_STATUSES,
    REAFFIRM_MAX_DAYS,
    REAFFIRM_MIN_DAYS,
)
from preservation.web.api.fields import MAX_ID, choice, date, ident, text, timestamp
from preservation.web.api.notice_schemas import acknowledgement_of, steward_notice_of

DUMP: dict[str, Any] = {"dump_only": True}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


class PageArgsSchema(ma.Schema):
    """Which page of a list to return."""

    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PageSchema(ma.Schema):
    """Envelope of every list answer."""

    total = ma.fields.Integer(metadata={"description": "rows in the whole list"})
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()


class ErrorSchema(ma.Schema):
    """Every error answer: a machine code, a sentence, and the fields at fault."""

    status = ma.fields.Integer()
    code = ma.fields.String()
    message = ma.fields.String()
    field_errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()), data_key="fields")


# Matters ---------------------------------------------------------------------------------------------


class MatterSchema(ma.Schema):
    """A case or anticipated case."""

    id = ma.fields.Integer(**DUMP)
    caption = text(500, required=True, metadata={"example": "Al Otro Lado, Inc. v. Nielsen"})
    docket_number = text(100, metadata={"example": "3:17-cv-02366-BAS-KSC"})
    court = text(200)
    judge = text(200)
    status = choice(MATTER_STATUSES)
    trigger_date = date(metadata={"description": "when the duty to preserve arose"})
    trigger_description = text(10_000)
    trigger_decided_by = text(200)
    description = text(10_000)
    created_at = ma.fields.AwareDateTime(**DUMP)
    updated_at = ma.fields.AwareDateTime(**DUMP)


class MatterPatchSchema(MatterSchema):
    """Fields of a matter to change."""


class MatterArgsSchema(PageArgsSchema):
    """Filters of the matter list."""

    status = choice(MATTER_STATUSES)


class MatterPageSchema(PageSchema):
    """A page of matters."""

    items = ma.fields.List(ma.fields.Nested(MatterSchema))


# Orders ----------------------------------------------------------------------------------------------


def reaffirm_days() -> ma.fields.Integer:
    """An order's re-affirmation period in days, or null for none."""
    return ma.fields.Integer(
        allow_none=True,
        strict=True,
        validate=validate.Range(min=REAFFIRM_MIN_DAYS, max=REAFFIRM_MAX_DAYS),
        metadata={
            "description": "ask custodians who acknowledged to re-affirm this many days after their last "
            "acknowledgement (90: quarterly); null: never",
            "example": 90,
        },
    )


class OrderSchema(ma.Schema):
    """A preservation order or hold with all its dates."""

    id = ma.fields.Integer(**DUMP)
    matter_id = ma.fields.Integer(**DUMP)
    kind = choice(ORDER_KINDS, required=True)
    title = text(500, required=True)
    docket_entry = text(100, metadata={"example": "170"})
    issued_by = text(200)
    signed_on = date()
    filed_on = date()
    entered_on = date(metadata={"description": "must not precede signed_on"})
    effective_on = date()
    compliance_due_on = date()
    scope = text(50_000)
    reaffirm_every_days = reaffirm_days()
    supersedes_id = ident(metadata={"description": "the active order this one modifies"})
    status = ma.fields.String(validate=validate.OneOf(ORDER_STATUSES), **DUMP)
    released_on = ma.fields.Date(allow_none=True, **DUMP)
    release_reason = ma.fields.String(allow_none=True, **DUMP)
    released_by = ma.fields.String(allow_none=True, **DUMP)
    superseded_by_id = ma.fields.Method(
        "_superseded_by",
        allow_none=True,
        metadata={"type": "integer", "description": "the order that modified this one"},
        **DUMP,
    )
    created_at = ma.fields.AwareDateTime(**DUMP)
    updated_at = ma.fields.AwareDateTime(**DUMP)

    def _superseded_by(self, order: object) -> int | None:
        successor = getattr(order, "superseded_by", None)
        return successor.id if successor is not None else None


class OrderPatchSchema(ma.Schema):
    """Facts of an order to correct; status changes through release or a superseding order."""

    kind = choice(ORDER_KINDS)
    title = text(500, nullable=False)
    docket_entry = text(100)
    issued_by = text(200)
    signed_on = date()
    filed_on = date()
    entered_on = date()
    effective_on = date()
    compliance_due_on = date()
    scope = text(50_000)
    reaffirm_every_days = reaffirm_days()


class OrderPageSchema(PageSchema):
    """A page of orders."""

    items = ma.fields.List(ma.fields.Nested(OrderSchema))


class ReleaseSchema(ma.Schema):
    """Why an order is released, and from when."""

    reason = text(10_000, required=True)
    released_on = date(metadata={"description": "defaults to today (UTC)"})


# Obligations -----------------------------------------------------------------------------------------


class ObligationSchema(ma.Schema):
    """One concrete duty carved out of an order."""

    id = ma.fields.Integer(**DUMP)
    order_id = ma.fields.Integer(**DUMP)
    description = text(20_000, required=True)
    due_on = date()
    due_period_days = ma.fields.Integer(
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0, max=3650),
        metadata={"description": "instead of due_on: a period in days, counted in court days (FRCP 6(a)(1))"},
    )
    due_from = ma.fields.Date(
        allow_none=True,
        validate=validate.Range(min=EARLIEST_DAY, max=LATEST_DAY),
        metadata={"description": "the event the period runs from (its own day is not counted)"},
    )
    due_direction = ma.fields.String(
        allow_none=True, validate=validate.OneOf(("after", "before")), metadata={"description": "after (default)"}
    )
    due_computation = ma.fields.Dict(
        allow_none=True, metadata={"description": "how due_on was counted from the period, step by step"}, **DUMP
    )
    preserve_from = date(metadata={"description": "first day of the data covered"})
    preserve_until = date(metadata={"description": "last day of the data covered; null means until released"})
    # One schema answers and creates: an answer can say released, a new obligation cannot be (the service refuses it).
    status = choice(
        OBLIGATION_STATUSES, metadata={"description": "open (default); released only with its order, never on creation"}
    )
    data_source_ids = ma.fields.Method("_source_ids", metadata={"type": "array", "items": {"type": "integer"}}, **DUMP)
    created_at = ma.fields.AwareDateTime(**DUMP)
    updated_at = ma.fields.AwareDateTime(**DUMP)

    def _source_ids(self, obligation: object) -> list[int]:
        return [source.id for source in getattr(obligation, "data_sources", [])]


class ObligationPatchSchema(ma.Schema):
    """Fields of an obligation to change."""

    description = text(20_000, nullable=False)
    due_on = date()
    due_period_days = ma.fields.Integer(
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0, max=3650),
        metadata={"description": "instead of due_on: a period in days, counted in court days (FRCP 6(a)(1))"},
    )
    due_from = ma.fields.Date(
        allow_none=True,
        validate=validate.Range(min=EARLIEST_DAY, max=LATEST_DAY),
        metadata={"description": "the event the period runs from (its own day is not counted)"},
    )
    due_direction = ma.fields.String(
        allow_none=True, validate=validate.OneOf(("after", "before")), metadata={"description": "after (default)"}
    )
    preserve_from = date()
    preserve_until = date()
    status = choice(OBLIGATION_STATUSES)


class ObligationPageSchema(PageSchema):
    """A page of obligations."""

    items = ma.fields.List(ma.fields.Nested(ObligationSchema))


class LinkSourceSchema(ma.Schema):
    """The data source that satisfies an obligation."""

    data_source_id = ident(required=True)


# Data sources ----------------------------------------------------------------------------------------


INVENTORY_ID_METADATA = {
    "description": "s3 only: an S3 Inventory configuration of the bucket listing all versions; its newest report "
    "answers for the versions it lists, and only what changed since is read live (null: list and HEAD every version)",
    "example": "all-versions",
}


class DataSourceSchema(ma.Schema):
    """A system holding evidence, with its destruction clock."""

    id = ma.fields.Integer(**DUMP)
    name = text(300, required=True)
    kind = choice(DATA_SOURCE_KINDS, required=True)
    location = text(
        2048,
        required=True,
        metadata={"description": "s3://bucket/prefix/, a log group name or ARN, a backup vault name or ARN, or text"},
    )
    region = text(30, metadata={"example": "us-west-2"})
    description = text(10_000)
    steward_id = ident(metadata={"description": "the custodian who runs this system"})
    natural_retention_days = ma.fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=36_500))
    check_interval_hours = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=8_760))
    inventory_configuration_id = text(64, metadata=INVENTORY_ID_METADATA)
    status = ma.fields.String(validate=validate.OneOf(DATA_SOURCE_STATUSES), **DUMP)
    earliest_destruction_at = ma.fields.AwareDateTime(allow_none=True, **DUMP)
    last_checked_at = ma.fields.AwareDateTime(allow_none=True, **DUMP)
    retired_at = ma.fields.AwareDateTime(allow_none=True, **DUMP)
    retired_reason = ma.fields.String(allow_none=True, **DUMP)
    steward_notice = ma.fields.Function(
        steward_notice_of,
        metadata={
            "description": "the steward's notices and confirmations, beside (never instead of) the status",
            "type": "object",
        },
        **DUMP,
    )
    obligation_ids = ma.fields.Method(
        "_obligation_ids", metadata={"type": "array", "items": {"type": "integer"}}, **DUMP
    )
    preservation_scope = ma.fields.Method(
        "_scope",
        metadata={
            "description": "union of the date ranges of the obligations still binding this source",
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "preserve_from": {"type": "string", "format": "date", "nullable": True},
                    "preserve_until": {"type": "string", "format": "date", "nullable": True},
                },
            },
        },
        **DUMP,
    )
    created_at = ma.fields.AwareDateTime(**DUMP)
    updated_at = ma.fields.AwareDateTime(**DUMP)

    def _obligation_ids(self, source: object) -> list[int]:
        return [obligation.id for obligation in getattr(source, "obligations", [])]

    def _scope(self, source: object) -> list[dict[str, str | None]]:
        ranges = [
            DateRange(o.preserve_from, o.preserve_until)
            for o in getattr(source, "obligations", [])
            if o.status != "released"
        ]
        return [{"preserve_from": _iso(r.start), "preserve_until": _iso(r.end)} for r in union_of_ranges(ranges)]


class DataSourcePatchSchema(ma.Schema):
    """Fields of a data source to change; its status is set by checks, not by hand."""

    name = text(300, nullable=False)
    kind = choice(DATA_SOURCE_KINDS)
    location = text(2048, nullable=False)
    region = text(30)
    description = text(10_000)
    steward_id = ident()
    natural_retention_days = ma.fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=36_500))
    check_interval_hours = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=8_760))
    inventory_configuration_id = text(64, metadata=INVENTORY_ID_METADATA)


class DataSourceArgsSchema(PageArgsSchema):
    """Filters of the data source list."""

    kind = choice(DATA_SOURCE_KINDS)
    status = choice(DATA_SOURCE_STATUSES)
    include_retired = ma.fields.Boolean(load_default=False)


class DataSourcePageSchema(PageSchema):
    """A page of data sources."""

    items = ma.fields.List(ma.fields.Nested(DataSourceSchema))


class RetireSchema(ma.Schema):
    """Why a data source is taken out of service."""

    reason = text(10_000, required=True)


# Custodians ------------------------------------------------------------------------------------------


class CustodianSchema(ma.Schema):
    """A person who holds relevant data."""

    id = ma.fields.Integer(**DUMP)
    name = text(300, required=True)
    email = text(320, required=True, metadata={"description": "unique, compared without regard to case"})
    title = text(300)
    department = text(300)
    manager_id = ident()
    employment_status = choice(EMPLOYMENT_STATUSES)
    end_date = date()
    created_at = ma.fields.AwareDateTime(**DUMP)
    updated_at = ma.fields.AwareDateTime(**DUMP)


class CustodianPatchSchema(ma.Schema):
    """Fields of a custodian to change."""

    name = text(300, nullable=False)
    email = text(320, nullable=False)
    title = text(300)
    department = text(300)
    manager_id = ident()
    employment_status = choice(EMPLOYMENT_STATUSES)
    end_date = date()


class CustodianArgsSchema(PageArgsSchema):
    """Filters of the custodian list."""

    email = text(320)


class CustodianPageSchema(PageSchema):
    """A page of custodians."""

    items = ma.fields.List(ma.fields.Nested(CustodianSchema))


class CustodianHoldSchema(ma.Schema):
    """A custodian bound by an order."""

    id = ma.fields.Integer(**DUMP)
    order_id = ma.fields.Integer(**DUMP)
    custodian_id = ident(required=True)
    role = choice(CUSTODIAN_HOLD_ROLES)
    status = ma.fields.String(validate=validate.OneOf(CUSTODIAN_HOLD_STATUSES), **DUMP)
    notice_sent_at = ma.fields.AwareDateTime(allow_none=True, **DUMP)
    acknowledged_at = ma.fields.AwareDateTime(allow_none=True, **DUMP)
    released_at = ma.fields.AwareDateTime(allow_none=True, **DUMP)
    created_at = ma.fields.AwareDateTime(**DUMP)
    acknowledgement = ma.fields.Function(
        acknowledgement_of,
        metadata={
            "type": "string",
            "description": "not_notified, silent, awaiting, overdue, escalated, acknowledged, released or "
            "reissue_owed (told of the earlier version of an amended order, not yet of this one)",
        },
        **DUMP,
    )


class CustodianHoldPageSchema(PageSchema):
    """A page of custodian holds."""

    items = ma.fields.List(ma.fields.Nested(CustodianHoldSchema))


# Audit -----------------------------------------------------------------------------------------------


class AuditArgsSchema(ma.Schema):
    """Filters of the audit event list; pages follow seq."""

    matter_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    since = timestamp(metadata={"description": "events at or after this time"})
    until = timestamp(metadata={"description": "events before this time"})
    after_seq = ma.fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**62))
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class AuditEventSchema(ma.Schema):
    """One entry of the hash-chained trail, as hashed."""

    seq = ma.fields.Integer()
    occurred_at = ma.fields.String(metadata={"description": "UTC, microseconds, as hashed"})
    actor = ma.fields.String()
    action = ma.fields.String()
    subject_type = ma.fields.String()
    subject_id = ma.fields.String()
    matter_id = ma.fields.Integer(allow_none=True)
    matter_seq = ma.fields.Integer(allow_none=True)
    details = ma.fields.Dict()
    prev_hash = ma.fields.String()
    matter_prev_hash = ma.fields.String(allow_none=True)
    hash = ma.fields.String()


class AuditPageSchema(ma.Schema):
    """A page of audit events and the cursor for the next one."""

    items = ma.fields.List(ma.fields.Nested(AuditEventSchema))
    next_after_seq = ma.fields.Integer(allow_none=True, metadata={"description": "pass as after_seq; null at the end"})
