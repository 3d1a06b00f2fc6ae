"""A person's own account: password, authenticator, recovery codes, API tokens and sessions."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from preservation.domain.errors import DomainError
from preservation.services import accounts, mfa, signin, users
from preservation.web import access, browser_session
from preservation.web.forms import ActionForm, PasswordChangeForm, SecondFactorForm, TokenForm
from preservation.web.html import client_address
from preservation.web.session import unit_of_work

bp = Blueprint("account", __name__, url_prefix="/account")
TOTP_ISSUER = "Preservation tracker"


def _index(
    password_form: PasswordChangeForm | None = None, token_form: TokenForm | None = None, status: int = 200
) -> ResponseReturnValue:
    unit = unit_of_work()
    user = g.user
    page = render_template(
        "account/index.html",
        user=user,
        recovery_codes_left=mfa.unused_recovery_codes(unit, user) if user.has_mfa else 0,
        tokens=accounts.list_tokens(unit, user),
        sessions=accounts.live_sessions(unit, user, browser_session.session_limits()),
        current_session=g.browser_session,
        password_form=password_form or PasswordChangeForm(formdata=None),
        token_form=token_form or TokenForm(formdata=None),
        action_form=ActionForm(formdata=None),
        now=unit.clock(),
    )
    return page, status


@bp.get("")
@access.readers
def index() -> ResponseReturnValue:
    """The account page."""
    return _index()


@bp.post("/password")
@access.readers
def change_password() -> ResponseReturnValue:
    """Change the password (the current one is checked, and throttled like a sign-in); other sessions end."""
    form = PasswordChangeForm()
    if not form.validate():
        return _index(password_form=form, status=400)
    unit = unit_of_work()
    user = g.user
    attempt = signin.check_password(
        unit, user.email, form.current_password.data or "", client_address(), browser_session.throttle_policy()
    )
    if attempt.outcome != "ok":
        unit.session.commit()
        form.current_password.errors = ["is not right" if attempt.outcome == "failed" else "too many tries; wait"]
        return _index(password_form=form, status=429 if attempt.outcome == "locked" else 400)
    try:
        ended = accounts.set_password(unit, user, form.new_password.data or "", keep_session_id=g.browser_session.id)
    except DomainError as error:
        unit.session.rollback()
        form.new_password.errors = [reason for reasons in error.fields.values() for reason in reasons]
        return _index(password_form=form, status=400)
    unit.session.commit()
    flash(f"Password changed. {ended} other session(s) signed out.", "notice")
    return redirect(url_for("account.index"), 303)


@bp.post("/sessions/end-others")
@access.readers
def end_other_sessions() -> ResponseReturnValue:
    """Sign out every other browser."""
    unit = unit_of_work()
    ended = accounts.end_other_sessions(unit, g.browser_session)
    unit.session.commit()
    flash(f"{ended} other session(s) signed out.", "notice")
    return redirect(url_for("account.index"), 303)


@bp.post("/tokens")
@access.readers
def issue_token() -> ResponseReturnValue:
    """A new API token for the signed-in user, shown once."""
    form = TokenForm()
    if not form.validate():
        return _index(token_form=form, status=400)
    unit = unit_of_work()
    try:
        name = accounts.check_token_name(form.name.data or "")
    except DomainError as error:
        form.name.errors = list(error.fields.get("name", [error.message]))
        return _index(token_form=form, status=400)
    token, secret = users.issue_token(unit, g.user, name, dt.timedelta(days=form.expires_in_days.data or 90))
    unit.session.commit()
    return render_template("account/token_issued.html", token=token, secret=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@access.readers
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke one of the signed-in user's own tokens."""
    unit = unit_of_work()
    try:
        token = accounts.revoke_token(unit, token_id, owner=g.user)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("account.index"), 303)
    unit.session.commit()
    flash(f"Token “{token.name}” revoked.", "notice")
    return redirect(url_for("account.index"), 303)


@bp.route("/mfa", methods=["GET", "POST"], endpoint="mfa")
@access.during_mfa_enrolment
def mfa_setup() -> ResponseReturnValue:
    """Set up an authenticator: show its secret, then take a code that proves it works."""
    unit = unit_of_work()
    user = g.user
    if user.has_mfa:
        return render_template(
            "account/mfa_done.html",
            recovery_codes_left=mfa.unused_recovery_codes(unit, user),
            action_form=ActionForm(formdata=None),
        )
    secret = mfa.begin_enrolment(unit, user)
    unit.session.commit()
    form = SecondFactorForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                codes = mfa.confirm_enrolment(unit, user, form.code.data or "")
            except DomainError as error:
                unit.session.rollback()
                form.code.errors = [error.fields.get("code", [error.message])[0]]
                status = 400
            else:
                unit.session.commit()
                return render_template("account/recovery_codes.html", codes=codes, enrolled=True)
        else:
            status = 400
    return render_template(
        "account/mfa_setup.html",
        form=form,
        secret=secret,
        uri=mfa.provisioning_uri(user, secret, TOTP_ISSUER),
        required=browser_session.needs_mfa_enrolment(user),
    ), status


@bp.post("/mfa/recovery-codes")
@access.readers
def replace_recovery_codes() -> ResponseReturnValue:
    """New recovery codes, shown once; the old ones stop working."""
    unit = unit_of_work()
    try:
        codes = mfa.replace_recovery_codes(unit, g.user)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("account.index"), 303)
    unit.session.commit()
    return render_template("account/recovery_codes.html", codes=codes, enrolled=False)
