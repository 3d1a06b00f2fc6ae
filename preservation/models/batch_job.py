"""S3 Batch Operations jobs that put legal holds on a large source's versions, and what AWS last said of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from preservation.db import Base


class S3BatchJob(Base):
    """One S3 Batch Operations job created by a preserve run; its status is refreshed with describe_job."""

    __tablename__ = "s3_batch_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    data_source_id: Mapped[int] = mapped_column(ForeignKey("data_sources.id"), index=True)
    job_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(String(12))
    region: Mapped[str | None] = mapped_column(String(30))
    # As describe_job names it: New, Preparing, Ready, Active, Complete, Failed, Cancelled, ...
    status: Mapped[str] = mapped_column(String(30))
    versions_planned: Mapped[int]
    # describe_job's ProgressSummary and failure reasons, as last read.
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(320))
    refreshed_at: Mapped[dt.datetime | None]
