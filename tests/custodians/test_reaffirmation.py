"""Periodic re-affirmation per order, under a frozen clock: once per period, again until acknowledged, never
to released or silent holds, and idempotent when the run is repeated or killed halfway."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from preservation.models import AuditEvent, HoldNotice
from preservation.services import custodian_notices, custodians, notice_reaffirmation, orders
from preservation.services.notice_mail import NoticePolicy
from preservation.services.notice_reminders import remind_and_escalate
from preservation.services.unit import Unit
from tests.custodians.conftest import FrozenClock, World, order_of, outbox


def _current(unit: Unit, custodian_id: int, order_id: int) -> HoldNotice:
    return unit.session.scalars(
        select(HoldNotice).where(
            HoldNotice.custodian_id == custodian_id,
            HoldNotice.order_id == order_id,
            HoldNotice.kind != "release",
            HoldNotice.superseded_at.is_(None),
        )
    ).one()


def _quarterly_order_acknowledged_by_ana(
    unit: Unit, world: World, policy: NoticePolicy, clock: FrozenClock
) -> HoldNotice:
    """The order re-affirms every 90 days; Ana and Ben are notified, Max held silently; Ana acknowledges a day later."""
    orders.update_order(unit, world.order_id, {"reaffirm_every_days": 90})
    for custodian in (world.ana, world.ben, world.max):
        custodians.place_custodian_hold(unit, world.order_id, custodian.id)
    custodian_notices.issue_notices(unit, world.order_id, policy, silent_custodian_ids=[world.max.id])
    unit.session.commit()
    clock.advance(days=1)
    notice = _current(unit, world.ana.id, world.order_id)
    assert custodian_notices.acknowledge(unit, notice)
    unit.session.commit()
    return notice


def test_reaffirmation_once_per_period_until_acknowledged(
    frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock
) -> None:
    acknowledged = _quarterly_order_acknowledged_by_ana(frozen, world, policy, clock)
    clock.advance(days=89, hours=23)
    assert remind_and_escalate(frozen, policy).reaffirmations == 0
    frozen.session.commit()
    assert outbox(frozen.session, "reaffirm") == []

    clock.advance(hours=1)
    run = remind_and_escalate(frozen, policy)
    frozen.session.commit()
    assert run.reaffirmations == 1
    sent = outbox(frozen.session, "reaffirm")
    assert [targets for _alert, targets in sent] == [["ana@example.org"]]
    assert sent[0][0].subject.startswith("Re-affirm: ")
    assert "acknowledged on 2027-03-02" in sent[0][0].body
    assert "http://localhost/notices/" in sent[0][0].body
    reaffirmation = _current(frozen, world.ana.id, world.order_id)
    assert reaffirmation.reaffirms_id == acknowledged.id
    assert reaffirmation.template_version == acknowledged.template_version
    assert reaffirmation.acknowledged_at is None
    frozen.session.refresh(acknowledged)
    assert acknowledged.superseded_by_id == reaffirmation.id
    assert acknowledged.acknowledged_at is not None  # the earlier acknowledgement stays on record
    assert reaffirmation.hold.status == "notified"
    event = frozen.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "custodian_notice.reaffirmation_requested")
    ).one()
    details = json.loads(event.details)
    assert details["reaffirms_notice_id"] == acknowledged.id
    assert details["every_days"] == 90

    # The same period is never asked about twice, however often the job runs.
    assert remind_and_escalate(frozen, policy).reaffirmations == 0
    clock.advance(days=200)
    assert remind_and_escalate(frozen, policy).reaffirmations == 0
    frozen.session.commit()
    assert len(outbox(frozen.session, "reaffirm")) == 1
    # Until Ana acknowledges again, she is reminded like any unacknowledged notice, and escalated.
    ana_reminders = [a for a, targets in outbox(frozen.session, "reminder") if targets == ["ana@example.org"]]
    assert len(ana_reminders) == 1
    assert "Order to preserve camera footage" in ana_reminders[0].body
    frozen.session.refresh(reaffirmation)
    assert reaffirmation.escalated_at is not None

    assert custodian_notices.acknowledge(frozen, reaffirmation)
    frozen.session.commit()
    clock.advance(days=89)
    assert remind_and_escalate(frozen, policy).reaffirmations == 0
    clock.advance(days=1)
    assert remind_and_escalate(frozen, policy).reaffirmations == 1
    frozen.session.commit()
    assert _current(frozen, world.ana.id, world.order_id).reaffirms_id == reaffirmation.id


def test_no_reaffirmation_for_unacknowledged_silent_or_released_holds(
    frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock
) -> None:
    _quarterly_order_acknowledged_by_ana(frozen, world, policy, clock)
    clock.advance(days=365)
    owed = notice_reaffirmation.reaffirmations_owed(frozen)
    # Ben never acknowledged (he is reminded instead); Max is held silently.
    assert [n.custodian_id for n in owed] == [world.ana.id]
    custodian_notices.release_custodian(frozen, world.order_id, world.ana.id, "no longer involved")
    frozen.session.commit()
    assert notice_reaffirmation.reaffirmations_owed(frozen) == []
    assert remind_and_escalate(frozen, policy).reaffirmations == 0
    frozen.session.commit()
    assert outbox(frozen.session, "reaffirm") == []


def test_no_reaffirmation_when_off_or_the_order_is_released(
    frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock
) -> None:
    _quarterly_order_acknowledged_by_ana(frozen, world, policy, clock)
    orders.update_order(frozen, world.order_id, {"reaffirm_every_days": None})
    frozen.session.commit()
    clock.advance(days=365)
    assert notice_reaffirmation.reaffirmations_owed(frozen) == []
    orders.update_order(frozen, world.order_id, {"reaffirm_every_days": 30})
    frozen.session.commit()
    assert len(notice_reaffirmation.reaffirmations_owed(frozen)) == 1
    orders.release_order(frozen, world.order_id, "case settled")
    frozen.session.commit()
    assert order_of(frozen.session, world.order_id).status == "released"
    assert remind_and_escalate(frozen, policy).reaffirmations == 0


def test_a_run_killed_halfway_sends_each_reaffirmation_once(
    frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _quarterly_order_acknowledged_by_ana(frozen, world, policy, clock)
    for notice in frozen.session.scalars(select(HoldNotice).where(HoldNotice.custodian_id == world.ben.id)):
        assert custodian_notices.acknowledge(frozen, notice)
    frozen.session.commit()
    clock.advance(days=91)
    real_queue = notice_reaffirmation.queue_email
    calls = []

    def dies_on_the_second(*args: object, **kwargs: object) -> object:
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("process killed")
        return real_queue(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(notice_reaffirmation, "queue_email", dies_on_the_second)
    with pytest.raises(RuntimeError, match="killed"):
        remind_and_escalate(frozen, policy)
    frozen.session.rollback()
    monkeypatch.setattr(notice_reaffirmation, "queue_email", real_queue)
    assert outbox(frozen.session, "reaffirm") == []
    assert remind_and_escalate(frozen, policy).reaffirmations == 2
    frozen.session.commit()
    assert remind_and_escalate(frozen, policy).reaffirmations == 0
    frozen.session.commit()
    sent = outbox(frozen.session, "reaffirm")
    assert sorted(targets[0] for _alert, targets in sent) == ["ana@example.org", "ben@example.org"]
