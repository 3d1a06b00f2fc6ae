"""Custodians: the list with search, each one's holds across matters, and the forms that record and correct them."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask.typing import ResponseReturnValue

from preservation.domain.vocabulary import EMPLOYMENT_STATUSES
from preservation.models import Custodian
from preservation.services import custodians, dashboard, hold_states
from preservation.web import access
from preservation.web.matter_pages import save_form
from preservation.web.notice_pages import notice_policy
from preservation.web.page_format import PER_PAGE, page_number, query_choice, query_text
from preservation.web.record_forms import CustodianForm
from preservation.web.session import unit_of_work

bp = Blueprint("custodian_pages", __name__, url_prefix="/custodians")


@bp.get("")
@access.readers
def custodian_list() -> ResponseReturnValue:
    """Custodians by name, searched by name, email or department, filtered by employment."""
    search = query_text("q")
    employment = query_choice("employment", EMPLOYMENT_STATUSES)
    found = dashboard.search_custodians(unit_of_work(), page_number(), PER_PAGE, search=search, employment=employment)
    return render_template(
        "custodians/list.html", page=found, search=search, employment=employment, employments=EMPLOYMENT_STATUSES
    )


@bp.get("/<int:custodian_id>")
@access.readers
def custodian(custodian_id: int) -> ResponseReturnValue:
    """A custodian's holds across every matter, with where each acknowledgement stands, searched and paginated."""
    unit = unit_of_work()
    person = unit.get(Custodian, custodian_id)
    search = query_text("q")
    state = query_choice("state", hold_states.ACKNOWLEDGEMENT_STATES)
    holds = hold_states.custodian_state_page(
        unit, custodian_id, notice_policy(), page_number(), PER_PAGE, search=search, state=state
    )
    return render_template(
        "custodians/custodian.html",
        person=person,
        holds=holds,
        search=search,
        state=state,
        states_known=hold_states.ACKNOWLEDGEMENT_STATES,
        now=unit.clock(),
    )


@bp.route("/new", methods=["GET", "POST"])
@access.writers
def new_custodian() -> ResponseReturnValue:
    """Record a custodian."""
    form = CustodianForm()
    back = url_for("custodian_pages.custodian_list")
    return save_form(
        form,
        custodians.create_custodian,
        lambda _saved: back,
        lambda: render_template("form.html", form=form, title="New custodian", back=back),
    )


@bp.route("/<int:custodian_id>/edit", methods=["GET", "POST"])
@access.writers
def edit_custodian(custodian_id: int) -> ResponseReturnValue:
    """Correct a custodian's details."""
    current = unit_of_work().get(Custodian, custodian_id)
    form = CustodianForm(obj=current)
    back = url_for("custodian_pages.custodian_list")
    return save_form(
        form,
        lambda unit, fields: custodians.update_custodian(unit, custodian_id, fields),
        lambda _saved: back,
        lambda: render_template("form.html", form=form, title=f"Edit {current.name}", back=back),
    )
