"""`preservation seed-scale` adds rows the pages can show, and an audit chain that still verifies."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from preservation.models import AuditEvent, CheckFinding, Custodian, DataSource, Matter
from preservation.services import audit
from preservation.services.scale_seed import ScaleSizes, seed_scale
from preservation.services.unit import Unit, system_clock


def test_a_small_scale_seed_has_the_proportions_and_a_valid_chain(session: Session, unit: Unit) -> None:
    audit.record(unit, "matter.created", "matter", 0, matter_id=None, details={"before": "the seed"})
    session.commit()
    added = seed_scale(session, ScaleSizes.at(0.002), system_clock())
    session.commit()
    assert added == {"matters": 1, "custodians": 40, "sources": 10, "findings": 200, "audit_events": 2000}
    counts = [session.scalar(select(func.count()).select_from(model)) for model in (Matter, Custodian, DataSource)]
    assert counts == [1, 40, 10]
    assert session.scalar(select(func.count()).select_from(CheckFinding)) == 200
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 2001
    report = audit.verify_chain(session)
    assert report.problem is None
    assert report.events == 2001
