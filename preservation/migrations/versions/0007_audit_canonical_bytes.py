"""Reserved revision 0007_audit_canonical_bytes: no schema change yet.

Revision ID: 0007_audit_canonical_bytes
Revises: 0006_hold_notices
Create Date: 2026-11-28 13:20:00
"""

from collections.abc import Sequence

revision: str = "0007_audit_canonical_bytes"
down_revision: str | None = "0006_hold_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
