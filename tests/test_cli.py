"""The `preservation` command line, run in-process on SQLite and PostgreSQL.

Commands read their database from PRESERVATION_DATABASE_URL and keep their instance folder in a
temporary directory, exactly as a deployed command would be configured.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from config.settings import Settings
from preservation import migrate
from preservation.app import create_app
from preservation.cli import main
from preservation.db import make_engine
from preservation.models import ApiToken, AuditEvent, Matter, Obligation, PreservationOrder, User
from preservation.services.users import hash_token
from tests.conftest import POSTGRES_URL

DOCKET = "3:17-cv-02366-BAS-KSC"


class Cli:
    """Runs `preservation ...` against one database."""

    def __init__(self, database_url: str, instance: Path) -> None:
        self.database_url = database_url
        self.env = {"PRESERVATION_DATABASE_URL": database_url, "PRESERVATION_INSTANCE_PATH": str(instance)}

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=self.env)

    def count(self, model: type[Any], *where: Any) -> int:
        engine = make_engine(self.database_url)
        with Session(engine) as session:
            result = session.scalar(select(func.count()).select_from(model).where(*where))
        engine.dispose()
        return int(result or 0)

    @contextmanager
    def client(self, instance: Path) -> Iterator[FlaskClient]:
        """A test client of the web app on the same database, its connections closed afterwards."""
        app = create_app(Settings(database_url=self.database_url, secret_key="cli-test", instance_path=instance))
        try:
            yield app.test_client()
        finally:
            app.extensions["preservation"].engine.dispose()


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    """The command line on the test's (migrated) database."""
    return Cli(database_url, tmp_path / "cli-instance")


@pytest.fixture
def empty_database_url(db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all: a new SQLite file, or a new PostgreSQL database dropped afterwards."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    request.getfixturevalue("postgres_database")  # skips (or fails in CI) when PostgreSQL is unreachable
    admin_url = make_url(POSTGRES_URL)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"preservation_cli_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _revision_and_tables(database_url: str) -> tuple[str | None, set[str]]:
    engine = make_engine(database_url)
    try:
        return migrate.current_revision(engine), set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


# db upgrade ------------------------------------------------------------------------------------------


def test_db_upgrade_builds_an_empty_database_to_head_and_is_repeatable(empty_database_url: str, tmp_path: Path) -> None:
    cli = Cli(empty_database_url, tmp_path / "cli-instance")
    assert _revision_and_tables(empty_database_url) == (None, set())

    first = cli("db", "upgrade")
    assert first.exit_code == 0, first.output
    revision, tables = _revision_and_tables(empty_database_url)
    assert revision == migrate.head_revision()
    assert {"matters", "preservation_orders", "obligations", "data_sources", "custodians", "users"} <= tables
    assert {"api_tokens", "audit_events", "alembic_version"} <= tables
    assert f"database at {migrate.head_revision()}" in first.output

    again = cli("db", "upgrade")
    assert again.exit_code == 0, again.output
    assert _revision_and_tables(empty_database_url) == (revision, tables)

    # The upgraded database serves the app, which reports its migrations at head.
    with cli.client(tmp_path / "app-instance") as client:
        ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"]["migrations"]["at_head"] is True


# users add -------------------------------------------------------------------------------------------


def test_users_add_creates_a_user_with_the_role_and_audits_it(cli: Cli) -> None:
    result = cli("users", "add", "Counsel@Example.org", "--role", "counsel")

    assert result.exit_code == 0, result.output
    assert cli.count(User, User.email == "counsel@example.org", User.role == "counsel", User.is_active) == 1
    assert cli.count(AuditEvent, AuditEvent.action == "user.created", AuditEvent.actor == "cli") == 1


def test_users_add_refuses_a_role_outside_the_vocabulary(cli: Cli) -> None:
    result = cli("users", "add", "boss@example.org", "--role", "superuser")

    assert result.exit_code == 2
    assert "--role" in result.output
    assert "superuser" in result.output
    assert cli.count(User) == 0
    assert cli.count(AuditEvent) == 0


def test_users_add_refuses_a_duplicate_email_whatever_its_case(cli: Cli) -> None:
    assert cli("users", "add", "alice@example.org", "--role", "viewer").exit_code == 0

    result = cli("users", "add", "ALICE@example.org", "--role", "admin")

    assert result.exit_code == 1
    assert "already exists" in result.output
    assert cli.count(User) == 1
    assert cli.count(User, User.role == "admin") == 0
    assert cli.count(AuditEvent, AuditEvent.action == "user.created") == 1


def test_users_add_refuses_what_is_not_an_email(cli: Cli) -> None:
    result = cli("users", "add", "not-an-email", "--role", "viewer")

    assert result.exit_code == 1
    assert "email" in result.output
    assert cli.count(User) == 0


# tokens issue ----------------------------------------------------------------------------------------


def test_tokens_issue_prints_only_the_token_and_it_opens_the_api(cli: Cli, tmp_path: Path) -> None:
    assert cli("users", "add", "viewer@example.org", "--role", "viewer").exit_code == 0

    result = cli("tokens", "issue", "viewer@example.org")

    assert result.exit_code == 0, result.output
    token = result.stdout.removesuffix("\n")
    assert result.stdout == token + "\n"
    assert re.fullmatch(r"pt_[A-Za-z0-9_-]{40,}", token), result.stdout
    # Stored hashed, never as issued.
    engine = make_engine(cli.database_url)
    with Session(engine) as session:
        stored = session.scalars(select(ApiToken)).one()
        assert stored.token_hash == hash_token(token)
        assert token not in {stored.token_hash, stored.prefix, stored.name}
    engine.dispose()

    headers = {"Authorization": f"Bearer {token}"}
    with cli.client(tmp_path / "app-instance") as client:
        assert client.get("/api/v1/matters", headers=headers).status_code == 200
        # The token carries its user's role: a viewer reads but may not write.
        assert client.post("/api/v1/matters", json={"caption": "X v. Y"}, headers=headers).status_code == 403
        assert client.get("/api/v1/matters", headers={"Authorization": f"Bearer {token}x"}).status_code == 401


def test_tokens_issue_with_an_expiry_gives_a_working_token_that_expires(cli: Cli, tmp_path: Path) -> None:
    assert cli("users", "add", "admin@example.org", "--role", "admin").exit_code == 0

    result = cli("tokens", "issue", "admin@example.org", "--expires-in", "2")

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    engine = make_engine(cli.database_url)
    with Session(engine) as session:
        stored = session.scalars(select(ApiToken)).one()
    engine.dispose()
    assert stored.expires_at is not None
    assert stored.expires_at - stored.created_at == dt.timedelta(days=2)
    with cli.client(tmp_path / "app-instance") as client:
        assert client.get("/api/v1/matters", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_tokens_issue_for_an_unknown_user_prints_no_token(cli: Cli) -> None:
    result = cli("tokens", "issue", "nobody@example.org")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "nobody@example.org" in result.output
    assert cli.count(ApiToken) == 0


# seed-demo -------------------------------------------------------------------------------------------


def test_seed_demo_records_the_al_otro_lado_matter_once(empty_database_url: str, tmp_path: Path) -> None:
    cli = Cli(empty_database_url, tmp_path / "cli-instance")

    first = cli("seed-demo")
    assert first.exit_code == 0, first.output
    counts = {model: cli.count(model) for model in (Matter, PreservationOrder, Obligation)}
    second = cli("seed-demo")
    assert second.exit_code == 0, second.output

    assert cli.count(Matter) == 1
    assert {model: cli.count(model) for model in (Matter, PreservationOrder, Obligation)} == counts
    # Each run prints a working admin token (on stderr, with instructions); read the demo through the API.
    token = re.search(r"\(admin, 30 days\): (\S+)", second.output)
    assert token is not None, second.output
    headers = {"Authorization": f"Bearer {token.group(1)}"}
    with cli.client(tmp_path / "app-instance") as client:
        matters = client.get("/api/v1/matters", headers=headers).get_json()
        assert matters["total"] == 1
        matter = matters["items"][0]
        assert matter["caption"].startswith("Al Otro Lado")
        assert matter["docket_number"] == DOCKET
        orders = client.get(f"/api/v1/matters/{matter['id']}/orders", headers=headers).get_json()
        assert orders["total"] == 1
        order = orders["items"][0]
        assert order["kind"] == "court_order"
        assert order["docket_entry"] == "170"
        assert order["filed_on"] == "2018-09-17"
        assert order["signed_on"] == "2018-09-27"
        assert order["status"] == "active"
        obligations = client.get(f"/api/v1/orders/{order['id']}/obligations", headers=headers).get_json()["items"]
        for port in ("San Ysidro", "Otay Mesa", "Calexico"):
            covering = [o for o in obligations if port in o["description"]]
            assert len(covering) == 1, port
            assert covering[0]["data_source_ids"], f"no data source linked for {port}"
        assert client.get(f"/api/v1/orders/{order['id']}/custodians", headers=headers).get_json()["total"] >= 3
        assert client.get("/api/v1/data-sources", headers=headers).get_json()["total"] >= 3

    verify = cli("audit", "verify")
    assert verify.exit_code == 0, verify.output
