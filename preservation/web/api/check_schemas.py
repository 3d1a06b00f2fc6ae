"""Schemas of retention checks, findings, evidence, preservation plans and attestations."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from marshmallow import validate

from preservation.domain.vocabulary import CHECK_STATUSES, FINDING_SEVERITIES
from preservation.web.api.fields import text
from preservation.web.api.schemas import DUMP, PageSchema


class FindingSchema(ma.Schema):
    """One coded finding of a check."""

    code = ma.fields.String(metadata={"example": "S3_LIFECYCLE_DESTROYS_IN_SCOPE"})
    severity = ma.fields.String(validate=validate.OneOf(FINDING_SEVERITIES))
    message = ma.fields.String()
    count = ma.fields.Integer(allow_none=True)
    examples = ma.fields.List(ma.fields.Dict(), metadata={"description": "at most 10 of the versions concerned"})
    details = ma.fields.Dict(metadata={"description": "rule id, the config diff, the calls that failed"})
    earliest_destruction_at = ma.fields.AwareDateTime(allow_none=True)


class CheckSchema(ma.Schema):
    """A retention check and what it found."""

    id = ma.fields.Integer(**DUMP)
    data_source_id = ma.fields.Integer(**DUMP)
    kind = ma.fields.String(**DUMP)
    actor = ma.fields.String(**DUMP)
    started_at = ma.fields.AwareDateTime(**DUMP)
    finished_at = ma.fields.AwareDateTime(**DUMP)
    status = ma.fields.String(validate=validate.OneOf(CHECK_STATUSES), **DUMP)
    earliest_destruction_at = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "the earliest time in-scope data would be destroyed; null when never"},
        **DUMP,
    )
    error = ma.fields.String(allow_none=True, **DUMP)
    summary = ma.fields.Dict(**DUMP)
    findings = ma.fields.List(ma.fields.Nested(FindingSchema), **DUMP)


class CheckDetailSchema(CheckSchema):
    """A check with the raw API answers it evaluated."""

    evidence = ma.fields.Method("_evidence", allow_none=True, metadata={"type": "object"}, **DUMP)

    def _evidence(self, check: Any) -> dict[str, Any] | None:
        evidence = getattr(check, "evidence", None)
        if evidence is None:
            return None
        return {
            "truncated": evidence.truncated,
            "stored_bytes": evidence.stored_bytes,
            "full_bytes": evidence.full_bytes,
            "full_sha256": evidence.full_sha256,
            "document": json.loads(evidence.document),
        }


class CheckPageSchema(PageSchema):
    """A page of checks, newest first."""

    items = ma.fields.List(ma.fields.Nested(CheckSchema))


class PreserveSchema(ma.Schema):
    """Whether to only plan (the default) or carry the plan out."""

    dry_run = ma.fields.Boolean(load_default=True, metadata={"description": "false carries the plan out"})


class ReleaseHoldsSchema(ma.Schema):
    """Whether to release the holds (confirmed) or only show what would be released (the default)."""

    confirm = ma.fields.Boolean(
        load_default=False, metadata={"description": "true removes the holds this service placed; false plans only"}
    )


class PlanStepSchema(ma.Schema):
    """One kind of change, how many of it, and a few targets."""

    action = ma.fields.String(metadata={"example": "put_legal_hold"})
    count = ma.fields.Integer()
    examples = ma.fields.List(ma.fields.Dict())


class PreservationPlanSchema(ma.Schema):
    """The plan, and what happened when it was carried out."""

    data_source_id = ma.fields.Integer()
    dry_run = ma.fields.Boolean()
    blocked = ma.fields.String(allow_none=True, metadata={"description": "why nothing can be done"})
    notes = ma.fields.List(ma.fields.String())
    total_steps = ma.fields.Integer()
    steps = ma.fields.List(ma.fields.Nested(PlanStepSchema))
    results = ma.fields.Dict(allow_none=True, metadata={"description": "succeeded, failed, first failures"})
    batch_jobs = ma.fields.List(
        ma.fields.Dict(), metadata={"description": "S3 Batch Operations jobs the run created (above the threshold)"}
    )


class AttestationSchema(ma.Schema):
    """A steward's word that a manual source still holds the evidence."""

    id = ma.fields.Integer(**DUMP)
    data_source_id = ma.fields.Integer(**DUMP)
    attested_at = ma.fields.AwareDateTime(**DUMP)
    attested_by = ma.fields.String(**DUMP)
    note = text(10_000, required=True, metadata={"description": "what was checked, and how"})


class AttestationPageSchema(PageSchema):
    """A page of attestations, newest first."""

    items = ma.fields.List(ma.fields.Nested(AttestationSchema))
