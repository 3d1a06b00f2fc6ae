"""Foundation schema: matters, orders, obligations, sources, custodians, users, tokens, audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 04:08:34.035135
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import preservation.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=True),
        sa.Column("matter_seq", sa.BigInteger(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("matter_prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
        sa.UniqueConstraint("matter_id", "matter_seq", name=op.f("uq_audit_events_matter_id_matter_seq")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_events_prev_hash")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_matter_seq", ["matter_id", "matter_seq"], unique=False)
        batch_op.create_index("ix_audit_events_occurred_at", ["occurred_at"], unique=False)

    op.create_table(
        "custodians",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_normalized", sa.String(length=320), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("department", sa.String(length=300), nullable=True),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("employment_status", sa.String(length=20), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "employment_status IN ('active', 'on_leave', 'departed')", name=op.f("ck_custodians_employment_status")
        ),
        sa.ForeignKeyConstraint(["manager_id"], ["custodians.id"], name=op.f("fk_custodians_manager_id_custodians")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custodians")),
        sa.UniqueConstraint("email_normalized", name=op.f("uq_custodians_email_normalized")),
    )
    with op.batch_alter_table("custodians", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custodians_manager_id"), ["manager_id"], unique=False)

    op.create_table(
        "matters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caption", sa.String(length=500), nullable=False),
        sa.Column("docket_number", sa.String(length=100), nullable=True),
        sa.Column("court", sa.String(length=200), nullable=True),
        sa.Column("judge", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("trigger_date", sa.Date(), nullable=True),
        sa.Column("trigger_description", sa.Text(), nullable=True),
        sa.Column("trigger_decided_by", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_matters_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matters")),
    )
    with op.batch_alter_table("matters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matters_docket_number"), ["docket_number"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'counsel', 'viewer', 'auditor')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "data_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("location", sa.String(length=2048), nullable=False),
        sa.Column("region", sa.String(length=30), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("steward_id", sa.Integer(), nullable=True),
        sa.Column("natural_retention_days", sa.Integer(), nullable=True),
        sa.Column("check_interval_hours", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("earliest_destruction_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_checked_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retired_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retired_reason", sa.Text(), nullable=True),
        sa.Column("retired_by", sa.String(length=320), nullable=True),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('s3', 'cloudwatch_logs', 'aws_backup', 'manual')", name=op.f("ck_data_sources_kind")
        ),
        sa.CheckConstraint(
            "status IN ('unchecked', 'preserved', 'at_risk', 'unverifiable', 'lost', 'released')",
            name=op.f("ck_data_sources_status"),
        ),
        sa.ForeignKeyConstraint(["steward_id"], ["custodians.id"], name=op.f("fk_data_sources_steward_id_custodians")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_sources")),
    )
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_sources_steward_id"), ["steward_id"], unique=False)

    op.create_table(
        "preservation_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("docket_entry", sa.String(length=100), nullable=True),
        sa.Column("issued_by", sa.String(length=200), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("entered_on", sa.Date(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("compliance_due_on", sa.Date(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("released_on", sa.Date(), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.Column("released_by", sa.String(length=320), nullable=True),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('court_order', 'stipulation', 'preservation_letter', 'litigation_hold')",
            name=op.f("ck_preservation_orders_kind"),
        ),
        sa.CheckConstraint("status IN ('active', 'modified', 'released')", name=op.f("ck_preservation_orders_status")),
        sa.ForeignKeyConstraint(["matter_id"], ["matters.id"], name=op.f("fk_preservation_orders_matter_id_matters")),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["preservation_orders.id"],
            name=op.f("fk_preservation_orders_supersedes_id_preservation_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preservation_orders")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_preservation_orders_supersedes_id")),
    )
    with op.batch_alter_table("preservation_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_preservation_orders_matter_id"), ["matter_id"], unique=False)

    op.create_table(
        "custodian_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("custodian_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notice_sent_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('custodian', 'data_steward')", name=op.f("ck_custodian_holds_role")),
        sa.CheckConstraint(
            "status IN ('pending', 'notified', 'acknowledged', 'released')", name=op.f("ck_custodian_holds_status")
        ),
        sa.ForeignKeyConstraint(
            ["custodian_id"], ["custodians.id"], name=op.f("fk_custodian_holds_custodian_id_custodians")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["preservation_orders.id"], name=op.f("fk_custodian_holds_order_id_preservation_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custodian_holds")),
        sa.UniqueConstraint("order_id", "custodian_id", name=op.f("uq_custodian_holds_order_id_custodian_id")),
    )
    with op.batch_alter_table("custodian_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custodian_holds_custodian_id"), ["custodian_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_custodian_holds_order_id"), ["order_id"], unique=False)

    op.create_table(
        "obligations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("preserve_from", sa.Date(), nullable=True),
        sa.Column("preserve_until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'satisfied', 'released')", name=op.f("ck_obligations_status")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["preservation_orders.id"], name=op.f("fk_obligations_order_id_preservation_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligations")),
    )
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_obligations_order_id"), ["order_id"], unique=False)

    op.create_table(
        "obligation_data_sources",
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("data_source_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["data_source_id"], ["data_sources.id"], name=op.f("fk_obligation_data_sources_data_source_id_data_sources")
        ),
        sa.ForeignKeyConstraint(
            ["obligation_id"], ["obligations.id"], name=op.f("fk_obligation_data_sources_obligation_id_obligations")
        ),
        sa.PrimaryKeyConstraint("obligation_id", "data_source_id", name=op.f("pk_obligation_data_sources")),
    )
    with op.batch_alter_table("obligation_data_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_obligation_data_sources_data_source_id"), ["data_source_id"], unique=False)

    _forbid_audit_changes()


def downgrade() -> None:
    _allow_audit_changes()
    with op.batch_alter_table("obligation_data_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_obligation_data_sources_data_source_id"))

    op.drop_table("obligation_data_sources")
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_obligations_order_id"))

    op.drop_table("obligations")
    with op.batch_alter_table("custodian_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custodian_holds_order_id"))
        batch_op.drop_index(batch_op.f("ix_custodian_holds_custodian_id"))

    op.drop_table("custodian_holds")
    with op.batch_alter_table("preservation_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_preservation_orders_matter_id"))

    op.drop_table("preservation_orders")
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_sources_steward_id"))

    op.drop_table("data_sources")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    with op.batch_alter_table("matters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matters_docket_number"))

    op.drop_table("matters")
    with op.batch_alter_table("custodians", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custodians_manager_id"))

    op.drop_table("custodians")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_occurred_at")
        batch_op.drop_index("ix_audit_events_matter_seq")

    op.drop_table("audit_events")


# The audit trail is append-only. These triggers stop the application and careless hands; a database
# administrator can drop them, which is why the chain and signed checkpoints exist.
def _forbid_audit_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
            END;
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{operation.lower()} BEFORE {operation} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: {operation} refused'); END"
            )


def _allow_audit_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
