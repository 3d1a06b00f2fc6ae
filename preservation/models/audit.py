"""The append-only, hash-chained audit trail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from preservation.db import Base


class AuditEvent(Base):
    """One change or check, chained to the one before it (and to the matter's previous event)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        # Backstops: a race that slipped past the lock fails loudly here instead of forking the chain.
        UniqueConstraint("prev_hash"),
        UniqueConstraint("hash"),
        UniqueConstraint("matter_id", "matter_seq"),
        Index("ix_audit_events_matter_seq", "matter_id", "matter_seq"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(64))
    matter_id: Mapped[int | None]
    matter_seq: Mapped[int | None] = mapped_column(BigInteger)
    # Canonical JSON text, stored as hashed so that no round trip can change its bytes.
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    matter_prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
