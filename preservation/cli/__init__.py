"""The `preservation` command line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os

import click

from config.logging import configure_logging
from preservation import migrate
from preservation.app import create_app
from preservation.cli.accounts import tokens_group, users_group
from preservation.cli.audit import audit_group
from preservation.cli.checks import attest_command, check_command, preserve_command, release_holds_command
from preservation.cli.common import command_unit, load_settings
from preservation.cli.custodians import custodians_group
from preservation.cli.demo import demo_command
from preservation.cli.jobs import alerts_group, jobs_group, scheduler_command
from preservation.cli.scale import seed_scale_command
from preservation.domain.errors import DomainError
from preservation.services import demo, users


@click.group()
def main() -> None:
    """preservation-tracker: record preservation duties and verify them in the storage itself."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)


main.add_command(check_command)
main.add_command(preserve_command)
main.add_command(release_holds_command)
main.add_command(attest_command)
main.add_command(scheduler_command)
main.add_command(jobs_group)
main.add_command(alerts_group)
main.add_command(seed_scale_command)


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    settings = load_settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url, revision)
    click.echo(f"database at {migrate.head_revision() if revision == 'head' else revision}", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the development server (upgrades the database first)."""
    settings = load_settings()
    if "PRESERVATION_SESSION_COOKIE_SECURE" not in os.environ:
        # This server speaks plain http, where a browser would not send back a Secure cookie.
        settings = dataclasses.replace(settings, session_cookie_secure=False)
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    app = create_app(settings)
    click.echo(f"preservation-tracker on http://{host}:{port}/  (API spec: /api/openapi.json)", err=True)
    click.echo(f"sign in at http://{host}:{port}/auth/sign-in", err=True)
    app.run(host=host, port=port, debug=False, use_reloader=False)


main.add_command(users_group)
main.add_command(tokens_group)


main.add_command(audit_group)
main.add_command(demo_command)
main.add_command(custodians_group)


@main.command("seed-demo")
@click.option("--admin-email", default="demo-admin@example.org", show_default=True)
def seed_demo(admin_email: str) -> None:
    """Record the Al Otro Lado v. Nielsen demo matter, and print a token for a demo admin."""
    settings = load_settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    with command_unit("cli:seed-demo") as unit:
        matter = demo.seed_demo(unit)
        try:
            admin = users.find_user(unit, admin_email)
        except DomainError:
            admin = users.create_user(unit, admin_email, "admin", "Demo administrator")
        _token, secret = users.issue_token(unit, admin, "seed-demo", dt.timedelta(days=30))
    click.echo(f"demo matter {matter.id}: {matter.caption}", err=True)
    click.echo(f"API token for {admin_email} (admin, 30 days): {secret}", err=True)
    click.echo(f"try: curl -H 'Authorization: Bearer {secret}' http://127.0.0.1:5000/api/v1/matters", err=True)
    click.echo(f"to sign in on the pages: preservation users set-password {admin_email}", err=True)
