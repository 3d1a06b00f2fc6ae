"""Signing in: the password, the second factor, and the throttle that every worker shares.

Failures are counted in the database per account (the email as typed, whether or not it exists) and per client
address, inside a window; reaching the limit locks that key for a while. An unknown email gets the same answer,
after the same Argon2 work, as a wrong password.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from preservation.models import SignInThrottle, User, UserSession
from preservation.services import accounts, audit, mfa
from preservation.services.unit import Unit

MAX_EMAIL_LENGTH = 320


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures a key may have inside a window before it is locked, and for how long."""

    account_failures: int
    address_failures: int
    window: dt.timedelta
    lockout: dt.timedelta


@dataclass(frozen=True)
class Attempt:
    """What a sign-in step came to: "ok" (with the user), "failed", or "locked" (until when)."""

    outcome: str
    user: User | None = None
    locked_until: dt.datetime | None = None
    method: str | None = None


def _account_key(email: str) -> str:
    return "account:" + email.strip().lower()[:MAX_EMAIL_LENGTH]


def _address_key(address: str | None) -> str:
    return "address:" + (address or "unknown")[:64]


def locked_until(unit: Unit, email: str, address: str | None) -> dt.datetime | None:
    """When the lock on this account or address ends, or None if neither is locked."""
    now = unit.clock()
    return unit.session.scalar(
        select(func.max(SignInThrottle.locked_until)).where(
            SignInThrottle.key.in_([_account_key(email), _address_key(address)]),
            SignInThrottle.locked_until > now,
        )
    )


def _counter(unit: Unit, key: str) -> SignInThrottle:
    """The counter row for a key, created if missing and locked until the transaction ends."""
    dialect = unit.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    unit.session.execute(
        insert(SignInThrottle).values(key=key, failures=0).on_conflict_do_nothing(index_elements=["key"])
    )
    return unit.session.scalars(
        select(SignInThrottle)
        .where(SignInThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _count_failure(unit: Unit, key: str, limit: int, policy: ThrottlePolicy) -> dt.datetime | None:
    """Add a failure to a key; returns the end of the lock if this failure reached the limit."""
    now = unit.clock()
    row = _counter(unit, key)
    if row.window_started_at is None or now - row.window_started_at > policy.window:
        row.window_started_at = now
        row.failures = 0
    row.failures += 1
    if row.failures < limit:
        return None
    row.locked_until = now + policy.lockout
    row.failures = 0
    row.window_started_at = None
    return row.locked_until


def _forget_stale_counters(unit: Unit, policy: ThrottlePolicy) -> None:
    """Drop counters whose window has passed and which lock nothing, so the table holds one window at most."""
    now = unit.clock()
    unit.session.execute(
        delete(SignInThrottle).where(
            or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until <= now),
            or_(SignInThrottle.window_started_at.is_(None), SignInThrottle.window_started_at < now - policy.window),
        )
    )


def _fail(
    unit: Unit, email: str, address: str | None, user: User | None, *, reason: str, policy: ThrottlePolicy
) -> Attempt:
    _forget_stale_counters(unit, policy)
    account_lock = _count_failure(unit, _account_key(email), policy.account_failures, policy)
    address_lock = _count_failure(unit, _address_key(address), policy.address_failures, policy)
    subject_type, subject_id = ("user", str(user.id)) if user is not None else ("sign_in", email[:64])
    details = {"email": email[:MAX_EMAIL_LENGTH], "address": address, "reason": reason}
    locks = [lock for lock in (account_lock, address_lock) if lock is not None]
    if not locks:
        audit.record(unit, "user.sign_in_failed", subject_type, subject_id, matter_id=None, details=details)
        return Attempt("failed")
    until = max(locks)
    details["locked"] = "account" if account_lock else "address"
    details["locked_until"] = until.isoformat()
    audit.record(unit, "user.locked_out", subject_type, subject_id, matter_id=None, details=details)
    return Attempt("locked", locked_until=until)


def check_password(unit: Unit, email: str, password: str, address: str | None, policy: ThrottlePolicy) -> Attempt:
    """The first step: is the account or address locked, and is the password right for an active user?"""
    email = email.strip()
    until = locked_until(unit, email, address)
    if until is not None:
        return Attempt("locked", locked_until=until)
    user = unit.session.scalar(select(User).where(User.email == email.lower()))
    password_ok = accounts.verify_password(user, password)
    if user is not None and password_ok and user.is_active:
        return Attempt("ok", user=user)
    if user is None:
        reason = "unknown_user"
    elif user.password_hash is None:
        reason = "no_password"
    elif not password_ok:
        reason = "wrong_password"
    else:
        reason = "disabled"
    return _fail(unit, email, address, user, reason=reason, policy=policy)


def check_second_factor(unit: Unit, user: User, code: str, address: str | None, policy: ThrottlePolicy) -> Attempt:
    """The second step, for a user whose password was right: a TOTP code or an unused recovery code."""
    until = locked_until(unit, user.email, address)
    if until is not None:
        return Attempt("locked", locked_until=until)
    if not user.is_active:
        return _fail(unit, user.email, address, user, reason="disabled", policy=policy)
    kind = mfa.verify_second_factor(unit, user, code)
    if kind is None:
        return _fail(unit, user.email, address, user, reason="wrong_code", policy=policy)
    return Attempt("ok", user=user, method=f"password+{kind}")


def complete(
    unit: Unit, user: User, *, method: str, address: str | None, user_agent: str | None
) -> tuple[UserSession, str]:
    """Every step passed: clear the account's failures and open a browser session."""
    unit.session.execute(delete(SignInThrottle).where(SignInThrottle.key == _account_key(user.email)))
    return accounts.start_session(unit, user, method=method, address=address, user_agent=user_agent)
