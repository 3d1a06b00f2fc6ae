"""A matter: a case, or an anticipated case, that creates a duty to preserve."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from preservation.db import Base
from preservation.domain.vocabulary import MATTER_STATUSES
from preservation.models._columns import Timestamps, sql_in

if TYPE_CHECKING:
    from preservation.models.order import PreservationOrder


class Matter(Timestamps, Base):
    """A case with its trigger: when the duty to preserve arose and who decided it."""

    __tablename__ = "matters"
    __table_args__ = (CheckConstraint(sql_in("status", MATTER_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    caption: Mapped[str] = mapped_column(String(500))
    docket_number: Mapped[str | None] = mapped_column(String(100), index=True)
    court: Mapped[str | None] = mapped_column(String(200))
    judge: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="open")
    trigger_date: Mapped[dt.date | None]
    trigger_description: Mapped[str | None] = mapped_column(Text)
    trigger_decided_by: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)

    orders: Mapped[list[PreservationOrder]] = relationship(back_populates="matter", order_by="PreservationOrder.id")
