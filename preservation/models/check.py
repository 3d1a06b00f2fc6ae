"""Retention checks of data sources: what was seen, what it means, and the raw answers behind it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from preservation.db import Base
from preservation.domain.vocabulary import CHECK_STATUSES, FINDING_SEVERITIES
from preservation.models._columns import sql_in


class RetentionCheck(Base):
    """One look at a data source: when, by whom, and the status it concluded."""

    __tablename__ = "retention_checks"
    __table_args__ = (
        CheckConstraint(sql_in("status", CHECK_STATUSES), name="status"),
        Index("ix_retention_checks_source_started", "data_source_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    data_source_id: Mapped[int] = mapped_column(ForeignKey("data_sources.id"))
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(320))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(20))
    earliest_destruction_at: Mapped[dt.datetime | None]
    # Why the check could not finish looking (the status is then unverifiable or worse).
    error: Mapped[str | None] = mapped_column(Text)
    # Counts of what was looked at: versions listed, in scope, heads read.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The retention-relevant settings seen, compared by the next check to report drift.
    config: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    findings: Mapped[list[CheckFinding]] = relationship(
        back_populates="check", order_by="CheckFinding.id", cascade="all, delete-orphan"
    )
    evidence: Mapped[CheckEvidence | None] = relationship(back_populates="check", cascade="all, delete-orphan")


class CheckFinding(Base):
    """One thing a check found, coded for clients and dashboards."""

    __tablename__ = "check_findings"
    __table_args__ = (CheckConstraint(sql_in("severity", FINDING_SEVERITIES), name="severity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("retention_checks.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    count: Mapped[int | None]
    examples: Mapped[list[Any]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    earliest_destruction_at: Mapped[dt.datetime | None]

    check: Mapped[RetentionCheck] = relationship(back_populates="findings")


class CheckEvidence(Base):
    """The raw API answers a check evaluated, as canonical JSON, capped in size."""

    __tablename__ = "check_evidence"

    check_id: Mapped[int] = mapped_column(ForeignKey("retention_checks.id"), primary_key=True)
    # Canonical JSON (sorted keys); when over the cap, long lists are cut and `truncated` says where.
    document: Mapped[str] = mapped_column(Text)
    stored_bytes: Mapped[int] = mapped_column(BigInteger)
    # Size and SHA-256 of the whole document before any cut, so the cut is visible and bounded.
    full_bytes: Mapped[int] = mapped_column(BigInteger)
    full_sha256: Mapped[str] = mapped_column(String(64))
    truncated: Mapped[bool] = mapped_column(default=False)

    check: Mapped[RetentionCheck] = relationship(back_populates="evidence")


class ManifestEntry(Base):
    """One in-scope object version a check saw; later checks prove it is still there."""

    __tablename__ = "preservation_manifest"
    __table_args__ = (UniqueConstraint("data_source_id", "key", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    data_source_id: Mapped[int] = mapped_column(ForeignKey("data_sources.id"))
    key: Mapped[str] = mapped_column(String(1024))
    version_id: Mapped[str] = mapped_column(String(1024))
    etag: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int | None] = mapped_column(BigInteger)
    last_modified: Mapped[dt.datetime]
    first_seen_check_id: Mapped[int] = mapped_column(ForeignKey("retention_checks.id"))
    # The first check that no longer found it; cleared if it reappears (a listing that raced a write).
    missing_since_check_id: Mapped[int | None] = mapped_column(ForeignKey("retention_checks.id"))


class SourceAttestation(Base):
    """A steward's word that a manually kept source still holds the evidence."""

    __tablename__ = "source_attestations"
    __table_args__ = (Index("ix_source_attestations_source_at", "data_source_id", "attested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    data_source_id: Mapped[int] = mapped_column(ForeignKey("data_sources.id"))
    attested_at: Mapped[dt.datetime]
    attested_by: Mapped[str] = mapped_column(String(320))
    note: Mapped[str] = mapped_column(Text)
