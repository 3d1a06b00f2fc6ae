"""Calendar feeds: an iCalendar document of the deadlines per user, behind a revocable secret in its URL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, g, request
from icalendar import Calendar, Event

from preservation.domain.errors import NotFound
from preservation.models import Deadline
from preservation.services import calendar_feeds
from preservation.web import access
from preservation.web.api.common import api_blueprint, documented_errors
from preservation.web.api.scheduling import scheduling_settings
from preservation.web.api.scheduling_schemas import CalendarFeedListSchema, CalendarFeedSchema
from preservation.web.session import unit_of_work

blp = api_blueprint("calendar", "iCalendar feeds of the deadlines, for the litigation team's own calendars.")


def _feed_url(secret: str) -> str:
    base = scheduling_settings().public_url or request.host_url.rstrip("/")
    return f"{base}/api/v1/calendar/{secret}.ics"


@blp.route("/calendar-feeds", methods=["GET"])
@access.readers
@blp.response(200, CalendarFeedListSchema)
@documented_errors(blp, 401, 403)
def list_calendar_feeds() -> dict[str, Any]:
    """Your calendar feeds (their URLs are shown only when made)."""
    return {"items": calendar_feeds.list_feeds(unit_of_work(), g.user)}


@blp.route("/calendar-feeds", methods=["POST"])
@access.readers
@blp.response(201, CalendarFeedSchema)
@documented_errors(blp, 401, 403)
def issue_calendar_feed() -> dict[str, Any]:
    """Make an iCalendar feed of the deadlines for your calendar; its URL is shown this once."""
    unit = unit_of_work()
    feed, secret = calendar_feeds.issue_feed(unit, g.user)
    unit.session.commit()
    return {"id": feed.id, "created_at": feed.created_at, "revoked_at": None, "url": _feed_url(secret)}


@blp.route("/calendar-feeds/<int:feed_id>/revoke", methods=["POST"])
@access.readers
@blp.response(200, CalendarFeedSchema)
@documented_errors(blp, 401, 403, 404, 409)
def revoke_calendar_feed(feed_id: int) -> Any:
    """Stop one of your feeds: its URL no longer answers."""
    unit = unit_of_work()
    feed = calendar_feeds.revoke_feed(unit, feed_id, g.user)
    unit.session.commit()
    return feed


@blp.route("/calendar/<string:secret>.ics", methods=["GET"])
@access.public
def calendar_feed(secret: str) -> Response:
    """The deadlines as iCalendar; the secret in the URL is the credential (revocable)."""
    unit = unit_of_work("calendar-feed")
    if calendar_feeds.find_feed(unit, secret) is None:
        raise NotFound("calendar feed", "for this URL")
    document = render_calendar(calendar_feeds.feed_deadlines(unit), unit.clock())
    return Response(
        document, mimetype="text/calendar", headers={"Content-Disposition": "inline; filename=deadlines.ics"}
    )


def render_calendar(rows: list[Deadline], now: dt.datetime) -> bytes:
    """One all-day event per deadline: a stable UID, SEQUENCE bumped on every change, CANCELLED when closed."""
    calendar = Calendar()
    calendar.add("prodid", "-//preservation-tracker//deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Preservation deadlines")
    base = scheduling_settings().public_url or ""
    for deadline in rows:
        event = Event()
        event.add("uid", f"deadline-{deadline.id}@preservation-tracker")
        event.add("sequence", deadline.sequence)
        event.add("dtstamp", now)
        event.add("last-modified", deadline.updated_at)
        event.add("dtstart", deadline.due_on)
        event.add("dtend", deadline.due_on + dt.timedelta(days=1))
        event.add("summary", deadline.title)
        event.add("status", "CONFIRMED" if deadline.status == "open" else "CANCELLED")
        rule = (deadline.computation or {}).get("rule", "as entered")
        lines = [deadline.title, f"Computed: {rule}", f"{base}/api/v1/deadlines/{deadline.id}"]
        lines += [f"{step.get('rule')}: {step.get('note')}" for step in (deadline.computation or {}).get("steps", [])]
        event.add("description", "\n".join(lines))
        calendar.add_component(event)
    return calendar.to_ical()
