"""Helpers for the account tests: users with passwords and authenticators, and a browser that signs in."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyotp
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from preservation.db import make_engine, make_session_factory
from preservation.models import AuditEvent, User
from preservation.services import accounts, mfa, users
from preservation.services.unit import Unit

PASSWORD = "river otter lantern 42"
WRONG_CREDENTIALS = "The email or password is not right."
WRONG_CODE = "That code is not right, or it has been used already."
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_ALERT = re.compile(r'role="alert">([^<]*)<')


@dataclass
class Person:
    """A user made for a test, with what the test needs to act as them."""

    id: int
    email: str
    role: str
    password: str | None
    totp_secret: str | None = None
    recovery_codes: list[str] = field(default_factory=list)

    def totp_code(self, offset_steps: int = 0) -> str:
        """The authenticator's code now (or some steps later)."""
        assert self.totp_secret is not None
        totp = pyotp.TOTP(self.totp_secret)
        return totp.at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30 * offset_steps))


@contextmanager
def open_session(database_url: str) -> Iterator[Session]:
    """A session of its own on the test database, its engine disposed of afterwards."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def make_person(
    database_url: str,
    email: str,
    role: str,
    *,
    password: str | None = PASSWORD,
    with_mfa: bool = False,
    display_name: str | None = None,
) -> Person:
    """Create a user, optionally with a password and a confirmed authenticator."""
    with open_session(database_url) as session:
        # Enrol "ten minutes ago", so the codes of now are not replays of the enrolment code.
        earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
        unit = Unit(session=session, actor="cli", clock=lambda: earlier)
        user = users.create_user(unit, email, role, display_name)
        if password is not None:
            accounts.set_password(unit, user, password)
        person = Person(id=user.id, email=user.email, role=role, password=password)
        if with_mfa:
            secret = mfa.begin_enrolment(unit, user)
            code = pyotp.TOTP(secret).at(earlier)
            person.recovery_codes = mfa.confirm_enrolment(unit, user, code)
            person.totp_secret = secret
        session.commit()
    return person


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on a page."""
    page = client.get(path)
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, f"no form with a CSRF token on {path} ({page.status_code})"
    return found.group(1)


def alerts(response: TestResponse) -> list[str]:
    """The error messages a page shows."""
    return _ALERT.findall(response.get_data(as_text=True))


def post_form(client: FlaskClient, page: str, action: str, data: dict[str, str]) -> TestResponse:
    """Fill in and send a form found on `page`, as a browser would."""
    return client.post(action, data={"csrf_token": csrf_token(client, page), **data})


def sign_in(client: FlaskClient, email: str, password: str, next_path: str | None = None) -> TestResponse:
    """Submit the sign-in form."""
    action = f"/auth/sign-in?next={next_path}" if next_path else "/auth/sign-in"
    return post_form(client, "/auth/sign-in", action, {"email": email, "password": password})


def enter_code(client: FlaskClient, code: str) -> TestResponse:
    """Submit the second-factor form."""
    return post_form(client, "/auth/sign-in/code", "/auth/sign-in/code", {"code": code})


def signed_in_client(client: FlaskClient, person: Person) -> FlaskClient:
    """Sign a browser in as the person, passing the second factor if they have one."""
    assert person.password is not None
    response = sign_in(client, person.email, person.password)
    assert response.status_code == 303, alerts(response)
    if response.headers["Location"].endswith("/auth/sign-in/code"):
        response = enter_code(client, person.totp_code())
        assert response.status_code == 303, alerts(response)
    return client


def audit_actions(database_url: str) -> list[str]:
    """Every audit action recorded so far, in order."""
    with open_session(database_url) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def load_user(database_url: str, email: str) -> User:
    """A detached copy of a user row."""
    with open_session(database_url) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        session.expunge(user)
    return user
