"""Checkpoints copied to S3 under Object Lock in COMPLIANCE mode (moto stands in for S3)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from click.testing import Result
from moto import mock_aws

from config.settings import Settings, SettingsError
from jobs.audit import checkpoint_audit_log
from preservation.adapters.anchor import AnchorLocation
from tests.audit.support import StoredTrail

BUCKET = "audit-anchors"
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def s3() -> Iterator[Any]:
    """A mocked S3 with one bucket that has Object Lock enabled, and one that has not."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        client.create_bucket(Bucket="plain-bucket")
        yield client


def test_a_checkpoint_is_copied_under_compliance_retention(trail: StoredTrail, settings: Settings, s3: Any) -> None:
    anchored = dataclasses.replace(settings, audit_anchor=f"s3://{BUCKET}/hold-log", audit_anchor_retention_days=30)
    outcome = checkpoint_audit_log(anchored, clock=lambda: NOW)
    key = f"hold-log/checkpoint-{len(trail.events):015d}-1.txt"
    assert outcome.anchor_uri == f"s3://{BUCKET}/{key}"
    assert outcome.anchor_error is None

    stored = s3.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read().decode().startswith(f"test.example/preservation\n{len(trail.events)}\n")
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == NOW + dt.timedelta(days=30)
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=BUCKET, Key=key, VersionId=stored["VersionId"])

    # The address is kept with the checkpoint; a run with nothing new to sign copies nothing again.
    again = checkpoint_audit_log(anchored, clock=lambda: NOW)
    assert (again.created, again.anchor_uri) == (False, outcome.anchor_uri)
    assert len(s3.list_object_versions(Bucket=BUCKET)["Versions"]) == 1


def test_a_failed_copy_leaves_the_checkpoint_and_is_retried(
    trail: StoredTrail, settings: Settings, s3: Any, cli: Callable[..., Result]
) -> None:
    result = cli("audit", "checkpoint", audit_anchor="s3://plain-bucket/log")
    assert result.exit_code == 1
    assert "checkpoint 1 signed" in result.stdout
    assert "copy to s3://plain-bucket/log FAILED" in result.stderr

    retried = cli("audit", "checkpoint", audit_anchor=f"s3://{BUCKET}/log")
    assert retried.exit_code == 0, retried.output
    assert "checkpoint 1 unchanged" in retried.stdout
    assert f"copied to s3://{BUCKET}/log/checkpoint-" in retried.stdout
    verified = cli("audit", "verify")
    assert verified.exit_code == 0


def test_anchor_locations_are_checked(tmp_path: Path) -> None:
    assert AnchorLocation.parse("s3://bucket") == AnchorLocation("bucket", "")
    assert AnchorLocation.parse("s3://bucket/a/b") == AnchorLocation("bucket", "a/b/")
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        AnchorLocation.parse("https://bucket/a")
    env = {"PRESERVATION_SECRET_KEY": "x", "PRESERVATION_INSTANCE_PATH": str(tmp_path)}
    with pytest.raises(SettingsError, match="PRESERVATION_AUDIT_ANCHOR"):
        Settings.from_env({**env, "PRESERVATION_AUDIT_ANCHOR": "bucket/prefix"})
    parsed = Settings.from_env(
        {**env, "PRESERVATION_AUDIT_ANCHOR": "s3://b-1/p", "PRESERVATION_AUDIT_SIGNING_KEY": "/k"}
    )
    assert (parsed.audit_anchor, str(parsed.audit_signing_key), parsed.audit_anchor_retention_days) == (
        "s3://b-1/p",
        "/k",
        2555,
    )
