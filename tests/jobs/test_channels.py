"""Delivery through real channels: a local SMTP server that goes away and comes back, a webhook that
answers 429 and 500, permanent refusals dead-lettered and escalated, SES and SNS on moto."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from moto import mock_aws
from sqlalchemy import select

from jobs.context import JobContext
from preservation.adapters.aws import AwsClients
from preservation.adapters.mail import SesMailer, SmtpMailer
from preservation.adapters.notifiers import ConsoleNotifier, SnsNotifier, WebhookNotifier, parse_retry_after
from preservation.domain.alerting import DeliveryFailed, OutgoingAlert
from preservation.models import AlertDelivery, AuditEvent
from preservation.services import alerts
from tests.jobs.conftest import FrozenClock, free_port, obligation_due
from tests.jobs.servers import MailServer, WebhookServer
from tests.jobs.test_sweep_and_dispatch import run

MESSAGE = OutgoingAlert(7, 11, "deadline:3:2027-01-19:7d", "Due in 7 days: Obligation 3", "Body")


def deliveries(ctx: JobContext) -> list[AlertDelivery]:
    with ctx.unit(fenced=False) as unit:
        rows = list(unit.session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))
        for row in rows:
            _ = row.alert.threshold
        return rows


@pytest.fixture
def smtp_ctx(ctx: JobContext, mail_server: MailServer, counsel: str) -> JobContext:
    """The context's email channel is the local SMTP server (no TLS, no login)."""
    assert ctx.notifiers is not None
    ctx.notifiers["email"] = SmtpMailer(
        "127.0.0.1", mail_server.port, sender="alerts@example.org", starttls=False, timeout=5
    )
    return ctx


def test_alerts_wait_while_the_mail_server_is_down_and_go_out_when_it_returns(
    smtp_ctx: JobContext, clock: FrozenClock, mail_server: MailServer
) -> None:
    ctx = smtp_ctx
    due = clock.now.date() + dt.timedelta(days=8)
    with ctx.unit(fenced=False) as unit:
        obligation_due(unit, due)
    clock.advance(days=1)  # 7 days left
    run(ctx, "deadline-sweep")
    assert run(ctx, "alert-dispatch").details["sent"] == 1
    first = mail_server.messages()[0]
    assert first["To"] == "counsel@example.org"
    assert first["From"] == "alerts@example.org"
    assert first["X-Preservation-Alert"].endswith(":7d")
    assert "Acknowledge this alert: POST /api/v1/alerts/1/acknowledge" in first.get_content()

    mail_server.stop()
    clock.advance(days=4)  # 3 days left
    run(ctx, "deadline-sweep")
    assert run(ctx, "alert-dispatch").details == {"sent": 0, "retrying": 1, "dead": 0, "waiting": 0}
    waiting = deliveries(ctx)[-1]
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert waiting.next_attempt_at == clock.now + dt.timedelta(seconds=60)
    assert "unreachable" in (waiting.last_error or "")

    # Two days later (still down): the 1-day alert is created but waits behind the 3-day one.
    clock.advance(days=2)
    run(ctx, "deadline-sweep")
    assert run(ctx, "alert-dispatch").details == {"sent": 0, "retrying": 1, "dead": 0, "waiting": 1}

    mail_server.start()
    clock.advance(minutes=5)
    assert run(ctx, "alert-dispatch").details == {"sent": 2, "retrying": 0, "dead": 0, "waiting": 0}
    assert [key.rsplit(":", 1)[1] for key in mail_server.alert_keys()] == ["7d", "3d", "1d"]
    assert [d.status for d in deliveries(ctx)] == ["sent", "sent", "sent"]
    # Nothing is sent twice however often the dispatcher runs.
    run(ctx, "alert-dispatch")
    assert len(mail_server.messages()) == 3


def test_after_the_last_attempt_a_delivery_is_dead_lettered_and_escalated(
    smtp_ctx: JobContext, clock: FrozenClock, mail_server: MailServer, tmp_path: Path
) -> None:
    ctx = smtp_ctx
    mail_server.stop()
    with ctx.unit(fenced=False) as unit:
        obligation_due(unit, clock.now.date() + dt.timedelta(days=3))
    run(ctx, "deadline-sweep")
    waits = []
    for _attempt in range(4):  # alert_max_attempts is 4 in these tests
        run(ctx, "alert-dispatch")
        delivery = deliveries(ctx)[0]
        waits.append((delivery.next_attempt_at - clock.now).total_seconds())
        clock.advance(hours=2)
    assert waits[:3] == [60, 120, 240]  # exponential backoff
    assert delivery.status == "dead"
    run(ctx, "alert-dispatch")
    escalation = deliveries(ctx)[-1]
    assert (escalation.purpose, escalation.channel, escalation.status) == ("escalation", "console", "sent")
    outbox = (tmp_path / "outbox.jsonl").read_text()
    assert "[undelivered]" in outbox
    assert "4 attempts" in outbox
    with ctx.unit(fenced=False) as unit:
        event = unit.session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.dead_lettered")).one()
        assert '"escalated_to":"console:escalation"' in event.details


def test_a_webhook_answering_429_then_500_is_retried_after_its_retry_after_then_delivered(
    ctx: JobContext, clock: FrozenClock, webhook_server: WebhookServer
) -> None:
    assert ctx.notifiers is not None
    ctx.notifiers["webhook"] = WebhookNotifier(min_interval=0)
    with ctx.unit(fenced=False) as unit:
        obligation_due(unit, clock.now.date() + dt.timedelta(days=1))
        alerts.subscribe(unit, "webhook", webhook_server.url)
    run(ctx, "deadline-sweep")
    webhook_server.script.extend([(429, {"Retry-After": "300"}), (500, {})])

    run(ctx, "alert-dispatch")
    delivery = deliveries(ctx)[0]
    assert delivery.channel == "webhook"
    assert delivery.next_attempt_at == clock.now + dt.timedelta(seconds=300)  # Retry-After beats the 60 s backoff
    clock.advance(seconds=299)
    assert run(ctx, "alert-dispatch").details["waiting"] == 1
    clock.advance(seconds=1)
    run(ctx, "alert-dispatch")
    delivery = deliveries(ctx)[0]
    assert delivery.next_attempt_at == clock.now + dt.timedelta(seconds=120)
    clock.advance(seconds=120)
    assert run(ctx, "alert-dispatch").details["sent"] == 1
    assert [r["status"] for r in webhook_server.received] == [429, 500, 200]
    posted = webhook_server.received[-1]
    assert posted["body"]["text"].startswith("*[preservation] Due tomorrow")
    assert posted["headers"]["Idempotency-Key"].startswith("deadline:1:")


def test_a_webhook_refusing_for_good_is_dead_lettered_at_once(
    ctx: JobContext, clock: FrozenClock, webhook_server: WebhookServer
) -> None:
    assert ctx.notifiers is not None
    ctx.notifiers["webhook"] = WebhookNotifier(min_interval=0)
    with ctx.unit(fenced=False) as unit:
        obligation_due(unit, clock.now.date())
        alerts.subscribe(unit, "webhook", webhook_server.url)
    run(ctx, "deadline-sweep")
    webhook_server.script.append((404, {}))
    assert run(ctx, "alert-dispatch").details["dead"] == 1
    assert deliveries(ctx)[0].attempts == 1


def test_webhooks_are_paced_to_one_message_a_second() -> None:
    slept: list[float] = []
    now = [100.0]
    notifier = WebhookNotifier(sleep=slept.append, monotonic=lambda: now[0])
    notifier._pace("https://hooks.example/a")
    now[0] += 0.25
    notifier._pace("https://hooks.example/a")
    notifier._pace("https://hooks.example/b")
    assert slept == [0.75]
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412470.0) == 10
    assert parse_retry_after("soon") is None


def test_a_smtp_server_refusing_the_recipient_for_good_is_not_retried(
    smtp_ctx: JobContext, clock: FrozenClock, mail_server: MailServer, tmp_path: Path
) -> None:
    ctx = smtp_ctx
    mail_server.refused["counsel@example.org"] = "550 5.1.1 <counsel@example.org>: no such mailbox"
    with ctx.unit(fenced=False) as unit:
        obligation_due(unit, clock.now.date() + dt.timedelta(days=3))
    run(ctx, "deadline-sweep")

    assert run(ctx, "alert-dispatch").details == {"sent": 0, "retrying": 0, "dead": 1, "waiting": 0}
    refused = deliveries(ctx)[0]
    assert (refused.status, refused.attempts) == ("dead", 1)
    assert refused.last_error == "SMTP refused the recipient: [550]"
    assert mail_server.messages() == []
    # Dead-lettered at once and escalated; hours later it is still not tried again.
    clock.advance(hours=6)
    run(ctx, "alert-dispatch")
    notify, escalation = deliveries(ctx)
    assert (notify.status, notify.attempts) == ("dead", 1)
    assert (escalation.purpose, escalation.channel, escalation.status) == ("escalation", "console", "sent")
    assert "SMTP refused the recipient: [550]" in (tmp_path / "outbox.jsonl").read_text()
    assert mail_server.messages() == []


def test_a_smtp_server_refusing_the_recipient_for_now_is_retried(mail_server: MailServer) -> None:
    mail_server.refused["counsel@example.org"] = "450 4.2.1 mailbox busy, try later"
    mailer = SmtpMailer("127.0.0.1", mail_server.port, sender="alerts@example.org", starttls=False)
    with pytest.raises(DeliveryFailed) as busy:
        mailer.send(MESSAGE, "counsel@example.org")
    assert (busy.value.message, busy.value.permanent) == ("SMTP refused the recipient: [450]", False)
    del mail_server.refused["counsel@example.org"]
    assert mailer.send(MESSAGE, "counsel@example.org").endswith("@preservation-tracker>")


def test_the_smtp_receipt_is_a_stable_message_id_and_a_missing_starttls_is_permanent(
    mail_server: MailServer,
) -> None:
    mailer = SmtpMailer("127.0.0.1", mail_server.port, sender="alerts@example.org", starttls=False)
    receipt = mailer.send(MESSAGE, "counsel@example.org")
    assert receipt.startswith("<")
    assert receipt.endswith("@preservation-tracker>")
    # The same delivery carries the same Message-ID on every try.
    assert mailer.send(MESSAGE, "counsel@example.org") == receipt
    # This server offers no STARTTLS: asking for it is a configuration error, not a passing outage.
    with pytest.raises(DeliveryFailed) as refused:
        SmtpMailer("127.0.0.1", mail_server.port, sender="alerts@example.org", starttls=True).send(MESSAGE, "x@y.org")
    assert refused.value.permanent


@pytest.fixture
def aws() -> Iterator[AwsClients]:
    with mock_aws():
        yield AwsClients(boto3.session.Session(region_name="us-east-1"))


def test_ses_and_sns_accept_alerts_and_refusals_are_permanent(aws: AwsClients) -> None:
    ses = aws.client("ses", "us-east-1")
    ses.verify_email_identity(EmailAddress="alerts@example.org")
    assert SesMailer(aws, sender="alerts@example.org").send(MESSAGE, "counsel@example.org")
    with pytest.raises(DeliveryFailed) as unverified:
        SesMailer(aws, sender="nobody@elsewhere.example").send(MESSAGE, "counsel@example.org")
    assert unverified.value.permanent
    topic = aws.client("sns", "us-east-1").create_topic(Name="preservation-alerts")["TopicArn"]
    assert SnsNotifier(aws).send(MESSAGE, topic)
    fifo = aws.client("sns", "us-east-1").create_topic(
        Name="alerts.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "false"}
    )["TopicArn"]
    assert SnsNotifier(aws).send(MESSAGE, fifo)
    with pytest.raises(DeliveryFailed) as missing:
        SnsNotifier(aws).send(MESSAGE, topic + "-gone")
    assert missing.value.permanent


def test_the_console_outbox_keeps_every_alert(tmp_path: Path) -> None:
    console = ConsoleNotifier(tmp_path / "out" / "outbox.jsonl")
    assert console.send(MESSAGE, "counsel@example.org") == "console"
    assert '"key": "deadline:3:2027-01-19:7d"' in (tmp_path / "out" / "outbox.jsonl").read_text()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_smtp_with_starttls_and_login(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)

    def authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        return AuthResult(success=(data.login, data.password) == (b"alerts", b"s3cret"), handled=False)

    server = MailServer(
        free_port(), tls_context=server_tls, require_starttls=True, authenticator=authenticate, auth_required=True
    )
    server.start()
    try:
        trusted = ssl.create_default_context(cafile=str(cert))
        mailer = SmtpMailer(
            "127.0.0.1",
            server.port,
            sender="alerts@example.org",
            username="alerts",
            password="s3cret",
            tls_context=trusted,
        )
        mailer.send(MESSAGE, "counsel@example.org")
        assert server.alert_keys() == [MESSAGE.dedupe_key]
        with pytest.raises(DeliveryFailed) as refused:
            SmtpMailer(
                "127.0.0.1",
                server.port,
                sender="a@example.org",
                username="alerts",
                password="wrong",
                tls_context=trusted,
            ).send(MESSAGE, "counsel@example.org")
        assert refused.value.permanent
        # Without trusting the server's certificate nothing is sent, and it is not a passing outage.
        with pytest.raises(DeliveryFailed) as untrusted:
            SmtpMailer("127.0.0.1", server.port, sender="a@example.org", username="alerts", password="s3cret").send(
                MESSAGE, "counsel@example.org"
            )
        assert untrusted.value.permanent
        assert len(server.messages()) == 1
    finally:
        server.stop()


def test_ses_and_sns_carry_the_delivery_key_a_duplicate_shares(aws: AwsClients) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    def keep(params: dict[str, Any], model: Any, **_kwargs: Any) -> None:
        sent.append((model.name, params))

    ses = aws.client("ses")
    ses.verify_email_identity(EmailAddress="alerts@example.org")
    ses.meta.events.register("provide-client-params.ses.SendEmail", keep)
    sns = aws.client("sns", "us-east-1")
    sns.meta.events.register("provide-client-params.sns.Publish", keep)
    topic = sns.create_topic(Name="preservation-alerts")["TopicArn"]
    fifo = sns.create_topic(Name="alerts.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]

    for _try in range(2):  # a retry after a crash sends the same keys
        SesMailer(aws, sender="alerts@example.org").send(MESSAGE, "counsel@example.org")
        SnsNotifier(aws).send(MESSAGE, topic)
        SnsNotifier(aws).send(MESSAGE, fifo)

    digest = hashlib.sha256(b"deadline:3:2027-01-19:7d:delivery-11").hexdigest()
    first, second = sent[:3], sent[3:]
    assert first == second
    (_, email), (_, standard), (_, ordered) = first
    assert {"Name": "message-key", "Value": digest} in email["Tags"]
    key = {"idempotency-key": {"DataType": "String", "StringValue": "deadline:3:2027-01-19:7d:delivery-11"}}
    assert standard["MessageAttributes"] == key
    assert "MessageDeduplicationId" not in standard
    assert ordered["MessageDeduplicationId"] == digest
