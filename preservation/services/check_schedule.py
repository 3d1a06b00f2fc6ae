"""Which data sources a retention check is due for now: each source's own check interval decides."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from preservation.models import DataSource
from preservation.services import checks
from preservation.services.unit import Unit


def sources_due_now(unit: Unit) -> list[int]:
    """Sources `check --all` would look at whose last check is older than their interval, never-checked first."""
    now = unit.clock()
    candidates = checks.sources_due(unit)
    if not candidates:
        return []
    rows = unit.session.execute(
        select(DataSource.id, DataSource.last_checked_at, DataSource.check_interval_hours).where(
            DataSource.id.in_(candidates)
        )
    ).all()
    due = [
        (row.last_checked_at, row.id)
        for row in rows
        if row.last_checked_at is None or row.last_checked_at + dt.timedelta(hours=row.check_interval_hours) <= now
    ]
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return [source_id for _last, source_id in sorted(due, key=lambda item: (item[0] or epoch, item[1]))]
