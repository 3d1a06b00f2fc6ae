"""Settings of custodian notices: link lifetime, reminder cadence, escalation, departure warnings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

PREFIX = "PRESERVATION_"
VARIABLES = ("NOTICE_LINK_DAYS", "NOTICE_REMINDER_DAYS", "NOTICE_ESCALATION_DAYS", "NOTICE_DEPARTURE_WARNING_DAYS")


class NoticeSettingsError(ValueError):
    """A notice setting that is not a whole number of days in range."""


def _days(env: Mapping[str, str], name: str, default: int, maximum: int = 3650) -> int:
    raw = env.get(PREFIX + name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise NoticeSettingsError(f"{PREFIX}{name} must be a whole number of days, not {raw!r}") from error
    if not 1 <= value <= maximum:
        raise NoticeSettingsError(f"{PREFIX}{name} must be between 1 and {maximum} days")
    return value


@dataclass(frozen=True)
class NoticeSettings:
    """How long a notice link works, how often the unacknowledged are reminded, when their manager hears."""

    link_valid_days: int = 60
    reminder_every_days: int = 3
    escalate_after_days: int = 7
    departure_warning_days: int = 14

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NoticeSettings:
        """Read PRESERVATION_NOTICE_* from the environment."""
        env = os.environ if environ is None else environ
        return cls(
            link_valid_days=_days(env, "NOTICE_LINK_DAYS", 60),
            reminder_every_days=_days(env, "NOTICE_REMINDER_DAYS", 3),
            escalate_after_days=_days(env, "NOTICE_ESCALATION_DAYS", 7),
            departure_warning_days=_days(env, "NOTICE_DEPARTURE_WARNING_DAYS", 14),
        )
