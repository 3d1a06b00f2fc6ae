"""Hold notices: versioned notice templates and every notice sent to (or held back from) a custodian.

Revision ID: 0006_hold_notices
Revises: 0005_scheduler_alerts
Create Date: 2026-11-28 05:17:27.059754
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import preservation.db

revision: str = "0006_hold_notices"
down_revision: str | None = "0005_scheduler_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "notice_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.CheckConstraint("kind IN ('hold', 'steward', 'release')", name=op.f("ck_notice_templates_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_templates")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_notice_templates_name_version")),
    )
    op.create_table(
        "hold_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=False),
        sa.Column("custodian_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("template_version", sa.Integer(), nullable=True),
        sa.Column("data_source_id", sa.Integer(), nullable=True),
        sa.Column("silent", sa.Boolean(), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("issued_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=320), nullable=False),
        sa.Column("acknowledged_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminder_count", sa.Integer(), nullable=False),
        sa.Column("last_reminded_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_to", sa.String(length=320), nullable=True),
        sa.Column("superseded_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('hold', 'steward', 'release')", name=op.f("ck_hold_notices_kind")),
        sa.ForeignKeyConstraint(
            ["custodian_id"], ["custodians.id"], name=op.f("fk_hold_notices_custodian_id_custodians")
        ),
        sa.ForeignKeyConstraint(
            ["data_source_id"], ["data_sources.id"], name=op.f("fk_hold_notices_data_source_id_data_sources")
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["custodian_holds.id"], name=op.f("fk_hold_notices_hold_id_custodian_holds")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["preservation_orders.id"], name=op.f("fk_hold_notices_order_id_preservation_orders")
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"], ["hold_notices.id"], name=op.f("fk_hold_notices_superseded_by_id_hold_notices")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"], ["notice_templates.id"], name=op.f("fk_hold_notices_template_id_notice_templates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hold_notices")),
    )
    with op.batch_alter_table("hold_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hold_notices_data_source_id"), ["data_source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_notices_hold_id"), ["hold_id"], unique=False)
        batch_op.create_index(
            "ix_hold_notices_open", ["custodian_id", "acknowledged_at", "superseded_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_hold_notices_order_id"), ["order_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("hold_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hold_notices_order_id"))
        batch_op.drop_index("ix_hold_notices_open")
        batch_op.drop_index(batch_op.f("ix_hold_notices_hold_id"))
        batch_op.drop_index(batch_op.f("ix_hold_notices_data_source_id"))

    op.drop_table("hold_notices")
    op.drop_table("notice_templates")
