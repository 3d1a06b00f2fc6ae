"""Fixtures: settings, a clean database per test on SQLite and on PostgreSQL, the app, and role tokens.

Every test that asks for `database_url` (directly or through `app`, `client`, `api`, `unit`) runs once
on SQLite and once on PostgreSQL. PostgreSQL comes from PRESERVATION_TEST_POSTGRES_URL (default: the
local server's `test` database); each pytest process works in a database of its own, created and
dropped here. When that server is unreachable the PostgreSQL runs are skipped, unless
PRESERVATION_TEST_REQUIRE_POSTGRES=1 (CI sets it), which turns the absence into a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import preservation.models  # noqa: F401  (every model, so the metadata is complete)
from config.settings import Settings
from preservation import migrate
from preservation.app import create_app
from preservation.db import Base, make_engine, make_session_factory
from preservation.domain.vocabulary import USER_ROLES
from preservation.services import users
from preservation.services.unit import Unit

POSTGRES_URL = os.environ.get("PRESERVATION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("PRESERVATION_TEST_REQUIRE_POSTGRES") == "1"

# Every table the models declare: a table added later is emptied between tests without anyone listing it.
TABLES = tuple(table.name for table in reversed(Base.metadata.sorted_tables))


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real AWS account: fake credentials before any client exists."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


# SQLite --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test so none pays for migrations."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


# PostgreSQL ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A migrated PostgreSQL database of this test process, dropped at the end."""
    admin_url = make_url(POSTGRES_URL)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"preservation_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        message = f"PostgreSQL at {POSTGRES_URL} is not usable: {error}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        # replica mode silences the append-only triggers for this cleanup transaction only.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()


# Per test ------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    """Which database this run of the test uses."""
    return str(request.param)


@pytest.fixture
def database_url(db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, migrated database for one test."""
    if db_kind == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "preservation.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings of a test instance."""
    return Settings(database_url=database_url, secret_key="test-secret-key", instance_path=tmp_path / "instance")


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The web application on the test database."""
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["preservation"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A session on the test database, for setting up and inspecting rows."""
    engine = make_engine(database_url)
    with make_session_factory(engine)() as db_session:
        yield db_session
    engine.dispose()


@pytest.fixture
def unit(session: Session) -> Unit:
    """A unit of work acting as a test user, with a fixed clock."""
    fixed = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    return Unit(session=session, actor="user:tester@example.org", clock=lambda: fixed)


@pytest.fixture
def tokens(database_url: str) -> dict[str, str]:
    """A bearer token for a user of each role."""
    engine = make_engine(database_url)
    issued: dict[str, str] = {}
    with make_session_factory(engine)() as db_session:
        unit = Unit(session=db_session, actor="cli")
        for role in USER_ROLES:
            user = users.create_user(unit, f"{role}@example.org", role)
            issued[role] = users.issue_token(unit, user, "tests")[1]
        db_session.commit()
    engine.dispose()
    return issued


@dataclass
class ApiClient:
    """Calls the API as a user of a given role (counsel unless told)."""

    client: FlaskClient
    tokens: dict[str, str]

    def _headers(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, path: str, role: str | None = "counsel", **kwargs: Any) -> Any:
        return self.client.get(path, headers=self._headers(role), **kwargs)

    def post(self, path: str, json: Any = None, role: str | None = "counsel", **kwargs: Any) -> Any:
        return self.client.post(path, json=json, headers=self._headers(role), **kwargs)

    def patch(self, path: str, json: Any = None, role: str | None = "counsel", **kwargs: Any) -> Any:
        return self.client.patch(path, json=json, headers=self._headers(role), **kwargs)


@pytest.fixture
def api(client: FlaskClient, tokens: dict[str, str]) -> ApiClient:
    """The API, called with role tokens."""
    return ApiClient(client=client, tokens=tokens)
