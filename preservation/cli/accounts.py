"""`preservation users` and `preservation tokens`: people, their roles, passwords and API tokens."""

from __future__ import annotations

import datetime as dt
import sys

import click

from preservation import migrate
from preservation.cli.common import command_unit, load_settings
from preservation.domain.errors import FieldError
from preservation.domain.vocabulary import USER_ROLES
from preservation.services import accounts, users

_PROMPT_TRIES = 3


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _password_from_stdin() -> str:
    line = sys.stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    if not password:
        raise click.UsageError("--password-stdin: standard input held no password")
    return password


def _prompt_password(email: str, display_name: str | None) -> str:
    """Ask on the terminal, twice, until the password meets the rules."""
    for _ in range(_PROMPT_TRIES):
        password: str = click.prompt(
            f"Password for {email}", hide_input=True, confirmation_prompt=True, err=True, type=str
        )
        try:
            accounts.check_new_password(password, (email, display_name or ""))
        except FieldError as error:
            click.echo(f"refused: {error.message}", err=True)
            continue
        return password
    raise click.ClickException("no acceptable password given")


def _choose_password(email: str, display_name: str | None, *, from_stdin: bool, no_password: bool) -> str | None:
    if from_stdin and no_password:
        raise click.UsageError("give --password-stdin or --no-password, not both")
    if no_password:
        return None
    if from_stdin:
        return _password_from_stdin()
    if _stdin_is_terminal():
        return _prompt_password(email, display_name)
    click.echo(
        "no password set (standard input is not a terminal): the user can use API tokens only; "
        "give one with --password-stdin, or say --no-password to silence this",
        err=True,
    )
    return None


@click.group("users")
def users_group() -> None:
    """People who use the service."""


@users_group.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(USER_ROLES))
@click.option("--name", "display_name", default=None)
@click.option("--password-stdin", "from_stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--no-password", is_flag=True, help="No password: the user signs in with API tokens only.")
def users_add(email: str, role: str, display_name: str | None, from_stdin: bool, no_password: bool) -> None:
    """Add a user with a role (upgrading the database first, as on a fresh install); asks for a password."""
    password = _choose_password(email, display_name, from_stdin=from_stdin, no_password=no_password)
    # The first admin is created before anything else runs, so bring the schema up to date (a no-op at head).
    settings = load_settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    with command_unit() as unit:
        user = users.create_user(unit, email, role, display_name)
        if password is not None:
            accounts.set_password(unit, user, password)
    state = "with a password" if password is not None else "without a password"
    click.echo(f"user {user.id} {user.email} ({user.role}) added {state}", err=True)


@users_group.command("set-password")
@click.argument("email")
@click.option("--password-stdin", "from_stdin", is_flag=True, help="Read the password from the first line of stdin.")
def users_set_password(email: str, from_stdin: bool) -> None:
    """Set a user's password (their sessions end); asks on a terminal."""
    if not from_stdin and not _stdin_is_terminal():
        raise click.UsageError("standard input is not a terminal: give the password with --password-stdin")
    with command_unit() as unit:
        user = users.find_user(unit, email)
        password = _password_from_stdin() if from_stdin else _prompt_password(user.email, user.display_name)
        ended = accounts.set_password(unit, user, password)
    click.echo(f"password of {user.email} set; {ended} session(s) ended", err=True)


@users_group.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(USER_ROLES))
def users_set_role(email: str, role: str) -> None:
    """Change a user's role; their sessions end and their tokens are revoked."""
    with command_unit() as unit:
        user = users.find_user(unit, email)
        accounts.set_role(unit, user, role)
    click.echo(f"{user.email} is now {role}; sessions ended and tokens revoked", err=True)


@users_group.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Disable a user; their sessions end and their tokens are revoked."""
    with command_unit() as unit:
        user = users.find_user(unit, email)
        accounts.disable_user(unit, user)
    click.echo(f"{user.email} disabled; sessions ended and tokens revoked", err=True)


@users_group.command("enable")
@click.argument("email")
def users_enable(email: str) -> None:
    """Let a disabled user sign in again (old sessions and tokens stay revoked)."""
    with command_unit() as unit:
        user = users.find_user(unit, email)
        accounts.enable_user(unit, user)
    click.echo(f"{user.email} enabled", err=True)


@users_group.command("reset-mfa")
@click.argument("email")
def users_reset_mfa(email: str) -> None:
    """Forget a user's authenticator and recovery codes (a lost phone); they set up a new one at sign-in."""
    with command_unit() as unit:
        user = users.find_user(unit, email)
        accounts.reset_mfa(unit, user)
    click.echo(f"authenticator of {user.email} removed; sessions ended", err=True)


@users_group.command("list")
def users_list() -> None:
    """Every user: id, email, role, state, authenticator."""
    with command_unit() as unit:
        for user in accounts.list_users(unit):
            state = "active" if user.is_active else "disabled"
            click.echo(f"{user.id}\t{user.email}\t{user.role}\t{state}\tmfa={'yes' if user.has_mfa else 'no'}")


@click.group("tokens")
def tokens_group() -> None:
    """API tokens."""


@tokens_group.command("issue")
@click.argument("email")
@click.option("--name", default="cli", show_default=True)
@click.option("--expires-in", "expires_in_days", type=click.IntRange(1, 3650), default=None, help="days")
def tokens_issue(email: str, name: str, expires_in_days: int | None) -> None:
    """Issue a token for a user; prints the token alone on stdout, once."""
    expires = dt.timedelta(days=expires_in_days) if expires_in_days else None
    with command_unit() as unit:
        user = users.find_user(unit, email)
        if not user.is_active:
            raise click.ClickException(f"{user.email} is disabled")
        _token, secret = users.issue_token(unit, user, accounts.check_token_name(name), expires)
    click.echo(secret)


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its id (see `preservation tokens list`)."""
    with command_unit() as unit:
        token = accounts.revoke_token(unit, token_id)
        owner = token.user.email
    click.echo(f"token {token_id} ({token.name}) of {owner} revoked", err=True)


@tokens_group.command("list")
@click.argument("email", required=False)
def tokens_list(email: str | None) -> None:
    """Tokens, newest first (one user's with EMAIL): id, user, name, prefix, expiry, last use, state."""
    with command_unit() as unit:
        owner = users.find_user(unit, email) if email else None
        now = unit.clock()
        for token in accounts.list_tokens(unit, owner):
            if token.revoked_at is not None:
                state = "revoked"
            elif token.expires_at is not None and token.expires_at <= now:
                state = "expired"
            else:
                state = "active"
            click.echo(
                "\t".join(
                    [
                        str(token.id),
                        token.user.email,
                        token.name,
                        token.prefix,
                        f"expires={_when(token.expires_at)}",
                        f"last_used={_when(token.last_used_at)}",
                        state,
                    ]
                )
            )


def _when(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ") if moment else "never"
