"""Deadlines, the alerts they owe, the deliveries that carry them, and who receives them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from preservation.db import Base
from preservation.domain.vocabulary import (
    ALERT_CHANNELS,
    DEADLINE_KINDS,
    DEADLINE_STATUSES,
    DELIVERY_PURPOSES,
    DELIVERY_STATUSES,
)
from preservation.models._columns import Timestamps, sql_in, utcnow

if TYPE_CHECKING:
    from preservation.models.user import User


class Deadline(Timestamps, Base):
    """A due date found in an obligation, an order or a data source's destruction clock."""

    __tablename__ = "deadlines"
    __table_args__ = (
        CheckConstraint(sql_in("kind", DEADLINE_KINDS), name="kind"),
        CheckConstraint(sql_in("status", DEADLINE_STATUSES), name="status"),
        UniqueConstraint("kind", "subject_id"),
        Index("ix_deadlines_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int]
    # Empty for a data source whose obligations belong to several matters.
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matters.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    due_on: Mapped[dt.date]
    # The exact moment, for destruction deadlines (earliest destruction minus the safety margin).
    due_at: Mapped[dt.datetime | None]
    # How the due date was arrived at: the rule, its inputs and every step.
    computation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="open")
    # When this due date was first seen; thresholds crossed before then collapse into one alert.
    known_since: Mapped[dt.datetime]
    # Bumped whenever the due date or title changes, so calendars replace the event.
    sequence: Mapped[int] = mapped_column(default=0)

    alerts: Mapped[list[Alert]] = relationship(back_populates="deadline", order_by="Alert.id")


class Alert(Base):
    """One alert owed once: its dedupe key makes a second creation impossible."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"), index=True)
    # "14d" ... "0d" before and on the day, "overdue-3d" after it.
    threshold: Mapped[str] = mapped_column(String(30))
    days_left: Mapped[int]
    due_on: Mapped[dt.date]
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(320))

    deadline: Mapped[Deadline | None] = relationship(back_populates="alerts")
    deliveries: Mapped[list[AlertDelivery]] = relationship(back_populates="alert", order_by="AlertDelivery.id")


class AlertDelivery(Base):
    """The outbox: one alert to one recipient on one channel, retried until the provider accepts it."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        CheckConstraint(sql_in("channel", ALERT_CHANNELS), name="channel"),
        CheckConstraint(sql_in("status", DELIVERY_STATUSES), name="status"),
        CheckConstraint(sql_in("purpose", DELIVERY_PURPOSES), name="purpose"),
        UniqueConstraint("alert_id", "channel", "target", "purpose"),
        Index("ix_alert_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(2048))
    purpose: Mapped[str] = mapped_column(String(20), default="notify")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    # A dispatcher's claim while it sends; an expired claim (a dispatcher that died) may be taken again.
    claim_token: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    alert: Mapped[Alert] = relationship(back_populates="deliveries")


class AlertSubscription(Base):
    """Who receives a matter's alerts (or every matter's, when matter_id is empty): an address or a role."""

    __tablename__ = "alert_subscriptions"
    __table_args__ = (CheckConstraint(sql_in("channel", ALERT_CHANNELS), name="channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matters.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    # An email address, `role:counsel` (every active user of the role), a webhook URL or an SNS topic ARN.
    target: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320))


class CalendarFeed(Base):
    """A user's iCalendar feed of deadlines; the URL carries a secret of which only the SHA-256 is kept."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()
