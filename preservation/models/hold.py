"""Holds this service placed in the storage, so that a release removes those and no others."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from preservation.db import Base
from preservation.models._columns import sql_in

# An S3 object version's legal hold (PutObjectLegalHold ON), or an AWS Backup legal hold.
STORAGE_HOLD_KINDS = ("s3_object", "backup")


class StorageHold(Base):
    """One legal hold a preservation run placed; released_at is set when a release removed it."""

    __tablename__ = "storage_holds"
    __table_args__ = (
        CheckConstraint(sql_in("kind", STORAGE_HOLD_KINDS), name="kind"),
        Index("ix_storage_holds_source_released", "data_source_id", "released_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    data_source_id: Mapped[int] = mapped_column(ForeignKey("data_sources.id"))
    kind: Mapped[str] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(30))
    # S3: the bucket, key and version held. Backup: the vault, and the legal hold's id and ARN.
    container: Mapped[str] = mapped_column(String(255))
    key: Mapped[str | None] = mapped_column(String(1024))
    version_id: Mapped[str | None] = mapped_column(String(1024))
    legal_hold_id: Mapped[str | None] = mapped_column(String(100))
    legal_hold_arn: Mapped[str | None] = mapped_column(String(2048))
    placed_at: Mapped[dt.datetime]
    placed_by: Mapped[str] = mapped_column(String(320))
    released_at: Mapped[dt.datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(320))
