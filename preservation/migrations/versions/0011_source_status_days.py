"""The daily roll-up of data source statuses, backfilled from the checks already recorded; indexes the
overview reads by (sources in order of their last check and of their destruction time, notified holds in
order of their notice).

Each past day (from the first check's, at most a year back) gets the statuses it ended with: a source
catalogued by then and not yet retired counts under the status of its latest check finished by the end
of the day, or as unchecked. Today gets the sources' statuses as they stand. Location changes that sent
a source back to unchecked are not in the checks, so a day before one can show the older status.

Revision ID: 0011_source_status_days
Revises: 0010_notice_reaffirmation
Create Date: 2026-11-28 16:00:00
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import preservation.db

revision: str = "0011_source_status_days"
down_revision: str | None = "0010_notice_reaffirmation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("unchecked", "preserved", "at_risk", "unverifiable", "lost", "released")
BACKFILL_DAYS = 366


def upgrade() -> None:
    op.create_table(
        "source_status_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sources", sa.Integer(), nullable=False),
        sa.Column("counted_at", preservation.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('unchecked', 'preserved', 'at_risk', 'unverifiable', 'lost', 'released')",
            name=op.f("ck_source_status_days_status"),
        ),
        sa.PrimaryKeyConstraint("day", "status", name=op.f("pk_source_status_days")),
    )
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.create_index("ix_data_sources_last_checked", ["last_checked_at"], unique=False)
        batch_op.create_index("ix_data_sources_destruction", ["earliest_destruction_at", "status"], unique=False)
    with op.batch_alter_table("custodian_holds", schema=None) as batch_op:
        batch_op.create_index("ix_custodian_holds_status_notice", ["status", "notice_sent_at"], unique=False)
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("custodian_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_custodian_holds_status_notice")
    with op.batch_alter_table("data_sources", schema=None) as batch_op:
        batch_op.drop_index("ix_data_sources_destruction")
        batch_op.drop_index("ix_data_sources_last_checked")
    op.drop_table("source_status_days")


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _backfill() -> None:
    """The past days' statuses from the checks, today's from the sources (nothing when there are no sources)."""
    connection = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    sources = sa.table(
        "data_sources",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("created_at", preservation.db.UTCDateTime(timezone=True)),
        sa.column("retired_at", preservation.db.UTCDateTime(timezone=True)),
    )
    checks = sa.table(
        "retention_checks",
        sa.column("id", sa.Integer),
        sa.column("data_source_id", sa.Integer),
        sa.column("finished_at", preservation.db.UTCDateTime(timezone=True)),
        sa.column("status", sa.String),
    )
    days_table = sa.table(
        "source_status_days",
        sa.column("day", sa.Date),
        sa.column("status", sa.String),
        sa.column("sources", sa.Integer),
        sa.column("counted_at", preservation.db.UTCDateTime(timezone=True)),
    )
    lives = [
        (ident, status, _utc(created), _utc(retired) if retired is not None else None)
        for ident, status, created, retired in connection.execute(
            sa.select(sources.c.id, sources.c.status, sources.c.created_at, sources.c.retired_at)
        )
    ]
    if not lives:
        return
    rows = []
    first = connection.scalar(sa.select(sa.func.min(checks.c.finished_at)))
    if first is not None:
        day = max(_utc(first).date(), today - dt.timedelta(days=BACKFILL_DAYS))
        latest: dict[int, str] = {}
        result = connection.execute(
            sa.select(checks.c.data_source_id, checks.c.finished_at, checks.c.status)
            .where(checks.c.finished_at < dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC))
            .order_by(checks.c.finished_at, checks.c.id)
            .execution_options(yield_per=10_000)
        )
        outcomes = iter(result)
        waiting = next(outcomes, None)
        while day < today:
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
            while waiting is not None and _utc(waiting[1]) < end:
                latest[waiting[0]] = waiting[2]
                waiting = next(outcomes, None)
            counts = dict.fromkeys(STATUSES, 0)
            for ident, _status, created, retired in lives:
                if created < end and (retired is None or retired >= end):
                    counts[latest.get(ident, "unchecked")] += 1
            rows += [{"day": day, "status": s, "sources": counts[s], "counted_at": now} for s in STATUSES]
            day += dt.timedelta(days=1)
        result.close()
    counts = dict.fromkeys(STATUSES, 0)
    for _ident, status, _created, retired in lives:
        if retired is None:
            counts[status] += 1
    rows += [{"day": today, "status": s, "sources": counts[s], "counted_at": now} for s in STATUSES]
    op.bulk_insert(days_table, rows)
