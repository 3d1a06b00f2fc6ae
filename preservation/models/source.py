"""Data sources: the systems that hold the evidence, and their destruction clocks."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from preservation.db import Base
from preservation.domain.vocabulary import DATA_SOURCE_KINDS, DATA_SOURCE_STATUSES
from preservation.models._columns import Timestamps, sql_in
from preservation.models.order import obligation_data_source

if TYPE_CHECKING:
    from preservation.models.custodian import Custodian
    from preservation.models.order import Obligation


class DataSource(Timestamps, Base):
    """A system holding evidence: an S3 prefix, a log group, a backup vault, or something checked by hand."""

    __tablename__ = "data_sources"
    __table_args__ = (
        CheckConstraint(sql_in("kind", DATA_SOURCE_KINDS), name="kind"),
        CheckConstraint(sql_in("status", DATA_SOURCE_STATUSES), name="status"),
        # The overview's stale and failed checks walk the sources in order of their last check.
        Index("ix_data_sources_last_checked", "last_checked_at"),
        # The overview's evidence at risk, soonest destruction first.
        Index("ix_data_sources_destruction", "earliest_destruction_at", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30))
    location: Mapped[str] = mapped_column(String(2048))
    region: Mapped[str | None] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(Text)
    steward_id: Mapped[int | None] = mapped_column(ForeignKey("custodians.id"), index=True)
    # The overwrite clock: how long the system keeps data on its own, when known.
    natural_retention_days: Mapped[int | None]
    check_interval_hours: Mapped[int] = mapped_column(default=24)
    # S3: the id of an inventory configuration listing all versions; its newest report answers for them.
    inventory_configuration_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="unchecked")
    earliest_destruction_at: Mapped[dt.datetime | None]
    last_checked_at: Mapped[dt.datetime | None]
    retired_at: Mapped[dt.datetime | None]
    retired_reason: Mapped[str | None] = mapped_column(Text)
    retired_by: Mapped[str | None] = mapped_column(String(320))

    steward: Mapped[Custodian | None] = relationship()
    obligations: Mapped[list[Obligation]] = relationship(
        secondary=obligation_data_source, back_populates="data_sources", order_by="Obligation.id"
    )
