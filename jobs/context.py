"""What every job is given: settings, sessions, a clock, the leader's fence, and the outside world's adapters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from preservation.adapters.aws import AwsClients
from preservation.adapters.court_calendar import CourtCalendar, court_calendar
from preservation.adapters.mail import SesMailer, SmtpMailer
from preservation.adapters.notifiers import ConsoleNotifier, SnsNotifier, WebhookNotifier
from preservation.adapters.outbox_file import outbox_file
from preservation.db import begin_read_only, make_engine, make_session_factory
from preservation.services.alerts import AlertPolicy
from preservation.services.deadlines import DeadlinePolicy
from preservation.services.outbox import Notifier, RetryPolicy
from preservation.services.unit import Unit, system_clock

SCHEDULER_ACTOR = "scheduler"


def no_fence(_session: Session) -> None:
    """Manual runs (`preservation jobs run`) hold no lease; their writes are idempotent on their own."""


def build_notifiers(settings: Settings, clock: Callable[[], dt.datetime] = system_clock) -> dict[str, Notifier]:
    """One notifier per channel, the email one by PRESERVATION_MAIL_TRANSPORT."""
    config = settings.scheduling
    console = ConsoleNotifier(outbox_file(settings.instance_path), clock)
    aws = AwsClients()
    email: Notifier
    if config.mail_transport == "smtp" and config.smtp_host:
        email = SmtpMailer(
            config.smtp_host,
            config.smtp_port,
            sender=config.mail_from,
            username=config.smtp_username,
            password=config.smtp_password,
            starttls=config.smtp_starttls,
            timeout=config.smtp_timeout_seconds,
        )
    elif config.mail_transport == "ses":
        email = SesMailer(aws, sender=config.mail_from)
    else:
        email = console
    return {"email": email, "webhook": WebhookNotifier(), "sns": SnsNotifier(aws), "console": console}


@dataclass
class JobContext:
    """One process's means of running jobs; tests build it with a frozen clock and their own notifiers."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Callable[[], dt.datetime] = system_clock
    # Raises LeaseLost when this process no longer leads; checked before each unit of work commits.
    fence: Callable[[Session], None] = no_fence
    holder: str = SCHEDULER_ACTOR
    lease_token: Callable[[], int | None] = lambda: None
    notifiers: dict[str, Notifier] | None = None
    collectors: Any = None
    _calendar: CourtCalendar | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], dt.datetime] = system_clock) -> JobContext:
        """A context with its own engine; close() disposes it."""
        engine = make_engine(
            settings.database_url, pool_size=2, sqlite_busy_timeout=settings.sqlite_busy_timeout_seconds
        )
        return cls(settings=settings, engine=engine, session_factory=make_session_factory(engine), clock=clock)

    def close(self) -> None:
        """Give the database connections back."""
        self.engine.dispose()

    @contextmanager
    def unit(self, *, fenced: bool = True, read_only: bool = False) -> Iterator[Unit]:
        """One transaction: committed if the block succeeds (and, when fenced, this process still leads).

        A read-only one must not write; on SQLite it takes no write lock, so the lease is renewed meanwhile.
        """
        session = self.session_factory()
        if read_only:
            begin_read_only(session)
        try:
            yield Unit(session=session, actor=SCHEDULER_ACTOR, clock=self.clock)
            if fenced:
                self.fence(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def channel_notifiers(self) -> dict[str, Notifier]:
        """The channels, built on first use."""
        if self.notifiers is None:
            self.notifiers = build_notifiers(self.settings, self.clock)
        return self.notifiers

    def check_collectors(self) -> Any:
        """The AWS inspectors retention checks use, built on first use."""
        if self.collectors is None:
            from preservation.adapters.inspectors import build_inspectors  # noqa: PLC0415  (boto3 only when used)

            self.collectors = build_inspectors(max_workers=self.settings.aws_max_concurrency)
        return self.collectors

    def calendar(self) -> CourtCalendar:
        """The court's calendar of holidays and closures."""
        if self._calendar is None:
            config = self.settings.scheduling
            self._calendar = court_calendar(config.court_closures, config.court_state)
        return self._calendar

    def deadline_policy(self) -> DeadlinePolicy:
        """How deadlines are found."""
        config = self.settings.scheduling
        return DeadlinePolicy(
            timezone=config.court_timezone,
            destruction_margin=dt.timedelta(hours=config.destruction_margin_hours),
        )

    def alert_policy(self) -> AlertPolicy:
        """Which alerts are owed and to whom by default."""
        config = self.settings.scheduling
        return AlertPolicy(
            thresholds=config.alert_thresholds_days,
            timezone=config.court_timezone,
            default_routes=config.alert_routes,
            public_url=config.public_url,
        )

    def retry_policy(self) -> RetryPolicy:
        """How failed deliveries are retried and escalated."""
        config = self.settings.scheduling
        escalation = tuple(config.alert_escalation.split(":", 1)) if config.alert_escalation else None
        return RetryPolicy(
            max_attempts=config.alert_max_attempts,
            base_seconds=float(config.alert_retry_seconds),
            max_seconds=float(config.alert_retry_max_seconds),
            claim_seconds=float(config.alert_claim_seconds),
            escalation=escalation,  # type: ignore[arg-type]
        )
