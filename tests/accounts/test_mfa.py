"""The second factor: enrolment, codes at sign-in, replays refused, recovery codes used once."""

from __future__ import annotations

import re

import pyotp
from flask.testing import FlaskClient

from tests.accounts.support import (
    PASSWORD,
    WRONG_CODE,
    Person,
    alerts,
    audit_actions,
    enter_code,
    load_user,
    make_person,
    post_form,
    sign_in,
    signed_in_client,
)


def _secret_on_page(client: FlaskClient) -> str:
    page = client.get("/account/mfa").get_data(as_text=True)
    found = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page)
    assert found, page
    return found.group(1)


def test_enrolment_turns_on_the_authenticator_and_shows_recovery_codes(client: FlaskClient, database_url: str) -> None:
    person = make_person(database_url, "counsel@example.org", "counsel")
    signed_in_client(client, person)
    secret = _secret_on_page(client)
    assert secret == _secret_on_page(client)  # a reload keeps the key the app already holds
    page = client.get("/account/mfa").get_data(as_text=True)
    assert "otpauth://totp/" in page
    response = post_form(client, "/account/mfa", "/account/mfa", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", response.get_data(as_text=True))
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert client.get("/account").status_code == 200  # no longer sent to enrol
    assert load_user(database_url, person.email).has_mfa
    assert audit_actions(database_url)[-1] == "user.mfa_enrolled"


def test_a_wrong_enrolment_code_is_refused(client: FlaskClient, database_url: str) -> None:
    person = make_person(database_url, "counsel@example.org", "counsel")
    signed_in_client(client, person)
    secret = _secret_on_page(client)
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1000000:06d}"
    response = post_form(client, "/account/mfa", "/account/mfa", {"code": wrong})
    assert response.status_code == 400
    assert "not right" in response.get_data(as_text=True)
    assert not load_user(database_url, person.email).has_mfa
    assert client.get("/account").headers["Location"] == "/account/mfa"


def test_an_enrolled_user_needs_the_code_to_get_in(client: FlaskClient, admin: Person, database_url: str) -> None:
    response = sign_in(client, admin.email, PASSWORD)
    assert response.headers["Location"] == "/auth/sign-in/code"
    assert client.get("/account").status_code == 303  # the password alone opens nothing
    wrong = enter_code(client, "000000" if admin.totp_code() != "000000" else "111111")
    assert (wrong.status_code, alerts(wrong)) == (401, [WRONG_CODE])
    right = enter_code(client, admin.totp_code())
    assert right.status_code == 303
    assert client.get("/admin/users").status_code == 200
    actions = audit_actions(database_url)
    assert actions[-2:] == ["user.sign_in_failed", "user.signed_in"]


def test_a_replayed_totp_code_is_refused(client: FlaskClient, admin: Person) -> None:
    code = admin.totp_code()
    sign_in(client, admin.email, PASSWORD)
    assert enter_code(client, code).status_code == 303
    other = client.application.test_client()
    sign_in(other, admin.email, PASSWORD)
    replay = enter_code(other, code)
    assert (replay.status_code, alerts(replay)) == (401, [WRONG_CODE])
    assert other.get("/account").status_code == 303
    # A code of an earlier step than the one used is a replay too.
    earlier = enter_code(other, admin.totp_code(offset_steps=-1))
    assert earlier.status_code == 401


def test_a_recovery_code_works_once(client: FlaskClient, admin: Person) -> None:
    code = admin.recovery_codes[0]
    sign_in(client, admin.email, PASSWORD)
    assert enter_code(client, code.upper().replace("-", " ")).status_code == 303
    assert client.get("/admin/users").status_code == 200
    other = client.application.test_client()
    sign_in(other, admin.email, PASSWORD)
    reused = enter_code(other, code)
    assert (reused.status_code, alerts(reused)) == (401, [WRONG_CODE])
    assert enter_code(other, admin.recovery_codes[1]).status_code == 303


def test_another_users_recovery_code_does_not_work(client: FlaskClient, admin: Person, database_url: str) -> None:
    other = make_person(database_url, "admin2@example.org", "admin", with_mfa=True)
    sign_in(client, admin.email, PASSWORD)
    assert enter_code(client, other.recovery_codes[0]).status_code == 401


def test_replacing_recovery_codes_retires_the_old_ones(client: FlaskClient, admin: Person) -> None:
    signed_in_client(client, admin)
    response = post_form(client, "/account", "/account/mfa/recovery-codes", {})
    fresh = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", response.get_data(as_text=True))
    assert len(fresh) == 10
    browser = client.application.test_client()
    sign_in(browser, admin.email, PASSWORD)
    assert enter_code(browser, admin.recovery_codes[2]).status_code == 401
    assert enter_code(browser, fresh[0]).status_code == 303


def test_wrong_codes_count_toward_the_lock(client: FlaskClient, admin: Person) -> None:
    sign_in(client, admin.email, PASSWORD)
    statuses = [enter_code(client, "12345678901234567").status_code for _ in range(4)]
    statuses.append(enter_code(client, "000000" if admin.totp_code() != "000000" else "111111").status_code)
    assert statuses == [401, 401, 401, 401, 429]
    # The lock holds for a fresh password step too, even with a right code.
    sign_in(client, admin.email, PASSWORD)
    assert client.get("/account").status_code == 303


def test_the_code_page_needs_a_right_password_first(client: FlaskClient) -> None:
    response = client.get("/auth/sign-in/code")
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/sign-in"
