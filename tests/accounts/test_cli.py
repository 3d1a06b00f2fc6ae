"""`preservation users` and `preservation tokens`: passwords from a terminal or stdin, roles, tokens."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from preservation.cli import main
from tests.accounts.support import PASSWORD, audit_actions, load_user, sign_in

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
