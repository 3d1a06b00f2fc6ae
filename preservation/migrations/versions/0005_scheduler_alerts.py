"""Scheduler, deadlines and alerts: the leader lease, job runs, heartbeat, deadlines, alerts and their
outbox, alert subscriptions, calendar feeds, and court-day periods on obligations.

Revision ID: 0005_scheduler_alerts
Revises: 0004_retention_checks
Create Date: 2026-11-28 04:40:00.568704
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import preservation.db

revision: str = "0005_scheduler_alerts"
down_revision: str | None = "0004_retention_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=100), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("fencing_token", sa.BigInteger(), nullable=True),
        sa.Column("started_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('running', 'succeeded', 'failed', 'abandoned')", name=op.f("ck_job_runs_outcome")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index("ix_job_runs_job_started", ["job_id", "started_at"], unique=False)

    op.create_table(
        "scheduler_heartbeats",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("fencing_token", sa.BigInteger(), nullable=True),
        sa.Column("beat_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_heartbeats")),
    )
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("fencing_token", sa.BigInteger(), nullable=False),
        sa.Column("acquired_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("renewed_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )
    op.create_table(
        "alert_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=2048), nullable=False),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.CheckConstraint(
            "channel IN ('email', 'webhook', 'sns', 'console')", name=op.f("ck_alert_subscriptions_channel")
        ),
        sa.ForeignKeyConstraint(["matter_id"], ["matters.id"], name=op.f("fk_alert_subscriptions_matter_id_matters")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_subscriptions")),
    )
    with op.batch_alter_table("alert_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_subscriptions_matter_id"), ["matter_id"], unique=False)

    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_feeds_user_id"), ["user_id"], unique=False)

    op.create_table(
        "deadlines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("subject_type", sa.String(length=30), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("due_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("computation", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("known_since", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('obligation_due', 'order_compliance', 'data_destruction')", name=op.f("ck_deadlines_kind")
        ),
        sa.CheckConstraint("status IN ('open', 'met', 'cancelled')", name=op.f("ck_deadlines_status")),
        sa.ForeignKeyConstraint(["matter_id"], ["matters.id"], name=op.f("fk_deadlines_matter_id_matters")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadlines")),
        sa.UniqueConstraint("kind", "subject_id", name=op.f("uq_deadlines_kind_subject_id")),
    )
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deadlines_matter_id"), ["matter_id"], unique=False)
        batch_op.create_index("ix_deadlines_status_due", ["status", "due_on"], unique=False)

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.String(length=30), nullable=False),
        sa.Column("days_left", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(["deadline_id"], ["deadlines.id"], name=op.f("fk_alerts_deadline_id_deadlines")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_alerts_dedupe_key")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_deadline_id"), ["deadline_id"], unique=False)

    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=2048), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claim_token", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("provider_message_id", sa.String(length=500), nullable=True),
        sa.Column("created_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('email', 'webhook', 'sns', 'console')", name=op.f("ck_alert_deliveries_channel")
        ),
        sa.CheckConstraint("purpose IN ('notify', 'escalation')", name=op.f("ck_alert_deliveries_purpose")),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'dead', 'cancelled')", name=op.f("ck_alert_deliveries_status")
        ),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_deliveries_alert_id_alerts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint(
            "alert_id", "channel", "target", "purpose", name=op.f("uq_alert_deliveries_alert_id_channel_target_purpose")
        ),
    )
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_alert_deliveries_status_next", ["status", "next_attempt_at"], unique=False)

    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_period_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("due_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("due_direction", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("due_computation", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_column("due_computation")
        batch_op.drop_column("due_direction")
        batch_op.drop_column("due_from")
        batch_op.drop_column("due_period_days")

    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_deliveries_status_next")

    op.drop_table("alert_deliveries")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_deadline_id"))

    op.drop_table("alerts")
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index("ix_deadlines_status_due")
        batch_op.drop_index(batch_op.f("ix_deadlines_matter_id"))

    op.drop_table("deadlines")
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_feeds_user_id"))

    op.drop_table("calendar_feeds")
    with op.batch_alter_table("alert_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_subscriptions_matter_id"))

    op.drop_table("alert_subscriptions")
    op.drop_table("scheduler_leases")
    op.drop_table("scheduler_heartbeats")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_runs_job_started")

    op.drop_table("job_runs")
