"""Fixtures of the page tests: a browser-like test client signed in as each role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.accounts.support import make_person, signed_in_client
from tests.pages.support import forget_scheduler

SignIn = Callable[[str], FlaskClient]


@pytest.fixture
def sign_in_as(app: Flask, database_url: str) -> SignIn:
    """A function giving a test client signed in as a new user of the role (with an authenticator when needed)."""
    forget_scheduler(database_url)
    made: dict[str, FlaskClient] = {}

    def sign_in(role: str) -> FlaskClient:
        if role not in made:
            person = make_person(database_url, f"{role}@example.com", role, with_mfa=role in {"admin", "counsel"})
            made[role] = signed_in_client(app.test_client(), person)
        return made[role]

    return sign_in
