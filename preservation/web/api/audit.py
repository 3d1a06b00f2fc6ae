"""Reading the audit trail, verifying it against its signed checkpoint, and exporting it for auditors."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app

from config.settings import Settings
from preservation.adapters.signing import SigningKeyError, load_signer
from preservation.db import begin_read_only
from preservation.domain.checkpoints import VerifierKey, verifier_key
from preservation.domain.errors import Conflict
from preservation.services import audit, checkpoints
from preservation.services.audit_export import ExportFilter, stream_export
from preservation.services.unit import system_clock
from preservation.web import access
from preservation.web.api.audit_schemas import AuditExportArgsSchema, AuditVerdictSchema
from preservation.web.api.common import api_blueprint, documented_errors
from preservation.web.api.schemas import AuditArgsSchema, AuditPageSchema
from preservation.web.session import unit_of_work

blp = api_blueprint("audit", "The hash-chained audit trail.")


@blp.route("/audit/events", methods=["GET"])
@access.readers
@blp.arguments(AuditArgsSchema, location="query")
@blp.response(200, AuditPageSchema)
@documented_errors(blp, 401, 403)
def list_audit_events(args: dict[str, Any]) -> dict[str, Any]:
    """Events in seq order, after a seq; filter by matter and time range."""
    items, next_after = audit.list_events(
        unit_of_work().session,
        after_seq=args["after_seq"],
        limit=args["limit"],
        matter_id=args.get("matter_id"),
        since=args.get("since"),
        until=args.get("until"),
    )
    return {"items": items, "next_after_seq": next_after}


@blp.route("/audit/verify", methods=["GET"])
@access.roles("auditor", "admin")
@blp.response(200, AuditVerdictSchema)
@documented_errors(blp, 401, 403)
def verify_audit_trail() -> dict[str, Any]:
    """Walk the whole trail and hold it against the latest signed checkpoint; the first problem, and why."""
    state = current_app.extensions["preservation"]
    key, notes = verifier_key_of(state.settings)
    with state.session_factory() as session:
        begin_read_only(session)
        verdict = checkpoints.verify_log(session, key)
    body = dataclasses.asdict(verdict)
    body["intact"] = verdict.intact
    body["notes"] = notes + body["notes"]
    return body


def verifier_key_of(settings: Settings) -> tuple[VerifierKey | None, list[str]]:
    """The configured key's public half; without a readable one the copy stored with the checkpoint is used."""
    if settings.audit_signing_key is None:
        return None, ["no signing key configured: the checkpoint was checked with the key stored beside it"]
    try:
        return verifier_key(load_signer(settings.audit_signing_key)), []
    except SigningKeyError:
        return None, ["the signing key is not readable here: the checkpoint was checked with the key stored beside it"]


@blp.route("/audit/export", methods=["GET"])
@access.roles("auditor", "admin")
@blp.arguments(AuditExportArgsSchema, location="query")
@blp.response(
    200,
    content_type="application/zip",
    description="events.jsonl, proof.jsonl, events.csv (unless csv=false), manifest.json, checkpoint.txt and verify.py,"
    " streamed",
)
@documented_errors(blp, 401, 403, 409, 422)
def export_audit_trail(args: dict[str, Any]) -> Response:
    """Download the trail (or one matter's part of it, in a time range) up to the latest signed checkpoint."""
    session = current_app.extensions["preservation"].session_factory()
    try:
        begin_read_only(session)
        checkpoint = checkpoints.latest_checkpoint(session)
        if checkpoint is None:
            raise Conflict("no signed checkpoint yet: run `preservation audit checkpoint` (or wait for the job)")
        wanted = ExportFilter(matter_id=args.get("matter_id"), since=args.get("since"), until=args.get("until"))
        chunks = stream_export(session, checkpoint, wanted, now=system_clock(), with_csv=args.get("csv", True))
    except BaseException:
        session.close()
        raise

    def body() -> Iterator[bytes]:
        try:
            yield from chunks
        finally:
            session.close()

    scope = f"matter-{wanted.matter_id}" if wanted.matter_id else "log"
    name = f"audit-export-{scope}-checkpoint-{checkpoint.id}.zip"
    return Response(
        body(), mimetype="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
