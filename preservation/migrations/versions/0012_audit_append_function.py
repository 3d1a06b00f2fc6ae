"""Audit appends on PostgreSQL in one statement: audit_append() takes the chain lock, reads the heads,
spells and hashes the canonical bytes and inserts the event, all in the server.

Appends are ordered by one lock held until the commit, so every round trip taken under it is one every
other writer waits for: the lock, the two heads and the insert were four. The function makes them one.
It spells the bytes exactly as the service does in Python (json's escaping with ensure_ascii=False is
to_json's; the timestamp in UTC with microseconds and a Z), the same spelling verify has the database
check every event's columns against, so a difference would fail verification rather than pass unseen.
SQLite keeps the Python append: its transactions already hold the only write lock, with no round trips.

Revision ID: 0012_audit_append_function
Revises: 0011_source_status_days
Create Date: 2026-11-29 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_audit_append_function"
down_revision: str | None = "0011_source_status_days"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The lock key arrives as an argument (preservation.db.AUDIT_CHAIN_LOCK_KEY), so there is one place for it.
# A VOLATILE function takes a fresh snapshot for each statement: the heads are read after the lock is held.
_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append(
    p_lock bigint, p_occurred_at timestamptz, p_actor text, p_action text, p_subject_type text,
    p_subject_id text, p_matter_id integer, p_details text
) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    v_seq bigint; v_prev text; v_mseq bigint; v_mprev text; v_canon text; v_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    SELECT e.seq + 1, e.hash INTO v_seq, v_prev FROM audit_events e ORDER BY e.seq DESC LIMIT 1;
    IF v_seq IS NULL THEN v_seq := 1; v_prev := repeat('0', 64); END IF;
    IF p_matter_id IS NOT NULL THEN
        SELECT e.matter_seq + 1, e.hash INTO v_mseq, v_mprev FROM audit_events e
            WHERE e.matter_id = p_matter_id ORDER BY e.matter_seq DESC LIMIT 1;
        IF v_mseq IS NULL THEN v_mseq := 1; v_mprev := repeat('0', 64); END IF;
    END IF;
    v_canon := '{"action":' || to_json(p_action)::text || ',"actor":' || to_json(p_actor)::text
        || ',"details":' || p_details
        || ',"matter_id":' || coalesce(p_matter_id::text, 'null')
        || ',"matter_prev_hash":' || coalesce(to_json(v_mprev)::text, 'null')
        || ',"matter_seq":' || coalesce(v_mseq::text, 'null')
        || ',"occurred_at":"' || to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'
        || ',"prev_hash":' || to_json(v_prev)::text || ',"seq":' || v_seq::text
        || ',"subject_id":' || to_json(p_subject_id)::text || ',"subject_type":' || to_json(p_subject_type)::text
        || '}';
    v_hash := encode(sha256(convert_to(v_canon, 'UTF8')), 'hex');
    INSERT INTO audit_events (seq, occurred_at, actor, action, subject_type, subject_id, matter_id, matter_seq,
        details, prev_hash, matter_prev_hash, hash, canonical)
    VALUES (v_seq, p_occurred_at, p_actor, p_action, p_subject_type, p_subject_id, p_matter_id, v_mseq,
        p_details, v_prev, v_mprev, v_hash, v_canon);
    RETURN v_hash;
END
$fn$;
"""


def upgrade() -> None:
    """Create audit_append() on PostgreSQL."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION)


def downgrade() -> None:
    """Drop audit_append() on PostgreSQL."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_append(bigint, timestamptz, text, text, text, text, integer, text)")
