"""The leader lease: one row per lease name, taken only when vacant or expired, with a fencing token.

Every statement is a plain conditional UPDATE, so SQLite and PostgreSQL behave alike: two processes
that try to take an expired lease at once both run `UPDATE ... WHERE expires_at <= now`; the database
lets one through, and the other, re-reading the row after the first commits, updates nothing. The
fencing token grows by one with each new holder, so writes made under an old token can be refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from preservation.models import SchedulerLease

SCHEDULER_LEASE = "scheduler"


class LeaseLost(Exception):
    """This process no longer holds the lease; whatever it was about to commit must be rolled back."""


@dataclass(frozen=True)
class LeaseGrant:
    """A lease as this process holds it."""

    name: str
    holder: str
    fencing_token: int
    expires_at: dt.datetime


def _ensure_row(session: Session, name: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(SchedulerLease).values(name=name, holder=None, fencing_token=0).on_conflict_do_nothing())


def try_acquire(session: Session, name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> LeaseGrant | None:
    """Take the lease if it is vacant or expired; None when another holder's lease is still running."""
    _ensure_row(session, name)
    result = session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == name,
            or_(SchedulerLease.holder.is_(None), SchedulerLease.expires_at.is_(None), SchedulerLease.expires_at <= now),
        )
        .values(
            holder=holder,
            fencing_token=SchedulerLease.fencing_token + 1,
            acquired_at=now,
            renewed_at=now,
            expires_at=now + ttl,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    token = session.scalar(select(SchedulerLease.fencing_token).where(SchedulerLease.name == name))
    return LeaseGrant(name, holder, int(token or 0), now + ttl)


def renew(session: Session, grant: LeaseGrant, now: dt.datetime, ttl: dt.timedelta) -> LeaseGrant | None:
    """Extend a lease still held and unexpired; None when it was lost (then acquire anew, with a new token)."""
    result = session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == grant.name,
            SchedulerLease.holder == grant.holder,
            SchedulerLease.fencing_token == grant.fencing_token,
            SchedulerLease.expires_at > now,
        )
        .values(renewed_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return LeaseGrant(grant.name, grant.holder, grant.fencing_token, now + ttl)


def release(session: Session, grant: LeaseGrant, now: dt.datetime) -> None:
    """Give the lease up at once, so a waiting process takes over without waiting for it to expire."""
    session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == grant.name,
            SchedulerLease.holder == grant.holder,
            SchedulerLease.fencing_token == grant.fencing_token,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def verify(session: Session, grant: LeaseGrant, now: dt.datetime) -> None:
    """Raise LeaseLost unless this grant still holds the lease; on PostgreSQL the row stays locked until commit.

    Called last in a job's transaction: a new holder cannot take the lease between this check and the
    commit (PostgreSQL: the row lock; SQLite: the transaction already holds the database's write lock).
    """
    row = session.execute(
        select(SchedulerLease.holder, SchedulerLease.fencing_token, SchedulerLease.expires_at)
        .where(SchedulerLease.name == grant.name)
        .with_for_update()
    ).first()
    if (
        row is None
        or row.holder != grant.holder
        or row.fencing_token != grant.fencing_token
        or row.expires_at is None
        or row.expires_at <= now
    ):
        raise LeaseLost(f"lease {grant.name!r} token {grant.fencing_token} is no longer held by {grant.holder}")


def current(session: Session, name: str = SCHEDULER_LEASE) -> SchedulerLease | None:
    """The lease row as it stands."""
    return session.get(SchedulerLease, name)
