"""/readyz says why it is not ready: an unreachable database and a schema behind the code answer 503 with the reason;
an old scheduler heartbeat is reported but leaves the web app ready, since pages and the API serve without it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from config.settings import Settings
from preservation import migrate
from preservation.app import create_app
from preservation.models import SchedulerHeartbeat
from preservation.services.job_runs import HEARTBEAT
from tests.pages.support import forget_scheduler


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def unreachable_app(db_kind: str, tmp_path: Path) -> Iterator[Flask]:
    """The app pointed at a database that cannot be opened: a SQLite file in a missing folder, or a closed port."""
    url = (
        f"sqlite:///{tmp_path / 'no-such-folder' / 'preservation.db'}"
        if db_kind == "sqlite"
        else f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/preservation"
    )
    app = create_app(Settings(database_url=url, secret_key="test-secret-key", instance_path=tmp_path / "instance"))
    yield app
    app.extensions["preservation"].engine.dispose()


def test_readyz_is_503_naming_the_database_when_it_cannot_be_reached(unreachable_app: Flask) -> None:
    response = unreachable_app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "unreachable: OperationalError"
    assert "migrations" not in body["checks"]
    # The process itself is alive, and says so.
    assert unreachable_app.test_client().get("/livez").status_code == 200


def test_readyz_is_503_with_both_revisions_while_the_schema_is_behind_head(
    client: FlaskClient, session: Session
) -> None:
    head = migrate.head_revision()
    assert head is not None
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    session.execute(text("UPDATE alembic_version SET version_num = :previous"), {"previous": previous})
    session.commit()
    try:
        response = client.get("/readyz")
    finally:
        session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
        session.commit()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == {"current": previous, "head": head, "at_head": False}
    assert client.get("/readyz").status_code == 200  # upgraded again: ready again


def test_readyz_is_503_on_an_empty_database(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'empty.db'}", secret_key="test-secret-key", instance_path=tmp_path
    )
    app = create_app(settings)
    try:
        response = app.test_client().get("/readyz")
    finally:
        app.extensions["preservation"].engine.dispose()
    assert response.status_code == 503
    assert response.get_json()["checks"]["migrations"]["current"] is None


def test_an_old_heartbeat_is_reported_stale_and_the_web_app_stays_ready(
    app: Flask, database_url: str, session: Session
) -> None:
    forget_scheduler(database_url)
    stale_after = app.extensions["preservation"].settings.scheduling.heartbeat_stale_seconds
    beat_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=stale_after + 600)
    session.add(SchedulerHeartbeat(name=HEARTBEAT, holder="host-1", beat_at=beat_at))
    session.commit()
    try:
        response = app.test_client().get("/readyz")
    finally:
        forget_scheduler(database_url)
    assert response.status_code == 200
    scheduler = response.get_json()["checks"]["scheduler"]
    assert scheduler["stale"] is True
    assert scheduler["age_seconds"] >= stale_after + 600
    assert scheduler["heartbeat_at"] == beat_at.isoformat()


def test_a_shorter_stale_limit_is_honoured(settings: Settings, database_url: str, session: Session) -> None:
    forget_scheduler(database_url)
    session.add(SchedulerHeartbeat(name=HEARTBEAT, holder="host-1", beat_at=dt.datetime.now(dt.UTC)))
    session.commit()
    scheduling = dataclasses.replace(settings.scheduling, heartbeat_stale_seconds=60)
    strict = dataclasses.replace(settings, scheduling=scheduling)
    app = create_app(strict)
    try:
        fresh = app.test_client().get("/readyz").get_json()["checks"]["scheduler"]["stale"]
        # Two minutes: stale under this limit, fresh under the default five.
        session.query(SchedulerHeartbeat).update({"beat_at": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=120)})
        session.commit()
        old = app.test_client().get("/readyz").get_json()["checks"]["scheduler"]["stale"]
    finally:
        app.extensions["preservation"].engine.dispose()
        forget_scheduler(database_url)
    assert (fresh, old) == (False, True)
