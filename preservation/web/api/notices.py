"""Notice templates, issuing hold notices, acknowledgement state, releasing a custodian, steward notices."""

from __future__ import annotations

from typing import Any

from flask import request

from preservation.services import custodian_import, custodian_notices, hold_states, notice_templates
from preservation.web import access
from preservation.web.api.common import api_blueprint, documented_errors
from preservation.web.api.notice_schemas import (
    HoldNoticeListSchema,
    HoldNoticeSchema,
    HoldStateListSchema,
    HoldStateSchema,
    ImportResultSchema,
    IssueNoticesSchema,
    NoticeTemplateListSchema,
    NoticeTemplateSchema,
    ReleaseCustodianSchema,
    StewardNoticeSchema,
)
from preservation.web.notice_pages import notice_policy
from preservation.web.session import unit_of_work

blp = api_blueprint("custodian_notices", "Hold notices to custodians and data stewards, and their acknowledgements.")


@blp.route("/notice-templates", methods=["GET"])
@access.readers
@blp.response(200, NoticeTemplateListSchema)
@documented_errors(blp, 401, 403)
def list_templates() -> dict[str, Any]:
    """Every version of every notice template."""
    return {"items": notice_templates.list_templates(unit_of_work())}


@blp.route("/notice-templates", methods=["POST"])
@access.writers
@blp.arguments(NoticeTemplateSchema)
@blp.response(201, NoticeTemplateSchema)
@documented_errors(blp, 400, 401, 403, 413, 422)
def save_template(body: dict[str, Any]) -> Any:
    """Save the next version of a template; a syntax error or unsafe expression is refused."""
    unit = unit_of_work()
    template = notice_templates.save_template(unit, body["name"], body["kind"], body["subject"], body["body"])
    unit.session.commit()
    return template


@blp.route("/orders/<int:order_id>/notices", methods=["POST"])
@access.writers
@blp.arguments(IssueNoticesSchema)
@blp.response(201, HoldNoticeListSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413, 422)
def issue_notices(body: dict[str, Any], order_id: int) -> dict[str, Any]:
    """Issue (or re-issue) the order's notice to its custodians; emails leave through the outbox."""
    unit = unit_of_work()
    notices = custodian_notices.issue_notices(
        unit,
        order_id,
        notice_policy(),
        template_id=body.get("template_id"),
        custodian_ids=body.get("custodian_ids"),
        silent_custodian_ids=body.get("silent_custodian_ids", []),
    )
    unit.session.commit()
    return {"items": notices}


@blp.route("/orders/<int:order_id>/notices", methods=["GET"])
@access.readers
@blp.response(200, HoldNoticeListSchema)
@documented_errors(blp, 401, 403, 404)
def list_notices(order_id: int) -> dict[str, Any]:
    """Every notice of an order: versions, acknowledgements, reminders, escalations, releases."""
    return {"items": hold_states.order_notices(unit_of_work(), order_id)}


@blp.route("/orders/<int:order_id>/acknowledgements", methods=["GET"])
@access.readers
@blp.response(200, HoldStateListSchema)
@documented_errors(blp, 401, 403, 404)
def order_acknowledgements(order_id: int) -> dict[str, Any]:
    """Who on the order has acknowledged, who is overdue, who was escalated."""
    return {"items": hold_states.order_states(unit_of_work(), order_id, notice_policy())}


@blp.route("/orders/<int:order_id>/custodians/<int:custodian_id>/release", methods=["POST"])
@access.writers
@blp.arguments(ReleaseCustodianSchema)
@blp.response(200, HoldStateSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413, 422)
def release_custodian(body: dict[str, Any], order_id: int, custodian_id: int) -> Any:
    """Release one custodian from an order; they are told, with any holds that still bind them."""
    unit = unit_of_work()
    hold = custodian_notices.release_custodian(unit, order_id, custodian_id, body["reason"])
    unit.session.commit()
    return hold_states.hold_state(unit, hold, notice_policy())


@blp.route("/custodians/<int:custodian_id>/holds", methods=["GET"])
@access.readers
@blp.response(200, HoldStateListSchema)
@documented_errors(blp, 401, 403, 404)
def custodian_holds(custodian_id: int) -> dict[str, Any]:
    """A custodian's holds across every matter, with acknowledgement state."""
    return {"items": hold_states.custodian_states(unit_of_work(), custodian_id, notice_policy())}


def _issue_steward_notice(body: dict[str, Any], source_id: int) -> Any:
    unit = unit_of_work()
    notice = custodian_notices.issue_steward_notice(
        unit, body["order_id"], source_id, notice_policy(), body.get("template_id")
    )
    unit.session.commit()
    return notice


@blp.route("/data-sources/<int:source_id>/steward-notices", methods=["POST"])
@access.writers
@blp.arguments(StewardNoticeSchema)
@blp.response(201, HoldNoticeSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413, 422)
def steward_notice(body: dict[str, Any], source_id: int) -> Any:
    """Tell the source's steward to suspend auto-deletion on it; they confirm through their link."""
    return _issue_steward_notice(body, source_id)


# The first path of this route, kept because clients may call it; every other data source route is under
# /data-sources.
@blp.route("/sources/<int:source_id>/steward-notices", methods=["POST"])
@access.writers
@blp.doc(deprecated=True)
@blp.arguments(StewardNoticeSchema)
@blp.response(201, HoldNoticeSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413, 422)
def steward_notice_deprecated_path(body: dict[str, Any], source_id: int) -> Any:
    """Deprecated: use POST /api/v1/data-sources/{source_id}/steward-notices, which does the same."""
    return _issue_steward_notice(body, source_id)


@blp.route("/custodians/import", methods=["POST"])
@access.writers
@blp.response(200, ImportResultSchema)
@documented_errors(blp, 401, 403, 413, 422)
def import_custodians() -> Any:
    """Import custodians from a CSV body (text/csv): all rows or none; re-import updates by email.

    Columns: name, email (required), title, department, manager_email, employment_status, end_date. A
    known custodian is updated in the columns the file has, and only those; an empty cell in one of them
    clears it (employment_status goes back to active). A refused file answers 422 with every problem
    under `fields`, keyed by line number.
    """
    unit = unit_of_work()
    result = custodian_import.import_custodians(unit, request.get_data(cache=False))
    unit.session.commit()
    return result
