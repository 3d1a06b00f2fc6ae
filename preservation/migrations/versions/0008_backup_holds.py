"""Holds placed in the storage: each S3 version legal hold and AWS Backup legal hold a preservation run created.

Revision ID: 0008_backup_holds
Revises: 0007_audit_canonical_bytes
Create Date: 2026-11-28 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import preservation.db

revision: str = "0008_backup_holds"
down_revision: str | None = "0007_audit_canonical_bytes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "storage_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("data_source_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=30), nullable=True),
        sa.Column("container", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=True),
        sa.Column("version_id", sa.String(length=1024), nullable=True),
        sa.Column("legal_hold_id", sa.String(length=100), nullable=True),
        sa.Column("legal_hold_arn", sa.String(length=2048), nullable=True),
        sa.Column("placed_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("placed_by", sa.String(length=320), nullable=False),
        sa.Column("released_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=320), nullable=True),
        sa.CheckConstraint("kind IN ('s3_object', 'backup')", name=op.f("ck_storage_holds_kind")),
        sa.ForeignKeyConstraint(
            ["data_source_id"], ["data_sources.id"], name=op.f("fk_storage_holds_data_source_id_data_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_holds")),
    )
    with op.batch_alter_table("storage_holds", schema=None) as batch_op:
        batch_op.create_index("ix_storage_holds_source_released", ["data_source_id", "released_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("storage_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_storage_holds_source_released")
    op.drop_table("storage_holds")
