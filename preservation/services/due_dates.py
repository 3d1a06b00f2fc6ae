"""Due dates given as periods: "14 days after service" becomes a date counted in court days (FRCP 6(a)(1))."""

from __future__ import annotations

from typing import Any

from preservation.domain.court_days import Closures, count_period
from preservation.domain.errors import FieldError
from preservation.models import Obligation

PERIOD_FIELDS = ("due_period_days", "due_from", "due_direction")
_CLEARED = dict.fromkeys((*PERIOD_FIELDS, "due_computation"))


def resolve_due_date(changes: dict[str, Any], current: Obligation | None, closures: Closures | None) -> dict[str, Any]:
    """The fields to store: a period becomes due_on plus how it was computed; a plain due_on clears a period."""
    if not any(name in changes for name in PERIOD_FIELDS):
        if changes.get("due_on") is not None and current is not None and current.due_period_days is not None:
            return {**changes, **_CLEARED}
        return changes
    if changes.get("due_on") is not None:
        raise FieldError("due_on", "give either due_on or a period (due_period_days and due_from), not both")
    days = changes.get("due_period_days", current.due_period_days if current else None)
    start = changes.get("due_from", current.due_from if current else None)
    direction = changes.get("due_direction") or (current.due_direction if current else None) or "after"
    if days is None and start is None:
        return {**changes, **_CLEARED}
    if days is None:
        raise FieldError("due_period_days", "a period needs its length in days as well as due_from")
    if start is None:
        raise FieldError("due_from", "a period needs the date it runs from as well as due_period_days")
    if closures is None:
        raise ValueError("counting a period in court days needs the court's calendar")
    try:
        result = count_period(start, days, direction, closures)
    except ValueError as error:
        raise FieldError("due_period_days", str(error)) from None
    return {
        **changes,
        "due_period_days": days,
        "due_from": start,
        "due_direction": direction,
        "due_on": result.due,
        "due_computation": result.as_record(),
    }
