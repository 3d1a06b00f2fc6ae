"""A data source's steward notice state under a frozen clock: awaiting, overdue past the reminder period,
escalated, confirmed; the source's status is left to its checks."""

from __future__ import annotations

from preservation.models import DataSource
from preservation.services import custodian_notices, sources, steward_states
from preservation.services.notice_mail import NoticePolicy
from preservation.services.notice_reminders import remind_and_escalate
from preservation.services.unit import Unit
from tests.custodians.conftest import FrozenClock, World


def test_steward_notice_state_follows_the_notice(
    frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock
) -> None:
    source = sources.create_data_source(
        frozen, {"name": "Camera archive", "kind": "manual", "location": "nvr://sy", "steward_id": world.ben.id}
    )
    frozen.session.commit()
    assert steward_states.steward_notice_state(frozen, source.id, policy) == {
        "state": "none",
        "confirmed_at": None,
        "notices": [],
    }
    notice = custodian_notices.issue_steward_notice(frozen, world.order_id, source.id, policy)
    frozen.session.commit()
    assert steward_states.steward_notice_state(frozen, source.id, policy)["state"] == "awaiting"
    clock.advance(days=3)
    assert steward_states.steward_notice_state(frozen, source.id, policy)["state"] == "overdue"
    clock.advance(days=4)
    remind_and_escalate(frozen, policy)
    frozen.session.commit()
    assert steward_states.steward_notice_state(frozen, source.id, policy)["state"] == "escalated"
    assert custodian_notices.acknowledge(frozen, notice)
    frozen.session.commit()
    state = steward_states.steward_notice_state(frozen, source.id, policy)
    assert state["state"] == "confirmed"
    assert state["confirmed_at"] == clock()
    assert [(n["notice_id"], n["state"]) for n in state["notices"]] == [(notice.id, "confirmed")]
    refreshed = frozen.session.get(DataSource, source.id)
    assert refreshed is not None
    assert refreshed.status == "unchecked"
