"""Fixtures of the custodian notice tests: a frozen clock, a notice policy, records to hold, a real SMTP server."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from preservation.models import Alert, AlertDelivery, Custodian, PreservationOrder
from preservation.services import custodians, matters, orders, users
from preservation.services.notice_mail import NoticePolicy
from preservation.services.unit import Unit
from tests.clock import FrozenClock

SECRET = "test-secret-key"
START = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock at START."""
    return FrozenClock(START)


@pytest.fixture
def policy() -> NoticePolicy:
    """Remind every 3 days, escalate after 7, links valid 60 days."""
    return NoticePolicy(secret=SECRET, public_url="http://localhost")


@pytest.fixture
def frozen(session: DbSession, clock: FrozenClock) -> Unit:
    """A unit of work on the frozen clock."""
    return Unit(session=session, actor="user:counsel@example.org", clock=clock)


@dataclass
class World:
    """A matter with two orders, and custodians: Ana (managed by Max), Ben (no manager), Max."""

    matter_id: int
    order_id: int
    other_order_id: int
    ana: Custodian
    ben: Custodian
    max: Custodian


def make_world(unit: Unit) -> World:
    """Records to hold, committed."""
    matter = matters.create_matter(unit, {"caption": "Doe v. Border Agency", "docket_number": "3:26-cv-01"})
    order = orders.create_order(
        unit,
        matter.id,
        {"kind": "court_order", "title": "Order to preserve camera footage", "compliance_due_on": dt.date(2027, 3, 15)},
    )
    orders.create_obligation(unit, order.id, {"description": "San Ysidro camera archive, Sept. 2026"})
    other = orders.create_order(unit, matter.id, {"kind": "litigation_hold", "title": "Hold on email"})
    boss = custodians.create_custodian(unit, {"name": "Max Manager", "email": "max@example.org"})
    ana = custodians.create_custodian(unit, {"name": "Ana Agent", "email": "ana@example.org", "manager_id": boss.id})
    ben = custodians.create_custodian(unit, {"name": "Ben Builder", "email": "ben@example.org"})
    users.create_user(unit, "lawyer@example.org", "counsel")
    unit.session.commit()
    return World(matter.id, order.id, other.id, ana, ben, boss)


@pytest.fixture
def world(frozen: Unit) -> World:
    """The matter, orders and custodians."""
    return make_world(frozen)


def outbox(session: DbSession, label: str | None = None) -> list[tuple[Alert, list[str]]]:
    """Messages in the outbox (optionally of one kind), with their email targets, oldest first."""
    query = select(Alert).order_by(Alert.id)
    if label is not None:
        query = query.where(Alert.threshold == label)
    result = []
    for alert in session.scalars(query):
        targets = session.scalars(
            select(AlertDelivery.target).where(AlertDelivery.alert_id == alert.id).order_by(AlertDelivery.id)
        )
        result.append((alert, list(targets)))
    return result


def order_of(session: DbSession, order_id: int) -> PreservationOrder:
    """An order, fresh from the database."""
    order = session.get(PreservationOrder, order_id)
    assert order is not None
    return order


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Collect:
    def __init__(self, inbox: list[EmailMessage], lock: threading.Lock) -> None:
        self.inbox = inbox
        self.lock = lock

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
        with self.lock:
            self.inbox.append(message)  # type: ignore[arg-type]
        return "250 accepted"


@dataclass
class Inbox:
    """What the local SMTP server received."""

    port: int
    messages: list[EmailMessage]

    def to(self, address: str) -> list[EmailMessage]:
        """Messages addressed to one recipient."""
        return [m for m in self.messages if str(m["To"]) == address]


@pytest.fixture
def smtp_server() -> Iterator[Inbox]:
    """A real SMTP server on a free local port, stopped after the test."""
    inbox: list[EmailMessage] = []
    port = free_port()
    controller = Controller(_Collect(inbox, threading.Lock()), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Inbox(port, inbox)
    finally:
        controller.stop()


def csrf_token(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def json_of(response: Any) -> Any:
    """A response's JSON, failing with its body when it has none."""
    assert response.is_json, response.get_data(as_text=True)
    return response.get_json()
