"""The browser's side of a sign-in: the session cookie names a server-side session row by its secret.

Flask's signed cookie carries only that random secret (and the CSRF token); whether the session is still live
is decided by the row on every request, so it can be ended from anywhere.
"""

from __future__ import annotations

import datetime as dt
import time

from flask import current_app, session

from preservation.models import User, UserSession
from preservation.services import accounts, signin
from preservation.services.accounts import SessionLimits
from preservation.services.signin import ThrottlePolicy
from preservation.services.unit import Unit
from preservation.web.html import client_address, user_agent

_SECRET = "sid"  # noqa: S105 (the name of the cookie entry, not a secret)
_PENDING_USER = "pending_user"
_PENDING_SINCE = "pending_since"
_NEXT = "next"
# How long a right password waits for its second factor before the person must start again.
SECOND_FACTOR_SECONDS = 300


def session_limits() -> SessionLimits:
    """Idle and absolute timeouts from the settings."""
    settings = current_app.extensions["preservation"].settings
    return SessionLimits(
        idle=dt.timedelta(minutes=settings.session_idle_minutes),
        absolute=dt.timedelta(hours=settings.session_max_hours),
    )


def throttle_policy() -> ThrottlePolicy:
    """The sign-in throttle from the settings."""
    settings = current_app.extensions["preservation"].settings
    return ThrottlePolicy(
        account_failures=settings.signin_max_failures,
        address_failures=settings.signin_address_max_failures,
        window=dt.timedelta(minutes=settings.signin_window_minutes),
        lockout=dt.timedelta(minutes=settings.signin_lockout_minutes),
    )


def needs_mfa_enrolment(user: User) -> bool:
    """Admins and counsel (PRESERVATION_MFA_REQUIRED_ROLES) must set up an authenticator before anything else."""
    required = current_app.extensions["preservation"].settings.mfa_required_roles
    return user.role in required and not user.has_mfa


def load(unit: Unit) -> UserSession | None:
    """The live session this browser holds, or None (no cookie, forged, ended, timed out, user disabled)."""
    secret = session.get(_SECRET)
    if not isinstance(secret, str) or not 20 <= len(secret) <= 100:
        return None
    row = accounts.resume_session(unit, secret, session_limits())
    if row is None:
        session.clear()
    return row


def begin(unit: Unit, user: User, method: str, next_path: str | None = None) -> str | None:
    """Open a session for a user who passed every step; returns where they wanted to go."""
    next_path = next_path or session.get(_NEXT)
    _row, secret = signin.complete(unit, user, method=method, address=client_address(), user_agent=user_agent())
    # A new cookie on sign-in: nothing an attacker planted in the old one carries over.
    session.clear()
    session[_SECRET] = secret
    return next_path if isinstance(next_path, str) else None


def await_second_factor(user: User, next_path: str | None) -> None:
    """Remember, for a few minutes, whose password was right while they type their code."""
    session.clear()
    session[_PENDING_USER] = user.id
    session[_PENDING_SINCE] = int(time.time())
    if next_path:
        session[_NEXT] = next_path


def pending_user(unit: Unit) -> User | None:
    """The user whose password was right and whose second factor is awaited, if not too long ago."""
    user_id = session.get(_PENDING_USER)
    since = session.get(_PENDING_SINCE)
    if not isinstance(user_id, int) or not isinstance(since, int):
        return None
    if not 0 <= time.time() - since <= SECOND_FACTOR_SECONDS:
        session.clear()
        return None
    user = unit.session.get(User, user_id)
    return user if user is not None and user.is_active else None


def end() -> None:
    """Forget everything this browser held."""
    session.clear()
