"""Matters, their orders and obligations, and the custodians bound by them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from preservation.domain.errors import DomainError, NotFound
from preservation.domain.vocabulary import (
    AUDIT_ACTIONS,
    CUSTODIAN_HOLD_STATUSES,
    MATTER_STATUSES,
    OBLIGATION_STATUSES,
    ORDER_STATUSES,
)
from preservation.models import Matter, Obligation, PreservationOrder
from preservation.services import custodians, dashboard, hold_states, matter_page, matters, orders
from preservation.services.matter_page import ListFilter
from preservation.services.unit import Unit
from preservation.web import access
from preservation.web.html import error_page
from preservation.web.notice_pages import notice_policy
from preservation.web.page_format import PER_PAGE, page_number, query_choice, query_text
from preservation.web.record_forms import (
    HoldForm,
    LinkSourceForm,
    MatterForm,
    ObligationForm,
    OrderForm,
    RecordForm,
)
from preservation.web.session import unit_of_work

bp = Blueprint("matter_pages", __name__, url_prefix="/matters")


def save_form(
    form: RecordForm,
    change: Callable[[Unit, dict[str, Any]], Any],
    done: Callable[[Any], str],
    page: Callable[[], ResponseReturnValue],
) -> ResponseReturnValue:
    """Validate, hand the fields to a service, commit and go on; or show the form again with its messages."""
    if form.validate_on_submit():
        unit = unit_of_work()
        try:
            saved = change(unit, form.values())
        except NotFound as error:
            unit.session.rollback()
            if not form.show_domain_error(error):
                return error_page(404, error.message)
        except DomainError as error:
            unit.session.rollback()
            if not form.show_domain_error(error):
                flash(error.message, "error")
        else:
            unit.session.commit()
            return redirect(done(saved), 303)
    return page()


@bp.get("")
@access.readers
def matter_list() -> ResponseReturnValue:
    """Matters, newest first, searched by caption or docket number and filtered by status."""
    search = query_text("q")
    status = query_choice("status", MATTER_STATUSES)
    found = dashboard.search_matters(unit_of_work(), page_number(), PER_PAGE, search=search, status=status)
    return render_template("matters/list.html", page=found, search=search, status=status, statuses=MATTER_STATUSES)


@bp.get("/<int:matter_id>")
@access.readers
def matter(matter_id: int) -> ResponseReturnValue:
    """A matter: orders, obligations and the sources satisfying them, custodians, and the audit timeline.

    Each of the four lists has its own search, filter and pages (order_q, orders_page, and so on).
    """
    unit = unit_of_work()
    actions = tuple(sorted(AUDIT_ACTIONS))
    filters = {
        "order_q": query_text("order_q"),
        "order_status": query_choice("order_status", ORDER_STATUSES),
        "obligation_q": query_text("obligation_q"),
        "obligation_status": query_choice("obligation_status", OBLIGATION_STATUSES),
        "custodian_q": query_text("custodian_q"),
        "hold_status": query_choice("hold_status", CUSTODIAN_HOLD_STATUSES),
        "action": query_choice("action", actions),
    }
    view = matter_page.matter_page(
        unit,
        matter_id,
        ListFilter(page_number("orders_page"), filters["order_q"], filters["order_status"]),
        ListFilter(page_number("obligations_page"), filters["obligation_q"], filters["obligation_status"]),
        ListFilter(page_number("custodians_page"), filters["custodian_q"], filters["hold_status"]),
        ListFilter(page_number("timeline_page"), status=filters["action"]),
        PER_PAGE,
    )
    return render_template(
        "matters/matter.html",
        view=view,
        filters=filters,
        order_statuses=ORDER_STATUSES,
        obligation_statuses=OBLIGATION_STATUSES,
        hold_statuses=CUSTODIAN_HOLD_STATUSES,
        actions=actions,
        now=unit.clock(),
    )


@bp.get("/orders/<int:order_id>/acknowledgements")
@access.readers
def order_acknowledgements(order_id: int) -> ResponseReturnValue:
    """Per order: who has acknowledged, who is overdue, who was escalated, and every notice sent, a page at a time."""
    unit = unit_of_work()
    order = unit.get(PreservationOrder, order_id)
    policy = notice_policy()
    search = query_text("q")
    state = query_choice("state", hold_states.ACKNOWLEDGEMENT_STATES)
    states, counts = hold_states.order_state_page(
        unit, order_id, policy, page_number(), PER_PAGE, search=search, state=state
    )
    return render_template(
        "matters/acknowledgements.html",
        order=order,
        states=states,
        counts=counts,
        notices=hold_states.order_notice_page(unit, order_id, page_number("notices_page"), PER_PAGE, search=search),
        search=search,
        state=state,
        states_known=hold_states.ACKNOWLEDGEMENT_STATES,
        now=unit.clock(),
    )


def _form_page(form: RecordForm, title: str, back: str) -> Callable[[], ResponseReturnValue]:
    return lambda: render_template("form.html", form=form, title=title, back=back)


@bp.route("/new", methods=["GET", "POST"])
@access.writers
def new_matter() -> ResponseReturnValue:
    """Record a new matter."""
    form = MatterForm()
    return save_form(
        form,
        matters.create_matter,
        lambda saved: url_for("matter_pages.matter", matter_id=saved.id),
        _form_page(form, "New matter", url_for("matter_pages.matter_list")),
    )


@bp.route("/<int:matter_id>/edit", methods=["GET", "POST"])
@access.writers
def edit_matter(matter_id: int) -> ResponseReturnValue:
    """Change a matter."""
    current = unit_of_work().get(Matter, matter_id)
    form = MatterForm(obj=current)
    back = url_for("matter_pages.matter", matter_id=matter_id)
    return save_form(
        form,
        lambda unit, fields: matters.update_matter(unit, matter_id, fields),
        lambda _saved: back,
        _form_page(form, f"Edit {current.caption}", back),
    )


@bp.route("/<int:matter_id>/orders/new", methods=["GET", "POST"])
@access.writers
def new_order(matter_id: int) -> ResponseReturnValue:
    """Record an order on a matter, with all its dates."""
    current = unit_of_work().get(Matter, matter_id)
    form = OrderForm()
    back = url_for("matter_pages.matter", matter_id=matter_id)
    return save_form(
        form,
        lambda unit, fields: orders.create_order(unit, matter_id, fields),
        lambda _saved: back,
        _form_page(form, f"New order on {current.caption}", back),
    )


@bp.route("/orders/<int:order_id>/edit", methods=["GET", "POST"])
@access.writers
def edit_order(order_id: int) -> ResponseReturnValue:
    """Change an order's title, dates or scope."""
    current = unit_of_work().get(PreservationOrder, order_id)
    form = OrderForm(obj=current)
    back = url_for("matter_pages.matter", matter_id=current.matter_id)
    return save_form(
        form,
        lambda unit, fields: orders.update_order(unit, order_id, fields),
        lambda _saved: back,
        _form_page(form, f"Edit {current.title}", back),
    )


@bp.route("/orders/<int:order_id>/obligations/new", methods=["GET", "POST"])
@access.writers
def new_obligation(order_id: int) -> ResponseReturnValue:
    """Carve an obligation out of an order."""
    current = unit_of_work().get(PreservationOrder, order_id)
    form = ObligationForm()
    back = url_for("matter_pages.matter", matter_id=current.matter_id)
    return save_form(
        form,
        lambda unit, fields: orders.create_obligation(unit, order_id, fields),
        lambda _saved: back,
        _form_page(form, f"New obligation under {current.title}", back),
    )


@bp.route("/obligations/<int:obligation_id>/edit", methods=["GET", "POST"])
@access.writers
def edit_obligation(obligation_id: int) -> ResponseReturnValue:
    """Change an obligation's description, dates, range or status."""
    current = unit_of_work().get(Obligation, obligation_id)
    form = ObligationForm(obj=current)
    back = url_for("matter_pages.matter", matter_id=current.order.matter_id)
    return save_form(
        form,
        lambda unit, fields: orders.update_obligation(unit, obligation_id, fields),
        lambda _saved: back,
        _form_page(form, "Edit obligation", back),
    )


@bp.route("/obligations/<int:obligation_id>/sources", methods=["GET", "POST"])
@access.writers
def link_source(obligation_id: int) -> ResponseReturnValue:
    """Say which data source holds what an obligation covers."""
    current = unit_of_work().get(Obligation, obligation_id)
    form = LinkSourceForm()
    back = url_for("matter_pages.matter", matter_id=current.order.matter_id)
    return save_form(
        form,
        lambda unit, fields: orders.link_data_source(unit, obligation_id, fields["data_source_id"]),
        lambda _saved: back,
        _form_page(form, "Link a data source", back),
    )


@bp.route("/orders/<int:order_id>/holds", methods=["GET", "POST"])
@access.writers
def place_hold(order_id: int) -> ResponseReturnValue:
    """Bind a custodian to an order."""
    current = unit_of_work().get(PreservationOrder, order_id)
    form = HoldForm()
    back = url_for("matter_pages.matter", matter_id=current.matter_id)
    return save_form(
        form,
        lambda unit, fields: custodians.place_custodian_hold(unit, order_id, fields["custodian_id"], fields["role"]),
        lambda _saved: back,
        _form_page(form, f"Place a custodian under {current.title}", back),
    )
