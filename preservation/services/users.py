"""Users and their API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select

from preservation.domain import rules
from preservation.domain.errors import Conflict, FieldError, NotFound
from preservation.domain.vocabulary import USER_ROLES
from preservation.models import ApiToken, User
from preservation.services import audit
from preservation.services.unit import Unit

TOKEN_PREFIX = "pt_"  # noqa: S105 (a visible marker that a string is a token, not a secret)


def hash_token(token: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is a safe way to store them."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(unit: Unit, email: str, role: str, display_name: str | None = None) -> User:
    """Add a user with one role."""
    if role not in USER_ROLES:
        raise FieldError("role", f"must be one of {', '.join(USER_ROLES)}")
    key = rules.check_email(email)
    if unit.session.scalar(select(User.id).where(User.email == key)) is not None:
        raise Conflict(f"a user with the email {email} already exists", "email")
    user = User(email=key, role=role, display_name=display_name, is_active=True)
    unit.session.add(user)
    unit.session.flush()
    audit.record(unit, "user.created", "user", user.id, matter_id=None, details={"email": key, "role": role})
    return user


def find_user(unit: Unit, email: str) -> User:
    """The user with this email, or NotFound."""
    user = unit.session.scalar(select(User).where(User.email == email.lower()))
    if user is None:
        raise NotFound("user", email)
    return user


def issue_token(
    unit: Unit, user: User, name: str = "cli", expires_in: dt.timedelta | None = None
) -> tuple[ApiToken, str]:
    """Create a token for a user; returns the row and the secret, which is never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = unit.clock()
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[:10],
        token_hash=hash_token(secret),
        created_at=now,
        expires_at=now + expires_in if expires_in else None,
    )
    unit.session.add(token)
    unit.session.flush()
    audit.record(
        unit,
        "token.issued",
        "api_token",
        token.id,
        matter_id=None,
        details={"user": user.email, "name": name, "prefix": token.prefix, "expires_at": _iso(token.expires_at)},
    )
    return token, secret


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def authenticate(unit: Unit, secret: str) -> User | None:
    """The active user a bearer token belongs to, or None for an unknown, expired or revoked token."""
    token = unit.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    now = unit.clock()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    # Recording every use would make each read a write; a minute's resolution is enough to answer "is it used?".
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        token.last_used_at = now
    return token.user
