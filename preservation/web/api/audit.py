"""Reading the audit trail."""

from __future__ import annotations

from typing import Any

from preservation.services import audit
from preservation.web import access
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
