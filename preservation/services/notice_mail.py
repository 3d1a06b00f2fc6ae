"""Notice emails go through the alert outbox: a row written with the change, delivered after the commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from preservation.models import Alert, AlertDelivery, User
from preservation.services.alerts import NOBODY, _insert
from preservation.services.unit import Unit


@dataclass(frozen=True)
class NoticePolicy:
    """How notices are linked, reminded and escalated (PRESERVATION_NOTICE_* settings)."""

    secret: str
    public_url: str = ""
    link_valid_days: int = 60
    reminder_every_days: int = 3
    escalate_after_days: int = 7
    # Warn this many days before a held custodian's employment ends.
    departure_warning_days: int = 14

    @property
    def link_max_age_seconds(self) -> int:
        """How long a notice link stays valid."""
        return self.link_valid_days * 86_400

    def notice_url(self, token: str) -> str:
        """The public page of a notice."""
        return f"{self.public_url.rstrip('/')}/notices/{token}"


def counsel_addresses(unit: Unit) -> list[str]:
    """Every active counsel user's email (counsel answers custodians' questions and escalations)."""
    return list(
        unit.session.scalars(
            select(User.email).where(User.role == "counsel", User.is_active.is_(True)).order_by(User.email)
        )
    )


def queue_email(unit: Unit, key: str, subject: str, body: str, *, targets: Iterable[str], label: str) -> Alert | None:
    """Write one message and its deliveries to the outbox under a unique key; None if the key was used already."""
    session = unit.session
    now = unit.clock()
    alert_id = session.execute(
        _insert(session)(Alert)
        .values(
            dedupe_key=key[:200],
            deadline_id=None,
            threshold=label[:30],
            days_left=0,
            due_on=now.date(),
            subject=subject[:500],
            body=body,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Alert.id)
    ).scalar()
    if alert_id is None:
        return None
    routes = [("email", target) for target in dict.fromkeys(targets)] or [NOBODY]
    for channel, target in routes:
        session.add(
            AlertDelivery(
                alert_id=alert_id,
                channel=channel,
                target=target,
                purpose="notify",
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.flush()
    return session.get(Alert, alert_id)
