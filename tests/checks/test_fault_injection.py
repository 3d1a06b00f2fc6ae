"""Faults injected with botocore before-send hooks: denial, throttling, timeouts, unexpected errors.

The hooks hang on the boto3 session the inspectors use, ahead of moto's own handler, and answer
(or raise) instead of moto for the operations they name.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ReadTimeoutError

from preservation.adapters.inspectors import AwsInspectors
from preservation.models import DataSource
from preservation.services.unit import Unit
from tests.checks.conftest import SourceFactory
from tests.checks.support import aws_error, codes, json_error, one_finding, run_check

BUCKET = "poe-video"


def _seed(s3: Any, count: int = 2) -> None:
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    for number in range(count):
        s3.put_object(Bucket=BUCKET, Key=f"recordings/cam-{number}.mp4", Body=b"video")


def test_a_denied_bucket_is_unverifiable_and_access_denied_is_not_retried(
    s3: Any,
    boto_session: boto3.session.Session,
    inspectors: AwsInspectors,
    live_unit: Unit,
    bound_source: SourceFactory,
) -> None:
    _seed(s3)
    source_id = bound_source()
    attempts: list[str] = []
    deny = aws_error(403, "AccessDenied", "Access Denied")

    def denied(request: Any, **kwargs: Any) -> Any:
        attempts.append(request.url)
        return deny(request, **kwargs)

    boto_session.events.register_first("before-send.s3", denied)

    check = run_check(live_unit, source_id, inspectors)

    assert check.status == "unverifiable"
    assert codes(check) == {"S3_ACCESS_DENIED"}
    assert len(attempts) == 4, "four calls, each refused once and surfaced at once"
    source = live_unit.session.get(DataSource, source_id)
    assert source is not None
    assert source.status == "unverifiable"
    assert check.evidence is not None
    assert '"AccessDenied"' in check.evidence.document


def test_a_denied_legal_hold_read_leaves_the_lock_status_unknown(
    s3: Any,
    boto_session: boto3.session.Session,
    inspectors: AwsInspectors,
    live_unit: Unit,
    bound_source: SourceFactory,
) -> None:
    _seed(s3)
    source_id = bound_source()
    boto_session.events.register_first("before-send.s3.GetObjectLegalHold", aws_error(403, "AccessDenied"))

    check = run_check(live_unit, source_id, inspectors)

    assert check.status == "unverifiable"
    unknown = one_finding(check, "S3_LOCK_STATUS_UNKNOWN")
    assert unknown.count == 2
    assert "S3_VERSION_UNPROTECTED" not in codes(check), "a field HEAD left out is not read as anything"


def test_throttling_is_retried_until_it_passes(
    s3: Any,
    boto_session: boto3.session.Session,
    inspectors: AwsInspectors,
    live_unit: Unit,
    bound_source: SourceFactory,
) -> None:
    _seed(s3, count=1)
    source_id = bound_source()
    throttled: list[int] = []
    slow_down = aws_error(503, "SlowDown", "Please reduce your request rate.")

    def twice(request: Any, **kwargs: Any) -> Any:
        if len(throttled) < 2:
            throttled.append(1)
            return slow_down(request, **kwargs)
        return None  # let moto answer

    boto_session.events.register_first("before-send.s3.HeadObject", twice)

    check = run_check(live_unit, source_id, inspectors)

    assert len(throttled) == 2
    assert check.summary["head_errors"] == 0
    assert check.status == "at_risk"
    assert codes(check) == {"S3_VERSION_UNPROTECTED"}


def test_throttling_that_never_ends_makes_the_version_unknown(
    s3: Any,
    boto_session: boto3.session.Session,
    inspectors: AwsInspectors,
    live_unit: Unit,
    bound_source: SourceFactory,
) -> None:
    _seed(s3, count=1)
    source_id = bound_source()
    boto_session.events.register_first("before-send.s3.HeadObject", aws_error(503, "SlowDown"))

    check = run_check(live_unit, source_id, inspectors)

    assert check.status == "unverifiable"
    assert check.summary["head_errors"] == 1
    assert "HEAD failed (SlowDown)" in one_finding(check, "S3_LOCK_STATUS_UNKNOWN").message


def test_a_listing_that_times_out_is_read_failed(
    s3: Any,
    boto_session: boto3.session.Session,
    inspectors: AwsInspectors,
    live_unit: Unit,
    bound_source: SourceFactory,
) -> None:
    _seed(s3)
    source_id = bound_source()
    calls: list[int] = []

    def timeout(request: Any, **_kwargs: Any) -> Any:
        calls.append(1)
        raise ReadTimeoutError(endpoint_url=request.url)

    boto_session.events.register_first("before-send.s3.ListObjectVersions", timeout)

    check = run_check(live_unit, source_id, inspectors)

    assert len(calls) == 3, "timeouts are retried (three attempts in all)"
    assert check.status == "unverifiable"
    failed = one_finding(check, "S3_READ_FAILED")
    assert failed.details["calls"] == ["listing"]
    assert failed.details["errors"]["listing"]["code"] == "ReadTimeoutError"


def test_an_unexpected_failure_is_recorded_as_an_unverifiable_check(
    s3: Any,
    boto_session: boto3.session.Session,
    inspectors: AwsInspectors,
    live_unit: Unit,
    bound_source: SourceFactory,
) -> None:
    _seed(s3)
    source_id = bound_source()

    def broken(**_kwargs: Any) -> Any:
        raise RuntimeError("collector bug")

    boto_session.events.register_first("before-send.s3.HeadObject", broken)

    check = run_check(live_unit, source_id, inspectors)

    assert check.status == "unverifiable"
    assert check.error == "RuntimeError: collector bug"
    assert codes(check) == {"S3_READ_FAILED"}


def test_a_denied_log_group_read_is_unverifiable(
    boto_session: boto3.session.Session, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    source_id = bound_source(kind="cloudwatch_logs", location="/aws/poe/san-ysidro")
    boto_session.events.register_first(
        "before-send.cloudwatch-logs.DescribeLogGroups", json_error(400, "AccessDeniedException")
    )

    check = run_check(live_unit, source_id, inspectors)

    assert check.status == "unverifiable"
    assert codes(check) == {"LOGS_ACCESS_DENIED"}
