"""Fixtures of the account tests: people of each role, and the database URL in the environment for the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher

from preservation.services import accounts
from tests.accounts.support import Person, make_person

PRODUCTION_HASHER = accounts._hasher


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap Argon2 parameters: the tests hash and verify hundreds of times (production keeps the defaults)."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    accounts._dummy_hash.cache_clear()


@pytest.fixture
def production_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Argon2 parameters the service really uses."""
    monkeypatch.setattr(accounts, "_hasher", PRODUCTION_HASHER)
    accounts._dummy_hash.cache_clear()


@pytest.fixture
def viewer(database_url: str) -> Person:
    """A viewer with a password and no authenticator."""
    return make_person(database_url, "viewer@example.org", "viewer")


@pytest.fixture
def admin(database_url: str) -> Person:
    """An admin with a password and a confirmed authenticator."""
    return make_person(database_url, "admin@example.org", "admin", with_mfa=True)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    """The command line reads the test database from the environment."""
    monkeypatch.setenv("PRESERVATION_DATABASE_URL", database_url)
    monkeypatch.setenv("PRESERVATION_INSTANCE_PATH", str(tmp_path / "cli-instance"))
    monkeypatch.setenv("PRESERVATION_SECRET_KEY", "cli-secret")
