"""Pages need a signed-in browser, the API a bearer token; roles are checked on both; headers on every answer."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from config.settings import Settings
from preservation.app import create_app
from tests.accounts.support import Person, csrf_token, make_person, signed_in_client


def test_anonymous_api_request_is_401_not_a_redirect(client: FlaskClient) -> None:
    response = client.get("/api/v1/matters")
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthenticated"
    assert "Location" not in response.headers


def test_a_session_cookie_does_not_open_the_api(client: FlaskClient, viewer: Person) -> None:
    signed_in_client(client, viewer)
    assert client.get("/account").status_code == 200
    assert client.get("/api/v1/matters").status_code == 401


def test_a_bearer_token_does_not_open_the_pages(client: FlaskClient, tokens: dict[str, str]) -> None:
    response = client.get("/account", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert response.status_code == 303


def test_anonymous_form_post_without_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/account/tokens", data={"name": "x", "expires_in_days": "30"})
    assert response.status_code == 400
    assert "text/html" in response.content_type


def test_sign_in_form_needs_its_csrf_token(client: FlaskClient, viewer: Person) -> None:
    response = client.post("/auth/sign-in", data={"email": viewer.email, "password": viewer.password})
    assert response.status_code == 400
    assert client.get("/account").status_code == 303


def test_cross_site_form_post_is_refused_even_with_a_token(client: FlaskClient, viewer: Person) -> None:
    token = csrf_token(client, "/auth/sign-in")
    response = client.post(
        "/auth/sign-in",
        data={"csrf_token": token, "email": viewer.email, "password": viewer.password},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403


def test_role_without_the_right_gets_403_on_a_page(client: FlaskClient, viewer: Person) -> None:
    signed_in_client(client, viewer)
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "viewer role may not use this page" in response.get_data(as_text=True)
    token = csrf_token(client, "/account")
    assert client.post(f"/admin/users/{viewer.id}/disable", data={"csrf_token": token}).status_code == 403


def test_admin_reaches_the_admin_page(client: FlaskClient, admin: Person) -> None:
    signed_in_client(client, admin)
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert admin.email in page.get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "counsel"])
def test_admin_and_counsel_must_enrol_before_anything_else(client: FlaskClient, database_url: str, role: str) -> None:
    person = make_person(database_url, f"{role}-new@example.org", role)
    response = signed_in_client(client, person).get("/account")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/mfa"
    assert client.get("/admin/users").headers["Location"] == "/account/mfa"
    assert client.get("/account/mfa").status_code == 200


def test_viewer_and_auditor_may_go_without_a_second_factor(client: FlaskClient, database_url: str) -> None:
    auditor = make_person(database_url, "auditor-new@example.org", "auditor")
    assert signed_in_client(client, auditor).get("/account").status_code == 200


def test_security_headers_on_pages_and_api(client: FlaskClient) -> None:
    for response in (client.get("/auth/sign-in"), client.get("/api/v1/matters"), client.get("/account")):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        csp = headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert directive in csp
        assert "Strict-Transport-Security" not in headers  # plain http


def test_hsts_when_served_over_https(client: FlaskClient) -> None:
    response = client.get("/auth/sign-in", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_session_cookie_is_secure_httponly_lax(client: FlaskClient, viewer: Person) -> None:
    response = client.get("/auth/sign-in")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_secure_flag_can_be_turned_off_for_local_http(settings: Settings) -> None:
    app = create_app(Settings(**{**settings.__dict__, "session_cookie_secure": False}))
    try:
        cookie = app.test_client().get("/auth/sign-in").headers["Set-Cookie"]
    finally:
        app.extensions["preservation"].engine.dispose()
    assert not cookie.startswith("__Host-")
    assert "Secure" not in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_pages_carry_no_inline_script_or_style(client: FlaskClient, admin: Person) -> None:
    pages = [client.get("/auth/sign-in")]
    signed_in_client(client, admin)
    pages += [client.get("/account"), client.get("/admin/users"), client.get("/account/mfa")]
    for page in pages:
        html = page.get_data(as_text=True)
        assert "<script" not in html
        assert " style=" not in html
        assert not re.search(r"\son[a-z]+=", html)


def test_stylesheet_is_public(client: FlaskClient) -> None:
    with client.get("/static/style.css") as response:
        assert response.status_code == 200
        assert "text/css" in response.content_type
