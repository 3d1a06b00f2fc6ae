"""Orders, their obligations, the sources that satisfy them, and the custodians they hold."""

from __future__ import annotations

from typing import Any

from preservation.models import Obligation, PreservationOrder
from preservation.services import custodian_notices, custodians, orders
from preservation.web import access
from preservation.web.api.common import api_blueprint, documented_errors, page_body
from preservation.web.api.notice_schemas import prime_acknowledgements
from preservation.web.api.scheduling import court_closures
from preservation.web.api.schemas import (
    CustodianHoldPageSchema,
    CustodianHoldSchema,
    LinkSourceSchema,
    ObligationPageSchema,
    ObligationPatchSchema,
    ObligationSchema,
    OrderPatchSchema,
    OrderSchema,
    PageArgsSchema,
    ReleaseSchema,
)
from preservation.web.session import unit_of_work

blp = api_blueprint("orders", "Preservation orders, obligations, source links and custodian holds.")


@blp.route("/orders/<int:order_id>", methods=["GET"])
@access.readers
@blp.response(200, OrderSchema)
@documented_errors(blp, 401, 403, 404)
def get_order(order_id: int) -> Any:
    """One order with all its dates."""
    return unit_of_work().get(PreservationOrder, order_id)


@blp.route("/orders/<int:order_id>", methods=["PATCH"])
@access.writers
@blp.arguments(OrderPatchSchema)
@blp.response(200, OrderSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413)
def update_order(changes: dict[str, Any], order_id: int) -> Any:
    """Correct an order's recorded facts."""
    unit = unit_of_work()
    order = orders.update_order(unit, order_id, changes)
    unit.session.commit()
    return order


@blp.route("/orders/<int:order_id>/release", methods=["POST"])
@access.writers
@blp.arguments(ReleaseSchema)
@blp.response(200, OrderSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413)
def release_order(body: dict[str, Any], order_id: int) -> Any:
    """Release an order, its obligations and its custodian holds; release notices go out in the same change."""
    unit = unit_of_work()
    order = orders.release_order(unit, order_id, body["reason"], body.get("released_on"))
    for hold in order.custodian_holds:
        if hold.status == "released":
            custodian_notices.send_release_notice(unit, hold)
    unit.session.commit()
    return order


@blp.route("/orders/<int:order_id>/obligations", methods=["GET"])
@access.readers
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ObligationPageSchema)
@documented_errors(blp, 401, 403, 404)
def list_obligations(args: dict[str, Any], order_id: int) -> dict[str, Any]:
    """The obligations carved out of an order."""
    return page_body(orders.list_obligations(unit_of_work(), order_id, args["page"], args["per_page"]))


@blp.route("/orders/<int:order_id>/obligations", methods=["POST"])
@access.writers
@blp.arguments(ObligationSchema)
@blp.response(201, ObligationSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413)
def create_obligation(fields: dict[str, Any], order_id: int) -> Any:
    """Carve an obligation out of an active order."""
    unit = unit_of_work()
    obligation = orders.create_obligation(unit, order_id, fields, court_closures())
    unit.session.commit()
    return obligation


@blp.route("/obligations/<int:obligation_id>", methods=["GET"])
@access.readers
@blp.response(200, ObligationSchema)
@documented_errors(blp, 401, 403, 404)
def get_obligation(obligation_id: int) -> Any:
    """One obligation and the sources linked to it."""
    return unit_of_work().get(Obligation, obligation_id)


@blp.route("/obligations/<int:obligation_id>", methods=["PATCH"])
@access.writers
@blp.arguments(ObligationPatchSchema)
@blp.response(200, ObligationSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413)
def update_obligation(changes: dict[str, Any], obligation_id: int) -> Any:
    """Change an obligation."""
    unit = unit_of_work()
    obligation = orders.update_obligation(unit, obligation_id, changes, court_closures())
    unit.session.commit()
    return obligation


@blp.route("/obligations/<int:obligation_id>/data-sources", methods=["POST"])
@access.writers
@blp.arguments(LinkSourceSchema)
@blp.response(201, ObligationSchema, description="linked")
@blp.alt_response(200, schema=ObligationSchema, description="was already linked; nothing changed")
@documented_errors(blp, 400, 401, 403, 404, 409, 413)
def link_data_source(body: dict[str, Any], obligation_id: int) -> Any:
    """Map a data source to an obligation it satisfies."""
    unit = unit_of_work()
    obligation, created = orders.link_data_source(unit, obligation_id, body["data_source_id"])
    unit.session.commit()
    return obligation, 201 if created else 200


@blp.route("/orders/<int:order_id>/custodians", methods=["GET"])
@access.readers
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CustodianHoldPageSchema)
@documented_errors(blp, 401, 403, 404)
def list_custodian_holds(args: dict[str, Any], order_id: int) -> dict[str, Any]:
    """The custodians an order holds."""
    page = custodians.list_custodian_holds(unit_of_work(), order_id, args["page"], args["per_page"])
    prime_acknowledgements(page.items)
    return page_body(page)


@blp.route("/orders/<int:order_id>/custodians", methods=["POST"])
@access.writers
@blp.arguments(CustodianHoldSchema)
@blp.response(201, CustodianHoldSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413)
def place_custodian_hold(body: dict[str, Any], order_id: int) -> Any:
    """Put a custodian or data steward on an order."""
    unit = unit_of_work()
    hold = custodians.place_custodian_hold(unit, order_id, body["custodian_id"], body.get("role", "custodian"))
    unit.session.commit()
    return hold
