"""Alerts owed by deadlines: created once under a unique key, addressed to their recipients, acknowledged."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from preservation.domain import alerting
from preservation.domain.errors import Conflict, FieldError, NotFound
from preservation.domain.rules import check_email
from preservation.domain.vocabulary import ALERT_CHANNELS, USER_ROLES
from preservation.models import (
    Alert,
    AlertDelivery,
    AlertSubscription,
    DataSource,
    Deadline,
    Matter,
    Obligation,
    User,
)
from preservation.services import audit
from preservation.services.deadlines import local_date
from preservation.services.pages import Page, escape_like, paginate
from preservation.services.unit import Unit

log = logging.getLogger(__name__)

# Where an alert goes when no route reaches anybody: the console, so it is never silently dropped.
NOBODY = ("console", "no-recipient")


@dataclass(frozen=True)
class AlertPolicy:
    """What alerts are owed and to whom by default."""

    thresholds: tuple[int, ...] = alerting.DEFAULT_THRESHOLDS
    timezone: str = "UTC"
    default_routes: tuple[str, ...] = ("email:role:counsel", "email:role:admin")
    public_url: str | None = None


def dedupe_key(deadline: Deadline, mark: alerting.Mark) -> str:
    """`deadline:42:2027-01-19:7d`: the due date is part of the key, so a moved deadline owes new alerts."""
    return f"deadline:{deadline.id}:{deadline.due_on.isoformat()}:{mark.label}"


def _insert(session: Session) -> Any:
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def cancel_pending(session: Session, alert_ids: list[int], reason: str) -> int:
    """Stop deliveries not yet made of these alerts."""
    if not alert_ids:
        return 0
    result = session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.alert_id.in_(alert_ids), AlertDelivery.status == "pending")
        .values(status="cancelled", last_error=reason, claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def cancel_for_closed_deadlines(session: Session) -> int:
    """Cancel deliveries not yet made of alerts whose deadline was met, cancelled or moved."""
    stale = (
        select(Alert.id)
        .join(Deadline, Alert.deadline_id == Deadline.id)
        .where((Deadline.status != "open") | (Deadline.due_on != Alert.due_on))
    )
    pending = list(
        session.scalars(
            select(AlertDelivery.alert_id).where(AlertDelivery.status == "pending", AlertDelivery.alert_id.in_(stale))
        )
    )
    return cancel_pending(session, sorted(set(pending)), "deadline met, cancelled or moved")


def raise_alerts(unit: Unit, deadline_id: int, policy: AlertPolicy) -> list[Alert]:
    """Create the alerts a deadline owes as of now and not yet created, oldest mark first; flushes."""
    session = unit.session
    deadline = session.get(Deadline, deadline_id)
    if deadline is None:
        return []
    if deadline.status != "open":
        return []
    now = unit.clock()
    today = local_date(now, policy.timezone)
    marks = alerting.owed_marks(
        deadline.due_on, today, local_date(deadline.known_since, policy.timezone), policy.thresholds
    )
    created_keys = set(session.scalars(select(Alert.dedupe_key).where(Alert.deadline_id == deadline.id)))
    created: list[Alert] = []
    for mark in marks:
        key = dedupe_key(deadline, mark)
        if key in created_keys:
            continue
        alert = _create_alert(unit, deadline, mark, key, today=today, policy=policy)
        if alert is not None:
            created.append(alert)
    return created


def _create_alert(
    unit: Unit, deadline: Deadline, mark: alerting.Mark, key: str, *, today: dt.date, policy: AlertPolicy
) -> Alert | None:
    session = unit.session
    now = unit.clock()
    days_left = alerting.days_until(deadline.due_on, today)
    subject = f"[preservation] {alerting.describe_days_left(days_left).capitalize()}: {deadline.title}"[:500]
    # Another sweep may have created it a moment ago: the unique key decides, quietly.
    alert_id = session.execute(
        _insert(session)(Alert)
        .values(
            dedupe_key=key,
            deadline_id=deadline.id,
            threshold=mark.label,
            days_left=days_left,
            due_on=deadline.due_on,
            subject=subject,
            body="",
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Alert.id)
    ).scalar()
    if alert_id is None:
        return None
    alert = session.get(Alert, alert_id)
    assert alert is not None  # noqa: S101  (just inserted in this transaction)
    alert.body = _body(alert, deadline, days_left, policy)
    routes = recipients(session, deadline, policy.default_routes)
    if not routes:
        log.warning("alert %s reaches nobody: no subscription or user matches; sent to the console", key)
        routes = [NOBODY]
    for channel, target in routes:
        session.add(
            AlertDelivery(
                alert_id=alert.id,
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
    return alert


def _body(alert: Alert, deadline: Deadline, days_left: int, policy: AlertPolicy) -> str:
    computation = deadline.computation or {}
    lines = [
        deadline.title,
        "",
        f"Due on {deadline.due_on.isoformat()}: {alerting.describe_days_left(days_left)}"
        f" (threshold {alert.threshold}).",
        f"How the date was computed: {computation.get('rule', 'as entered')}.",
    ]
    for step in computation.get("steps", []):
        lines.append(f"  - {step.get('rule')}: {step.get('note')}")
    if deadline.due_at is not None:
        lines.append(f"Act before {deadline.due_at.isoformat()}.")
    base = policy.public_url or ""
    lines += [
        "",
        f"Deadline: {base}/api/v1/deadlines/{deadline.id}",
        f"Acknowledge this alert: POST {base}/api/v1/alerts/{alert.id}/acknowledge",
        f"Alert key: {alert.dedupe_key}",
    ]
    return "\n".join(lines)


def deadline_matter_ids(session: Session, deadline: Deadline) -> set[int]:
    """The matters a deadline concerns (a data source can serve several)."""
    if deadline.matter_id is not None:
        return {deadline.matter_id}
    if deadline.subject_type == "data_source":
        source = session.get(DataSource, deadline.subject_id)
        if source is not None:
            return {o.order.matter_id for o in source.obligations}
    if deadline.subject_type == "obligation":
        obligation = session.get(Obligation, deadline.subject_id)
        if obligation is not None:
            return {obligation.order.matter_id}
    return set()


def recipients(session: Session, deadline: Deadline, default_routes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(channel, target) pairs: the matter's subscriptions and the all-matter ones, else the default routes."""
    matter_ids = deadline_matter_ids(session, deadline)
    subscriptions = session.scalars(
        select(AlertSubscription)
        .where(AlertSubscription.matter_id.is_(None) | AlertSubscription.matter_id.in_(matter_ids))
        .order_by(AlertSubscription.id)
    )
    routes = [(s.channel, s.target) for s in subscriptions]
    if not routes:
        routes = [tuple(route.split(":", 1)) for route in default_routes]  # type: ignore[misc]
    resolved: list[tuple[str, str]] = []
    for channel, target in routes:
        if channel == "email" and target.startswith("role:"):
            role = target.removeprefix("role:")
            emails = session.scalars(
                select(User.email).where(User.role == role, User.is_active.is_(True)).order_by(User.email)
            )
            resolved.extend(("email", email) for email in emails)
        else:
            resolved.append((channel, target))
    return list(dict.fromkeys(resolved))


# Custodian notice emails travel in the same outbox as rows of `alerts` without a deadline
# (services/notice_mail.py). They are messages to custodians, not alerts for the team: the list and
# acknowledgement of alerts leave them out, and a custodian acknowledges a notice on its own page.
IS_DEADLINE_ALERT = Alert.deadline_id.is_not(None)


def list_alerts(
    unit: Unit,
    page: int,
    per_page: int,
    *,
    deadline_id: int | None = None,
    matter_id: int | None = None,
    acknowledged: bool | None = None,
    search: str = "",
) -> Page:
    """Alerts, newest first; `search` looks in the subject and the body."""
    query = select(Alert).where(IS_DEADLINE_ALERT).options(selectinload(Alert.deliveries)).order_by(Alert.id.desc())
    if search:
        pattern = f"%{escape_like(search)}%"
        query = query.where(or_(Alert.subject.ilike(pattern, escape="\\"), Alert.body.ilike(pattern, escape="\\")))
    if deadline_id is not None:
        query = query.where(Alert.deadline_id == deadline_id)
    if matter_id is not None:
        query = query.join(Deadline, Alert.deadline_id == Deadline.id).where(Deadline.matter_id == matter_id)
    if acknowledged is True:
        query = query.where(Alert.acknowledged_at.is_not(None))
    elif acknowledged is False:
        query = query.where(Alert.acknowledged_at.is_(None))
    return paginate(unit.session, query, page, per_page)


def acknowledge(unit: Unit, alert_id: int) -> tuple[Alert, bool]:
    """Record that the acting user read an alert; (alert, newly acknowledged). A second call changes nothing."""
    alert: Alert = unit.get(Alert, alert_id)
    if alert.deadline_id is None:
        raise NotFound("Alert", alert_id)
    if alert.acknowledged_at is not None:
        return alert, False
    alert.acknowledged_at = unit.clock()
    alert.acknowledged_by = unit.actor
    matter_id = alert.deadline.matter_id if alert.deadline is not None else None
    audit.record(
        unit,
        "alert.acknowledged",
        "alert",
        alert.id,
        matter_id=matter_id,
        details={"dedupe_key": alert.dedupe_key, "threshold": alert.threshold, "deadline_id": alert.deadline_id},
    )
    return alert, True


def subscribe(unit: Unit, channel: str, target: str, matter_id: int | None = None) -> AlertSubscription:
    """Send a matter's alerts (every matter's without one) to an address, a role, a webhook or a topic."""
    if channel not in ALERT_CHANNELS:
        raise FieldError("channel", f"must be one of {', '.join(ALERT_CHANNELS)}")
    target = _check_target(channel, target.strip())
    if matter_id is not None:
        unit.get(Matter, matter_id)
    duplicate = unit.session.scalar(
        select(AlertSubscription.id).where(
            AlertSubscription.channel == channel,
            AlertSubscription.target == target,
            AlertSubscription.matter_id.is_(None) if matter_id is None else AlertSubscription.matter_id == matter_id,
        )
    )
    if duplicate is not None:
        raise Conflict(f"subscription {duplicate} already sends these alerts there")
    row = AlertSubscription(
        matter_id=matter_id, channel=channel, target=target, created_at=unit.clock(), created_by=unit.actor
    )
    unit.session.add(row)
    unit.session.flush()
    audit.record(
        unit,
        "alert_subscription.created",
        "alert_subscription",
        row.id,
        matter_id=matter_id,
        details={"channel": channel, "target": target},
    )
    return row


def _check_target(channel: str, target: str) -> str:
    if channel == "email":
        if target.startswith("role:"):
            if target.removeprefix("role:") not in USER_ROLES:
                raise FieldError("target", f"role must be one of {', '.join(USER_ROLES)}")
            return target
        return check_email(target)
    if channel == "webhook" and not target.startswith(("https://", "http://")):
        raise FieldError("target", "a webhook target is an http(s) URL")
    if channel == "sns" and not target.startswith("arn:"):
        raise FieldError("target", "an sns target is a topic ARN")
    if not target or len(target) > 2048:
        raise FieldError("target", "must be 1-2048 characters")
    return target


def unsubscribe(unit: Unit, subscription_id: int) -> None:
    """Stop a subscription."""
    row: AlertSubscription = unit.get(AlertSubscription, subscription_id)
    audit.record(
        unit,
        "alert_subscription.removed",
        "alert_subscription",
        row.id,
        matter_id=row.matter_id,
        details={"channel": row.channel, "target": row.target},
    )
    unit.session.delete(row)
    unit.session.flush()


def list_subscriptions(unit: Unit) -> list[AlertSubscription]:
    """Every subscription."""
    return list(unit.session.scalars(select(AlertSubscription).order_by(AlertSubscription.id)))
