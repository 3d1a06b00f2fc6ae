"""Which days the court is closed: US federal legal holidays (with observed dates) and configured closures.

FRCP 6(a)(6) counts as legal holidays the days set aside by statute, any day declared by the President
or Congress, and, for periods in days, the state holidays where the district court sits. The `holidays`
package supplies the federal ones (and a state's, when PRESERVATION_COURT_STATE names it); days the
President declares or the clerk's office is inaccessible (6(a)(3)) are configured as closures.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Mapping

import holidays


class CourtCalendar:
    """Names the holiday or closure of a day, or None; safe to share between threads."""

    def __init__(self, closures: Mapping[dt.date, str] | None = None, state: str | None = None) -> None:
        self._closures = dict(closures or {})
        # The holidays object fills a year on first lookup; the lock keeps two threads from doing it at once.
        self._holidays = holidays.country_holidays("US", subdiv=state, observed=True)
        self._lock = threading.Lock()

    def closure(self, day: dt.date) -> str | None:
        """Why the court is closed on this weekday, if it is."""
        if day in self._closures:
            return self._closures[day]
        with self._lock:
            name = self._holidays.get(day)
        return str(name) if name else None


def court_calendar(closures: Iterable[dt.date] = (), state: str | None = None) -> CourtCalendar:
    """The calendar of the configured court: federal holidays, the state's when named, and closures."""
    return CourtCalendar(dict.fromkeys(closures, "a day the court is closed (configured)"), state)
