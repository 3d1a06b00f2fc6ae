"""S3 Batch Operations for large preserves: above the threshold one job holds the versions, and is followed.

moto does not implement s3control jobs, so create_job and describe_job are answered by
botocore.stub.Stubber on the very client the inspectors use (the stubber also checks each request
against the API's shapes); S3 itself is moto.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from flask import Flask
from sqlalchemy import select

from config.settings import Settings, SettingsError
from preservation.adapters.inspectors import AwsInspectors
from preservation.domain.batch_operations import BATCH_ACTION, BatchOptions, batch_plan, create_job_request
from preservation.domain.preservation_plan import PlanStep, PreservationPlan
from preservation.domain.scope import DateRange
from preservation.models import AuditEvent, S3BatchJob
from preservation.services import batch_jobs, checks, preserve
from preservation.services.unit import Unit
from preservation.web.api.checks import COLLECTORS_KEY
from tests.checks.conftest import SourceFactory
from tests.checks.support import API, api_ok, api_source

ROLE = "arn:aws:iam::123456789012:role/preservation-batch-holds"
BUCKET = "poe-video"


def _holds(count: int) -> PreservationPlan:
    return PreservationPlan(
        tuple(
            PlanStep("put_legal_hold", {"bucket": BUCKET, "key": f"k{n}", "version_id": "v"}, "r") for n in range(count)
        )
    )


def test_holds_above_the_threshold_become_one_job_over_the_scope() -> None:
    scope = [DateRange(dt.date(2025, 1, 1), dt.date(2025, 3, 31)), DateRange(dt.date(2025, 6, 1), dt.date(2025, 6, 30))]
    options = BatchOptions(threshold=3, role_arn=ROLE)

    assert batch_plan(_holds(3), BUCKET, "rec/", scope, options) == _holds(3)
    plan = batch_plan(_holds(4), BUCKET, "rec/", scope, options)
    assert [s.action for s in plan.steps] == [BATCH_ACTION]
    target = plan.steps[0].target
    assert (target["account_id"], target["versions"]) == ("123456789012", 4)
    # From the first day of the scope to the midnight after its last.
    assert (target["created_after"], target["created_before"]) == (
        "2025-01-01T00:00:00+00:00",
        "2025-07-01T00:00:00+00:00",
    )
    request = create_job_request(target, "token")
    generator = request["ManifestGenerator"]["S3JobManifestGenerator"]
    assert generator["Filter"]["KeyNameConstraint"] == {"MatchAnyPrefix": ["rec/"]}
    assert generator["Filter"]["CreatedAfter"] == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert request["Operation"] == {"S3PutObjectLegalHold": {"LegalHold": {"Status": "ON"}}}
    assert request["RoleArn"] == ROLE

    open_ended = batch_plan(_holds(4), BUCKET, "", [DateRange(None, None)], options).steps[0].target
    assert (open_ended["created_after"], open_ended["created_before"]) == (None, None)
    assert "Filter" not in create_job_request(open_ended, "token")["ManifestGenerator"]["S3JobManifestGenerator"]

    unconfigured = batch_plan(_holds(4), BUCKET, "", scope, BatchOptions(threshold=3, role_arn=None))
    assert len(unconfigured.steps) == 4
    assert "PRESERVATION_BATCH_OPERATIONS_ROLE_ARN" in unconfigured.notes[-1]


def _seed(s3: Any, count: int) -> None:
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    for number in range(count):
        s3.put_object(Bucket=BUCKET, Key=f"recordings/cam-{number}.mp4", Body=b"video")


def _s3control(inspectors: AwsInspectors) -> Any:
    return inspectors.s3.batch._clients.client("s3control", None)


def _count_holds(session: boto3.session.Session) -> list[str]:
    holds: list[str] = []
    session.events.register("before-call.s3.PutObjectLegalHold", lambda **_kw: holds.append("hold"))
    return holds


def test_a_large_preserve_creates_a_job_records_it_and_follows_it(
    s3: Any,
    boto_session: boto3.session.Session,
    inspectors: AwsInspectors,
    live_unit: Unit,
    bound_source: SourceFactory,
) -> None:
    _seed(s3, 3)
    source_id = bound_source(preserve_from=dt.date(2018, 1, 1))
    holds = _count_holds(boto_session)
    stubber = Stubber(_s3control(inspectors))
    expected = {
        "AccountId": "123456789012",
        "ConfirmationRequired": False,
        "Operation": {"S3PutObjectLegalHold": {"LegalHold": {"Status": "ON"}}},
        "Report": {"Enabled": False},
        "ClientRequestToken": ANY,
        "ManifestGenerator": {
            "S3JobManifestGenerator": {
                "ExpectedBucketOwner": "123456789012",
                "SourceBucket": f"arn:aws:s3:::{BUCKET}",
                "EnableManifestOutput": False,
                "Filter": {
                    "KeyNameConstraint": {"MatchAnyPrefix": ["recordings/"]},
                    "CreatedAfter": dt.datetime(2018, 1, 1, tzinfo=dt.UTC),
                },
            }
        },
        "Priority": 10,
        "RoleArn": ROLE,
        "Description": ANY,
    }
    stubber.add_response("create_job", {"JobId": "job-0001"}, expected)
    stubber.add_response(
        "describe_job",
        {"Job": {"JobId": "job-0001", "Status": "Active", "ProgressSummary": {"TotalNumberOfTasks": 3}}},
        {"AccountId": "123456789012", "JobId": "job-0001"},
    )
    stubber.add_response(
        "describe_job",
        {
            "Job": {
                "JobId": "job-0001",
                "Status": "Complete",
                "ProgressSummary": {"TotalNumberOfTasks": 3, "NumberOfTasksSucceeded": 3, "NumberOfTasksFailed": 0},
            }
        },
        {"AccountId": "123456789012", "JobId": "job-0001"},
    )

    with stubber:
        unit = live_unit
        request = preserve.prepare_preservation(unit, source_id)
        unit.session.commit()
        snapshot = checks.collect(request, inspectors)
        plan = preserve.plan_preservation(request, snapshot, unit.clock())
        plan = batch_jobs.plan_with_batch(request, plan, BatchOptions(threshold=2, role_arn=ROLE))
        assert [(s["action"], s["count"]) for s in plan.summary()] == [(BATCH_ACTION, 1)]
        preserve.record_preservation_started(unit, request, plan)
        unit.session.commit()
        results = preserve.carry_out(request, plan, inspectors)
        preserve.record_preservation_finished(unit, request, plan, results)
        created = batch_jobs.record_created(unit, request, results)
        unit.session.commit()

        assert holds == []  # no request per version
        assert [(j["job_id"], j["status"], j["versions_planned"]) for j in created] == [("job-0001", "New", 3)]
        event = unit.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "data_source.batch_job_created")
        ).one()
        details = json.loads(event.details)
        assert details["job_id"] == "job-0001"
        assert "role_arn" not in details

        for status in ("Active", "Complete"):
            pending = batch_jobs.unfinished(unit, source_id)
            unit.session.commit()
            assert pending == [("123456789012", "job-0001", None)]
            items = batch_jobs.refresh(unit, source_id, batch_jobs.describe_all(pending, inspectors.s3.batch.describe))
            unit.session.commit()
            assert items[0]["status"] == status
        stubber.assert_no_pending_responses()

    job = unit.session.scalars(select(S3BatchJob)).one()
    assert job.progress["ProgressSummary"]["NumberOfTasksSucceeded"] == 3
    assert batch_jobs.unfinished(unit, source_id) == []  # a finished job is not asked about again
    changes = unit.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "data_source.batch_job_updated").order_by(AuditEvent.seq)
    ).all()
    assert [json.loads(e.details)["status"] for e in changes] == [
        {"from": "New", "to": "Active"},
        {"from": "Active", "to": "Complete"},
    ]


def test_a_refused_job_is_a_failed_step_and_nothing_is_recorded(
    s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    _seed(s3, 3)
    source_id = bound_source()
    stubber = Stubber(_s3control(inspectors))
    stubber.add_client_error("create_job", service_error_code="AccessDenied", http_status_code=403)
    with stubber:
        request = preserve.prepare_preservation(live_unit, source_id)
        live_unit.session.commit()
        snapshot = checks.collect(request, inspectors)
        plan = batch_jobs.plan_with_batch(
            request, preserve.plan_preservation(request, snapshot, live_unit.clock()), BatchOptions(2, ROLE)
        )
        results = preserve.carry_out(request, plan, inspectors)
    assert [(r.step.action, r.ok, (r.error or {}).get("code")) for r in results] == [
        (BATCH_ACTION, False, "AccessDenied")
    ]
    assert batch_jobs.record_created(live_unit, request, results) == []
    assert live_unit.session.scalars(select(S3BatchJob)).all() == []


@pytest.fixture
def batch_app(app: Flask, inspectors: AwsInspectors) -> Flask:
    """The app with its batch threshold at 2 and a role, using the test's inspectors."""
    app.extensions[COLLECTORS_KEY] = inspectors
    settings = app.extensions["preservation"].settings
    app.extensions["preservation"].settings = type(settings)(
        **{**settings.__dict__, "batch_operations_threshold": 2, "batch_operations_role_arn": ROLE}
    )
    return app


def test_the_api_returns_the_job_and_refreshes_it(
    s3: Any, inspectors: AwsInspectors, batch_app: Flask, api: Any
) -> None:
    _seed(s3, 3)
    source_id = api_source(api)
    stubber = Stubber(_s3control(inspectors))
    stubber.add_response("create_job", {"JobId": "job-0002"})
    stubber.add_response(
        "describe_job", {"Job": {"JobId": "job-0002", "Status": "Failed", "FailureReasons": [{"FailureCode": "x"}]}}
    )
    with stubber:
        plan = api_ok(api.post(f"{API}/data-sources/{source_id}/preserve", json={"dry_run": True}))
        assert [(s["action"], s["count"]) for s in plan["steps"]] == [(BATCH_ACTION, 1)]
        done = api_ok(api.post(f"{API}/data-sources/{source_id}/preserve", json={"dry_run": False}))
        assert [j["job_id"] for j in done["batch_jobs"]] == ["job-0002"]
        jobs = api_ok(api.post(f"{API}/data-sources/{source_id}/batch-jobs"))
    assert [(j["job_id"], j["status"]) for j in jobs["items"]] == [("job-0002", "Failed")]
    assert json.dumps(jobs["items"][0]["progress"]["FailureReasons"]) == '[{"FailureCode": "x"}]'
    assert api.post(f"{API}/data-sources/{source_id}/batch-jobs", role="viewer").status_code == 403


def test_the_batch_settings_are_read_and_checked(tmp_path: Path) -> None:
    env = {"PRESERVATION_SECRET_KEY": "x", "PRESERVATION_INSTANCE_PATH": str(tmp_path)}
    defaults = Settings.from_env(env)
    assert (defaults.batch_operations_threshold, defaults.batch_operations_role_arn) == (100_000, None)
    parsed = Settings.from_env(
        {**env, "PRESERVATION_BATCH_OPERATIONS_THRESHOLD": "500", "PRESERVATION_BATCH_OPERATIONS_ROLE_ARN": ROLE}
    )
    assert (parsed.batch_operations_threshold, parsed.batch_operations_role_arn) == (500, ROLE)
    with pytest.raises(SettingsError, match="PRESERVATION_BATCH_OPERATIONS_ROLE_ARN"):
        Settings.from_env({**env, "PRESERVATION_BATCH_OPERATIONS_ROLE_ARN": "arn:aws:iam::12:user/me"})
    with pytest.raises(SettingsError, match="PRESERVATION_BATCH_OPERATIONS_THRESHOLD"):
        Settings.from_env({**env, "PRESERVATION_BATCH_OPERATIONS_THRESHOLD": "0"})
