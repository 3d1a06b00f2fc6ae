"""One access mechanism for every route: each view declares who may call it, or it is refused.

A view without a declared rule answers 403 to everyone, so a forgotten decorator fails closed;
tests walk the URL map to make sure none is forgotten.

The API (under /api/) authenticates by bearer token only and answers 401 without one; it reads no
cookies, so it needs no CSRF token. Pages authenticate by the browser session, send anonymous visitors
to sign in, and check the CSRF token of every form they receive, public pages included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect

from preservation.domain.vocabulary import READ_ROLES, WRITE_ROLES
from preservation.services import users
from preservation.web import browser_session
from preservation.web.errors import ApiError
from preservation.web.html import current_path, error_page, is_api_request
from preservation.web.session import unit_of_work

View = TypeVar("View", bound=Callable[..., Any])
RULE_ATTRIBUTE = "_access_rule"
# Views the service does not define itself: static files, and the spec, which describes and discloses nothing.
PUBLIC_ENDPOINTS = frozenset({"static", "api-docs.openapi_json"})


@dataclass(frozen=True)
class AccessRule:
    """Who may call a view: nobody needs to sign in when public, else one of the roles."""

    public: bool
    roles: frozenset[str]
    # Pages a signed-in admin or counsel may use before setting up their authenticator (and nothing else).
    during_mfa_enrolment: bool = False


def _declare(rule: AccessRule) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        setattr(view, RULE_ATTRIBUTE, rule)
        return view

    return decorate


public = _declare(AccessRule(public=True, roles=frozenset()))
readers = _declare(AccessRule(public=False, roles=READ_ROLES))
writers = _declare(AccessRule(public=False, roles=WRITE_ROLES))
during_mfa_enrolment = _declare(AccessRule(public=False, roles=READ_ROLES, during_mfa_enrolment=True))


def roles(*names: str) -> Callable[[View], View]:
    """Allow exactly these roles."""
    return _declare(AccessRule(public=False, roles=frozenset(names)))


def rule_for(endpoint: str) -> AccessRule | None:
    """The access rule declared by the view behind an endpoint."""
    if endpoint in PUBLIC_ENDPOINTS:
        return AccessRule(public=True, roles=frozenset())
    view = current_app.view_functions.get(endpoint)
    return getattr(view, RULE_ATTRIBUTE, None)


def enforce_access() -> ResponseReturnValue | None:
    """before_request hook: authenticate the bearer token (API) or the browser session (pages), check the rule."""
    if request.endpoint is None:
        return None  # routing failed: Flask answers 404 or 405 next
    rule = rule_for(request.endpoint)
    api = is_api_request()
    if rule is None:
        if api:
            raise ApiError(403, "forbidden", "this route declares no access rule, so nobody may use it")
        return error_page(403, "This page declares no access rule, so nobody may use it.")
    if not api:
        refusal = _check_form_origin()
        if refusal is not None:
            return refusal
    if rule.public:
        return None
    if api:
        _authenticate_bearer(rule)
        return None
    return _authenticate_page(rule)


def _authenticate_bearer(rule: AccessRule) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip() or len(secret) > 200:
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token>")
    unit = unit_of_work("anonymous")
    user = users.authenticate(unit, secret.strip())
    if user is None:
        raise ApiError(401, "unauthenticated", "the token is unknown, expired or revoked, or its user is disabled")
    # Record the token's use now, so a read-only request or a refused write does not lose it.
    unit.session.commit()
    if user.role not in rule.roles:
        raise ApiError(403, "forbidden", f"the {user.role} role may not do this")
    g.user = user
    g.actor = f"user:{user.email}"


def _check_form_origin() -> ResponseReturnValue | None:
    """Every state-changing page request carries the CSRF token of its form, and none comes from another site."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return None
    # Browsers say where a request comes from; a cross-site form post is refused before its token is read.
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return error_page(403, "A form from another site cannot change anything here.")
    csrf: CSRFProtect = current_app.extensions["csrf"]
    csrf.protect()
    return None


def _authenticate_page(rule: AccessRule) -> ResponseReturnValue | None:
    unit = unit_of_work("anonymous")
    row = browser_session.load(unit)
    # Keep the timeout or the last-seen time, even if the page goes on to refuse.
    unit.session.commit()
    if row is None:
        next_path = current_path() if request.method == "GET" else None
        return redirect(url_for("auth.sign_in", next=next_path), 303)
    user = row.user
    g.user = user
    g.browser_session = row
    g.actor = f"user:{user.email}"
    if browser_session.needs_mfa_enrolment(user) and not rule.during_mfa_enrolment:
        return redirect(url_for("account.mfa"), 303)
    if user.role not in rule.roles:
        return error_page(403, f"The {user.role} role may not use this page.")
    return None
