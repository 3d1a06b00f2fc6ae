"""People who use the service, and the API tokens they hold."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String
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

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", order_by="ApiToken.id")


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
