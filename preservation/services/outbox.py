"""The alert outbox: claim a delivery, hand it to its channel outside any transaction, then record the answer.

A delivery is marked sent only after the channel accepted it. A dispatcher that dies between the two
leaves a claim that expires, and the next dispatcher sends again: at most one duplicate, carrying the
same key. Failures wait with exponential backoff (never less than a Retry-After); after the last
attempt, or at once for a permanent refusal, the delivery is dead-lettered and escalated on another
channel.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from preservation.domain.alerting import DeliveryFailed, OutgoingAlert, retry_delay
from preservation.models import Alert, AlertDelivery, Deadline
from preservation.services import audit
from preservation.services.unit import Unit


class Notifier(Protocol):
    """A channel: hands one alert to one target, returns the provider's receipt, raises DeliveryFailed."""

    def send(self, message: OutgoingAlert, target: str) -> str:
        """Deliver, or raise DeliveryFailed."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """How failed deliveries are retried and where dead ones are escalated."""

    max_attempts: int = 8
    base_seconds: float = 60.0
    max_seconds: float = 3600.0
    # (channel, target) of the escalation, or None.
    escalation: tuple[str, str] | None = ("console", "escalation")
    # How long a claim holds: longer than any single send takes.
    claim_seconds: float = 300.0


@dataclass(frozen=True)
class Waiting:
    """A pending delivery as the dispatcher plans its run."""

    delivery_id: int
    channel: str
    target: str
    next_attempt_at: dt.datetime
    claimed_until: dt.datetime | None

    @property
    def lane(self) -> tuple[str, str]:
        """Deliveries to one target go out in the order they were created."""
        return (self.channel, self.target)


def waiting(session: Session, limit: int = 500) -> list[Waiting]:
    """Pending deliveries, oldest first."""
    rows = session.execute(
        select(
            AlertDelivery.id,
            AlertDelivery.channel,
            AlertDelivery.target,
            AlertDelivery.next_attempt_at,
            AlertDelivery.claimed_until,
        )
        .where(AlertDelivery.status == "pending")
        .order_by(AlertDelivery.id)
        .limit(limit)
    )
    return [Waiting(*row) for row in rows]


def claim(
    session: Session, delivery_id: int, now: dt.datetime, policy: RetryPolicy
) -> tuple[str, OutgoingAlert] | None:
    """Claim a due delivery for this dispatcher; (claim token, message), or None if it is not to be sent now.

    A delivery whose deadline was met, cancelled or moved is cancelled here instead, so a stale alert
    never goes out even when the sweep has not run since.
    """
    delivery = session.get(AlertDelivery, delivery_id)
    if delivery is None or delivery.status != "pending":
        return None
    alert = delivery.alert
    deadline = alert.deadline
    if deadline is not None and (deadline.status != "open" or deadline.due_on != alert.due_on):
        delivery.status = "cancelled"
        delivery.last_error = "deadline met, cancelled or moved before the alert went out"
        session.flush()
        return None
    token = secrets.token_hex(16)
    result = session.execute(
        update(AlertDelivery)
        .where(
            AlertDelivery.id == delivery_id,
            AlertDelivery.status == "pending",
            AlertDelivery.next_attempt_at <= now,
            or_(AlertDelivery.claimed_until.is_(None), AlertDelivery.claimed_until <= now),
        )
        .values(claim_token=token, claimed_until=now + dt.timedelta(seconds=policy.claim_seconds))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return token, _message(session, delivery, alert)


def _message(session: Session, delivery: AlertDelivery, alert: Alert) -> OutgoingAlert:
    subject, body = alert.subject, alert.body
    if delivery.purpose == "escalation":
        failed = session.scalars(
            select(AlertDelivery).where(
                AlertDelivery.alert_id == alert.id, AlertDelivery.status == "dead", AlertDelivery.purpose == "notify"
            )
        )
        notes = [f"  - {d.channel} {d.target}: {d.attempts} attempts, last error: {d.last_error}" for d in failed]
        subject = f"[undelivered] {subject}"[:500]
        body = "This alert could not be delivered:\n" + "\n".join(notes) + "\n\n" + body
    return OutgoingAlert(alert.id, delivery.id, alert.dedupe_key, subject, body)


def mark_sent(session: Session, delivery_id: int, token: str, now: dt.datetime, receipt: str) -> bool:
    """Record the channel's acceptance; False if the claim was lost (another dispatcher took over)."""
    result = session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == delivery_id, AlertDelivery.claim_token == token)
        .values(
            status="sent",
            sent_at=now,
            provider_message_id=receipt[:500],
            attempts=AlertDelivery.attempts + 1,
            claim_token=None,
            claimed_until=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def record_failure(unit: Unit, delivery_id: int, token: str, failure: DeliveryFailed, policy: RetryPolicy) -> str:
    """Count a failed attempt: schedule the retry, or dead-letter and escalate. The delivery's new status."""
    session = unit.session
    now = unit.clock()
    delivery = session.get(AlertDelivery, delivery_id)
    if delivery is None or delivery.claim_token != token:
        return "lost"
    delivery.attempts += 1
    delivery.last_error = failure.message[:2000]
    delivery.claim_token = None
    delivery.claimed_until = None
    if not failure.permanent and delivery.attempts < policy.max_attempts:
        delay = retry_delay(delivery.attempts, policy.base_seconds, policy.max_seconds, failure.retry_after)
        delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
        session.flush()
        return "pending"
    delivery.status = "dead"
    alert = delivery.alert
    escalation = policy.escalation
    escalated = (
        delivery.purpose == "notify" and escalation is not None and (delivery.channel, delivery.target) != escalation
    )
    if escalated and escalation is not None:
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(
            insert(AlertDelivery)
            .values(
                alert_id=alert.id,
                channel=escalation[0],
                target=escalation[1],
                purpose="escalation",
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing()
        )
    deadline: Deadline | None = alert.deadline
    audit.record(
        unit,
        "alert.dead_lettered",
        "alert_delivery",
        delivery.id,
        matter_id=deadline.matter_id if deadline is not None else None,
        details={
            "alert_id": alert.id,
            "dedupe_key": alert.dedupe_key,
            "channel": delivery.channel,
            "target": delivery.target,
            "attempts": delivery.attempts,
            "error": delivery.last_error,
            "permanent": failure.permanent,
            "escalated_to": f"{escalation[0]}:{escalation[1]}" if escalated and escalation else None,
        },
    )
    session.flush()
    return "dead"


def deliveries_of(session: Session, alert_id: int) -> list[AlertDelivery]:
    """An alert's deliveries, oldest first."""
    return list(
        session.scalars(select(AlertDelivery).where(AlertDelivery.alert_id == alert_id).order_by(AlertDelivery.id))
    )
