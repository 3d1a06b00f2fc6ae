"""Data sources: where the evidence lives."""

from __future__ import annotations

from typing import Any

from preservation.models import DataSource
from preservation.services import sources
from preservation.web import access
from preservation.web.api.common import api_blueprint, documented_errors, page_body
from preservation.web.api.notice_schemas import prime_steward_notices
from preservation.web.api.schemas import (
    DataSourceArgsSchema,
    DataSourcePageSchema,
    DataSourcePatchSchema,
    DataSourceSchema,
    RetireSchema,
)
from preservation.web.session import unit_of_work

blp = api_blueprint("data_sources", "Data sources: the systems holding evidence, and their destruction clocks.")


@blp.route("/data-sources", methods=["GET"])
@access.readers
@blp.arguments(DataSourceArgsSchema, location="query")
@blp.response(200, DataSourcePageSchema)
@documented_errors(blp, 401, 403)
def list_data_sources(args: dict[str, Any]) -> dict[str, Any]:
    """List data sources, oldest first; retired ones only when asked."""
    page = sources.list_data_sources(
        unit_of_work(),
        args["page"],
        args["per_page"],
        kind=args.get("kind"),
        status=args.get("status"),
        include_retired=args["include_retired"],
    )
    prime_steward_notices(page.items)
    return page_body(page)


@blp.route("/data-sources", methods=["POST"])
@access.writers
@blp.arguments(DataSourceSchema)
@blp.response(201, DataSourceSchema)
@documented_errors(blp, 400, 401, 403, 413)
def create_data_source(fields: dict[str, Any]) -> Any:
    """Catalogue a data source."""
    unit = unit_of_work()
    source = sources.create_data_source(unit, fields)
    unit.session.commit()
    return source


@blp.route("/data-sources/<int:source_id>", methods=["GET"])
@access.readers
@blp.response(200, DataSourceSchema)
@documented_errors(blp, 401, 403, 404)
def get_data_source(source_id: int) -> Any:
    """One data source."""
    return unit_of_work().get(DataSource, source_id)


@blp.route("/data-sources/<int:source_id>", methods=["PATCH"])
@access.writers
@blp.arguments(DataSourcePatchSchema)
@blp.response(200, DataSourceSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413)
def update_data_source(changes: dict[str, Any], source_id: int) -> Any:
    """Change a data source; moving it resets its status to unchecked."""
    unit = unit_of_work()
    source = sources.update_data_source(unit, source_id, changes)
    unit.session.commit()
    return source


@blp.route("/data-sources/<int:source_id>/retire", methods=["POST"])
@access.writers
@blp.arguments(RetireSchema)
@blp.response(200, DataSourceSchema)
@documented_errors(blp, 400, 401, 403, 404, 409, 413)
def retire_data_source(body: dict[str, Any], source_id: int) -> Any:
    """Take a data source out of service; it and its history stay."""
    unit = unit_of_work()
    source = sources.retire_data_source(unit, source_id, body["reason"])
    unit.session.commit()
    return source
