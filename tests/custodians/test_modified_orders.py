"""An order modified by a later one keeps its custodians held: the holds move to the new order when it is
recorded, so releases elsewhere, reminders and departure warnings still see them, and the re-issue that
is owed shows until the new version is sent."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.models import AuditEvent, CustodianHold, HoldNotice, PreservationOrder
from preservation.services import custodian_import, custodian_notices, custodians, orders, sources, steward_states
from preservation.services.notice_mail import NoticePolicy
from preservation.services.notice_reminders import remind_and_escalate
from preservation.services.unit import Unit
from tests.conftest import ApiClient
from tests.custodians.conftest import FrozenClock, World, json_of, make_world, outbox


def _amend(unit: Unit, world: World, supersedes_id: int | None = None, title: str = "Amended order") -> int:
    order = orders.create_order(
        unit,
        world.matter_id,
        {"kind": "court_order", "title": title, "supersedes_id": supersedes_id or world.order_id},
    )
    return order.id


def _hold(unit: Unit, order_id: int, custodian_id: int) -> CustodianHold:
    hold = unit.session.scalar(
        select(CustodianHold).where(CustodianHold.order_id == order_id, CustodianHold.custodian_id == custodian_id)
    )
    assert hold is not None
    return hold


def test_holds_move_to_the_new_order_when_it_is_recorded(frozen: Unit, world: World, policy: NoticePolicy) -> None:
    for custodian in (world.ana, world.ben, world.max):
        custodians.place_custodian_hold(frozen, world.order_id, custodian.id)
    custodian_notices.issue_notices(frozen, world.order_id, policy, silent_custodian_ids=[world.max.id])
    custodian_notices.release_custodian(frozen, world.order_id, world.ben.id, "not involved")
    old_ana = _hold(frozen, world.order_id, world.ana.id)
    amended = _amend(frozen, world)
    frozen.session.commit()
    carried = frozen.session.scalars(
        select(CustodianHold).where(CustodianHold.order_id == amended).order_by(CustodianHold.id)
    ).all()
    # Ben was released before the amendment, so is not held by it.
    assert [(h.custodian_id, h.status) for h in carried] == [(world.ana.id, "pending"), (world.max.id, "pending")]
    events = frozen.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "custodian_hold.created", AuditEvent.subject_id == str(carried[0].id)
        )
    ).all()
    assert [json.loads(e.details)["carried_from_hold_id"] for e in events] == [old_ana.id]
    # Told of the earlier version, owed the new one; Max was held silently, so was never told anything.
    states = custodian_states(frozen, amended, policy)
    assert states == {world.ana.id: "reissue_owed", world.max.id: "not_notified"}
    custodian_notices.issue_notices(frozen, amended, policy, custodian_ids=[world.ana.id])
    assert custodian_states(frozen, amended, policy)[world.ana.id] == "awaiting"


def custodian_states(unit: Unit, order_id: int, policy: NoticePolicy) -> dict[int, str]:
    """Acknowledgement state of each custodian of an order."""
    from preservation.services import hold_states  # noqa: PLC0415

    return {s["custodian_id"]: s["acknowledgement"] for s in hold_states.order_states(unit, order_id, policy)}


def test_a_release_from_another_order_names_the_amended_hold(frozen: Unit, world: World, policy: NoticePolicy) -> None:
    custodians.place_custodian_hold(frozen, world.order_id, world.ana.id)
    custodians.place_custodian_hold(frozen, world.other_order_id, world.ana.id)
    custodian_notices.issue_notices(frozen, world.order_id, policy)
    custodian_notices.issue_notices(frozen, world.other_order_id, policy)
    _amend(frozen, world)
    # No notice on the amended order yet: Ana is still held, and is told so.
    custodian_notices.release_custodian(frozen, world.other_order_id, world.ana.id, "email not needed")
    frozen.session.commit()
    [(release, _targets)] = outbox(frozen.session, "release")
    assert "You are still under these holds" in release.body
    assert "Doe v. Border Agency: Amended order" in release.body
    assert "resume normal handling" not in release.body


def test_reminders_go_on_until_the_new_version_is_issued(
    frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock
) -> None:
    custodians.place_custodian_hold(frozen, world.order_id, world.ana.id)
    [first] = custodian_notices.issue_notices(frozen, world.order_id, policy)
    amended = _amend(frozen, world)
    frozen.session.commit()
    clock.advance(days=3)
    run = remind_and_escalate(frozen, policy)
    assert run.reminded_custodians == [world.ana.id]
    assert first.reminder_count == 1
    # The new version supersedes the one she was reminded of; she is reminded of the new one only.
    [second] = custodian_notices.issue_notices(frozen, amended, policy)
    assert first.superseded_by_id == second.id
    clock.advance(days=3)
    remind_and_escalate(frozen, policy)
    frozen.session.commit()
    assert (first.reminder_count, second.reminder_count) == (1, 1)
    # Released from the amended order: nothing more is owed on either version.
    custodian_notices.release_custodian(frozen, amended, world.ana.id, "done")
    clock.advance(days=3)
    assert remind_and_escalate(frozen, policy).reminders == 0


def test_released_from_the_amendment_before_the_reissue_ends_the_reminders(
    frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock
) -> None:
    custodians.place_custodian_hold(frozen, world.order_id, world.ana.id)
    custodian_notices.issue_notices(frozen, world.order_id, policy)
    amended = _amend(frozen, world)
    custodian_notices.release_custodian(frozen, amended, world.ana.id, "not involved after all")
    frozen.session.commit()
    # She was told of the earlier version, so she is told of the release.
    [(release, targets)] = outbox(frozen.session, "release")
    assert targets == ["ana@example.org"]
    assert "You may resume normal handling" in release.body
    clock.advance(days=10)
    run = remind_and_escalate(frozen, policy)
    assert (run.reminders, run.escalations) == (0, 0)


def test_a_chain_of_amendments(frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock) -> None:
    custodians.place_custodian_hold(frozen, world.order_id, world.ana.id)
    [first] = custodian_notices.issue_notices(frozen, world.order_id, policy)
    second_order = _amend(frozen, world)
    third_order = _amend(frozen, world, supersedes_id=second_order, title="Second amendment")
    frozen.session.commit()
    assert custodian_states(frozen, third_order, policy) == {world.ana.id: "reissue_owed"}
    clock.advance(days=3)
    assert remind_and_escalate(frozen, policy).reminded_custodians == [world.ana.id]
    [latest] = custodian_notices.issue_notices(frozen, third_order, policy)
    assert first.superseded_by_id == latest.id
    # Releasing the last version ends the hold the first one started.
    orders.release_order(frozen, third_order, "settled")
    remind_and_escalate(frozen, policy)
    clock.advance(days=10)
    assert remind_and_escalate(frozen, policy).reminders == 0


def test_departure_warnings_see_custodians_of_an_amended_order(
    frozen: Unit, world: World, policy: NoticePolicy
) -> None:
    custodians.update_custodian(frozen, world.ana.id, {"end_date": dt.date(2027, 3, 10)})
    custodians.place_custodian_hold(frozen, world.order_id, world.ana.id)
    _amend(frozen, world)
    frozen.session.commit()
    [alert] = custodian_import.departure_alerts(frozen, policy)
    assert "Amended order" in alert.body


def test_a_stewards_confirmation_stays_with_the_source_through_an_amendment(
    frozen: Unit, world: World, policy: NoticePolicy
) -> None:
    source = sources.create_data_source(
        frozen, {"name": "Camera archive", "kind": "manual", "location": "nvr://a", "steward_id": world.ben.id}
    )
    notice = custodian_notices.issue_steward_notice(frozen, world.order_id, source.id, policy)
    custodian_notices.acknowledge(frozen, notice)
    _amend(frozen, world)
    frozen.session.commit()
    state = steward_states.steward_notice_state(frozen, source.id, policy)
    assert state["state"] == "confirmed"
    assert [n["notice_id"] for n in state["notices"]] == [notice.id]


def test_the_api_shows_the_owed_reissue(api: ApiClient, session: Session) -> None:
    world = make_world(Unit(session=session, actor="test"))
    custodians.place_custodian_hold(Unit(session=session, actor="test"), world.order_id, world.ana.id)
    session.commit()
    order_id = world.order_id
    session.rollback()
    assert api.post(f"/api/v1/orders/{order_id}/notices", json={}).status_code == 201
    created = api.post(
        f"/api/v1/matters/{world.matter_id}/orders",
        json={"kind": "court_order", "title": "Amended order", "supersedes_id": order_id},
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    amended = json_of(created)["id"]
    listed = json_of(api.get(f"/api/v1/orders/{amended}/custodians"))["items"]
    assert [h["acknowledgement"] for h in listed] == ["reissue_owed"]
    states = json_of(api.get(f"/api/v1/orders/{amended}/acknowledgements"))["items"]
    assert [(s["custodian_email"], s["acknowledgement"]) for s in states] == [("ana@example.org", "reissue_owed")]
    assert session.get(PreservationOrder, order_id) is not None
    assert session.scalars(select(HoldNotice.order_id)).all() == [order_id]
