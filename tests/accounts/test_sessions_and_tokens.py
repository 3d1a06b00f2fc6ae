"""Ending sessions and tokens: disabling, role changes, sign-out elsewhere, password changes; tokens on the page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select, update

from preservation.cli import main
from preservation.models import ApiToken
from preservation.services import users
from preservation.services.unit import Unit
from tests.accounts.support import (
    PASSWORD,
    Person,
    audit_actions,
    csrf_token,
    make_person,
    open_session,
    post_form,
    sign_in,
    signed_in_client,
)


def _issue(database_url: str, email: str, **kwargs: object) -> str:
    with open_session(database_url) as session:
        unit = Unit(session=session, actor="cli")
        secret = users.issue_token(unit, users.find_user(unit, email), "tests", **kwargs)[1]  # type: ignore[arg-type]
        session.commit()
    return secret


def _api(client: FlaskClient, token: str) -> int:
    return client.get("/api/v1/matters", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.mark.usefixtures("cli_env")
def test_disabling_a_user_kills_a_live_session_and_a_token(client: FlaskClient, viewer: Person) -> None:
    token = _issue(client.application.extensions["preservation"].settings.database_url, viewer.email)
    signed_in_client(client, viewer)
    assert client.get("/account").status_code == 200
    assert _api(client, token) == 200
    result = CliRunner().invoke(main, ["users", "disable", viewer.email])
    assert result.exit_code == 0, result.output
    assert client.get("/account").status_code == 303
    assert _api(client, token) == 401
    assert sign_in(client.application.test_client(), viewer.email, PASSWORD).status_code == 401


def test_disabling_from_the_admin_page(client: FlaskClient, admin: Person, viewer: Person, database_url: str) -> None:
    token = _issue(database_url, viewer.email)
    victim = signed_in_client(client.application.test_client(), viewer)
    signed_in_client(client, admin)
    response = post_form(client, "/admin/users", f"/admin/users/{viewer.id}/disable", {})
    assert response.status_code == 303
    assert victim.get("/account").status_code == 303
    assert _api(client, token) == 401
    assert audit_actions(database_url)[-1] == "user.disabled"


@pytest.mark.usefixtures("cli_env")
def test_changing_a_role_ends_sessions_and_tokens(client: FlaskClient, viewer: Person, database_url: str) -> None:
    token = _issue(database_url, viewer.email)
    signed_in_client(client, viewer)
    result = CliRunner().invoke(main, ["users", "set-role", viewer.email, "auditor"])
    assert result.exit_code == 0, result.output
    assert client.get("/account").status_code == 303
    assert _api(client, token) == 401
    assert audit_actions(database_url)[-1] == "user.role_changed"


def test_role_change_on_the_admin_page_sends_new_counsel_to_enrol(
    client: FlaskClient, admin: Person, viewer: Person
) -> None:
    signed_in_client(client, admin)
    response = post_form(client, "/admin/users", f"/admin/users/{viewer.id}/role", {"role": "counsel"})
    assert response.status_code == 303
    assert "now counsel" in client.get("/admin/users").get_data(as_text=True)
    promoted = signed_in_client(client.application.test_client(), viewer)
    assert promoted.get("/account").headers["Location"] == "/account/mfa"


def test_admin_page_refuses_an_unknown_role(client: FlaskClient, admin: Person, viewer: Person) -> None:
    signed_in_client(client, admin)
    post_form(client, "/admin/users", f"/admin/users/{viewer.id}/role", {"role": "superuser"})
    assert "choose one of the roles" in client.get("/admin/users").get_data(as_text=True)


def test_the_last_admin_cannot_be_disabled(client: FlaskClient, admin: Person) -> None:
    signed_in_client(client, admin)
    post_form(client, "/admin/users", f"/admin/users/{admin.id}/disable", {})
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert "last active admin" in page.get_data(as_text=True)


def test_sign_out_my_other_sessions(client: FlaskClient, viewer: Person, database_url: str) -> None:
    laptop = signed_in_client(client, viewer)
    phone = signed_in_client(client.application.test_client(), viewer)
    assert phone.get("/account").status_code == 200
    response = post_form(laptop, "/account", "/account/sessions/end-others", {})
    assert response.status_code == 303
    assert laptop.get("/account").status_code == 200
    assert phone.get("/account").status_code == 303
    assert audit_actions(database_url)[-1] == "user.sessions_ended"


def test_changing_the_password(client: FlaskClient, viewer: Person) -> None:
    other = signed_in_client(client.application.test_client(), viewer)
    signed_in_client(client, viewer)
    new = "a quieter harbour at dusk"
    fields = {"current_password": PASSWORD, "new_password": new, "confirm_password": new}
    assert post_form(client, "/account", "/account/password", fields).status_code == 303
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 303
    fresh = client.application.test_client()
    assert sign_in(fresh, viewer.email, PASSWORD).status_code == 401
    assert sign_in(fresh, viewer.email, new).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("not my password", "a quieter harbour at dusk", "a quieter harbour at dusk", "is not right"),
        (PASSWORD, "password1234", "password1234", "too common"),
        (PASSWORD, "viewer's very own words", "viewer's very own words", "email address or name"),
        (PASSWORD, "too short", "too short", "at least 12"),
        (PASSWORD, "a quieter harbour at dusk", "a different harbour", "do not match"),
    ],
)
def test_a_bad_password_change_is_refused(
    client: FlaskClient, viewer: Person, *, current: str, new: str, confirm: str, message: str
) -> None:
    signed_in_client(client, viewer)
    fields = {"current_password": current, "new_password": new, "confirm_password": confirm}
    response = post_form(client, "/account", "/account/password", fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert sign_in(client.application.test_client(), viewer.email, PASSWORD).status_code == 303


def test_tokens_issued_and_revoked_on_the_account_page(client: FlaskClient, viewer: Person, database_url: str) -> None:
    signed_in_client(client, viewer)
    response = post_form(client, "/account", "/account/tokens", {"name": "laptop script", "expires_in_days": "30"})
    assert response.status_code == 200
    found = re.search(r'id="token-secret"[^>]*>(pt_[\w-]+)<', response.get_data(as_text=True))
    assert found
    secret = found.group(1)
    assert _api(client, secret) == 200
    page = client.get("/account").get_data(as_text=True)
    assert "laptop script" in page
    assert secret not in page  # shown once only
    with open_session(database_url) as session:
        token = session.scalars(select(ApiToken).where(ApiToken.name == "laptop script")).one()
        assert token.last_used_at is not None
        assert token.expires_at is not None
    response = post_form(client, "/account", f"/account/tokens/{token.id}/revoke", {})
    assert response.status_code == 303
    assert _api(client, secret) == 401
    assert audit_actions(database_url)[-1] == "token.revoked"


def test_nobody_revokes_another_users_token(client: FlaskClient, viewer: Person, database_url: str) -> None:
    make_person(database_url, "other@example.org", "viewer")
    theirs = _issue(database_url, "other@example.org")
    with open_session(database_url) as session:
        token_id = session.scalars(select(ApiToken.id)).one()
    signed_in_client(client, viewer)
    post_form(client, "/account", f"/account/tokens/{token_id}/revoke", {})
    assert "does not exist" in client.get("/account").get_data(as_text=True)
    assert _api(client, theirs) == 200


def test_an_expired_token_is_refused(client: FlaskClient, viewer: Person, database_url: str) -> None:
    secret = _issue(database_url, viewer.email, expires_in=dt.timedelta(days=1))
    assert _api(client, secret) == 200
    with open_session(database_url) as session:
        session.execute(update(ApiToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        session.commit()
    response = client.get("/api/v1/matters", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    assert "expired" in response.get_json()["message"]


def test_html_in_text_fields_is_escaped_on_every_page(client: FlaskClient, database_url: str) -> None:
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    admin = make_person(database_url, "admin@example.org", "admin", with_mfa=True, display_name=payload)
    signed_in_client(client, admin)
    post_form(client, "/account", "/account/tokens", {"name": payload, "expires_in_days": "30"})
    pages = [client.get("/account"), client.get("/admin/users")]
    token = csrf_token(client, "/account")
    pages.append(client.post("/account/tokens", data={"csrf_token": token, "name": payload, "expires_in_days": "30"}))
    for page in pages:
        html = page.get_data(as_text=True)
        assert "<script>alert(1)" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_token_names_must_be_printable(client: FlaskClient, viewer: Person) -> None:
    signed_in_client(client, viewer)
    response = post_form(client, "/account", "/account/tokens", {"name": "bad\x00name", "expires_in_days": "30"})
    assert response.status_code == 400
    response = post_form(client, "/account", "/account/tokens", {"name": "ok", "expires_in_days": "9999"})
    assert response.status_code == 400
