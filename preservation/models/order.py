"""Preservation orders and the obligations carved out of them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from preservation.db import Base, UTCDateTime
from preservation.domain.vocabulary import (
    OBLIGATION_STATUSES,
    ORDER_KINDS,
    ORDER_STATUSES,
    REAFFIRM_MAX_DAYS,
    REAFFIRM_MIN_DAYS,
)
from preservation.models._columns import Timestamps, sql_in, utcnow

if TYPE_CHECKING:
    from preservation.models.custodian import CustodianHold
    from preservation.models.matter import Matter
    from preservation.models.source import DataSource

obligation_data_source = Table(
    "obligation_data_sources",
    Base.metadata,
    Column("obligation_id", ForeignKey("obligations.id"), primary_key=True),
    Column("data_source_id", ForeignKey("data_sources.id"), primary_key=True, index=True),
    Column("linked_at", UTCDateTime(), nullable=False, default=utcnow),
)


class PreservationOrder(Timestamps, Base):
    """What creates the duty: a court order, stipulation, preservation letter or internal hold."""

    __tablename__ = "preservation_orders"
    __table_args__ = (
        CheckConstraint(sql_in("kind", ORDER_KINDS), name="kind"),
        CheckConstraint(sql_in("status", ORDER_STATUSES), name="status"),
        CheckConstraint(
            f"reaffirm_every_days IS NULL OR reaffirm_every_days BETWEEN {REAFFIRM_MIN_DAYS} AND {REAFFIRM_MAX_DAYS}",
            name="reaffirm_every_days",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(500))
    docket_entry: Mapped[str | None] = mapped_column(String(100))
    issued_by: Mapped[str | None] = mapped_column(String(200))
    # The dates an order carries often disagree (the POE order: filed stamp Sept. 17, signed 9/27); keep each.
    signed_on: Mapped[dt.date | None]
    filed_on: Mapped[dt.date | None]
    entered_on: Mapped[dt.date | None]
    effective_on: Mapped[dt.date | None]
    compliance_due_on: Mapped[dt.date | None]
    scope: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("preservation_orders.id"), unique=True)
    released_on: Mapped[dt.date | None]
    release_reason: Mapped[str | None] = mapped_column(Text)
    released_by: Mapped[str | None] = mapped_column(String(320))
    # Custodians who acknowledged are asked to re-affirm this often (90: quarterly); empty: never.
    reaffirm_every_days: Mapped[int | None]

    matter: Mapped[Matter] = relationship(back_populates="orders")
    supersedes: Mapped[PreservationOrder | None] = relationship(
        remote_side="PreservationOrder.id", back_populates="superseded_by"
    )
    superseded_by: Mapped[PreservationOrder | None] = relationship(back_populates="supersedes")
    obligations: Mapped[list[Obligation]] = relationship(back_populates="order", order_by="Obligation.id")
    custodian_holds: Mapped[list[CustodianHold]] = relationship(back_populates="order", order_by="CustodianHold.id")


class Obligation(Timestamps, Base):
    """One concrete duty carved out of an order, with its own status, deadline and data range."""

    __tablename__ = "obligations"
    __table_args__ = (CheckConstraint(sql_in("status", OBLIGATION_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("preservation_orders.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    due_on: Mapped[dt.date | None]
    # A due date given as a period ("14 days after service") is counted in court days (FRCP 6(a)(1));
    # due_computation keeps the steps that produced due_on.
    due_period_days: Mapped[int | None]
    due_from: Mapped[dt.date | None]
    due_direction: Mapped[str | None] = mapped_column(String(10))
    due_computation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    preserve_from: Mapped[dt.date | None]
    # Empty means "until the order is released": an open-ended duty.
    preserve_until: Mapped[dt.date | None]
    status: Mapped[str] = mapped_column(String(20), default="open")

    order: Mapped[PreservationOrder] = relationship(back_populates="obligations")
    data_sources: Mapped[list[DataSource]] = relationship(
        secondary=obligation_data_source, back_populates="obligations", order_by="DataSource.id"
    )
