"""Reserved revision 0009_source_inventory: no schema change yet.

Revision ID: 0009_source_inventory
Revises: 0008_backup_holds
Create Date: 2026-11-28 13:20:00
"""

from collections.abc import Sequence

revision: str = "0009_source_inventory"
down_revision: str | None = "0008_backup_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
