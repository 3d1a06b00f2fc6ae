"""Each obligation's own destruction time on a data source, read from the source's latest check."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from preservation.domain.scope import DateRange
from preservation.domain.scope_times import CANNOT_TELL, RELEASED, ScopeTime, StoredCheck, scope_time
from preservation.models import DataSource, RetentionCheck, obligation_data_source
from preservation.services.unit import Unit


@dataclass
class ObligationTimes:
    """Per obligation id, when the data of its range is destroyed first, and the check that says so."""

    check: RetentionCheck | None
    times: dict[int, ScopeTime] = field(default_factory=dict)


def obligation_times(unit: Unit, source: DataSource) -> ObligationTimes:
    """The answer for every obligation the source satisfies, in three queries whatever the evidence holds."""
    check = unit.session.scalars(
        select(RetentionCheck)
        .where(RetentionCheck.data_source_id == source.id)
        .options(joinedload(RetentionCheck.evidence), selectinload(RetentionCheck.findings))
        .order_by(RetentionCheck.id.desc())
        .limit(1)
    ).first()
    rows = unit.session.execute(
        select(obligation_data_source.c.obligation_id, obligation_data_source.c.linked_at).where(
            obligation_data_source.c.data_source_id == source.id
        )
    )
    linked: dict[int, dt.datetime] = dict(rows.all())
    stored = _stored(check)
    times: dict[int, ScopeTime] = {}
    for obligation in source.obligations:
        if obligation.status == "released":
            times[obligation.id] = ScopeTime(RELEASED, reason="the obligation was released: nothing is owed")
        elif check is None:
            times[obligation.id] = ScopeTime(CANNOT_TELL, reason="no check has looked at the source yet")
        elif stored is None:
            times[obligation.id] = ScopeTime(CANNOT_TELL, reason="the latest check kept no evidence")
        elif (check.summary or {}).get("location", source.location) != source.location:
            times[obligation.id] = ScopeTime(CANNOT_TELL, reason="the source moved after its latest check")
        elif _after(linked.get(obligation.id), check.started_at) or _after(obligation.updated_at, check.started_at):
            # The check asked the storage about the ranges bound when it ran (HEADs, a vault's listing by date).
            times[obligation.id] = ScopeTime(
                CANNOT_TELL, reason="the obligation was linked or changed after the latest check; run a check"
            )
        else:
            times[obligation.id] = scope_time(stored, DateRange(obligation.preserve_from, obligation.preserve_until))
    return ObligationTimes(check=check, times=times)


def _stored(check: RetentionCheck | None) -> StoredCheck | None:
    if check is None or check.evidence is None:
        return None
    return StoredCheck(
        kind=check.kind,
        status=check.status,
        finished_at=check.finished_at,
        snapshot=json.loads(check.evidence.document),
        truncated=check.evidence.truncated,
        findings=[(f.code, f.count, f.examples or []) for f in check.findings],
    )


def _after(moment: dt.datetime | None, start: dt.datetime) -> bool:
    return moment is not None and moment > start
