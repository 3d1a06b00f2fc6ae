"""The custodian's page of a notice: no account, only the personal link from the email.

The link is the credential: signed, expiring, and bound to one custodian, hold and notice version.
A bad link gets a page that says so and changes nothing. The forms carry CSRF tokens like every page.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue

from preservation.domain.errors import DomainError
from preservation.models import HoldNotice
from preservation.services import custodian_notices
from preservation.services.notice_links import BadLink
from preservation.services.notice_mail import NoticePolicy
from preservation.web import access
from preservation.web.html import error_page
from preservation.web.session import unit_of_work

bp = Blueprint("notices", __name__, url_prefix="/notices")


def notice_policy() -> NoticePolicy:
    """The notice policy of this app: its secret, public address and PRESERVATION_NOTICE_* settings."""
    settings = current_app.extensions["preservation"].settings
    notice_settings = settings.notices
    public_url = settings.scheduling.public_url or request.host_url.rstrip("/")
    return NoticePolicy(
        secret=settings.secret_key,
        public_url=public_url,
        link_valid_days=notice_settings.link_valid_days,
        reminder_every_days=notice_settings.reminder_every_days,
        escalate_after_days=notice_settings.escalate_after_days,
        departure_warning_days=notice_settings.departure_warning_days,
    )


def _bad_link(error: BadLink) -> ResponseReturnValue:
    status = 410 if error.reason == "expired" else 404 if error.reason == "unknown" else 400
    return error_page(status, error.message)


def _open(token: str) -> HoldNotice:
    return custodian_notices.open_by_link(unit_of_work("anonymous"), token, notice_policy())


def _page(notice: HoldNotice, token: str, status: int = 200, **extra: object) -> Response:
    response = current_app.make_response(render_template("notices/notice.html", notice=notice, token=token, **extra))
    response.status_code = status
    # The link is a credential: keep it out of caches.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<token>", methods=["GET"])
@access.public
def show(token: str) -> ResponseReturnValue:
    """The notice, with "I acknowledge and will comply" and "I have a question"."""
    try:
        notice = _open(token)
    except BadLink as error:
        return _bad_link(error)
    return _page(notice, token)


@bp.route("/<token>/acknowledge", methods=["POST"])
@access.public
def acknowledge(token: str) -> ResponseReturnValue:
    """Record the acknowledgement of the version shown."""
    try:
        notice = _open(token)
    except BadLink as error:
        return _bad_link(error)
    unit = unit_of_work(f"custodian:{notice.custodian.email}")
    try:
        recorded = custodian_notices.acknowledge(unit, notice)
    except DomainError as error:
        unit.session.rollback()
        return error_page(409, error.message)
    unit.session.commit()
    message = "Thank you: your acknowledgement is recorded." if recorded else "You acknowledged this notice already."
    return _page(notice, token, message=message)


@bp.route("/<token>/question", methods=["POST"])
@access.public
def question(token: str) -> ResponseReturnValue:
    """Send a question about the notice to the legal team."""
    try:
        notice = _open(token)
    except BadLink as error:
        return _bad_link(error)
    unit = unit_of_work(f"custodian:{notice.custodian.email}")
    try:
        custodian_notices.ask_question(unit, notice, request.form.get("question", ""))
    except DomainError as error:
        unit.session.rollback()
        return _page(notice, token, 400, error=error.message)
    unit.session.commit()
    return _page(notice, token, message="Your question was sent to the legal team; they will answer by email.")
