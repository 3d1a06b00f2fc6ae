"""Reserved revision 0008_backup_holds: no schema change yet.

Revision ID: 0008_backup_holds
Revises: 0007_audit_canonical_bytes
Create Date: 2026-11-28 13:20:00
"""

from collections.abc import Sequence

revision: str = "0008_backup_holds"
down_revision: str | None = "0007_audit_canonical_bytes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
