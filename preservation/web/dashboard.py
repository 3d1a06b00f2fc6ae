"""The overview, alerts, scheduler and audit pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from preservation.db import begin_read_only
from preservation.domain.vocabulary import AUDIT_ACTIONS, JOB_RUN_OUTCOMES
from preservation.services import alerts, checkpoints, dashboard
from preservation.services.audit_export import ExportFilter, stream_export
from preservation.services.unit import system_clock
from preservation.web import access
from preservation.web.api.audit import verifier_key_of
from preservation.web.forms import ActionForm
from preservation.web.html import error_page
from preservation.web.notice_pages import notice_policy
from preservation.web.page_format import (
    HISTORY_ORDER,
    PER_PAGE,
    history_columns,
    page_number,
    query_choice,
    query_text,
    status_bars,
)
from preservation.web.session import unit_of_work

bp = Blueprint("dashboard", __name__)
# Roles that may say they read an alert, as in the API: auditors look, they do not act.
ACKNOWLEDGING_ROLES = ("admin", "counsel", "viewer")


@bp.get("/overview")
@access.readers
def overview() -> ResponseReturnValue:
    """What is at risk and when, what is due, who has not acknowledged, and whether the checks run."""
    unit = unit_of_work()
    # Overdue as the notices count it: no acknowledgement within one reminder period.
    grace_days = notice_policy().reminder_every_days
    found = dashboard.overview(unit, acknowledgement_grace=dt.timedelta(days=grace_days))
    stale_after = current_app.extensions["preservation"].settings.scheduling.heartbeat_stale_seconds
    age = (found.now - found.heartbeat.beat_at).total_seconds() if found.heartbeat else None
    return render_template(
        "dashboard/overview.html",
        view=found,
        bars=status_bars(found.status_counts),
        columns=history_columns(found.history),
        history_order=HISTORY_ORDER,
        stale_intervals=dashboard.STALE_INTERVALS,
        heartbeat_age=age,
        heartbeat_stale=age is None or age > stale_after,
        grace_days=grace_days,
    )


@bp.get("/alerts")
@access.readers
def alert_list() -> ResponseReturnValue:
    """Alerts, newest first, searched by subject or text, filtered by whether someone acknowledged them."""
    state = query_choice("state", ("open", "acknowledged"))
    search = query_text("q")
    acknowledged = {"open": False, "acknowledged": True}.get(state)
    found = alerts.list_alerts(unit_of_work(), page_number(), PER_PAGE, acknowledged=acknowledged, search=search)
    return render_template(
        "dashboard/alerts.html",
        page=found,
        state=state,
        search=search,
        form=ActionForm(formdata=None),
        may_acknowledge=g.user.role in ACKNOWLEDGING_ROLES,
    )


@bp.post("/alerts/<int:alert_id>/acknowledge")
@access.roles(*ACKNOWLEDGING_ROLES)
def acknowledge_alert(alert_id: int) -> ResponseReturnValue:
    """Record that the signed-in user has read an alert."""
    unit = unit_of_work()
    alert, fresh = alerts.acknowledge(unit, alert_id)
    unit.session.commit()
    flash(f"Alert “{alert.subject}” acknowledged." if fresh else "That alert was already acknowledged.", "notice")
    return redirect(url_for("dashboard.alert_list"), 303)


@bp.get("/scheduler")
@access.readers
def scheduler() -> ResponseReturnValue:
    """The leader, its heartbeat, and the last job runs, searched by job, holder or error."""
    unit = unit_of_work()
    outcome = query_choice("outcome", JOB_RUN_OUTCOMES)
    job_id = query_text("job", 100)
    search = query_text("q")
    found = dashboard.scheduler_view(unit, page_number(), PER_PAGE, job_id=job_id, outcome=outcome, search=search)
    stale_after = current_app.extensions["preservation"].settings.scheduling.heartbeat_stale_seconds
    now = unit.clock()
    age = (now - found.heartbeat.beat_at).total_seconds() if found.heartbeat else None
    return render_template(
        "dashboard/scheduler.html",
        view=found,
        now=now,
        heartbeat_age=age,
        heartbeat_stale=age is None or age > stale_after,
        outcomes=JOB_RUN_OUTCOMES,
        outcome=outcome,
        job=job_id,
        search=search,
    )


def _audit_filters() -> dict[str, Any]:
    matter = query_text("matter", 10)
    return {
        "matter_id": int(matter) if matter.isdigit() and 0 < int(matter) < 2**31 else None,
        "action": query_choice("action", tuple(sorted(AUDIT_ACTIONS))),
        "actor": query_text("actor", 320),
        "since": _day(query_text("since", 10)),
        "until": _day(query_text("until", 10), next_day=True),
    }


def _day(text: str, *, next_day: bool = False) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    moment = dt.datetime.combine(day, dt.time(), dt.UTC)
    return moment + dt.timedelta(days=1) if next_day else moment


@bp.get("/audit")
@access.roles("auditor", "admin")
def audit() -> ResponseReturnValue:
    """Audit events with filters, the latest signed checkpoint, the whole-chain check on request, the download."""
    filters = _audit_filters()
    found = dashboard.audit_view(unit_of_work(), page_number(), PER_PAGE, filters=filters)
    verdict: checkpoints.LogVerdict | None = None
    notes: list[str] = []
    if request.args.get("verify") == "1":
        # The full check reads every event (seconds for a million), so it runs when asked, as the API's does.
        state = current_app.extensions["preservation"]
        key, notes = verifier_key_of(state.settings)
        with state.session_factory() as session:
            begin_read_only(session)
            verdict = checkpoints.verify_log(session, key)
    return render_template(
        "dashboard/audit.html",
        view=found,
        filters=filters,
        raw=request.args,
        actions=sorted(AUDIT_ACTIONS),
        verdict=verdict,
        notes=notes + (verdict.notes if verdict else []),
    )


@bp.get("/audit/export.zip")
@access.roles("auditor", "admin")
def audit_export() -> ResponseReturnValue:
    """The same zip as the API's export, for a signed-in auditor: streamed, up to the latest checkpoint."""
    filters = _audit_filters()
    session = current_app.extensions["preservation"].session_factory()
    try:
        begin_read_only(session)
        checkpoint = checkpoints.latest_checkpoint(session)
        if checkpoint is None:
            session.close()
            return error_page(409, "There is no signed checkpoint yet, so there is nothing to export.")
        wanted = ExportFilter(matter_id=filters["matter_id"], since=filters["since"], until=filters["until"])
        chunks = stream_export(session, checkpoint, wanted, now=system_clock())
    except BaseException:
        session.close()
        raise

    def body() -> Iterator[bytes]:
        try:
            yield from chunks
        finally:
            session.close()

    scope = f"matter-{wanted.matter_id}" if wanted.matter_id else "log"
    name = f"audit-export-{scope}-checkpoint-{checkpoint.id}.zip"
    return Response(
        body(), mimetype="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
