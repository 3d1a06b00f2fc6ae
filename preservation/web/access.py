"""One access mechanism for every route: each view declares who may call it, or it is refused.

A view without a declared rule answers 403 to everyone, so a forgotten decorator fails closed;
tests walk the URL map to make sure none is forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, g, request

from preservation.domain.vocabulary import READ_ROLES, WRITE_ROLES
from preservation.services import users
from preservation.web.errors import ApiError
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


def _declare(rule: AccessRule) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        setattr(view, RULE_ATTRIBUTE, rule)
        return view

    return decorate


public = _declare(AccessRule(public=True, roles=frozenset()))
readers = _declare(AccessRule(public=False, roles=READ_ROLES))
writers = _declare(AccessRule(public=False, roles=WRITE_ROLES))


def roles(*names: str) -> Callable[[View], View]:
    """Allow exactly these roles."""
    return _declare(AccessRule(public=False, roles=frozenset(names)))


def rule_for(endpoint: str) -> AccessRule | None:
    """The access rule declared by the view behind an endpoint."""
    if endpoint in PUBLIC_ENDPOINTS:
        return AccessRule(public=True, roles=frozenset())
    view = current_app.view_functions.get(endpoint)
    return getattr(view, RULE_ATTRIBUTE, None)


def enforce_access() -> None:
    """before_request hook: authenticate the bearer token and check the route's rule."""
    if request.endpoint is None:
        return  # routing failed: Flask answers 404 or 405 next
    rule = rule_for(request.endpoint)
    if rule is None:
        raise ApiError(403, "forbidden", "this route declares no access rule, so nobody may use it")
    if rule.public:
        return
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
