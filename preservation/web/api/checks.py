"""Retention checks, preservation and attestations of data sources."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app

from preservation.adapters.inspectors import build_inspectors
from preservation.services import attestations, batch_jobs, checks, preserve, release_holds
from preservation.services.checks import Collectors
from preservation.web import access
from preservation.web.api.batch_jobs import batch_options
from preservation.web.api.check_schemas import (
    AttestationPageSchema,
    AttestationSchema,
    CheckDetailSchema,
    CheckPageSchema,
    CheckSchema,
    PreservationPlanSchema,
    PreserveSchema,
    ReleaseHoldsSchema,
)
from preservation.web.api.common import api_blueprint, documented_errors, page_body
from preservation.web.api.schemas import PageArgsSchema
from preservation.web.session import unit_of_work

blp = api_blueprint("checks", "Retention checks: look inside the storage, and preserve what the orders cover.")

COLLECTORS_KEY = "preservation.collectors"


def collectors() -> Collectors:
    """The app's AWS collectors, built once from the settings (tests put their own under the same key)."""
    extensions = current_app.extensions
    if COLLECTORS_KEY not in extensions:
        settings = extensions["preservation"].settings
        extensions[COLLECTORS_KEY] = build_inspectors(max_workers=settings.aws_max_concurrency)
    found: Collectors = extensions[COLLECTORS_KEY]
    return found


@blp.route("/data-sources/<int:source_id>/checks", methods=["POST"])
@access.writers
@blp.response(201, CheckSchema)
@documented_errors(blp, 401, 403, 404, 409)
def run_check(source_id: int) -> Any:
    """Check a source now, in the storage itself; returns the check with its findings."""
    unit = unit_of_work()
    request = checks.prepare_check(unit, source_id)
    unit.session.commit()  # no transaction stays open while AWS answers
    snapshot = checks.collect(request, collectors())
    valid_days = current_app.extensions["preservation"].settings.attestation_valid_days
    check = checks.record_check(unit, request, snapshot, attestation_valid_for=dt.timedelta(days=valid_days))
    unit.session.commit()
    return check


@blp.route("/data-sources/<int:source_id>/checks", methods=["GET"])
@access.readers
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CheckPageSchema)
@documented_errors(blp, 401, 403, 404)
def list_checks(args: dict[str, Any], source_id: int) -> dict[str, Any]:
    """A source's checks, newest first."""
    return page_body(checks.list_checks(unit_of_work(), source_id, args["page"], args["per_page"]))


@blp.route("/checks/<int:check_id>", methods=["GET"])
@access.readers
@blp.response(200, CheckDetailSchema)
@documented_errors(blp, 401, 403, 404)
def get_check(check_id: int) -> Any:
    """One check with its findings and the raw API answers it evaluated."""
    return checks.get_check(unit_of_work(), check_id)


@blp.route("/data-sources/<int:source_id>/preserve", methods=["POST"])
@access.writers
@blp.arguments(PreserveSchema)
@blp.response(200, PreservationPlanSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413)
def preserve_source(body: dict[str, Any], source_id: int) -> Any:
    """Plan (by default) or carry out what preserves the source: legal holds, log retention."""
    unit = unit_of_work()
    request = preserve.prepare_preservation(unit, source_id)
    unit.session.commit()
    found = collectors()
    snapshot = checks.collect(request, found)
    plan = batch_jobs.plan_with_batch(
        request, preserve.plan_preservation(request, snapshot, unit.clock()), batch_options()
    )
    document = preserve.plan_document(request, plan, dry_run=body["dry_run"])
    if body["dry_run"]:
        return document
    preserve.record_preservation_started(unit, request, plan)
    unit.session.commit()  # the intent is on record before the storage changes
    results = preserve.carry_out(request, plan, found)
    document["results"] = preserve.record_preservation_finished(unit, request, plan, results)
    document["batch_jobs"] = batch_jobs.record_created(unit, request, results)
    unit.session.commit()
    return document


@blp.route("/data-sources/<int:source_id>/release-holds", methods=["POST"])
@access.writers
@blp.arguments(ReleaseHoldsSchema)
@blp.response(200, PreservationPlanSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413)
def release_source_holds(body: dict[str, Any], source_id: int) -> Any:
    """Plan (by default) or, with confirm, remove the holds this service placed on a source no active order covers."""
    unit = unit_of_work()
    request = release_holds.prepare_release(unit, source_id)
    unit.session.commit()
    document = release_holds.plan_document(request, dry_run=not body["confirm"])
    if not body["confirm"]:
        return document
    release_holds.record_release_started(unit, request)
    unit.session.commit()  # the intent is on record before the storage changes
    results = release_holds.carry_out(request, collectors().releaser)
    document["results"] = release_holds.record_release_finished(unit, request, results)
    unit.session.commit()
    return document


@blp.route("/data-sources/<int:source_id>/attestations", methods=["POST"])
@access.writers
@blp.arguments(AttestationSchema)
@blp.response(201, AttestationSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413)
def attest(body: dict[str, Any], source_id: int) -> Any:
    """Attest that a manual source still holds the evidence."""
    unit = unit_of_work()
    attestation = attestations.attest(unit, source_id, body["note"])
    unit.session.commit()
    return attestation


@blp.route("/data-sources/<int:source_id>/attestations", methods=["GET"])
@access.readers
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, AttestationPageSchema)
@documented_errors(blp, 401, 403, 404)
def list_attestations(args: dict[str, Any], source_id: int) -> dict[str, Any]:
    """A manual source's attestations, newest first."""
    return page_body(attestations.list_attestations(unit_of_work(), source_id, args["page"], args["per_page"]))
