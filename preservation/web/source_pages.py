"""Data sources: the list, a source's checks and findings, running a check, and preserving with a plan first."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from preservation.domain.errors import DomainError
from preservation.domain.vocabulary import DATA_SOURCE_KINDS, DATA_SOURCE_STATUSES
from preservation.models import DataSource
from preservation.services import checks, dashboard, obligation_times, preserve, sources, steward_states
from preservation.web import access
from preservation.web.api.checks import collectors
from preservation.web.forms import ActionForm
from preservation.web.matter_pages import save_form
from preservation.web.notice_pages import notice_policy
from preservation.web.page_format import page_number, query_choice, query_text
from preservation.web.record_forms import DataSourceForm
from preservation.web.session import unit_of_work

bp = Blueprint("source_pages", __name__, url_prefix="/sources")
CHECKS_PER_PAGE = 10


@bp.get("")
@access.readers
def source_list() -> ResponseReturnValue:
    """Live data sources, soonest destruction first, searched by name or location, filtered by status and kind."""
    search = query_text("q")
    status = query_choice("status", DATA_SOURCE_STATUSES)
    kind = query_choice("kind", DATA_SOURCE_KINDS)
    unit = unit_of_work()
    found = dashboard.search_sources(unit, page_number(), 25, search=search, status=status, kind=kind)
    return render_template(
        "sources/list.html",
        page=found,
        search=search,
        status=status,
        kind=kind,
        statuses=DATA_SOURCE_STATUSES,
        kinds=DATA_SOURCE_KINDS,
        now=unit.clock(),
    )


@bp.get("/<int:source_id>")
@access.readers
def source(source_id: int) -> ResponseReturnValue:
    """A source: destruction time, the obligations it satisfies with each one's own, and its checks and evidence."""
    unit = unit_of_work()
    view = dashboard.source_view(unit, source_id, page_number(), CHECKS_PER_PAGE)
    steward = steward_states.steward_notice_state(unit, source_id, notice_policy())
    return render_template(
        "sources/source.html",
        view=view,
        steward=steward,
        scope=obligation_times.obligation_times(unit, view.source),
        now=unit.clock(),
        form=ActionForm(formdata=None),
    )


@bp.route("/new", methods=["GET", "POST"])
@access.writers
def new_source() -> ResponseReturnValue:
    """Catalogue a data source."""
    form = DataSourceForm()
    back = url_for("source_pages.source_list")
    return save_form(
        form,
        sources.create_data_source,
        lambda saved: url_for("source_pages.source", source_id=saved.id),
        lambda: render_template("form.html", form=form, title="New data source", back=back),
    )


@bp.route("/<int:source_id>/edit", methods=["GET", "POST"])
@access.writers
def edit_source(source_id: int) -> ResponseReturnValue:
    """Change a source's name, location or clocks."""
    current = unit_of_work().get(DataSource, source_id)
    form = DataSourceForm(obj=current)
    back = url_for("source_pages.source", source_id=source_id)
    return save_form(
        form,
        lambda unit, fields: sources.update_data_source(unit, source_id, fields),
        lambda _saved: back,
        lambda: render_template("form.html", form=form, title=f"Edit {current.name}", back=back),
    )


@bp.post("/<int:source_id>/check")
@access.writers
def run_check(source_id: int) -> ResponseReturnValue:
    """Check the source now, in the storage itself."""
    if not ActionForm().validate():
        flash("The form had expired; try again.", "error")
        return redirect(url_for("source_pages.source", source_id=source_id), 303)
    unit = unit_of_work()
    try:
        request = checks.prepare_check(unit, source_id)
    except DomainError as error:
        unit.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("source_pages.source", source_id=source_id), 303)
    unit.session.commit()  # no transaction stays open while AWS answers
    snapshot = checks.collect(request, collectors())
    valid_days = current_app.extensions["preservation"].settings.attestation_valid_days
    check = checks.record_check(unit, request, snapshot, attestation_valid_for=dt.timedelta(days=valid_days))
    unit.session.commit()
    flash(f"Checked: the source is {check.status.replace('_', ' ')}.", "notice")
    return redirect(url_for("source_pages.source", source_id=source_id), 303)


@bp.get("/<int:source_id>/preserve")
@access.writers
def preservation_plan(source_id: int) -> ResponseReturnValue:
    """What preserving would do (a dry run: nothing changes), with the button that does it."""
    unit = unit_of_work()
    try:
        request = preserve.prepare_preservation(unit, source_id)
    except DomainError as error:
        unit.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("source_pages.source", source_id=source_id), 303)
    unit.session.commit()
    snapshot = checks.collect(request, collectors())
    plan = preserve.plan_preservation(request, snapshot, unit.clock())
    document = preserve.plan_document(request, plan, dry_run=True)
    return render_template(
        "sources/preserve.html",
        source=unit.get(DataSource, source_id),
        document=document,
        form=ActionForm(formdata=None),
    )


@bp.post("/<int:source_id>/preserve")
@access.writers
def preserve_now(source_id: int) -> ResponseReturnValue:
    """Carry out the plan: legal holds, log retention; the intent is recorded before the storage changes."""
    if not ActionForm().validate():
        flash("The form had expired; try again.", "error")
        return redirect(url_for("source_pages.preservation_plan", source_id=source_id), 303)
    unit = unit_of_work()
    try:
        request = preserve.prepare_preservation(unit, source_id)
    except DomainError as error:
        unit.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("source_pages.source", source_id=source_id), 303)
    unit.session.commit()
    found = collectors()
    snapshot = checks.collect(request, found)
    plan = preserve.plan_preservation(request, snapshot, unit.clock())
    if plan.blocked:
        flash(f"Nothing was changed: {plan.blocked}", "error")
        return redirect(url_for("source_pages.source", source_id=source_id), 303)
    preserve.record_preservation_started(unit, request, plan)
    unit.session.commit()  # the intent is on record before the storage changes
    results = preserve.carry_out(request, plan, found)
    summary = preserve.record_preservation_finished(unit, request, plan, results)
    unit.session.commit()
    flash(
        f"Preservation carried out ({len(plan.steps)} steps: {_counts(summary)}); "
        "run a check to confirm what the storage now keeps.",
        "notice",
    )
    return redirect(url_for("source_pages.source", source_id=source_id), 303)


def _counts(summary: dict[str, object]) -> str:
    parts = [f"{value} {name.replace('_', ' ')}" for name, value in summary.items() if isinstance(value, int)]
    return ", ".join(parts) or "nothing to do"
