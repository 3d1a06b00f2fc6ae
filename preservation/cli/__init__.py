"""The `preservation` command line."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import Engine

from config.logging import configure_logging
from config.settings import Settings, SettingsError
from preservation import migrate
from preservation.app import create_app
from preservation.cli.checks import attest_command, check_command, preserve_command
from preservation.db import make_engine, make_session_factory
from preservation.domain.errors import DomainError
from preservation.domain.vocabulary import USER_ROLES
from preservation.services import audit, demo, users
from preservation.services.unit import Unit

CLI_ACTOR = "cli"


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def _engine(settings: Settings) -> Engine:
    return make_engine(settings.database_url, sqlite_busy_timeout=settings.sqlite_busy_timeout_seconds)


@contextmanager
def _unit(actor: str = CLI_ACTOR) -> Iterator[Unit]:
    """One transaction for one command: committed on success, rolled back on any error."""
    settings = _settings()
    engine = _engine(settings)
    session = make_session_factory(engine)()
    try:
        yield Unit(session=session, actor=actor)
        session.commit()
    except DomainError as error:
        session.rollback()
        raise click.ClickException(error.message) from None
    finally:
        session.close()
        engine.dispose()


@click.group()
def main() -> None:
    """preservation-tracker: record preservation duties and verify them in the storage itself."""
    configure_logging(_settings().log_level)


main.add_command(check_command)
main.add_command(preserve_command)
main.add_command(attest_command)


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    settings = _settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url, revision)
    click.echo(f"database at {migrate.head_revision() if revision == 'head' else revision}", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the development server (upgrades the database first)."""
    settings = _settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    app = create_app(settings)
    click.echo(f"preservation-tracker on http://{host}:{port}/  (API spec: /api/openapi.json)", err=True)
    app.run(host=host, port=port, debug=False, use_reloader=False)


@main.group("users")
def users_group() -> None:
    """People who use the service."""


@users_group.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(USER_ROLES))
@click.option("--name", "display_name", default=None)
def users_add(email: str, role: str, display_name: str | None) -> None:
    """Add a user with a role."""
    with _unit() as unit:
        user = users.create_user(unit, email, role, display_name)
    click.echo(f"user {user.id} {user.email} ({user.role}) added", err=True)


@main.group("tokens")
def tokens_group() -> None:
    """API tokens."""


@tokens_group.command("issue")
@click.argument("email")
@click.option("--name", default="cli", show_default=True)
@click.option("--expires-in", "expires_in_days", type=click.IntRange(1, 3650), default=None, help="days")
def tokens_issue(email: str, name: str, expires_in_days: int | None) -> None:
    """Issue a token for a user; prints the token alone on stdout, once."""
    expires = dt.timedelta(days=expires_in_days) if expires_in_days else None
    with _unit() as unit:
        user = users.find_user(unit, email)
        _token, secret = users.issue_token(unit, user, name, expires)
    click.echo(secret)


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute every hash and link; exit 1 naming the first bad seq."""
    settings = _settings()
    engine = _engine(settings)
    with make_session_factory(engine)() as session:
        report = audit.verify_chain(session)
    engine.dispose()
    if report.problem is None:
        click.echo(f"audit chain intact: {report.events} events, head {report.head_hash}")
        return
    click.echo(f"audit chain BROKEN at seq {report.problem.seq}: {report.problem.reason}", err=True)
    sys.exit(1)


@main.command("seed-demo")
@click.option("--admin-email", default="demo-admin@example.org", show_default=True)
def seed_demo(admin_email: str) -> None:
    """Record the Al Otro Lado v. Nielsen demo matter, and print a token for a demo admin."""
    settings = _settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    with _unit("cli:seed-demo") as unit:
        matter = demo.seed_demo(unit)
        try:
            admin = users.find_user(unit, admin_email)
        except DomainError:
            admin = users.create_user(unit, admin_email, "admin", "Demo administrator")
        _token, secret = users.issue_token(unit, admin, "seed-demo", dt.timedelta(days=30))
    click.echo(f"demo matter {matter.id}: {matter.caption}", err=True)
    click.echo(f"API token for {admin_email} (admin, 30 days): {secret}", err=True)
    click.echo(f"try: curl -H 'Authorization: Bearer {secret}' http://127.0.0.1:5000/api/v1/matters", err=True)
