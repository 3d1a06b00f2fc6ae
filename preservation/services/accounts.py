"""Accounts: passwords, browser sessions, roles, disabling, and a person's own API tokens."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from zxcvbn import zxcvbn

from preservation.domain import passwords
from preservation.domain.errors import Conflict, FieldError, NotFound
from preservation.domain.vocabulary import USER_ROLES
from preservation.models import ApiToken, RecoveryCode, User, UserSession
from preservation.services import audit
from preservation.services.unit import Unit

# argon2-cffi's defaults are RFC 9106's second recommended option: Argon2id, t=3, m=64 MiB, p=4.
_hasher = PasswordHasher()
# zxcvbn's score 3 and up: about 10^8 guesses or more, so out of reach of an online attack and slow offline.
MIN_STRENGTH = 3
# Recording every request would make each page view a write; a minute is fine for idle timeouts of minutes.
_TOUCH_INTERVAL = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLimits:
    """How long a browser session may sit idle, and how long it may live at most."""

    idle: dt.timedelta
    absolute: dt.timedelta


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# Passwords ------------------------------------------------------------------------------------------


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when there is no user, so an unknown email costs as much as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(24))


def check_new_password(password: str, personal_words: tuple[str, ...]) -> None:
    """Refuse a password the shipped rules refuse, or one zxcvbn guesses in fewer than about 10^8 tries."""
    passwords.check_password(password, personal_words)
    estimate = zxcvbn(password, user_inputs=[word for word in personal_words if word], max_length=passwords.MAX_LENGTH)
    if estimate["score"] < MIN_STRENGTH:
        raise FieldError("password", "is too easy to guess (common words, names, dates or keyboard runs); add words")


def hash_password(password: str) -> str:
    """The Argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """True when the password is the user's; always spends one Argon2 verification, user or not."""
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        _hasher.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    if stored is None or user is None:
        return False
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return True


def set_password(unit: Unit, user: User, password: str, *, keep_session_id: int | None = None) -> int:
    """Give the user a new password and end their other sessions; returns how many were ended."""
    check_new_password(password, (user.email, user.display_name or ""))
    user.password_hash = hash_password(password)
    ended = _end_sessions(unit, user, except_id=keep_session_id)
    audit.record(
        unit,
        "user.password_set",
        "user",
        user.id,
        matter_id=None,
        details={"email": user.email, "sessions_ended": ended},
    )
    return ended


# Browser sessions -----------------------------------------------------------------------------------


def start_session(
    unit: Unit, user: User, *, method: str, address: str | None, user_agent: str | None
) -> tuple[UserSession, str]:
    """Open a browser session after a successful sign-in; returns the row and the cookie's secret."""
    secret = secrets.token_urlsafe(32)
    now = unit.clock()
    row = UserSession(
        user_id=user.id,
        secret_hash=_sha256(secret),
        created_at=now,
        last_seen_at=now,
        method=method,
        address=(address or "")[:64] or None,
        user_agent=(user_agent or "")[:200] or None,
    )
    unit.session.add(row)
    user.last_signed_in_at = now
    unit.session.flush()
    audit.record(
        unit,
        "user.signed_in",
        "user",
        user.id,
        matter_id=None,
        details={"email": user.email, "method": method, "address": address, "session": row.id},
    )
    return row, secret


def resume_session(unit: Unit, secret: str, limits: SessionLimits) -> UserSession | None:
    """The live session a cookie's secret names, or None if unknown, ended, timed out, or its user is disabled."""
    row = unit.session.scalar(select(UserSession).where(UserSession.secret_hash == _sha256(secret)))
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    now = unit.clock()
    if now - row.last_seen_at > limits.idle or now - row.created_at > limits.absolute:
        row.revoked_at = now
        return None
    if now - row.last_seen_at > _TOUCH_INTERVAL:
        row.last_seen_at = now
    return row


def end_session(unit: Unit, row: UserSession) -> None:
    """Sign out: the session's cookie no longer works anywhere."""
    if row.revoked_at is None:
        row.revoked_at = unit.clock()
    audit.record(
        unit,
        "user.signed_out",
        "user",
        row.user_id,
        matter_id=None,
        details={"email": row.user.email, "session": row.id},
    )


def end_other_sessions(unit: Unit, row: UserSession) -> int:
    """Sign out every other browser of the same user; returns how many were ended."""
    ended = _end_sessions(unit, row.user, except_id=row.id)
    audit.record(
        unit,
        "user.sessions_ended",
        "user",
        row.user_id,
        matter_id=None,
        details={"email": row.user.email, "sessions_ended": ended, "kept": row.id},
    )
    return ended


def live_sessions(unit: Unit, user: User, limits: SessionLimits) -> list[UserSession]:
    """The user's sessions that have not ended or timed out, newest first."""
    now = unit.clock()
    rows = unit.session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.created_at > now - limits.absolute,
            UserSession.last_seen_at > now - limits.idle,
        )
        .order_by(UserSession.id.desc())
    )
    return list(rows)


def _end_sessions(unit: Unit, user: User, *, except_id: int | None = None) -> int:
    query = select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if except_id is not None:
        query = query.where(UserSession.id != except_id)
    rows = list(unit.session.scalars(query))
    for row in rows:
        row.revoked_at = unit.clock()
    return len(rows)


def _revoke_tokens(unit: Unit, user: User) -> int:
    rows = list(
        unit.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    )
    for row in rows:
        row.revoked_at = unit.clock()
    return len(rows)


# Roles and disabling ---------------------------------------------------------------------------------


def _other_active_admins(unit: Unit, user: User) -> int:
    return (
        unit.session.scalar(
            select(func.count()).where(User.role == "admin", User.is_active.is_(True), User.id != user.id)
        )
        or 0
    )


def set_role(unit: Unit, user: User, role: str) -> None:
    """Change a user's role; their sessions and tokens end, so the new role applies from the next request."""
    if role not in USER_ROLES:
        raise FieldError("role", f"must be one of {', '.join(USER_ROLES)}")
    if role == user.role:
        raise Conflict(f"{user.email} already has the {role} role", "role")
    if user.role == "admin" and user.is_active and _other_active_admins(unit, user) == 0:
        raise Conflict(f"{user.email} is the last active admin; make another admin first", "role")
    previous = user.role
    user.role = role
    sessions = _end_sessions(unit, user)
    tokens = _revoke_tokens(unit, user)
    audit.record(
        unit,
        "user.role_changed",
        "user",
        user.id,
        matter_id=None,
        details={
            "email": user.email,
            "from": previous,
            "to": role,
            "sessions_ended": sessions,
            "tokens_revoked": tokens,
        },
    )


def disable_user(unit: Unit, user: User) -> None:
    """Disable a user: every session and token they hold stops working at its next request."""
    if not user.is_active:
        raise Conflict(f"{user.email} is already disabled")
    if user.role == "admin" and _other_active_admins(unit, user) == 0:
        raise Conflict(f"{user.email} is the last active admin; make another admin first")
    user.is_active = False
    sessions = _end_sessions(unit, user)
    tokens = _revoke_tokens(unit, user)
    audit.record(
        unit,
        "user.disabled",
        "user",
        user.id,
        matter_id=None,
        details={"email": user.email, "sessions_ended": sessions, "tokens_revoked": tokens},
    )


def enable_user(unit: Unit, user: User) -> None:
    """Let a disabled user sign in again; their old sessions and tokens stay revoked."""
    if user.is_active:
        raise Conflict(f"{user.email} is not disabled")
    user.is_active = True
    audit.record(unit, "user.enabled", "user", user.id, matter_id=None, details={"email": user.email})


def reset_mfa(unit: Unit, user: User) -> None:
    """Forget a user's authenticator and recovery codes (a lost phone); they enrol again at next sign-in."""
    if user.totp_secret is None and user.totp_enabled_at is None:
        raise Conflict(f"{user.email} has no authenticator to reset")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    for code in unit.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        unit.session.delete(code)
    sessions = _end_sessions(unit, user)
    audit.record(
        unit,
        "user.mfa_reset",
        "user",
        user.id,
        matter_id=None,
        details={"email": user.email, "sessions_ended": sessions},
    )


def list_users(unit: Unit) -> list[User]:
    """Every user, by email."""
    return list(unit.session.scalars(select(User).order_by(User.email)))


# API tokens -------------------------------------------------------------------------------------------


def list_tokens(unit: Unit, user: User | None = None) -> list[ApiToken]:
    """Tokens, newest first: one user's, or everyone's."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(unit.session.scalars(query))


def revoke_token(unit: Unit, token_id: int, *, owner: User | None = None) -> ApiToken:
    """Revoke a token; with an owner, only one of the owner's own (another's is reported as not found)."""
    token = unit.session.get(ApiToken, token_id)
    if token is None or (owner is not None and token.user_id != owner.id):
        raise NotFound("token", token_id)
    if token.revoked_at is not None:
        raise Conflict(f"token {token_id} is already revoked")
    token.revoked_at = unit.clock()
    audit.record(
        unit,
        "token.revoked",
        "api_token",
        token.id,
        matter_id=None,
        details={"user": token.user.email, "name": token.name, "prefix": token.prefix},
    )
    return token


def check_token_name(name: str) -> str:
    """A token's name, trimmed: 1-200 printable characters."""
    trimmed = name.strip()
    if not trimmed or len(trimmed) > 200 or not trimmed.isprintable():
        raise FieldError("name", "must be 1-200 printable characters")
    return trimmed
