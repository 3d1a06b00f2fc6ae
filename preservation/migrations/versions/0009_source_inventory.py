"""S3 at scale: a data source names its inventory configuration; S3 Batch Operations jobs are tracked.

Revision ID: 0009_source_inventory
Revises: 0008_backup_holds
Create Date: 2026-11-28 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import preservation.db

revision: str = "0009_source_inventory"
down_revision: str | None = "0008_backup_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inventory_configuration_id", sa.String(length=64), nullable=True))
    op.create_table(
        "s3_batch_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("data_source_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=30), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("versions_planned", sa.Integer(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("refreshed_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["data_source_id"], ["data_sources.id"], name=op.f("fk_s3_batch_jobs_data_source_id_data_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_s3_batch_jobs")),
        sa.UniqueConstraint("job_id", name=op.f("uq_s3_batch_jobs_job_id")),
    )
    with op.batch_alter_table("s3_batch_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_s3_batch_jobs_data_source_id"), ["data_source_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("s3_batch_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_s3_batch_jobs_data_source_id"))
    op.drop_table("s3_batch_jobs")
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.drop_column("inventory_configuration_id")
