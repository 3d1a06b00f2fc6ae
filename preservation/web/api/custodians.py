"""Custodians and data stewards."""

from __future__ import annotations

from typing import Any

from preservation.models import Custodian
from preservation.services import custodians
from preservation.web import access
from preservation.web.api.common import api_blueprint, documented_errors, page_body
from preservation.web.api.schemas import (
    CustodianArgsSchema,
    CustodianPageSchema,
    CustodianPatchSchema,
    CustodianSchema,
)
from preservation.web.session import unit_of_work

blp = api_blueprint("custodians", "Custodians and data stewards.")


@blp.route("/custodians", methods=["GET"])
@access.readers
@blp.arguments(CustodianArgsSchema, location="query")
@blp.response(200, CustodianPageSchema)
@documented_errors(blp, 401, 403)
def list_custodians(args: dict[str, Any]) -> dict[str, Any]:
    """List custodians, oldest first; filter by email."""
    return page_body(custodians.list_custodians(unit_of_work(), args["page"], args["per_page"], args.get("email")))


@blp.route("/custodians", methods=["POST"])
@access.writers
@blp.arguments(CustodianSchema)
@blp.response(201, CustodianSchema)
@documented_errors(blp, 400, 401, 403, 409, 413)
def create_custodian(fields: dict[str, Any]) -> Any:
    """Record a custodian."""
    unit = unit_of_work()
    custodian = custodians.create_custodian(unit, fields)
    unit.session.commit()
    return custodian


@blp.route("/custodians/<int:custodian_id>", methods=["GET"])
@access.readers
@blp.response(200, CustodianSchema)
@documented_errors(blp, 401, 403, 404)
def get_custodian(custodian_id: int) -> Any:
    """One custodian."""
    return unit_of_work().get(Custodian, custodian_id)


@blp.route("/custodians/<int:custodian_id>", methods=["PATCH"])
@access.writers
@blp.arguments(CustodianPatchSchema)
@blp.response(200, CustodianSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413)
def update_custodian(changes: dict[str, Any], custodian_id: int) -> Any:
    """Change a custodian's details."""
    unit = unit_of_work()
    custodian = custodians.update_custodian(unit, custodian_id, changes)
    unit.session.commit()
    return custodian
