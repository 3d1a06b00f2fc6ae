"""Bad links: expired, tampered, minted for another custodian, superseded, or without the form's CSRF token.
Each gets a clear page and changes nothing."""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from preservation.models import AuditEvent, HoldNotice
from preservation.services import custodian_notices, custodians, notice_links
from preservation.services.notice_mail import NoticePolicy
from preservation.services.unit import Unit
from tests.custodians.conftest import SECRET, World, csrf_token

Claims = dict[str, int]


def _claims(notice: HoldNotice) -> Claims:
    return {"n": notice.id, "h": notice.hold_id, "c": notice.custodian_id, "v": notice.template_version or 0}


def _issue(unit: Unit, world: World, policy: NoticePolicy) -> tuple[Claims, Claims]:
    """Notices to Ana and Ben; what their links claim. No read stays open (SQLite would block the app)."""
    for custodian in (world.ana, world.ben):
        custodians.place_custodian_hold(unit, world.order_id, custodian.id)
    ana, ben = custodian_notices.issue_notices(unit, world.order_id, policy)
    unit.session.commit()
    claims = _claims(ana), _claims(ben)
    unit.session.rollback()
    return claims


def _token(claims: Claims, secret: str = SECRET) -> str:
    return str(URLSafeTimedSerializer(secret, salt=notice_links.SALT).dumps(claims))


def _acknowledged_at(session: Session, claims: Claims) -> object:
    notice = session.get(HoldNotice, claims["n"])
    assert notice is not None
    value = notice.acknowledged_at
    session.rollback()
    return value


def _acknowledgements(session: Session) -> int:
    session.rollback()
    count = session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "custodian_notice.acknowledged")
    )
    session.rollback()
    return int(count or 0)


def _try_acknowledge(client: FlaskClient, token: str) -> tuple[int, str]:
    # A CSRF token from a genuine page of this browser, so only the link is wrong.
    html = client.get("/auth/sign-in").get_data(as_text=True)
    answer = client.post(f"/notices/{token}/acknowledge", data={"csrf_token": csrf_token(html)})
    return answer.status_code, answer.get_data(as_text=True)


class _Backdated(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 61 * 86_400


def test_expired_link(client: FlaskClient, frozen: Unit, world: World, policy: NoticePolicy) -> None:
    ana, _ben = _issue(frozen, world, policy)
    token = URLSafeTimedSerializer(SECRET, salt=notice_links.SALT, signer=_Backdated).dumps(ana)
    page = client.get(f"/notices/{token}")
    assert page.status_code == 410
    assert "This link has expired" in page.get_data(as_text=True)
    status, body = _try_acknowledge(client, token)
    assert status == 410
    assert "expired" in body
    assert _acknowledgements(frozen.session) == 0


@pytest.mark.parametrize("mangle", ["flip", "truncate", "other-secret", "garbage"])
def test_tampered_link(client: FlaskClient, frozen: Unit, world: World, policy: NoticePolicy, mangle: str) -> None:
    ana, _ben = _issue(frozen, world, policy)
    good = _token(ana)
    token = {
        "flip": good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:],
        "truncate": good[:-5],
        "other-secret": _token(ana, "another-secret"),
        "garbage": "not-a-token",
    }[mangle]
    page = client.get(f"/notices/{token}")
    assert page.status_code == 400
    assert "This link is not valid" in page.get_data(as_text=True)
    status, _body = _try_acknowledge(client, token)
    assert status == 400
    assert _acknowledgements(frozen.session) == 0


def test_link_minted_for_another_custodian(
    client: FlaskClient, frozen: Unit, world: World, policy: NoticePolicy
) -> None:
    ana, ben = _issue(frozen, world, policy)
    # A genuine signature over Ben's identity but Ana's notice (or the other way round) opens nothing.
    for claims in (ana | {"c": ben["c"]}, ana | {"h": ben["h"]}, ana | {"v": 9}, ben | {"n": ana["n"]}):
        token = _token(claims)
        page = client.get(f"/notices/{token}")
        assert page.status_code == 400
        assert "does not belong to this notice" in page.get_data(as_text=True)
        assert _try_acknowledge(client, token)[0] == 400
    assert _acknowledgements(frozen.session) == 0
    # Ben's own link acknowledges Ben's notice only.
    assert _try_acknowledge(client, _token(ben))[0] == 200
    assert _acknowledged_at(frozen.session, ben) is not None
    assert _acknowledged_at(frozen.session, ana) is None


def test_superseded_notice_cannot_be_acknowledged(
    client: FlaskClient, frozen: Unit, world: World, policy: NoticePolicy
) -> None:
    ana, _ben = _issue(frozen, world, policy)
    old_token = _token(ana)
    custodian_notices.issue_notices(frozen, world.order_id, policy, custodian_ids=[world.ana.id])
    frozen.session.commit()
    frozen.session.rollback()
    page = client.get(f"/notices/{old_token}")
    assert page.status_code == 200
    assert "A newer notice replaced this one" in page.get_data(as_text=True)
    status, body = _try_acknowledge(client, old_token)
    assert status == 409
    assert "newer notice" in body
    assert _acknowledgements(frozen.session) == 0


def test_acknowledgement_needs_the_forms_csrf_token(
    client: FlaskClient, frozen: Unit, world: World, policy: NoticePolicy
) -> None:
    ana, _ben = _issue(frozen, world, policy)
    token = _token(ana)
    answer = client.post(f"/notices/{token}/acknowledge", data={})
    assert answer.status_code == 400
    cross_site = client.post(f"/notices/{token}/acknowledge", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403
    assert _acknowledgements(frozen.session) == 0


def test_acknowledging_twice_records_once(
    client: FlaskClient, frozen: Unit, world: World, policy: NoticePolicy
) -> None:
    ana, _ben = _issue(frozen, world, policy)
    token = _token(ana)
    assert _try_acknowledge(client, token)[0] == 200
    status, body = _try_acknowledge(client, token)
    assert status == 200
    assert "acknowledged this notice already" in body
    assert _acknowledgements(frozen.session) == 1


def test_silent_hold_sends_nothing_and_has_no_link(
    client: FlaskClient, frozen: Unit, world: World, policy: NoticePolicy
) -> None:
    for custodian in (world.ana, world.ben):
        custodians.place_custodian_hold(frozen, world.order_id, custodian.id)
    ana, ben = custodian_notices.issue_notices(frozen, world.order_id, policy, silent_custodian_ids=[world.ben.id])
    frozen.session.commit()
    assert (ana.silent, ben.silent) == (False, True)
    assert ben.hold.status == "pending"
    assert ben.hold.notice_sent_at is None
    ben_token = notice_links.sign(SECRET, ben)
    frozen.session.rollback()
    page = client.get(f"/notices/{ben_token}")
    assert page.status_code == 400
    actions = frozen.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("custodian_notice.%")))
    assert sorted(actions) == ["custodian_notice.issued", "custodian_notice.silent"]
