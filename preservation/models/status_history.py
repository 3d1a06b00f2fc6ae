"""The daily roll-up of data source statuses: the compliance picture over time, a few rows a day."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from preservation.db import Base
from preservation.domain.vocabulary import DATA_SOURCE_STATUSES
from preservation.models._columns import sql_in


class SourceStatusDay(Base):
    """How many live data sources stood in one status at the end of one UTC day (for today: when last counted)."""

    __tablename__ = "source_status_days"
    __table_args__ = (CheckConstraint(sql_in("status", DATA_SOURCE_STATUSES), name="status"),)

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    sources: Mapped[int]
    # When the sources were counted; a day carried forward keeps the time of the count it repeats.
    counted_at: Mapped[dt.datetime]
