"""Fixtures of the audit trail tests: a signing key, a recorded trail, the CLI, a hostile database owner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from config.settings import Settings
from preservation.adapters.signing import generate_key_file
from preservation.cli import main
from tests.audit.support import KEY_NAME, StoredTrail, record_trail


@pytest.fixture
def signing_key(tmp_path: Path) -> Path:
    """A fresh Ed25519 signing key file."""
    path = tmp_path / "audit-signing.key"
    generate_key_file(path, KEY_NAME)
    return path


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, signing_key: Path) -> dict[str, str]:
    """The environment of a command run against the test database, with the signing key configured."""
    return {
        "PRESERVATION_DATABASE_URL": database_url,
        "PRESERVATION_INSTANCE_PATH": str(tmp_path / "cli-instance"),
        "PRESERVATION_AUDIT_SIGNING_KEY": str(signing_key),
    }


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Callable[..., Result]:
    """Runs `preservation ARGS...`; keyword arguments override environment variables (None unsets one)."""

    def run(*args: str, **env: str | None) -> Result:
        overrides = {f"PRESERVATION_{name.upper()}": value for name, value in env.items()}
        return CliRunner().invoke(main, list(args), env={**cli_env, **overrides})

    return run


@pytest.fixture
def trail(database_url: str, tokens: dict[str, str]) -> StoredTrail:
    """The trail after the role users and their tokens (8 events), then 40 more over three matters and none."""
    return record_trail(database_url, 40)


@pytest.fixture
def hostile_dba(database_url: str, db_kind: str) -> Iterator[Callable[..., None]]:
    """Runs statements on audit_events with the append-only triggers silenced, as an owner of the database can."""
    engine = create_engine(database_url)

    def tamper(*statements: str, **params: object) -> None:
        with engine.begin() as connection:
            if db_kind == "postgresql":
                connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            else:
                connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
                connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
            for statement in statements:
                connection.execute(text(statement), params)

    yield tamper
    if db_kind == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, signing_key: Path) -> Settings:
    """Settings of a test instance that signs checkpoints with the test key."""
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key",
        instance_path=tmp_path / "instance",
        audit_signing_key=signing_key,
    )
