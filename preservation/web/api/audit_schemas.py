"""Schemas of the audit export and verification routes."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from preservation.web.api.fields import MAX_ID


class AuditExportArgsSchema(ma.Schema):
    """Which events to export: one matter or all, within a time range."""

    matter_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "one matter"})
    since = ma.fields.AwareDateTime(metadata={"description": "events at or after this time"})
    until = ma.fields.AwareDateTime(metadata={"description": "events before this time"})
    csv = ma.fields.Boolean(
        load_default=True, metadata={"description": "include events.csv (derived from events.jsonl); default true"}
    )

    @ma.validates_schema
    def _range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ma.ValidationError("must come after since", "until")


class VerifyProblemSchema(ma.Schema):
    """The first thing wrong."""

    kind = ma.fields.String(
        metadata={
            "description": "chain (an event altered, missing or inserted), missing_tail, rewritten, signature, "
            "schema (the table no longer generates its columns from the hashed bytes)"
        }
    )
    seq = ma.fields.Integer(allow_none=True, metadata={"description": "where it shows; null for a bad signature"})
    reason = ma.fields.String()


class CheckpointCheckSchema(ma.Schema):
    """The checkpoint the log was held against."""

    id = ma.fields.Integer()
    tree_size = ma.fields.Integer()
    head_hash = ma.fields.String()
    time = ma.fields.String(metadata={"description": "when it was signed, as signed"})
    matters = ma.fields.Integer(metadata={"description": "matter heads it signs"})
    key_name = ma.fields.String()
    key_fingerprint = ma.fields.String()
    key_source = ma.fields.String(metadata={"description": "configured, or stored (the copy kept with it)"})
    anchor_uri = ma.fields.String(allow_none=True, metadata={"description": "its S3 Object Lock copy"})


class AuditVerdictSchema(ma.Schema):
    """The verdict on the whole audit log."""

    intact = ma.fields.Boolean()
    events = ma.fields.Integer(metadata={"description": "events walked"})
    head_hash = ma.fields.String()
    problem = ma.fields.Nested(VerifyProblemSchema, allow_none=True)
    checkpoint = ma.fields.Nested(CheckpointCheckSchema, allow_none=True)
    notes = ma.fields.List(ma.fields.String())
