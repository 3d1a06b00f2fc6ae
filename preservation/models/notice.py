"""Hold notices: the versioned templates they are written from, and every notice sent (or held back)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from preservation.db import Base
from preservation.domain.vocabulary import NOTICE_KINDS
from preservation.models._columns import sql_in, utcnow

if TYPE_CHECKING:
    from preservation.models.custodian import Custodian, CustodianHold
    from preservation.models.source import DataSource


class NoticeTemplate(Base):
    """One version of a notice's wording; versions are never edited, a change saves the next one."""

    __tablename__ = "notice_templates"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        CheckConstraint(sql_in("kind", NOTICE_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320))


class HoldNotice(Base):
    """A notice to one custodian on one hold, as rendered from its template version, kept forever.

    A silent notice records that the hold was deliberately not announced. A later notice on the same
    hold (a re-issue) supersedes this one; its acknowledgement, if any, stays here.
    """

    __tablename__ = "hold_notices"
    __table_args__ = (
        CheckConstraint(sql_in("kind", NOTICE_KINDS), name="kind"),
        Index("ix_hold_notices_open", "custodian_id", "acknowledged_at", "superseded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("custodian_holds.id"), index=True)
    custodian_id: Mapped[int] = mapped_column(ForeignKey("custodians.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("preservation_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("notice_templates.id"))
    template_version: Mapped[int | None]
    # For a data steward's notice: the system whose auto-deletion must stop.
    data_source_id: Mapped[int | None] = mapped_column(ForeignKey("data_sources.id"), index=True)
    silent: Mapped[bool] = mapped_column(default=False)
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[dt.datetime]
    issued_by: Mapped[str] = mapped_column(String(320))
    acknowledged_at: Mapped[dt.datetime | None]
    reminder_count: Mapped[int] = mapped_column(default=0)
    last_reminded_at: Mapped[dt.datetime | None]
    escalated_at: Mapped[dt.datetime | None]
    escalated_to: Mapped[str | None] = mapped_column(String(320))
    superseded_at: Mapped[dt.datetime | None]
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("hold_notices.id"))
    # A periodic re-affirmation: the acknowledged notice it asks the custodian to confirm again. Unique,
    # so one acknowledgement is asked to be re-affirmed once, however often the job runs.
    reaffirms_id: Mapped[int | None] = mapped_column(ForeignKey("hold_notices.id"), unique=True)

    hold: Mapped[CustodianHold] = relationship()
    custodian: Mapped[Custodian] = relationship()
    template: Mapped[NoticeTemplate | None] = relationship()
    data_source: Mapped[DataSource | None] = relationship()

    @property
    def needs_acknowledgement(self) -> bool:
        """Hold and steward notices ask for one; release notices and silent holds do not."""
        return self.kind in ("hold", "steward") and not self.silent
