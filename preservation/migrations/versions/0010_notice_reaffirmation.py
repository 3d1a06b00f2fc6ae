"""Periodic re-affirmation: an order's cadence, and the acknowledged notice each re-affirmation asks about.

Revision ID: 0010_notice_reaffirmation
Revises: 0009_source_inventory
Create Date: 2026-11-28 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_notice_reaffirmation"
down_revision: str | None = "0009_source_inventory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("preservation_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reaffirm_every_days", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_preservation_orders_reaffirm_every_days"),
            "reaffirm_every_days IS NULL OR reaffirm_every_days BETWEEN 7 AND 366",
        )
    with op.batch_alter_table("hold_notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reaffirms_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_hold_notices_reaffirms_id"), ["reaffirms_id"])
        batch_op.create_foreign_key(
            op.f("fk_hold_notices_reaffirms_id_hold_notices"), "hold_notices", ["reaffirms_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("hold_notices", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_hold_notices_reaffirms_id_hold_notices"), type_="foreignkey")
        batch_op.drop_constraint(op.f("uq_hold_notices_reaffirms_id"), type_="unique")
        batch_op.drop_column("reaffirms_id")
    with op.batch_alter_table("preservation_orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_preservation_orders_reaffirm_every_days"), type_="check")
        batch_op.drop_column("reaffirm_every_days")
