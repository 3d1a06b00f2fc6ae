"""Field and cross-field rules of the domain, checked on the state a change would produce."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from preservation.domain.errors import FieldError

# Bucket naming rules for general purpose buckets: 3-63 characters, lowercase letters, digits,
# dots and hyphens, starting and ending with a letter or digit, no "..", not shaped like an IP address.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_LOG_GROUP_NAME = re.compile(r"^[\w./#-]{1,512}$", re.ASCII)
_LOG_GROUP_ARN = re.compile(r"^arn:aws[\w-]*:logs:[a-z0-9-]+:\d{12}:log-group:([\w./#-]{1,512})(:\*)?$", re.ASCII)
_BACKUP_VAULT_NAME = re.compile(r"^[A-Za-z0-9_-]{2,50}$")
_BACKUP_VAULT_ARN = re.compile(r"^arn:aws[\w-]*:backup:[a-z0-9-]+:\d{12}:backup-vault:([A-Za-z0-9_-]{2,50})$", re.ASCII)
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")

# Every calendar date a record takes lies in these years: wide enough for any order, trigger or range of
# data, and far enough from the ends of Python's calendar that a day added or a period counted never
# overflows (9999-12-31 plus one day does).
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)


@dataclass(frozen=True)
class S3Location:
    """A bucket and an optional key prefix."""

    bucket: str
    prefix: str


def parse_s3_location(location: str) -> S3Location:
    """Parse `s3://bucket[/prefix]`, refusing anything S3 would not accept as a bucket name."""
    if not location.startswith("s3://"):
        raise FieldError("location", "an s3 location must look like s3://bucket or s3://bucket/prefix/")
    bucket, _, prefix = location[len("s3://") :].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket or _IP_ADDRESS.match(bucket):
        raise FieldError(
            "location",
            "bucket name must be 3-63 lowercase letters, digits, dots or hyphens, "
            "starting and ending with a letter or digit",
        )
    if len(prefix.encode("utf-8")) > 1024:
        raise FieldError("location", "the key prefix is longer than S3's 1024-byte key limit")
    return S3Location(bucket=bucket, prefix=prefix)


def check_location(kind: str, location: str) -> None:
    """Refuse a location that cannot name a source of this kind."""
    if kind == "s3":
        parse_s3_location(location)
    elif kind == "cloudwatch_logs":
        if not (_LOG_GROUP_NAME.match(location) or _LOG_GROUP_ARN.match(location)):
            raise FieldError("location", "a cloudwatch_logs location is a log group name or a log group ARN")
    elif kind == "aws_backup":
        if not (_BACKUP_VAULT_NAME.match(location) or _BACKUP_VAULT_ARN.match(location)):
            raise FieldError("location", "an aws_backup location is a backup vault name or a backup vault ARN")
    elif not location.strip():
        raise FieldError("location", "describe where the data lives")


def check_region(region: str | None) -> None:
    """Refuse a region that is not shaped like an AWS region code."""
    if region is not None and not _REGION.match(region):
        raise FieldError("region", "must be an AWS region code such as us-west-2")


def check_email(email: str) -> str:
    """Return the email lower-cased for uniqueness, refusing what cannot be an address."""
    if not _EMAIL.match(email):
        raise FieldError("email", "must be an email address such as name@example.org")
    return email.lower()


def check_order_dates(signed_on: dt.date | None, entered_on: dt.date | None) -> None:
    """An order cannot be entered on the docket before it was signed."""
    if signed_on and entered_on and entered_on < signed_on:
        raise FieldError("entered_on", f"must not precede signed_on ({signed_on.isoformat()})")


def check_preservation_range(preserve_from: dt.date | None, preserve_until: dt.date | None) -> None:
    """A data range cannot end before it starts."""
    if preserve_from and preserve_until and preserve_until < preserve_from:
        raise FieldError("preserve_until", f"must not precede preserve_from ({preserve_from.isoformat()})")
