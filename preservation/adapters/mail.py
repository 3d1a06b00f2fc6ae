"""Email channels: any SMTP server (STARTTLS and AUTH), and AWS SES."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from botocore.exceptions import BotoCoreError, ClientError

from preservation.adapters.aws import AwsClients
from preservation.domain.alerting import DeliveryFailed, OutgoingAlert

# SES error codes worth another try; every other ClientError (AccessDenied, MessageRejected, an
# unverified sender) needs a person, so it is not retried.
_SES_RETRYABLE = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "ServiceUnavailable", "InternalFailure"}
)


def email_message(message: OutgoingAlert, sender: str, recipient: str) -> EmailMessage:
    """The email for an alert; its Message-ID is the same on every retry, so receivers can spot a duplicate."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(usegmt=True)
    digest = hashlib.sha256(message.message_key.encode()).hexdigest()[:40]
    email["Message-ID"] = f"<{digest}@preservation-tracker>"
    email["X-Preservation-Alert"] = message.dedupe_key
    email.set_content(message.body)
    return email


class SmtpMailer:
    """Hands alerts to an SMTP server; 4xx answers and connection errors are retried, 5xx are not."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
        self.tls_context = tls_context

    def send(self, message: OutgoingAlert, target: str) -> str:
        """Deliver one alert to one address; the Message-ID is the provider's receipt."""
        email = email_message(message, self.sender, target)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=self.tls_context or ssl.create_default_context())
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email)
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryFailed(f"SMTP login refused: {error.smtp_code}", permanent=True) from error
        except smtplib.SMTPNotSupportedError as error:
            raise DeliveryFailed(f"SMTP server lacks a required extension: {error}", permanent=True) from error
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            raise DeliveryFailed(
                f"SMTP refused the recipient: {codes}", permanent=all(code >= 500 for code in codes)
            ) from error
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            raise DeliveryFailed(
                f"SMTP refused the message: {error.smtp_code} {error.smtp_error!r}", permanent=error.smtp_code >= 500
            ) from error
        except ssl.SSLCertVerificationError as error:
            raise DeliveryFailed(f"SMTP server certificate not trusted: {error}", permanent=True) from error
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"SMTP server unreachable: {type(error).__name__}: {error}") from error
        return str(email["Message-ID"])


class SesMailer:
    """Hands alerts to AWS SES (v1 SendEmail)."""

    def __init__(self, aws: AwsClients, *, sender: str) -> None:
        self.aws = aws
        self.sender = sender

    def send(self, message: OutgoingAlert, target: str) -> str:
        """Deliver one alert to one address; SES's MessageId is the receipt."""
        try:
            response = self.aws.client("ses").send_email(
                Source=self.sender,
                Destination={"ToAddresses": [target]},
                Message={
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": message.body, "Charset": "UTF-8"}},
                },
                # SES sets its own Message-ID; the tag carries the key a duplicate after a crash shares.
                Tags=[
                    {"Name": "alert", "Value": str(message.alert_id)},
                    {"Name": "message-key", "Value": hashlib.sha256(message.message_key.encode()).hexdigest()},
                ],
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "Unknown"))
            raise DeliveryFailed(f"SES refused: {code}", permanent=code not in _SES_RETRYABLE) from error
        except BotoCoreError as error:
            raise DeliveryFailed(f"SES unreachable: {type(error).__name__}") from error
        return str(response["MessageId"])
