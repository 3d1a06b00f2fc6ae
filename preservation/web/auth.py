"""Signing in (password, then the second factor when the account has one) and signing out."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from preservation.models import User
from preservation.services import accounts, signin
from preservation.services.signin import Attempt
from preservation.web import access, browser_session
from preservation.web.forms import SecondFactorForm, SignInForm
from preservation.web.html import client_address, safe_next
from preservation.web.session import unit_of_work

bp = Blueprint("auth", __name__, url_prefix="/auth")

# One message for an unknown email, a wrong password, a disabled user and a user without a password.
WRONG_CREDENTIALS = "The email or password is not right."
WRONG_CODE = "That code is not right, or it has been used already."


def _locked_message(until: dt.datetime | None) -> str:
    when = until.strftime("%H:%M UTC") if until else "a few minutes"
    return (
        "Too many failed sign-ins for this account or from this address. "
        f"Sign-in is locked until {when}; try again then."
    )


def _after_sign_in(user: User, next_path: str | None) -> ResponseReturnValue:
    if browser_session.needs_mfa_enrolment(user):
        flash("Your role needs a second factor: set up an authenticator app to continue.", "notice")
        return redirect(url_for("account.mfa"), 303)
    return redirect(safe_next(next_path) or url_for("dashboard.overview"), 303)


@bp.route("/sign-in", methods=["GET", "POST"])
@access.public
def sign_in() -> ResponseReturnValue:
    """The sign-in form; a right password leads to the code form when the account has an authenticator."""
    form = SignInForm()
    next_path = safe_next(request.args.get("next"))
    if request.method == "GET":
        return render_template("auth/sign_in.html", form=form, next_path=next_path)
    if not form.validate():
        return render_template("auth/sign_in.html", form=form, next_path=next_path, error=WRONG_CREDENTIALS), 400
    unit = unit_of_work("anonymous")
    attempt = signin.check_password(
        unit, form.email.data or "", form.password.data or "", client_address(), browser_session.throttle_policy()
    )
    if attempt.outcome != "ok" or attempt.user is None:
        unit.session.commit()  # the failure counts and its audit event stay, though sign-in failed
        return _refused(attempt, "auth/sign_in.html", form=form, next_path=next_path)
    user = attempt.user
    if user.has_mfa:
        unit.session.commit()  # a rehashed password is kept
        browser_session.await_second_factor(user, next_path)
        return redirect(url_for("auth.second_factor"), 303)
    destination = browser_session.begin(unit_of_work(f"user:{user.email}"), user, "password", next_path)
    unit.session.commit()
    return _after_sign_in(user, destination)


@bp.route("/sign-in/code", methods=["GET", "POST"])
@access.public
def second_factor() -> ResponseReturnValue:
    """The second step: a code from the authenticator app or a recovery code."""
    unit = unit_of_work("anonymous")
    user = browser_session.pending_user(unit)
    if user is None:
        flash("Sign in again: the wait for the code ran out.", "notice")
        return redirect(url_for("auth.sign_in"), 303)
    form = SecondFactorForm()
    if request.method == "GET":
        return render_template("auth/second_factor.html", form=form)
    if not form.validate():
        return render_template("auth/second_factor.html", form=form, error=WRONG_CODE), 400
    attempt = signin.check_second_factor(
        unit, user, form.code.data or "", client_address(), browser_session.throttle_policy()
    )
    if attempt.outcome != "ok" or attempt.method is None:
        unit.session.commit()
        if attempt.outcome == "locked":
            browser_session.end()
        return _refused(attempt, "auth/second_factor.html", form=form)
    destination = browser_session.begin(unit_of_work(f"user:{user.email}"), user, attempt.method)
    unit.session.commit()
    if attempt.method.endswith("recovery_code"):
        flash("You signed in with a recovery code; it cannot be used again.", "notice")
    return _after_sign_in(user, destination)


def _refused(attempt: Attempt, template: str, **context: object) -> ResponseReturnValue:
    if attempt.outcome == "locked":
        return render_template(template, error=_locked_message(attempt.locked_until), **context), 429
    message = WRONG_CODE if template.endswith("second_factor.html") else WRONG_CREDENTIALS
    return render_template(template, error=message, **context), 401


@bp.route("/sign-out", methods=["POST"])
@access.during_mfa_enrolment
def sign_out() -> ResponseReturnValue:
    """End this browser's session."""
    accounts.end_session(unit_of_work(), g.browser_session)
    unit_of_work().session.commit()
    browser_session.end()
    flash("You are signed out.", "notice")
    return redirect(url_for("auth.sign_in"), 303)
