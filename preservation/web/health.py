"""Health checks and the front door; no sign-in needed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from preservation import __version__
from preservation.migrate import current_revision
from preservation.services import job_runs
from preservation.web import access

bp = Blueprint("health", __name__)


@bp.get("/")
@access.public
def index() -> ResponseReturnValue:
    """Where to go from here: browsers go to the overview page, API clients get this map in JSON."""
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        return redirect(url_for("dashboard.overview"), 303)
    return jsonify(
        service="preservation-tracker",
        version=__version__,
        api="/api/v1",
        openapi="/api/openapi.json",
        health={"live": "/livez", "ready": "/readyz"},
    )


@bp.get("/livez")
@access.public
def livez() -> ResponseReturnValue:
    """The process is up and answering."""
    return jsonify(status="ok")


@bp.get("/readyz")
@access.public
def readyz() -> ResponseReturnValue:
    """The database answers and its schema is at the revision this code expects."""
    state = current_app.extensions["preservation"]
    checks: dict[str, Any] = {}
    ready = True
    try:
        with state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
        revision = current_revision(state.engine)
        at_head = revision == state.head_revision
        checks["migrations"] = {"current": revision, "head": state.head_revision, "at_head": at_head}
        ready = at_head
        if at_head:
            checks["scheduler"] = _scheduler_heartbeat(state)
    except SQLAlchemyError as error:
        checks["database"] = f"unreachable: {type(error).__name__}"
        ready = False
    return jsonify(status="ready" if ready else "not_ready", checks=checks), 200 if ready else 503


def _scheduler_heartbeat(state: Any) -> dict[str, Any]:
    """How old the scheduler's last tick is. Reported, never fatal: the web app serves without the scheduler."""
    with state.session_factory() as session:
        beat = job_runs.heartbeat(session)
    if beat is None:
        return {"heartbeat_at": None, "age_seconds": None, "stale": True}
    age = (dt.datetime.now(dt.UTC) - beat.beat_at).total_seconds()
    stale_after = state.settings.scheduling.heartbeat_stale_seconds
    return {"heartbeat_at": beat.beat_at.isoformat(), "age_seconds": round(age, 1), "stale": age > stale_after}
