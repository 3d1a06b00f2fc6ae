"""Data sources: cataloguing where evidence lives, and retiring what no longer holds any."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from preservation.domain import rules
from preservation.domain.errors import Conflict, FieldError
from preservation.models import Custodian, DataSource
from preservation.services import audit, status_history
from preservation.services.pages import Page, paginate
from preservation.services.unit import Unit, apply_changes, snapshot

SOURCE_FIELDS = (
    "name",
    "kind",
    "location",
    "region",
    "description",
    "steward_id",
    "natural_retention_days",
    "check_interval_hours",
    "inventory_configuration_id",
    "status",
)
# S3 names inventory configurations with letters, digits, dots, hyphens and underscores, up to 64 characters.
_INVENTORY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _check_source(  # noqa: PLR0917  (the source's fields, each checked)
    unit: Unit, kind: str, location: str, region: str | None, steward_id: int | None, inventory_id: str | None = None
) -> None:
    rules.check_location(kind, location)
    rules.check_region(region)
    if inventory_id is not None:
        if kind != "s3":
            raise FieldError("inventory_configuration_id", "only an s3 source reads an inventory report")
        if not _INVENTORY_ID.fullmatch(inventory_id):
            raise FieldError(
                "inventory_configuration_id",
                "an S3 inventory configuration id: 1 to 64 letters, digits, dots, hyphens or underscores",
            )
    if steward_id is not None and unit.session.get(Custodian, steward_id) is None:
        raise FieldError("steward_id", f"custodian {steward_id} does not exist")


def create_data_source(unit: Unit, fields: dict[str, Any]) -> DataSource:
    """Catalogue a data source; its status stays `unchecked` until a check has looked at it."""
    _check_source(
        unit,
        fields["kind"],
        fields["location"],
        fields.get("region"),
        fields.get("steward_id"),
        fields.get("inventory_configuration_id"),
    )
    source = DataSource(status="unchecked", **fields)
    unit.session.add(source)
    unit.session.flush()
    audit.record(
        unit, "data_source.created", "data_source", source.id, matter_id=None, details=snapshot(source, SOURCE_FIELDS)
    )
    # After the audit event, whose lock every status change takes first: one order of locks, no deadlock.
    status_history.record_today(unit)
    return source


def update_data_source(unit: Unit, source_id: int, changes: dict[str, Any]) -> DataSource:
    """Change a source's description, location or clocks; a retired source is frozen."""
    source: DataSource = unit.get(DataSource, source_id)
    if source.retired_at is not None:
        raise Conflict(f"data source {source.id} is retired; it can no longer change")
    _check_source(
        unit,
        changes.get("kind", source.kind),
        changes.get("location", source.location),
        changes.get("region", source.region),
        changes.get("steward_id", source.steward_id),
        changes.get("inventory_configuration_id", source.inventory_configuration_id),
    )
    diff = apply_changes(source, changes)
    if "kind" in diff or "location" in diff:
        # What was verified about the old location says nothing about the new one.
        diff.update(apply_changes(source, {"status": "unchecked", "earliest_destruction_at": None}))
    if diff:
        audit.record(unit, "data_source.updated", "data_source", source.id, matter_id=None, details={"changes": diff})
    if "status" in diff:
        status_history.record_today(unit)
    return source


def retire_data_source(unit: Unit, source_id: int, reason: str) -> DataSource:
    """Take a source out of service without deleting it or its history."""
    source: DataSource = unit.get(DataSource, source_id)
    if source.retired_at is not None:
        raise Conflict(f"data source {source.id} was already retired")
    if not reason.strip():
        raise FieldError("reason", "say why the source is retired")
    source.retired_at = unit.clock()
    source.retired_reason = reason
    source.retired_by = unit.actor
    audit.record(unit, "data_source.retired", "data_source", source.id, matter_id=None, details={"reason": reason})
    status_history.record_today(unit)
    return source


def list_data_sources(
    unit: Unit,
    page: int,
    per_page: int,
    *,
    kind: str | None = None,
    status: str | None = None,
    include_retired: bool = False,
) -> Page:
    """Data sources, oldest first, with their obligations loaded in one more query (the scope needs them)."""
    query = select(DataSource).options(selectinload(DataSource.obligations)).order_by(DataSource.id)
    if kind:
        query = query.where(DataSource.kind == kind)
    if status:
        query = query.where(DataSource.status == status)
    if not include_retired:
        query = query.where(DataSource.retired_at.is_(None))
    return paginate(unit.session, query, page, per_page)
