"""`preservation users` and `preservation tokens`: passwords from a terminal or stdin, roles, tokens."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config.settings import Settings
from preservation.app import create_app
from preservation.cli import main
from tests.accounts.support import PASSWORD, audit_actions, load_user, sign_in
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.usefixtures("cli_env")


def test_add_without_a_terminal_creates_a_token_only_user_and_says_so(database_url: str) -> None:
    result = CliRunner().invoke(main, ["users", "add", "script@example.org", "--role", "viewer"])
    assert result.exit_code == 0, result.output
    assert "no password set" in result.stderr
    assert result.stdout == ""
    assert load_user(database_url, "script@example.org").password_hash is None


def test_add_with_no_password_is_quiet(database_url: str) -> None:
    result = CliRunner().invoke(main, ["users", "add", "api@example.org", "--role", "auditor", "--no-password"])
    assert result.exit_code == 0, result.output
    assert "no password set" not in result.stderr
    assert load_user(database_url, "api@example.org").role == "auditor"


def test_add_with_password_from_stdin_can_sign_in(client: FlaskClient, database_url: str) -> None:
    result = CliRunner().invoke(
        main, ["users", "add", "first-admin@example.org", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "with a password" in result.stderr
    assert sign_in(client, "first-admin@example.org", PASSWORD).headers["Location"] == "/account/mfa"
    assert audit_actions(database_url)[:2] == ["user.created", "user.password_set"]


def test_add_refuses_a_weak_password_and_creates_nobody(database_url: str) -> None:
    result = CliRunner().invoke(
        main, ["users", "add", "weak@example.org", "--role", "viewer", "--password-stdin"], input="password1234\n"
    )
    assert result.exit_code == 1
    assert "too common" in result.stderr
    assert audit_actions(database_url) == []


def test_add_refuses_both_password_flags() -> None:
    result = CliRunner().invoke(
        main, ["users", "add", "x@example.org", "--role", "viewer", "--password-stdin", "--no-password"], input="x\n"
    )
    assert result.exit_code == 2


def test_add_asks_twice_on_a_terminal(monkeypatch: pytest.MonkeyPatch, client: FlaskClient) -> None:
    from preservation.cli import accounts as cli_accounts  # noqa: PLC0415

    monkeypatch.setattr(cli_accounts, "_stdin_is_terminal", lambda: True)
    typed = "\n".join(["short", "short", PASSWORD, PASSWORD]) + "\n"
    result = CliRunner().invoke(main, ["users", "add", "tty@example.org", "--role", "viewer"], input=typed)
    assert result.exit_code == 0, result.output
    assert "refused: password: must be at least 12" in result.stderr
    assert PASSWORD not in result.output
    assert sign_in(client, "tty@example.org", PASSWORD).status_code == 303


def test_set_password_from_stdin(client: FlaskClient) -> None:
    CliRunner().invoke(main, ["users", "add", "later@example.org", "--role", "viewer", "--no-password"])
    result = CliRunner().invoke(
        main, ["users", "set-password", "later@example.org", "--password-stdin"], input=PASSWORD
    )
    assert result.exit_code == 0, result.output
    assert sign_in(client, "later@example.org", PASSWORD).status_code == 303
    refused = CliRunner().invoke(main, ["users", "set-password", "later@example.org"])
    assert refused.exit_code == 2


def test_tokens_issue_prints_the_token_alone_and_revoke_ends_it(client: FlaskClient, database_url: str) -> None:
    CliRunner().invoke(main, ["users", "add", "ops@example.org", "--role", "counsel", "--no-password"])
    result = CliRunner().invoke(
        main, ["tokens", "issue", "ops@example.org", "--expires-in", "7", "--name", "nightly export"]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert result.stdout == secret + "\n"
    assert secret.startswith("pt_")
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/matters", headers=headers).status_code == 200
    listing = CliRunner().invoke(main, ["tokens", "list", "ops@example.org"])
    assert "nightly export" in listing.stdout
    assert secret not in listing.stdout
    token_id = listing.stdout.split("\t")[0]
    assert CliRunner().invoke(main, ["tokens", "revoke", token_id]).exit_code == 0
    assert client.get("/api/v1/matters", headers=headers).status_code == 401
    again = CliRunner().invoke(main, ["tokens", "revoke", token_id])
    assert again.exit_code == 1
    assert "already revoked" in again.stderr
    assert audit_actions(database_url)[-2:] == ["token.issued", "token.revoked"]


def test_tokens_issue_default_name_and_unknown_user(database_url: str) -> None:
    CliRunner().invoke(main, ["users", "add", "ops@example.org", "--role", "viewer", "--no-password"])
    assert CliRunner().invoke(main, ["tokens", "issue", "ops@example.org"]).exit_code == 0
    assert "\tcli\t" in CliRunner().invoke(main, ["tokens", "list"]).stdout
    assert CliRunner().invoke(main, ["tokens", "issue", "nobody@example.org"]).exit_code == 1
    assert CliRunner().invoke(main, ["tokens", "revoke", "999"]).exit_code == 1


def test_set_role_disable_enable_and_the_last_admin(database_url: str) -> None:
    CliRunner().invoke(main, ["users", "add", "boss@example.org", "--role", "admin", "--no-password"])
    CliRunner().invoke(main, ["users", "add", "aide@example.org", "--role", "viewer", "--no-password"])
    assert CliRunner().invoke(main, ["users", "set-role", "boss@example.org", "viewer"]).exit_code == 1
    assert CliRunner().invoke(main, ["users", "disable", "boss@example.org"]).exit_code == 1
    assert CliRunner().invoke(main, ["users", "set-role", "aide@example.org", "admin"]).exit_code == 0
    assert CliRunner().invoke(main, ["users", "set-role", "aide@example.org", "admin"]).exit_code == 1
    assert CliRunner().invoke(main, ["users", "disable", "boss@example.org"]).exit_code == 0
    assert not load_user(database_url, "boss@example.org").is_active
    assert CliRunner().invoke(main, ["users", "enable", "boss@example.org"]).exit_code == 0
    listing = CliRunner().invoke(main, ["users", "list"]).stdout
    assert "boss@example.org\tadmin\tactive" in listing
    assert audit_actions(database_url)[-3:] == ["user.role_changed", "user.disabled", "user.enabled"]


def test_reset_mfa(database_url: str) -> None:
    from tests.accounts.support import make_person  # noqa: PLC0415

    make_person(database_url, "lost-phone@example.org", "counsel", with_mfa=True)
    result = CliRunner().invoke(main, ["users", "reset-mfa", "lost-phone@example.org"])
    assert result.exit_code == 0, result.output
    assert not load_user(database_url, "lost-phone@example.org").has_mfa
    assert CliRunner().invoke(main, ["users", "reset-mfa", "lost-phone@example.org"]).exit_code == 1


@pytest.fixture
def empty_database_url(db_kind: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, as on a fresh install."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    admin_url = make_url(POSTGRES_URL)
    name = f"preservation_fresh_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_first_admin_is_added_to_a_database_never_migrated_and_can_sign_in(
    monkeypatch: pytest.MonkeyPatch, empty_database_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("PRESERVATION_DATABASE_URL", empty_database_url)
    result = CliRunner().invoke(
        main, ["users", "add", "first@example.org", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert "added with a password" in result.stderr

    app = create_app(Settings(database_url=empty_database_url, secret_key="s", instance_path=tmp_path / "fresh"))
    try:
        response = sign_in(app.test_client(), "first@example.org", PASSWORD)
    finally:
        app.extensions["preservation"].engine.dispose()
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/mfa"  # an admin sets up the second factor next
    assert audit_actions(empty_database_url) == ["user.created", "user.password_set", "user.signed_in"]


def test_other_commands_on_a_database_never_migrated_say_what_to_run(
    monkeypatch: pytest.MonkeyPatch, empty_database_url: str
) -> None:
    monkeypatch.setenv("PRESERVATION_DATABASE_URL", empty_database_url)
    for command in (["tokens", "list"], ["users", "list"], ["tokens", "issue", "x@example.org"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1, (command, result.output, result.exception)
        assert "run `preservation db upgrade` first" in result.stderr, command
