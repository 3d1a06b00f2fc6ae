"""Calendar feeds: a revocable secret per feed, of which only the SHA-256 is kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select

from preservation.domain.errors import Conflict, NotFound
from preservation.models import CalendarFeed, Deadline, User
from preservation.services import audit
from preservation.services.unit import Unit

# Cancelled and met deadlines stay in the feed this long, so calendars learn to drop or mark them.
RECENTLY_CLOSED = dt.timedelta(days=90)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_feed(unit: Unit, user: User) -> tuple[CalendarFeed, str]:
    """A new feed for a user; the secret is returned once and never stored."""
    secret = secrets.token_urlsafe(32)
    feed = CalendarFeed(user_id=user.id, token_hash=_hash(secret), created_at=unit.clock())
    unit.session.add(feed)
    unit.session.flush()
    audit.record(unit, "calendar_feed.issued", "calendar_feed", feed.id, matter_id=None, details={"user_id": user.id})
    return feed, secret


def revoke_feed(unit: Unit, feed_id: int, owner: User) -> CalendarFeed:
    """Stop a feed of the owner's: its URL answers 404 from now on."""
    feed = unit.session.get(CalendarFeed, feed_id) if 1 <= feed_id <= 2**31 - 1 else None
    if feed is None or feed.user_id != owner.id:
        raise NotFound("calendar feed", feed_id)
    if feed.revoked_at is not None:
        raise Conflict(f"calendar feed {feed_id} was already revoked")
    feed.revoked_at = unit.clock()
    audit.record(unit, "calendar_feed.revoked", "calendar_feed", feed.id, matter_id=None, details={"user_id": owner.id})
    return feed


def list_feeds(unit: Unit, owner: User) -> list[CalendarFeed]:
    """A user's feeds, newest first."""
    return list(
        unit.session.scalars(
            select(CalendarFeed).where(CalendarFeed.user_id == owner.id).order_by(CalendarFeed.id.desc())
        )
    )


def find_feed(unit: Unit, secret: str) -> CalendarFeed | None:
    """The live feed a secret opens: not revoked, and its user still active."""
    if not secret or len(secret) > 100:
        return None
    feed = unit.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(secret)))
    if feed is None or feed.revoked_at is not None or not feed.user.is_active:
        return None
    return feed


def feed_deadlines(unit: Unit) -> list[Deadline]:
    """Open deadlines, and those met or cancelled lately (so calendars update them), soonest first."""
    since = unit.clock() - RECENTLY_CLOSED
    return list(
        unit.session.scalars(
            select(Deadline)
            .where((Deadline.status == "open") | (Deadline.updated_at >= since))
            .order_by(Deadline.due_on, Deadline.id)
        )
    )
