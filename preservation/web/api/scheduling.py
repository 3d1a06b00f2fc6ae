"""Court days, deadlines, alerts and their acknowledgement, and the scheduler's state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app

from config.scheduling import SchedulingSettings
from jobs.registry import JOBS
from preservation.adapters.court_calendar import CourtCalendar, court_calendar
from preservation.domain.court_days import Closures, count_period
from preservation.domain.errors import FieldError
from preservation.services import alerts, deadlines, job_runs, leases
from preservation.web import access
from preservation.web.api.common import api_blueprint, documented_errors, page_body
from preservation.web.api.scheduling_schemas import (
    AlertArgsSchema,
    AlertPageSchema,
    AlertSchema,
    CourtDaysArgsSchema,
    CourtDaysSchema,
    DeadlineArgsSchema,
    DeadlinePageSchema,
    DeadlineSchema,
    SchedulerSchema,
)
from preservation.web.session import unit_of_work

blp = api_blueprint("scheduling", "Court days, deadlines, alerts and their acknowledgement, the scheduler.")

CALENDAR_KEY = "preservation.court_calendar"
# Roles that may say they read an alert; auditors look, they do not act.
ACKNOWLEDGING_ROLES = ("admin", "counsel", "viewer")


def scheduling_settings() -> SchedulingSettings:
    """The app's scheduling settings."""
    config: SchedulingSettings = current_app.extensions["preservation"].settings.scheduling
    return config


def court_closures() -> Closures:
    """The court's holidays and closures, built once per app."""
    extensions = current_app.extensions
    if CALENDAR_KEY not in extensions:
        config = scheduling_settings()
        extensions[CALENDAR_KEY] = court_calendar(config.court_closures, config.court_state)
    calendar: CourtCalendar = extensions[CALENDAR_KEY]
    return calendar.closure


def court_today(now: dt.datetime) -> dt.date:
    """Today in the court's time zone."""
    return deadlines.local_date(now, scheduling_settings().court_timezone)


@blp.route("/court-days", methods=["GET"])
@access.readers
@blp.arguments(CourtDaysArgsSchema, location="query")
@blp.response(200, CourtDaysSchema)
@documented_errors(blp, 401, 403, 422)
def court_days(args: dict[str, Any]) -> dict[str, Any]:
    """The last day of a period of N days after (or before) a date, under FRCP 6(a)(1), with its steps."""
    try:
        result = count_period(args["from_"], args["days"], args["direction"], court_closures())
    except ValueError as error:
        raise FieldError("days", str(error)) from None
    record = result.as_record()
    record["from_"] = record.pop("from")
    return record


@blp.route("/deadlines", methods=["GET"])
@access.readers
@blp.arguments(DeadlineArgsSchema, location="query")
@blp.response(200, DeadlinePageSchema)
@documented_errors(blp, 401, 403, 422)
def list_deadlines(args: dict[str, Any]) -> dict[str, Any]:
    """Deadlines soonest first; filter by matter, due within N days, overdue, status, kind."""
    unit = unit_of_work()
    page = deadlines.list_deadlines(
        unit,
        args["page"],
        args["per_page"],
        today=court_today(unit.clock()),
        matter_id=args.get("matter_id"),
        within_days=args.get("within_days"),
        overdue=args.get("overdue"),
        status=None if args["status"] == "any" else args["status"],
        kind=args.get("kind"),
    )
    return page_body(page)


@blp.route("/deadlines/<int:deadline_id>", methods=["GET"])
@access.readers
@blp.response(200, DeadlineSchema)
@documented_errors(blp, 401, 403, 404)
def get_deadline(deadline_id: int) -> Any:
    """One deadline and how its date was computed."""
    return deadlines.get_deadline(unit_of_work(), deadline_id)


@blp.route("/alerts", methods=["GET"])
@access.readers
@blp.arguments(AlertArgsSchema, location="query")
@blp.response(200, AlertPageSchema)
@documented_errors(blp, 401, 403, 422)
def list_alerts(args: dict[str, Any]) -> dict[str, Any]:
    """Alerts newest first, with their deliveries; filter by deadline, matter, acknowledged."""
    page = alerts.list_alerts(
        unit_of_work(),
        args["page"],
        args["per_page"],
        deadline_id=args.get("deadline_id"),
        matter_id=args.get("matter_id"),
        acknowledged=args.get("acknowledged"),
    )
    return page_body(page)


@blp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@access.roles(*ACKNOWLEDGING_ROLES)
@blp.response(200, AlertSchema)
@documented_errors(blp, 401, 403, 404)
def acknowledge_alert(alert_id: int) -> Any:
    """Record that you read this alert (who and when, audited); acknowledging again changes nothing."""
    unit = unit_of_work()
    alert, _new = alerts.acknowledge(unit, alert_id)
    unit.session.commit()
    return alert


@blp.route("/scheduler", methods=["GET"])
@access.readers
@blp.response(200, SchedulerSchema)
@documented_errors(blp, 401, 403)
def scheduler_state() -> dict[str, Any]:
    """The scheduler lease's holder, the heartbeat's age, and each job's latest run."""
    unit = unit_of_work()
    now = unit.clock()
    config = scheduling_settings()
    lease = leases.current(unit.session)
    beat = job_runs.heartbeat(unit.session)
    last = job_runs.last_runs(unit.session)
    age = (now - beat.beat_at).total_seconds() if beat is not None else None
    return {
        "leader": None
        if lease is None
        else {
            "holder": lease.holder,
            "fencing_token": lease.fencing_token,
            "acquired_at": lease.acquired_at,
            "expires_at": lease.expires_at,
            "active": bool(lease.holder and lease.expires_at and lease.expires_at > now),
        },
        "heartbeat": {
            "beat_at": beat.beat_at if beat else None,
            "holder": beat.holder if beat else None,
            "age_seconds": age,
            "stale": age is None or age > config.heartbeat_stale_seconds,
        },
        "jobs": [
            {
                "job_id": spec.job_id,
                "every_seconds": config.interval_of(spec.job_id, spec.every_seconds),
                "description": spec.description,
                "last_run": last.get(spec.job_id),
            }
            for spec in JOBS
        ],
    }
