"""Matters and the orders recorded on them."""

from __future__ import annotations

from typing import Any

from preservation.models import Matter
from preservation.services import matters, orders
from preservation.web import access
from preservation.web.api.common import api_blueprint, documented_errors, page_body
from preservation.web.api.schemas import (
    MatterArgsSchema,
    MatterPageSchema,
    MatterPatchSchema,
    MatterSchema,
    OrderPageSchema,
    OrderSchema,
    PageArgsSchema,
)
from preservation.web.session import unit_of_work

blp = api_blueprint("matters", "Matters: cases that create a duty to preserve, and their orders.")


@blp.route("/matters", methods=["GET"])
@access.readers
@blp.arguments(MatterArgsSchema, location="query")
@blp.response(200, MatterPageSchema)
@documented_errors(blp, 401, 403)
def list_matters(args: dict[str, Any]) -> dict[str, Any]:
    """List matters, oldest first."""
    return page_body(matters.list_matters(unit_of_work(), args["page"], args["per_page"], args.get("status")))


@blp.route("/matters", methods=["POST"])
@access.writers
@blp.arguments(MatterSchema)
@blp.response(201, MatterSchema)
@documented_errors(blp, 400, 401, 403, 413)
def create_matter(fields: dict[str, Any]) -> Any:
    """Record a matter."""
    unit = unit_of_work()
    matter = matters.create_matter(unit, fields)
    unit.session.commit()
    return matter


@blp.route("/matters/<int:matter_id>", methods=["GET"])
@access.readers
@blp.response(200, MatterSchema)
@documented_errors(blp, 401, 403, 404)
def get_matter(matter_id: int) -> Any:
    """One matter."""
    return unit_of_work().get(Matter, matter_id)


@blp.route("/matters/<int:matter_id>", methods=["PATCH"])
@access.writers
@blp.arguments(MatterPatchSchema(partial=True))
@blp.response(200, MatterSchema)
@documented_errors(blp, 400, 401, 403, 404, 413)
def update_matter(changes: dict[str, Any], matter_id: int) -> Any:
    """Change a matter's fields."""
    unit = unit_of_work()
    matter = matters.update_matter(unit, matter_id, changes)
    unit.session.commit()
    return matter


@blp.route("/matters/<int:matter_id>/orders", methods=["GET"])
@access.readers
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, OrderPageSchema)
@documented_errors(blp, 401, 403, 404)
def list_orders(args: dict[str, Any], matter_id: int) -> dict[str, Any]:
    """The orders recorded on a matter."""
    return page_body(orders.list_orders(unit_of_work(), matter_id, args["page"], args["per_page"]))


@blp.route("/matters/<int:matter_id>/orders", methods=["POST"])
@access.writers
@blp.arguments(OrderSchema)
@blp.response(201, OrderSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413)
def create_order(fields: dict[str, Any], matter_id: int) -> Any:
    """Record an order; `supersedes_id` marks the order it modifies."""
    unit = unit_of_work()
    order = orders.create_order(unit, matter_id, fields)
    unit.session.commit()
    return order
