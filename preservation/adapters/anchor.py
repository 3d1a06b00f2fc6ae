"""Copies of signed checkpoints in an S3 bucket under Object Lock, COMPLIANCE mode.

In COMPLIANCE mode nobody, the account's root user included, can delete or overwrite an object version
or shorten its retention before it expires; a database administrator who rewrites the log cannot reach
these copies. The bucket must have been created with Object Lock enabled.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from preservation.adapters.aws import AwsClients, error_record

_LOCATION = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?")


class AnchorError(Exception):
    """The copy was refused or failed; the message carries AWS's error code and text."""


@dataclass(frozen=True)
class AnchorLocation:
    """A bucket and key prefix, from s3://bucket/prefix."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> AnchorLocation:
        """Read s3://bucket or s3://bucket/prefix; ValueError otherwise."""
        match = _LOCATION.fullmatch(uri)
        if match is None:
            raise ValueError(f"{uri!r} is not s3://bucket/prefix")
        prefix = match.group("prefix") or ""
        return cls(match.group("bucket"), prefix if not prefix or prefix.endswith("/") else prefix + "/")


class S3Anchor:
    """Writes each checkpoint as its own object, retained in COMPLIANCE mode for a fixed number of days."""

    def __init__(self, clients: AwsClients, location: AnchorLocation, retention_days: int) -> None:
        self._clients = clients
        self._location = location
        self._retention = dt.timedelta(days=retention_days)

    def put(self, checkpoint_id: int, tree_size: int, note: str, now: dt.datetime) -> str:
        """Store one checkpoint; its s3:// address."""
        key = f"{self._location.prefix}checkpoint-{tree_size:015d}-{checkpoint_id}.txt"
        try:
            self._put(key, note, now)
        except (BotoCoreError, ClientError) as error:
            record = error_record(error)
            raise AnchorError(f"{record['code']}: {record['message']}") from error
        return f"s3://{self._location.bucket}/{key}"

    def _put(self, key: str, note: str, now: dt.datetime) -> None:
        self._clients.client("s3").put_object(
            Bucket=self._location.bucket,
            Key=key,
            Body=note.encode(),
            ContentType="text/plain; charset=utf-8",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=now + self._retention,
            # Object Lock requires an integrity checksum on every write.
            ChecksumAlgorithm="SHA256",
        )
