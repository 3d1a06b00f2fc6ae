"""Retention checks: checks, their findings and raw evidence, the preservation manifest, attestations.

Revision ID: 0004_retention_checks
Revises: 0003
Create Date: 2026-11-28 04:19:37.423342
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import preservation.db

revision: str = "0004_retention_checks"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("data_source_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("started_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("earliest_destruction_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "status IN ('preserved', 'at_risk', 'unverifiable', 'lost', 'released')",
            name=op.f("ck_retention_checks_status"),
        ),
        sa.ForeignKeyConstraint(
            ["data_source_id"], ["data_sources.id"], name=op.f("fk_retention_checks_data_source_id_data_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_checks")),
    )
    with op.batch_alter_table("retention_checks", schema=None) as batch_op:
        batch_op.create_index("ix_retention_checks_source_started", ["data_source_id", "started_at"], unique=False)

    op.create_table(
        "source_attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("data_source_id", sa.Integer(), nullable=False),
        sa.Column("attested_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attested_by", sa.String(length=320), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["data_source_id"], ["data_sources.id"], name=op.f("fk_source_attestations_data_source_id_data_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_attestations")),
    )
    with op.batch_alter_table("source_attestations", schema=None) as batch_op:
        batch_op.create_index("ix_source_attestations_source_at", ["data_source_id", "attested_at"], unique=False)

    op.create_table(
        "check_evidence",
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("stored_bytes", sa.BigInteger(), nullable=False),
        sa.Column("full_bytes", sa.BigInteger(), nullable=False),
        sa.Column("full_sha256", sa.String(length=64), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"], ["retention_checks.id"], name=op.f("fk_check_evidence_check_id_retention_checks")
        ),
        sa.PrimaryKeyConstraint("check_id", name=op.f("pk_check_evidence")),
    )
    op.create_table(
        "check_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("earliest_destruction_at", preservation.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "severity IN ('critical', 'high', 'medium', 'low', 'info')", name=op.f("ck_check_findings_severity")
        ),
        sa.ForeignKeyConstraint(
            ["check_id"], ["retention_checks.id"], name=op.f("fk_check_findings_check_id_retention_checks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_findings")),
    )
    with op.batch_alter_table("check_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_findings_check_id"), ["check_id"], unique=False)

    op.create_table(
        "preservation_manifest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("data_source_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("version_id", sa.String(length=1024), nullable=False),
        sa.Column("etag", sa.String(length=255), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("last_modified", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_seen_check_id", sa.Integer(), nullable=False),
        sa.Column("missing_since_check_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["data_source_id"], ["data_sources.id"], name=op.f("fk_preservation_manifest_data_source_id_data_sources")
        ),
        sa.ForeignKeyConstraint(
            ["first_seen_check_id"],
            ["retention_checks.id"],
            name=op.f("fk_preservation_manifest_first_seen_check_id_retention_checks"),
        ),
        sa.ForeignKeyConstraint(
            ["missing_since_check_id"],
            ["retention_checks.id"],
            name=op.f("fk_preservation_manifest_missing_since_check_id_retention_checks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preservation_manifest")),
        sa.UniqueConstraint(
            "data_source_id", "key", "version_id", name=op.f("uq_preservation_manifest_data_source_id_key_version_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("preservation_manifest")
    with op.batch_alter_table("check_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_findings_check_id"))

    op.drop_table("check_findings")
    op.drop_table("check_evidence")
    with op.batch_alter_table("source_attestations", schema=None) as batch_op:
        batch_op.drop_index("ix_source_attestations_source_at")

    op.drop_table("source_attestations")
    with op.batch_alter_table("retention_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_retention_checks_source_started")

    op.drop_table("retention_checks")
