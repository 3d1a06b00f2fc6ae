"""Non-email channels: Slack-compatible webhooks, AWS SNS topics, and the console outbox for development."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from preservation.adapters.aws import AwsClients
from preservation.domain.alerting import DeliveryFailed, OutgoingAlert

log = logging.getLogger(__name__)

# Slack accepts about one message a second per webhook; bursts are answered with 429.
WEBHOOK_MIN_INTERVAL_SECONDS = 1.0
_SNS_RETRYABLE = frozenset(
    {"Throttling", "ThrottlingException", "ThrottledException", "InternalError", "KMSThrottling"}
)
# A webhook answering these has not refused the message for good.
_HTTP_RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now())


class WebhookNotifier:
    """Posts {"text": ...} to a Slack-compatible webhook, paced to one message a second per URL."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        min_interval: float = WEBHOOK_MIN_INTERVAL_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout = timeout
        self.min_interval = min_interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._last_sent: dict[str, float] = {}
        self._lock = threading.Lock()

    def _pace(self, url: str) -> None:
        with self._lock:
            last = self._last_sent.get(url)
            if last is not None:
                wait = self.min_interval - (self._monotonic() - last)
                if wait > 0:
                    self._sleep(wait)
            self._last_sent[url] = self._monotonic()

    def send(self, message: OutgoingAlert, target: str) -> str:
        """POST one alert; 429 and 5xx are retried (429 after its Retry-After), other 4xx are not."""
        if not target.startswith(("https://", "http://")):
            raise DeliveryFailed(f"webhook target is not an http(s) URL: {target[:80]!r}", permanent=True)
        self._pace(target)
        payload = json.dumps({"text": f"*{message.subject}*\n{message.body}"}).encode()
        request = urllib.request.Request(  # noqa: S310  (the scheme is checked above)
            target,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "preservation-tracker",
                "Idempotency-Key": message.message_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310  (checked above)
                return f"http {response.status}"
        except urllib.error.HTTPError as error:
            status = error.code
            retry_after = parse_retry_after(error.headers.get("Retry-After")) if error.headers else None
            raise DeliveryFailed(
                f"webhook answered {status}", permanent=status not in _HTTP_RETRYABLE, retry_after=retry_after
            ) from error
        except (urllib.error.URLError, OSError) as error:
            raise DeliveryFailed(f"webhook unreachable: {type(error).__name__}: {error}") from error


class SnsNotifier:
    """Publishes alerts to an SNS topic (FIFO topics deduplicate on the alert's key)."""

    def __init__(self, aws: AwsClients) -> None:
        self.aws = aws

    def send(self, message: OutgoingAlert, target: str) -> str:
        """Publish one alert to the topic ARN; SNS's MessageId is the receipt."""
        params: dict[str, Any] = {
            "TopicArn": target,
            "Subject": message.subject[:99],
            "Message": message.body,
            # Subscribers of a standard topic (which SNS may deliver twice anyway) deduplicate on this.
            "MessageAttributes": {"idempotency-key": {"DataType": "String", "StringValue": message.message_key}},
        }
        if target.endswith(".fifo"):
            params["MessageGroupId"] = "preservation-alerts"
            params["MessageDeduplicationId"] = hashlib.sha256(message.message_key.encode()).hexdigest()
        region = target.split(":")[3] if target.count(":") >= 5 else None
        try:
            response = self.aws.client("sns", region or None).publish(**params)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "Unknown"))
            raise DeliveryFailed(f"SNS refused: {code}", permanent=code not in _SNS_RETRYABLE) from error
        except BotoCoreError as error:
            raise DeliveryFailed(f"SNS unreachable: {type(error).__name__}") from error
        return str(response["MessageId"])


class ConsoleNotifier:
    """For development: logs each alert and appends it as a JSON line to an outbox file."""

    def __init__(self, outbox: Path | None = None, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.outbox = outbox
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()

    def send(self, message: OutgoingAlert, target: str) -> str:
        """Record the alert; fails (and is retried) only when the outbox file cannot be written."""
        log.warning("alert %s to %s: %s", message.dedupe_key, target, message.subject)
        if self.outbox is not None:
            line = json.dumps(
                {
                    "at": self.clock().isoformat(),
                    "key": message.dedupe_key,
                    "message_key": message.message_key,
                    "alert_id": message.alert_id,
                    "delivery_id": message.delivery_id,
                    "to": target,
                    "subject": message.subject,
                    "body": message.body,
                }
            )
            try:
                with self._lock:
                    self.outbox.parent.mkdir(parents=True, exist_ok=True)
                    with self.outbox.open("a", encoding="utf-8") as handle:
                        handle.write(line + "\n")
            except OSError as error:
                raise DeliveryFailed(f"outbox file not writable: {error}") from error
        return "console"
