"""How the pages write times, countdowns and statuses, and the pieces every list page shares."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, request, url_for

from preservation.domain.status_history import StatusDay
from preservation.domain.vocabulary import DATA_SOURCE_STATUSES

# Which badge colour goes with which status; the status word is always printed too.
TONES = {
    "preserved": "good",
    "acknowledged": "good",
    "confirmed": "good",
    "awaiting": "warn",
    "reissue_owed": "warn",
    "overdue": "bad",
    "escalated": "bad",
    "succeeded": "good",
    "met": "good",
    "satisfied": "good",
    "at_risk": "warn",
    "notified": "warn",
    "pending": "warn",
    "in_progress": "warn",
    "running": "warn",
    "unverifiable": "bad",
    "lost": "bad",
    "failed": "bad",
    "abandoned": "bad",
    "critical": "bad",
    "high": "bad",
    "medium": "warn",
}
PER_PAGE = 25


def countdown(moment: dt.datetime | dt.date | None, now: dt.datetime | None = None) -> str:
    """A moment as people say it: "in 12 days", "in 5 hours", "3 days ago", "today"."""
    if moment is None:
        return "no date known"
    now = now or dt.datetime.now(dt.UTC)
    if isinstance(moment, dt.datetime):
        seconds = (moment - now).total_seconds()
    else:
        seconds = (moment - now.date()).days * 86400.0
        if seconds == 0:
            return "today"
    size = abs(seconds)
    if size >= 2 * 86400:
        amount = f"{int(size // 86400)} days"
    elif size >= 86400:
        amount = "1 day"
    elif size >= 7200:
        amount = f"{int(size // 3600)} hours"
    elif size >= 120:
        amount = f"{int(size // 60)} minutes"
    else:
        amount = "moments"
    return f"in {amount}" if seconds >= 0 else f"{amount} ago"


def when(moment: dt.datetime | dt.date | None) -> str:
    """A time in UTC to the minute, or a date."""
    if moment is None:
        return "—"
    if isinstance(moment, dt.datetime):
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return moment.isoformat()


def words(value: str | None) -> str:
    """A vocabulary word as text: at_risk -> at risk."""
    return (value or "").replace("_", " ")


def page_number(name: str = "page") -> int:
    """The page asked for in the query string (under `name` on a page of several lists); 1 when absent or nonsense."""
    value = request.args.get(name, "1")
    return int(value) if value.isdigit() and 0 < int(value) <= 100_000 else 1


def query_text(name: str, limit: int = 200) -> str:
    """A filter from the query string, trimmed and capped."""
    return (request.args.get(name) or "").strip()[:limit]


def query_choice(name: str, allowed: tuple[str, ...]) -> str:
    """A filter that must be one of the allowed words; anything else means no filter."""
    value = request.args.get(name) or ""
    return value if value in allowed else ""


def status_bars(counts: dict[str, int] | None) -> list[dict[str, Any]]:
    """Horizontal bars of the status chart, widths in percent of the largest count; none before a count."""
    if counts is None:
        return []
    largest = max(counts.values(), default=0) or 1
    return [
        {"status": status, "count": counts.get(status, 0), "width": round(100 * counts.get(status, 0) / largest, 1)}
        for status in DATA_SOURCE_STATUSES
    ]


# Stacking order of the history chart, bottom up; the legend and the table list the same order.
HISTORY_ORDER = ("preserved", "released", "unchecked", "at_risk", "unverifiable", "lost")


def history_columns(days: list[StatusDay], height: int = 80, step: int = 20) -> list[dict[str, Any]]:
    """Stacked columns of sources by status per day, heights in SVG units; a day with no record has no parts."""
    largest = max((day.total for day in days), default=0) or 1
    columns = []
    for index, day in enumerate(days):
        top = float(height)
        parts = []
        for status in HISTORY_ORDER:
            count = (day.counts or {}).get(status, 0)
            if count:
                size = height * count / largest
                top -= size
                parts.append({"status": status, "count": count, "y": round(top, 2), "h": round(size, 2)})
        columns.append(
            {
                "label": day.day.isoformat(),
                "x": index * step,
                "parts": parts,
                "total": day.total,
                "recorded": day.counts is not None,
                "carried_from": day.carried_from,
                "counts": day.counts,
            }
        )
    return columns


def page_url(number: int, name: str = "page") -> str:
    """This page's address with the same filters, at another page number of the list paged by `name`."""
    args = {**request.args.to_dict(), **(request.view_args or {}), name: number}
    return url_for(request.endpoint or "dashboard.overview", **args)


def register_formatting(app: Flask) -> None:
    """Make the formatting functions available to every template."""
    app.jinja_env.filters.update(countdown=countdown, when=when, words=words)
    app.jinja_env.globals.update(tone=lambda status: TONES.get(status or "", "plain"), page_url=page_url)
