"""Audit events keep the exact canonical bytes that were hashed (audit_events.canonical), backfilled.

Verification then hashes stored bytes instead of rebuilding them in Python, and the export copies them.
Existing events are backfilled in one UPDATE that spells each event from its columns in SQL, exactly as
the service spelled it in Python (json_quote in SQLite and to_json in PostgreSQL escape strings as
Python's json module does with ensure_ascii=False). A row whose columns had been altered gets bytes
that do not hash to its stored hash, so verification still reports it.

The append-only triggers are set aside for the backfill and restored: on PostgreSQL they are disabled
and re-enabled inside this transaction; on SQLite they are dropped and re-created, after the table is
rebuilt to make the column NOT NULL (a rebuilt table loses its triggers).

Revision ID: 0007_audit_canonical_bytes
Revises: 0006_hold_notices
Create Date: 2026-11-28 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_audit_canonical_bytes"
down_revision: str | None = "0006_hold_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The canonical JSON of an event, spelled from its columns; keys in sorted order, no spaces.
_SQLITE_SPELLING = (
    "'{\"action\":' || json_quote(action) || ',\"actor\":' || json_quote(actor)"
    " || ',\"details\":' || details"
    " || ',\"matter_id\":' || coalesce(matter_id, 'null')"
    " || ',\"matter_prev_hash\":' || coalesce(json_quote(matter_prev_hash), 'null')"
    " || ',\"matter_seq\":' || coalesce(matter_seq, 'null')"
    " || ',\"occurred_at\":\"' || substr(occurred_at, 1, 10) || 'T' || substr(occurred_at, 12) || 'Z\"'"
    " || ',\"prev_hash\":' || json_quote(prev_hash) || ',\"seq\":' || seq"
    " || ',\"subject_id\":' || json_quote(subject_id) || ',\"subject_type\":' || json_quote(subject_type) || '}'"
)
_POSTGRESQL_SPELLING = (
    "'{\"action\":' || to_json(action)::text || ',\"actor\":' || to_json(actor)::text"
    " || ',\"details\":' || details"
    " || ',\"matter_id\":' || coalesce(matter_id::text, 'null')"
    " || ',\"matter_prev_hash\":' || coalesce(to_json(matter_prev_hash)::text, 'null')"
    " || ',\"matter_seq\":' || coalesce(matter_seq::text, 'null')"
    " || ',\"occurred_at\":\"' || to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') || '\"'"
    " || ',\"prev_hash\":' || to_json(prev_hash)::text || ',\"seq\":' || seq::text"
    " || ',\"subject_id\":' || to_json(subject_id)::text || ',\"subject_type\":' || to_json(subject_type)::text"
    " || '}'"
)


def _sqlite_triggers() -> None:
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{operation.lower()} BEFORE {operation} ON audit_events "
            f"BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: {operation} refused'); END"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("audit_events", sa.Column("canonical", sa.Text(), nullable=True))
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        op.execute(f"UPDATE audit_events SET canonical = {_POSTGRESQL_SPELLING}")  # noqa: S608 (constant SQL)
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        op.alter_column("audit_events", "canonical", nullable=False)
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    op.add_column("audit_events", sa.Column("canonical", sa.Text(), nullable=True))
    op.execute(f"UPDATE audit_events SET canonical = {_SQLITE_SPELLING}")  # noqa: S608 (constant SQL)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("canonical", existing_type=sa.Text(), nullable=False)
    _sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("audit_events", "canonical")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("canonical")
    _sqlite_triggers()
