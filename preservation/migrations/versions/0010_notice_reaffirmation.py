"""Reserved revision 0010_notice_reaffirmation: no schema change yet.

Revision ID: 0010_notice_reaffirmation
Revises: 0009_source_inventory
Create Date: 2026-11-28 13:20:00
"""

from collections.abc import Sequence

revision: str = "0010_notice_reaffirmation"
down_revision: str | None = "0009_source_inventory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
