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
    # The exact canonical JSON that was hashed, written once at append time: verification hashes it and
    # exports copy it without re-encoding. The columns above are the same fields, for queries and filters;
    # verification checks in SQL that they still spell these bytes.
    canonical: Mapped[str] = mapped_column(Text)


class AuditCheckpoint(Base):
    """A signed statement of the log's size, head hash and every matter's head at one moment."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (Index("ix_audit_checkpoints_tree_size", "tree_size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime]
    tree_size: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    # The signer's verifier key (signed-note "vkey" form); the trust anchor is the configured key, not this copy.
    public_key: Mapped[str] = mapped_column(String(400))
    # The whole signed note, byte for byte as signed; everything above is a copy for queries.
    note: Mapped[str] = mapped_column(Text)
    # Where the note was copied under S3 Object Lock, once that copy succeeded.
    anchor_uri: Mapped[str | None] = mapped_column(String(1024))
