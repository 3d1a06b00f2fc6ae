"""Signing in and out: one answer for every wrong credential, a throttle shared through the database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Literal

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy import select, update

from config.settings import Settings
from preservation.app import create_app
from preservation.models import AuditEvent, UserSession
from preservation.services import accounts
from tests.accounts.support import (
    PASSWORD,
    WRONG_CREDENTIALS,
    Person,
    alerts,
    audit_actions,
    csrf_token,
    make_person,
    open_session,
    sign_in,
    signed_in_client,
)


def test_right_password_signs_in_and_lands_on_the_overview(client: FlaskClient, viewer: Person) -> None:
    response = sign_in(client, viewer.email, PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/overview"
    assert client.get("/overview").status_code == 200
    page = client.get("/account")
    assert page.status_code == 200
    assert viewer.email in page.get_data(as_text=True)


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client: FlaskClient, viewer: Person) -> None:
    assert sign_in(client, viewer.email, PASSWORD, next_path="/admin/users").headers["Location"] == "/admin/users"
    other = client.application.test_client()
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = sign_in(other, viewer.email, PASSWORD, next_path=target)
        assert response.headers["Location"] == "/overview", target


def test_email_is_matched_without_regard_to_case(client: FlaskClient, viewer: Person) -> None:
    assert sign_in(client, viewer.email.upper(), PASSWORD).status_code == 303


def test_unknown_user_and_wrong_password_get_the_same_answer(client: FlaskClient, database_url: str) -> None:
    make_person(database_url, "known@example.org", "viewer")
    make_person(database_url, "disabled@example.org", "viewer")
    make_person(database_url, "tokens-only@example.org", "viewer", password=None)
    with open_session(database_url) as session:
        from preservation.models import User  # noqa: PLC0415

        session.execute(update(User).where(User.email == "disabled@example.org").values(is_active=False))
        session.commit()
    answers = []
    for email, password in [
        ("known@example.org", "not the password at all"),
        ("nobody@example.org", "not the password at all"),
        ("disabled@example.org", PASSWORD),
        ("tokens-only@example.org", PASSWORD),
    ]:
        response = sign_in(client, email, password)
        answers.append((response.status_code, alerts(response)))
    assert answers == [(401, [WRONG_CREDENTIALS])] * 4
    reasons = []
    with open_session(database_url) as session:
        for event in session.scalars(select(AuditEvent).where(AuditEvent.action == "user.sign_in_failed")):
            reasons.append(event.details)
    assert len(reasons) == 4
    assert any('"reason":"unknown_user"' in details for details in reasons)
    assert any('"reason":"wrong_password"' in details for details in reasons)


def test_oversized_and_missing_credentials_are_refused(client: FlaskClient, viewer: Person) -> None:
    token = csrf_token(client, "/auth/sign-in")
    for data in (
        {"email": viewer.email, "password": "x" * 5000},
        {"email": "a" * 400 + "@example.org", "password": PASSWORD},
        {"email": "", "password": ""},
        {"email": viewer.email},
    ):
        response = client.post("/auth/sign-in", data={"csrf_token": token, **data})
        assert response.status_code == 400
        assert alerts(response) == [WRONG_CREDENTIALS]
    assert client.get("/account").status_code == 303


def test_success_and_failure_are_audited(client: FlaskClient, viewer: Person, database_url: str) -> None:
    sign_in(client, viewer.email, "wrong wrong wrong")
    sign_in(client, viewer.email, PASSWORD)
    actions = audit_actions(database_url)
    assert actions[-2:] == ["user.sign_in_failed", "user.signed_in"]


def test_account_locks_after_the_limit_with_a_clear_message(
    client: FlaskClient, viewer: Person, database_url: str
) -> None:
    for _ in range(4):
        assert sign_in(client, viewer.email, "wrong wrong wrong").status_code == 401
    locked = sign_in(client, viewer.email, "wrong wrong wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in alerts(locked)[0]
    # Locked means locked: the right password does not get in either, nor tell that it was right.
    still = sign_in(client, viewer.email, PASSWORD)
    assert still.status_code == 429
    assert client.get("/account").status_code == 303
    assert audit_actions(database_url).count("user.locked_out") == 1


def test_an_unknown_email_locks_the_same_way(client: FlaskClient) -> None:
    statuses = [sign_in(client, "ghost@example.org", "wrong wrong wrong").status_code for _ in range(6)]
    assert statuses == [401, 401, 401, 401, 429, 429]


def test_the_lock_ends_after_its_time(client: FlaskClient, viewer: Person, database_url: str) -> None:
    from preservation.models import SignInThrottle  # noqa: PLC0415

    for _ in range(5):
        sign_in(client, viewer.email, "wrong wrong wrong")
    with open_session(database_url) as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.execute(update(SignInThrottle).values(locked_until=past))
        session.commit()
    assert sign_in(client, viewer.email, PASSWORD).status_code == 303


def test_throttle_holds_across_two_app_instances(settings: Settings, viewer: Person) -> None:
    first, second = create_app(settings), create_app(settings)
    try:
        browsers = [first.test_client(), second.test_client()]
        statuses = [sign_in(browsers[i % 2], viewer.email, "wrong wrong wrong").status_code for i in range(5)]
        assert statuses == [401, 401, 401, 401, 429]
        for browser in browsers:
            assert sign_in(browser, viewer.email, PASSWORD).status_code == 429
    finally:
        first.extensions["preservation"].engine.dispose()
        second.extensions["preservation"].engine.dispose()


def test_one_address_trying_many_accounts_is_locked(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, signin_address_max_failures=3))
    try:
        browser = app.test_client()
        statuses = [sign_in(browser, f"user{n}@example.org", "wrong wrong wrong").status_code for n in range(4)]
    finally:
        app.extensions["preservation"].engine.dispose()
    assert statuses == [401, 401, 429, 429]


def test_sign_out_ends_the_session_for_a_copied_cookie_too(client: FlaskClient, viewer: Person) -> None:
    signed_in_client(client, viewer)
    cookie = client.get_cookie("__Host-preservation_session")
    assert cookie is not None
    response = client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 303
    assert client.get("/account").status_code == 303
    thief = client.application.test_client()
    thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    assert thief.get("/account").status_code == 303


def test_forged_session_cookie_is_refused(client: FlaskClient, viewer: Person, settings: Settings) -> None:
    client.set_cookie("__Host-preservation_session", "eyJzaWQiOiJmb3JnZWQifQ.forged.signature")
    assert client.get("/account").status_code == 303
    # A cookie signed with another key, naming a real session, is no better.
    signed_in_client(client, viewer)
    real = client.get_cookie("__Host-preservation_session")
    assert real is not None
    other = create_app(dataclasses.replace(settings, secret_key="another-key"))
    try:
        assert other.test_client().get("/account").status_code == 303
        forger = other.test_client()
        forger.set_cookie(real.key, real.value, domain=real.domain)
        assert forger.get("/account").status_code == 303
    finally:
        other.extensions["preservation"].engine.dispose()


@pytest.mark.parametrize(
    ("column", "age"),
    [("last_seen_at", dt.timedelta(minutes=31)), ("created_at", dt.timedelta(hours=13))],
    ids=["idle", "absolute"],
)
def test_stale_session_times_out(
    client: FlaskClient, viewer: Person, database_url: str, column: str, age: dt.timedelta
) -> None:
    signed_in_client(client, viewer)
    assert client.get("/account").status_code == 200
    with open_session(database_url) as session:
        session.execute(update(UserSession).values({column: dt.datetime.now(dt.UTC) - age}))
        session.commit()
    assert client.get("/account").status_code == 303
    with open_session(database_url) as session:
        assert session.scalars(select(UserSession)).one().revoked_at is not None


def test_counters_of_a_past_window_are_forgotten(client: FlaskClient, database_url: str) -> None:
    from preservation.models import SignInThrottle  # noqa: PLC0415

    sign_in(client, "first@example.org", "wrong wrong wrong")
    with open_session(database_url) as session:
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        session.execute(update(SignInThrottle).values(window_started_at=long_ago))
        session.commit()
    sign_in(client, "second@example.org", "wrong wrong wrong")
    with open_session(database_url) as session:
        keys = set(session.scalars(select(SignInThrottle.key)))
    assert keys == {"account:second@example.org", "address:127.0.0.1"}


class _CountingHasher(PasswordHasher):
    """The test hasher, noting the parameters of every hash it verifies and how many hashes it makes."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified: list[str] = []
        self.hashed = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        text = hash.decode() if isinstance(hash, bytes) else hash
        self.verified.append(text.rsplit("$", 2)[0])  # "$argon2id$v=19$m=...,t=...,p=...": the work it costs
        return super().verify(hash, password)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashed += 1
        return super().hash(password, salt=salt)


def test_an_unknown_user_costs_the_same_argon2_work_as_a_wrong_password(
    client: FlaskClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: every refused sign-in verifies exactly one hash of the same parameters, and hashes none."""
    hasher = _CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", hasher)
    accounts._dummy_hash.cache_clear()
    make_person(database_url, "known@example.org", "viewer")
    make_person(database_url, "tokens-only@example.org", "viewer", password=None)
    sign_in(client, "warm-up@example.org", "not the password at all")  # the dummy hash is made once, then kept

    work = {}
    for email, password in [
        ("known@example.org", "not the password at all"),
        ("nobody@example.org", "not the password at all"),
        ("tokens-only@example.org", PASSWORD),
    ]:
        hasher.verified.clear()
        hasher.hashed = 0
        assert sign_in(client, email, password).status_code == 401
        work[email] = (hasher.verified.copy(), hasher.hashed)
    known = work["known@example.org"]
    assert known == (["$argon2id$v=19$m=1024,t=1,p=1"], 0)
    assert work["nobody@example.org"] == known
    assert work["tokens-only@example.org"] == known
