"""A clock for tests: it stands still until the test moves it."""

from __future__ import annotations

import datetime as dt


class FrozenClock:
    """A clock that stands still until told to move."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        """Move the clock forward by a timedelta's keyword arguments; returns the new time."""
        self.now += dt.timedelta(**delta)
        return self.now
