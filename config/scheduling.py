"""Settings of the scheduler, deadlines and alerts: PRESERVATION_* variables read with the others."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass

PREFIX = "PRESERVATION_"
VARIABLES = (
    "SCHEDULER_LEASE_SECONDS",
    "JOB_INTERVALS",
    "HEARTBEAT_STALE_SECONDS",
    "JOB_RUN_RETENTION_DAYS",
    "COURT_TIMEZONE",
    "COURT_CLOSURES",
    "COURT_STATE",
    "DESTRUCTION_MARGIN_HOURS",
    "ALERT_THRESHOLDS_DAYS",
    "ALERT_MAX_ATTEMPTS",
    "ALERT_RETRY_SECONDS",
    "ALERT_RETRY_MAX_SECONDS",
    "ALERT_CLAIM_SECONDS",
    "ALERT_ROUTES",
    "ALERT_ESCALATION",
    "MAIL_TRANSPORT",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "SMTP_TIMEOUT_SECONDS",
    "MAIL_FROM",
    "PUBLIC_URL",
)
MAIL_TRANSPORTS = ("smtp", "ses", "console")
# Channels a route may name, and what their target looks like.
_ROUTE = re.compile(r"^(email|webhook|sns|console):(.+)$")
_JOB_ID = re.compile(r"^[a-z][a-z0-9-]{0,99}$")


@dataclass(frozen=True)
class SchedulingSettings:
    """How the scheduler runs, how deadlines are counted, and how alerts travel."""

    # The leader lease: renewed every third of this; a dead leader is replaced within it.
    lease_seconds: int = 60
    # Per-job overrides of how often each job runs, in seconds: (("alert-dispatch", 30), ...).
    job_intervals: tuple[tuple[str, int], ...] = ()
    heartbeat_stale_seconds: int = 300
    job_run_retention_days: int = 30
    # Deadlines: the court's time zone decides which day "today" is; closures and a state add to
    # the US federal holidays.
    court_timezone: str = "UTC"
    court_closures: tuple[dt.date, ...] = ()
    court_state: str | None = None
    destruction_margin_hours: int = 72
    # Alerts.
    alert_thresholds_days: tuple[int, ...] = (14, 7, 3, 1, 0)
    alert_max_attempts: int = 8
    alert_retry_seconds: int = 60
    alert_retry_max_seconds: int = 3600
    # How long a dispatcher's claim on a delivery lasts: longer than a send takes; a dispatcher killed
    # mid-send delays that delivery (and its one possible duplicate) by at most this.
    alert_claim_seconds: int = 300
    alert_routes: tuple[str, ...] = ("email:role:counsel", "email:role:admin")
    alert_escalation: str | None = "console:escalation"
    mail_transport: str = "console"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_timeout_seconds: int = 30
    mail_from: str = "preservation-tracker@localhost"
    public_url: str | None = None

    def interval_of(self, job_id: str, default: int) -> int:
        """How often a job runs: its override, else its default."""
        return dict(self.job_intervals).get(job_id, default)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SchedulingSettings:
        """Read and check the scheduling variables."""
        from config.settings import SettingsError  # noqa: PLC0415  (settings imports this module)

        reader = _Reader(env, SettingsError)
        smtp_host = reader.text("SMTP_HOST")
        transport = reader.text("MAIL_TRANSPORT") or ("smtp" if smtp_host else "console")
        if transport not in MAIL_TRANSPORTS:
            reader.fail("MAIL_TRANSPORT", f"must be one of {', '.join(MAIL_TRANSPORTS)}, got {transport!r}")
        if transport == "smtp" and not smtp_host:
            reader.fail("SMTP_HOST", "must be set when PRESERVATION_MAIL_TRANSPORT is smtp")
        timezone = reader.text("COURT_TIMEZONE") or "UTC"
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            reader.fail("COURT_TIMEZONE", f"must be an IANA time zone such as America/Los_Angeles, got {timezone!r}")
        return cls(
            lease_seconds=reader.positive("SCHEDULER_LEASE_SECONDS", 60),
            job_intervals=reader.job_intervals("JOB_INTERVALS"),
            heartbeat_stale_seconds=reader.positive("HEARTBEAT_STALE_SECONDS", 300),
            job_run_retention_days=reader.positive("JOB_RUN_RETENTION_DAYS", 30),
            court_timezone=timezone,
            court_closures=reader.dates("COURT_CLOSURES"),
            court_state=reader.text("COURT_STATE"),
            destruction_margin_hours=reader.whole("DESTRUCTION_MARGIN_HOURS", 72),
            alert_thresholds_days=reader.thresholds("ALERT_THRESHOLDS_DAYS"),
            alert_max_attempts=reader.positive("ALERT_MAX_ATTEMPTS", 8),
            alert_retry_seconds=reader.positive("ALERT_RETRY_SECONDS", 60),
            alert_retry_max_seconds=reader.positive("ALERT_RETRY_MAX_SECONDS", 3600),
            alert_claim_seconds=reader.positive("ALERT_CLAIM_SECONDS", 300),
            alert_routes=reader.routes("ALERT_ROUTES", ("email:role:counsel", "email:role:admin")),
            alert_escalation=reader.escalation("ALERT_ESCALATION"),
            mail_transport=transport,
            smtp_host=smtp_host,
            smtp_port=reader.positive("SMTP_PORT", 587),
            smtp_username=reader.text("SMTP_USERNAME"),
            smtp_password=env.get(PREFIX + "SMTP_PASSWORD") or None,
            smtp_starttls=reader.flag("SMTP_STARTTLS", default=True),
            smtp_timeout_seconds=reader.positive("SMTP_TIMEOUT_SECONDS", 30),
            mail_from=reader.text("MAIL_FROM") or "preservation-tracker@localhost",
            public_url=(reader.text("PUBLIC_URL") or "").rstrip("/") or None,
        )


class _Reader:
    """Parses one variable at a time, naming it in every complaint."""

    def __init__(self, env: Mapping[str, str], error: type[ValueError]) -> None:
        self.env = env
        self.error = error

    def fail(self, name: str, reason: str) -> None:
        raise self.error(f"{PREFIX}{name} {reason}")

    def text(self, name: str) -> str | None:
        return (self.env.get(PREFIX + name) or "").strip() or None

    def whole(self, name: str, default: int) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        if not raw.isdigit():
            self.fail(name, f"must be 0 or a positive whole number, got {raw!r}")
        return int(raw)

    def positive(self, name: str, default: int) -> int:
        value = self.whole(name, default)
        if value <= 0:
            self.fail(name, f"must be positive, got {value}")
        return value

    def flag(self, name: str, *, default: bool) -> bool:
        raw = (self.text(name) or "").lower()
        if raw == "":
            return default
        if raw in {"1", "true", "yes", "on"}:
            return True
        if raw not in {"0", "false", "no", "off"}:
            self.fail(name, f"must be 1 or 0 (true/false, yes/no, on/off), got {raw!r}")
        return False

    def _items(self, name: str) -> list[str]:
        return [item.strip() for item in (self.text(name) or "").split(",") if item.strip()]

    def dates(self, name: str) -> tuple[dt.date, ...]:
        days = []
        for item in self._items(name):
            try:
                days.append(dt.date.fromisoformat(item))
            except ValueError:
                self.fail(name, f"must list dates as YYYY-MM-DD separated by commas, got {item!r}")
        return tuple(sorted(set(days)))

    def thresholds(self, name: str) -> tuple[int, ...]:
        items = self._items(name)
        if not items:
            return (14, 7, 3, 1, 0)
        if not all(item.isdigit() and int(item) <= 365 for item in items):
            self.fail(name, f"must list whole numbers of days (0-365) separated by commas, got {items!r}")
        return tuple(sorted({int(item) for item in items}, reverse=True))

    def routes(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        items = self._items(name)
        if not items:
            return default
        for item in items:
            if not _ROUTE.match(item):
                self.fail(name, f"must list CHANNEL:TARGET routes (email, webhook, sns, console), got {item!r}")
        return tuple(items)

    def escalation(self, name: str) -> str | None:
        """One route; unset means the console, "none" means no escalation."""
        if PREFIX + name not in self.env:
            return "console:escalation"
        raw = self.text(name)
        if raw is None or raw.lower() == "none":
            return None
        routes = self.routes(name, ())
        if len(routes) != 1:
            self.fail(name, f"must name one CHANNEL:TARGET route, got {raw!r}")
        return routes[0]

    def job_intervals(self, name: str) -> tuple[tuple[str, int], ...]:
        pairs = []
        for item in self._items(name):
            job_id, _, seconds = item.partition("=")
            if not _JOB_ID.match(job_id.strip()) or not seconds.strip().isdigit() or int(seconds) <= 0:
                self.fail(name, f"must list JOB_ID=SECONDS pairs separated by commas, got {item!r}")
            pairs.append((job_id.strip(), int(seconds)))
        return tuple(pairs)
