"""`preservation demo`: the whole service on one machine, in a fresh folder, with nothing to set up."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import tempfile
import threading
from pathlib import Path

import click
from werkzeug.serving import make_server

from config.settings import Settings
from jobs.runner import run_scheduler
from preservation import migrate
from preservation.adapters.aws import AwsClients
from preservation.adapters.demo_storage import build_demo_storage, start_local_aws
from preservation.app import create_app
from preservation.cli.common import open_engine
from preservation.db import make_session_factory
from preservation.services import accounts, demo, users
from preservation.services.unit import Unit

DEMO_EMAIL = "demo-counsel@example.org"
# The demo's scheduler ticks fast so the first checks, deadlines and alerts show up within a minute.
DEMO_JOB_INTERVALS = "retention-checks=30,deadline-sweep=30,alert-dispatch=10,audit-checkpoint=300,heartbeat=10"


def _demo_settings(folder: Path, host: str, port: int) -> Settings:
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("PRESERVATION_")},
        "PRESERVATION_INSTANCE_PATH": str(folder),
        "PRESERVATION_DATABASE_URL": f"sqlite:///{folder / 'preservation.db'}",
        "PRESERVATION_SESSION_COOKIE_SECURE": "0",
        "PRESERVATION_MFA_REQUIRED_ROLES": "",
        "PRESERVATION_MAIL_TRANSPORT": "console",
        "PRESERVATION_PUBLIC_URL": f"http://{host}:{port}",
        "PRESERVATION_JOB_INTERVALS": DEMO_JOB_INTERVALS,
        "PRESERVATION_SCHEDULER_LEASE_SECONDS": "15",
    }
    return Settings.from_env(environment)


def _seed(settings: Settings, password: str) -> None:
    engine = open_engine(settings)
    with make_session_factory(engine)() as session:
        unit = Unit(session=session, actor="cli:demo")
        demo.seed_demo(unit)
        counsel = users.create_user(unit, DEMO_EMAIL, "counsel", "Demo counsel")
        accounts.set_password(unit, counsel, password)
        session.commit()
    engine.dispose()


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="where the demo keeps its database and outbox (default: a new temporary folder)",
)
def demo_command(host: str, port: int, folder: Path | None) -> None:
    """Run the service with the Al Otro Lado demo on a local S3 endpoint; Ctrl-C stops it."""
    folder = (folder or Path(tempfile.mkdtemp(prefix="preservation-demo-"))).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "preservation.db").exists():
        raise click.ClickException(f"{folder} already holds a demo; pass an empty --folder or none")

    # Both servers log through werkzeug; the app's own request log is enough.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    aws_server, endpoint = start_local_aws()
    # The demo talks only to its own local endpoint, with credentials that open nothing real.
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
            "AWS_REGION": "us-west-2",
            "AWS_DEFAULT_REGION": "us-west-2",
        }
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    web = None
    try:
        settings = _demo_settings(folder, host, port)
        migrate.upgrade(settings.database_url)
        build_demo_storage(AwsClients(), dt.datetime.now(dt.UTC))
        password = f"poe-{secrets.token_urlsafe(12)}"
        _seed(settings, password)

        web = make_server(host, port, create_app(settings), threaded=True)
        threading.Thread(target=web.serve_forever, name="demo-web", daemon=True).start()
        click.echo(
            "\n".join(
                (
                    "",
                    f"preservation-tracker demo: http://{host}:{port}/",
                    f"sign in as {DEMO_EMAIL} with the password {password}",
                    f"local S3 and Logs endpoint: {endpoint}; data, database and email outbox in {folder}",
                    "the first retention checks run now; the Otay Mesa bucket is at risk within a minute.",
                    "second-factor sign-in is switched off in this demo only. Ctrl-C stops everything.",
                    "",
                )
            ),
            err=True,
        )
        # The scheduler runs in this process for the demo only; in production it is its own process.
        run_scheduler(settings, holder="demo-scheduler")
    finally:
        if web is not None:
            web.shutdown()
        aws_server.stop()
        click.echo("demo stopped", err=True)
