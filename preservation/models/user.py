"""People who use the service, and the API tokens they hold."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from preservation.db import Base
from preservation.domain.vocabulary import USER_ROLES
from preservation.models._columns import Timestamps, sql_in, utcnow


class User(Timestamps, Base):
    """A member of the litigation team, IT, or an auditor, with one role."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(sql_in("role", USER_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Argon2id, in the PHC string format; None for a user who only uses API tokens.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # The TOTP secret (base32). It takes effect once totp_enabled_at is set by a confirmed code.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[dt.datetime | None]
    # The last 30-second step whose code was accepted: a code for that step or an earlier one is a replay.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    last_signed_in_at: Mapped[dt.datetime | None]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", order_by="ApiToken.id")

    @property
    def has_mfa(self) -> bool:
        """True once the user has confirmed a TOTP authenticator."""
        return self.totp_enabled_at is not None and self.totp_secret is not None


class ApiToken(Base):
    """A bearer token: only its SHA-256 is kept; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The first characters, kept so a person can tell their tokens apart without the secret.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")
