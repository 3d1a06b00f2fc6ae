"""Release notices: a released custodian is told, and one still held by another active order is told
which holds remain; silent holds are released silently; a release is told once."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.models import AuditEvent, HoldNotice
from preservation.services import custodian_notices, custodians, orders
from preservation.services.notice_mail import NoticePolicy
from preservation.services.notice_reminders import remind_and_escalate
from preservation.services.unit import Unit
from tests.conftest import ApiClient
from tests.custodians.conftest import World, json_of, make_world, outbox


def _overlapping(unit: Unit, world: World, policy: NoticePolicy) -> None:
    """Ana on both orders, Ben on the first only, Max silently on the first."""
    for custodian in (world.ana, world.ben, world.max):
        custodians.place_custodian_hold(unit, world.order_id, custodian.id)
    custodians.place_custodian_hold(unit, world.other_order_id, world.ana.id)
    custodian_notices.issue_notices(unit, world.order_id, policy, silent_custodian_ids=[world.max.id])
    custodian_notices.issue_notices(unit, world.other_order_id, policy)
    unit.session.commit()


def test_releasing_an_order_tells_each_custodian_what_remains(frozen: Unit, world: World, policy: NoticePolicy) -> None:
    _overlapping(frozen, world, policy)
    orders.release_order(frozen, world.order_id, "case settled")
    run = remind_and_escalate(frozen, policy)
    frozen.session.commit()
    assert run.release_notices == 3
    sent = {targets[0]: alert for alert, targets in outbox(frozen.session, "release")}
    assert set(sent) == {"ana@example.org", "ben@example.org"}  # Max was never told, so is not told now
    assert "You are still under these holds" in sent["ana@example.org"].body
    assert "Hold on email" in sent["ana@example.org"].body
    assert "You may resume normal handling" in sent["ben@example.org"].body
    assert "still under" not in sent["ben@example.org"].body
    silent = frozen.session.scalars(
        select(HoldNotice).where(HoldNotice.custodian_id == world.max.id, HoldNotice.kind == "release")
    ).one()
    assert silent.silent
    # Told once: the next run owes nothing.
    assert remind_and_escalate(frozen, policy).release_notices == 0
    assert len(outbox(frozen.session, "release")) == 2
    # Ana is still reminded of the hold that remains, and only of it.
    assert remind_and_escalate(frozen, policy).reminders == 0


def test_last_hold_released_resumes_normal_handling(frozen: Unit, world: World, policy: NoticePolicy) -> None:
    _overlapping(frozen, world, policy)
    custodian_notices.release_custodian(frozen, world.other_order_id, world.ana.id, "not needed for email")
    first = outbox(frozen.session, "release")
    assert "Doe v. Border Agency: Order to preserve camera footage" in first[0][0].body
    custodian_notices.release_custodian(frozen, world.order_id, world.ana.id, "done")
    frozen.session.commit()
    second = outbox(frozen.session, "release")[1][0]
    assert "You may resume normal handling" in second.body


def test_release_one_custodian_through_the_api(api: ApiClient, session: Session) -> None:
    world = make_world(Unit(session=session, actor="test"))
    for custodian in (world.ana, world.ben):
        custodians.place_custodian_hold(Unit(session=session, actor="test"), world.order_id, custodian.id)
    session.commit()
    ana_id, ben_id, order_id = world.ana.id, world.ben.id, world.order_id
    session.rollback()
    assert api.post(f"/api/v1/orders/{order_id}/notices", json={}).status_code == 201
    released = api.post(f"/api/v1/orders/{order_id}/custodians/{ana_id}/release", json={"reason": "not involved"})
    assert released.status_code == 200, released.get_data(as_text=True)
    assert json_of(released)["acknowledgement"] == "released"
    again = api.post(f"/api/v1/orders/{order_id}/custodians/{ana_id}/release", json={"reason": "again"})
    assert again.status_code == 409
    viewer = api.post(f"/api/v1/orders/{order_id}/custodians/{ana_id}/release", json={"reason": "x"}, role="viewer")
    assert viewer.status_code == 403
    holds = json_of(api.get(f"/api/v1/custodians/{ana_id}/holds", role="viewer"))["items"]
    assert [(h["order_id"], h["status"]) for h in holds] == [(order_id, "released")]
    history = json_of(api.get(f"/api/v1/orders/{order_id}/notices"))["items"]
    assert [(n["custodian_id"], n["kind"]) for n in history] == [
        (ana_id, "hold"),
        (ben_id, "hold"),
        (ana_id, "release"),
    ]


def test_releasing_the_whole_order_through_the_api_tells_every_notified_custodian_at_once(
    api: ApiClient, session: Session
) -> None:
    world = make_world(Unit(session=session, actor="test"))
    for custodian in (world.ana, world.ben):
        custodians.place_custodian_hold(Unit(session=session, actor="test"), world.order_id, custodian.id)
    session.commit()
    ana_id, ben_id, order_id = world.ana.id, world.ben.id, world.order_id
    session.rollback()
    assert api.post(f"/api/v1/orders/{order_id}/notices", json={}).status_code == 201
    released = api.post(f"/api/v1/orders/{order_id}/release", json={"reason": "case settled"})
    assert released.status_code == 200, released.get_data(as_text=True)
    history = json_of(api.get(f"/api/v1/orders/{order_id}/notices"))["items"]
    assert sorted((n["custodian_id"], n["kind"]) for n in history if n["kind"] == "release") == sorted(
        [(ana_id, "release"), (ben_id, "release")]
    )


def test_a_release_never_names_holds_the_custodian_was_not_told_of(
    frozen: Unit, world: World, policy: NoticePolicy
) -> None:
    third = orders.create_order(frozen, world.matter_id, {"kind": "litigation_hold", "title": "Internal inquiry"})
    for order_id in (world.order_id, world.other_order_id, third.id):
        custodians.place_custodian_hold(frozen, order_id, world.ana.id)
    custodian_notices.issue_notices(frozen, world.order_id, policy)
    # Held silently on the other order, and never notified at all on the third.
    custodian_notices.issue_notices(frozen, world.other_order_id, policy, silent_custodian_ids=[world.ana.id])
    hold = custodian_notices.release_custodian(frozen, world.order_id, world.ana.id, "done")
    frozen.session.commit()
    [(release, _targets)] = outbox(frozen.session, "release")
    assert "Hold on email" not in release.body
    assert "Internal inquiry" not in release.body
    assert "still under" not in release.body
    # The record keeps every hold that remains, and which of them the custodian was told of.
    event = frozen.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "custodian_notice.released", AuditEvent.subject_id == str(hold.id)
        )
    ).one()
    details = json.loads(event.details)
    assert len(details["remaining_hold_ids"]) == 2
    assert details["listed_hold_ids"] == []
