"""Custodians, data stewards, and the holds that bind them to orders."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from preservation.db import Base
from preservation.domain.vocabulary import CUSTODIAN_HOLD_ROLES, CUSTODIAN_HOLD_STATUSES, EMPLOYMENT_STATUSES
from preservation.models._columns import Timestamps, sql_in

if TYPE_CHECKING:
    from preservation.models.order import PreservationOrder


class Custodian(Timestamps, Base):
    """A person who holds relevant data, or runs a system that does."""

    __tablename__ = "custodians"
    __table_args__ = (CheckConstraint(sql_in("employment_status", EMPLOYMENT_STATUSES), name="employment_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(320))
    # Lower-cased copy of email: uniqueness is case-insensitive on every database.
    email_normalized: Mapped[str] = mapped_column(String(320), unique=True)
    title: Mapped[str | None] = mapped_column(String(300))
    department: Mapped[str | None] = mapped_column(String(300))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("custodians.id"), index=True)
    employment_status: Mapped[str] = mapped_column(String(20), default="active")
    end_date: Mapped[dt.date | None]

    manager: Mapped[Custodian | None] = relationship(remote_side="Custodian.id")
    holds: Mapped[list[CustodianHold]] = relationship(back_populates="custodian", order_by="CustodianHold.id")


class CustodianHold(Timestamps, Base):
    """A custodian bound by an order: notice, acknowledgement and release are recorded here."""

    __tablename__ = "custodian_holds"
    __table_args__ = (
        UniqueConstraint("order_id", "custodian_id"),
        CheckConstraint(sql_in("role", CUSTODIAN_HOLD_ROLES), name="role"),
        CheckConstraint(sql_in("status", CUSTODIAN_HOLD_STATUSES), name="status"),
        # The overview's overdue acknowledgements: notified holds, oldest notice first.
        Index("ix_custodian_holds_status_notice", "status", "notice_sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("preservation_orders.id"), index=True)
    custodian_id: Mapped[int] = mapped_column(ForeignKey("custodians.id"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="custodian")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    notice_sent_at: Mapped[dt.datetime | None]
    acknowledged_at: Mapped[dt.datetime | None]
    released_at: Mapped[dt.datetime | None]

    order: Mapped[PreservationOrder] = relationship(back_populates="custodian_holds")
    custodian: Mapped[Custodian] = relationship(back_populates="holds")
