"""Recording matters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from preservation.models import Matter
from preservation.services import audit
from preservation.services.pages import Page, paginate
from preservation.services.unit import Unit, apply_changes, snapshot

MATTER_FIELDS = (
    "caption",
    "docket_number",
    "court",
    "judge",
    "status",
    "trigger_date",
    "trigger_description",
    "trigger_decided_by",
    "description",
)


def create_matter(unit: Unit, fields: dict[str, Any]) -> Matter:
    """Record a new matter."""
    matter = Matter(**fields)
    unit.session.add(matter)
    unit.session.flush()
    audit.record(
        unit, "matter.created", "matter", matter.id, matter_id=matter.id, details=snapshot(matter, MATTER_FIELDS)
    )
    return matter


def update_matter(unit: Unit, matter_id: int, changes: dict[str, Any]) -> Matter:
    """Change a matter's fields; an event records what changed."""
    matter: Matter = unit.get(Matter, matter_id)
    diff = apply_changes(matter, changes)
    if diff:
        audit.record(unit, "matter.updated", "matter", matter.id, matter_id=matter.id, details={"changes": diff})
    return matter


def list_matters(unit: Unit, page: int, per_page: int, status: str | None = None) -> Page:
    """Matters, oldest first."""
    query = select(Matter).order_by(Matter.id)
    if status:
        query = query.where(Matter.status == status)
    return paginate(unit.session, query, page, per_page)
