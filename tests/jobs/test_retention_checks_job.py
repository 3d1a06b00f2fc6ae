"""The retention-checks job on moto's S3: each source comes due by its own check interval, and one source's
failure neither stops nor hides the others."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import select

from jobs.context import JobContext
from jobs.registry import find
from jobs.runner import JobRunner
from preservation.adapters.inspectors import build_inspectors
from preservation.models import DataSource, JobRun, RetentionCheck
from preservation.services import checks, matters, orders, sources
from preservation.services.job_runs import RunRecord
from tests.jobs.conftest import FrozenClock

BUCKET = "poe-video"


@pytest.fixture
def s3(ctx: JobContext) -> Iterator[Any]:
    """moto's S3 in this process, with a bucket of recordings; the job's inspectors use it."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="recordings/cam-1.mp4", Body=b"video")
        ctx.collectors = build_inspectors(max_workers=2, session=boto3.session.Session(), max_attempts=2)
        yield client


def source_bound(ctx: JobContext, name: str, location: str, every_hours: int) -> int:
    """A source checked every `every_hours`, linked to an obligation of an active order."""
    with ctx.unit(fenced=False) as unit:
        matter = matters.create_matter(unit, {"caption": "Al Otro Lado, Inc. v. Nielsen"})
        order = orders.create_order(unit, matter.id, {"kind": "court_order", "title": "Preservation order"})
        obligation = orders.create_obligation(unit, order.id, {"description": "Preserve POE video"})
        source = sources.create_data_source(
            unit, {"name": name, "kind": "s3", "location": location, "check_interval_hours": every_hours}
        )
        orders.link_data_source(unit, obligation.id, source.id)
        return source.id


def run_checks(ctx: JobContext) -> RunRecord:
    return JobRunner(ctx, "test-runner", trigger="manual").run(find("retention-checks"))


def checks_of(ctx: JobContext, source_id: int) -> list[RetentionCheck]:
    with ctx.unit(fenced=False) as unit:
        return list(
            unit.session.scalars(
                select(RetentionCheck).where(RetentionCheck.data_source_id == source_id).order_by(RetentionCheck.id)
            )
        )


def test_sources_come_due_by_their_own_interval_and_a_retired_one_is_never_checked(
    ctx: JobContext, clock: FrozenClock, s3: Any
) -> None:
    hourly = source_bound(ctx, "hourly", f"s3://{BUCKET}/recordings/", 1)
    daily = source_bound(ctx, "daily", f"s3://{BUCKET}/recordings/", 24)
    retired = source_bound(ctx, "retired", f"s3://{BUCKET}/recordings/", 1)
    with ctx.unit(fenced=False) as unit:
        sources.retire_data_source(unit, retired, "the cameras were replaced")

    first = run_checks(ctx)
    assert first.outcome == "succeeded", first.error
    assert (first.details["due"], first.details["checked"], first.details["failed"]) == (2, 2, 0)
    assert [len(checks_of(ctx, source)) for source in (hourly, daily, retired)] == [1, 1, 0]

    # Checked a moment ago: nothing is due yet.
    clock.advance(minutes=59)
    assert run_checks(ctx).details == {"due": 0, "checked": 0, "skipped": 0, "failed": 0, "statuses": {}}

    # An hour after its check the hourly source is due; the daily one is not.
    clock.advance(minutes=1)
    second = run_checks(ctx)
    assert (second.details["due"], second.details["checked"]) == (1, 1)
    assert [len(checks_of(ctx, source)) for source in (hourly, daily, retired)] == [2, 1, 0]

    clock.advance(hours=23)
    third = run_checks(ctx)
    assert (third.details["due"], third.details["checked"]) == (2, 2)
    assert [len(checks_of(ctx, source)) for source in (hourly, daily, retired)] == [3, 2, 0]
    with ctx.unit(fenced=False) as unit:
        source = unit.session.get(DataSource, daily)
        assert source is not None
        assert source.last_checked_at == clock.now


def test_a_failing_check_is_recorded_and_the_others_still_run(
    ctx: JobContext, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = source_bound(ctx, "gone", "s3://no-such-bucket/recordings/", 24)
    broken = source_bound(ctx, "broken", f"s3://{BUCKET}/recordings/", 24)
    healthy = source_bound(ctx, "healthy", f"s3://{BUCKET}/recordings/", 24)
    collect = checks.collect

    def collect_or_break(request: checks.CheckRequest, collectors: Any) -> dict[str, Any]:
        if request.source_id == broken:
            raise RuntimeError("the inspector crashed")
        return collect(request, collectors)

    monkeypatch.setattr(checks, "collect", collect_or_break)
    record = run_checks(ctx)

    # The bucket that is not there is a check like any other: recorded, and it says what it could not see.
    [gone] = checks_of(ctx, missing)
    assert gone.status == "unverifiable"
    [fine] = checks_of(ctx, healthy)
    assert fine.status == "at_risk"
    assert checks_of(ctx, broken) == []
    # The crash fails the run, which says what it did.
    assert record.outcome == "failed"
    assert record.error == "1 of 3 retention checks failed"
    assert (record.details["due"], record.details["checked"], record.details["failed"]) == (3, 2, 1)
    with ctx.unit(fenced=False) as unit:
        run = unit.session.scalars(select(JobRun).where(JobRun.job_id == "retention-checks")).one()
        assert (run.outcome, run.details["failed"]) == ("failed", 1)
        # The broken source is still due: the next run tries it again.
        assert broken in checks.sources_due(unit)
