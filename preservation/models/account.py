"""What signing in leaves behind: browser sessions, recovery codes and failure counters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from preservation.db import Base
from preservation.models._columns import utcnow
from preservation.models.user import User


class UserSession(Base):
    """A signed-in browser: the cookie holds a random secret, the row holds its SHA-256 and its state.

    Kept on the server so that sign-out, "sign out my other sessions", disabling a user and changing a role
    end a session at its next request, which a signed cookie alone cannot do.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    # How the person proved who they are: "password", "password+totp" or "password+recovery_code".
    method: Mapped[str] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    """A single-use code that stands in for the TOTP code; only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    used_at: Mapped[dt.datetime | None]


class SignInThrottle(Base):
    """Failed sign-ins counted per account or per client address, shared by every worker through the database."""

    __tablename__ = "sign_in_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "account:<email as typed, lower case>" or "address:<client address>".
    key: Mapped[str] = mapped_column(String(400), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[dt.datetime | None]
    locked_until: Mapped[dt.datetime | None]
