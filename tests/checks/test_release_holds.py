"""Releasing the holds a preservation run placed, once no active order covers the source: S3 on moto, Backup stubbed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from preservation.adapters.aws import AwsClients
from preservation.adapters.hold_release import HoldReleaser
from preservation.adapters.inspectors import AwsInspectors
from preservation.cli import main
from preservation.domain.errors import Conflict
from preservation.models import AuditEvent, Obligation, StorageHold
from preservation.services import orders, release_holds
from preservation.services.unit import Unit
from preservation.web.api.checks import COLLECTORS_KEY
from tests.checks.conftest import SourceFactory
from tests.checks.support import API, api_ok, api_source, run_preserve

BUCKET = "poe-video"


def _seed(s3: Any) -> str:
    """Two unheld recordings, and one another party already holds; returns the other party's version id."""
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    for number in range(2):
        s3.put_object(Bucket=BUCKET, Key=f"recordings/cam-{number}.mp4", Body=b"video")
    theirs = s3.put_object(Bucket=BUCKET, Key="recordings/theirs.mp4", Body=b"video")["VersionId"]
    s3.put_object_legal_hold(Bucket=BUCKET, Key="recordings/theirs.mp4", VersionId=theirs, LegalHold={"Status": "ON"})
    return str(theirs)


def _hold_status(s3: Any, key: str) -> str:
    version = s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"][0]["VersionId"]
    return str(s3.head_object(Bucket=BUCKET, Key=key, VersionId=version).get("ObjectLockLegalHoldStatus"))


def _release_order_of(unit: Unit, source_id: int) -> None:
    obligation = unit.session.scalars(select(Obligation)).first()
    assert obligation is not None
    orders.release_order(unit, obligation.order_id, "case settled")
    unit.session.commit()


def _audit(unit: Unit, action: str) -> list[dict[str, Any]]:
    events = unit.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
    return [json.loads(e.details) for e in events]


@pytest.fixture
def released_vault(live_unit: Unit, bound_source: SourceFactory) -> int:
    """An AWS Backup source whose vault has a legal hold this service placed, and no active order covering it."""
    source_id = bound_source(kind="aws_backup", location="poe-vault")
    live_unit.session.add(
        StorageHold(
            data_source_id=source_id,
            kind="backup",
            container="poe-vault",
            legal_hold_id="hold-1",
            placed_at=dt.datetime.now(dt.UTC),
            placed_by="user:tester@example.org",
        )
    )
    live_unit.session.commit()
    _release_order_of(live_unit, source_id)
    return source_id


@pytest.fixture
def backup_clients(boto_session: boto3.session.Session) -> AwsClients:
    """Clients on moto whose backup client the tests stub."""
    return AwsClients(boto_session, max_attempts=3)


def test_release_removes_only_the_s3_holds_the_service_placed_once_no_order_covers_the_source(
    s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    _seed(s3)
    source_id = bound_source()
    preserved = run_preserve(live_unit, source_id, inspectors, execute=True)
    assert preserved["results"]["succeeded"] == 2
    assert _audit(live_unit, "data_source.preservation_finished")[-1]["holds_recorded"] == 2
    assert _hold_status(s3, "recordings/cam-0.mp4") == "ON"

    with pytest.raises(Conflict, match="still covered by active order"):
        release_holds.prepare_release(live_unit, source_id)
    live_unit.session.rollback()
    _release_order_of(live_unit, source_id)

    request = release_holds.prepare_release(live_unit, source_id)
    live_unit.session.commit()
    plan = release_holds.plan_document(request, dry_run=True)
    assert plan["steps"][0]["action"] == "remove_legal_hold"
    assert plan["total_steps"] == 2
    assert _hold_status(s3, "recordings/cam-0.mp4") == "ON"  # a plan changes nothing

    release_holds.record_release_started(live_unit, request)
    live_unit.session.commit()
    results = release_holds.carry_out(request, inspectors.releaser)
    summary = release_holds.record_release_finished(live_unit, request, results)
    live_unit.session.commit()

    assert (summary["succeeded"], summary["failed"]) == (2, 0)
    assert _hold_status(s3, "recordings/cam-0.mp4") == "OFF"
    assert _hold_status(s3, "recordings/cam-1.mp4") == "OFF"
    assert _hold_status(s3, "recordings/theirs.mp4") == "ON"  # not placed by this service
    holds = live_unit.session.scalars(select(StorageHold).where(StorageHold.data_source_id == source_id)).all()
    assert {h.released_by for h in holds} == {"user:tester@example.org"}
    assert all(h.released_at is not None for h in holds)
    finished = _audit(live_unit, "data_source.hold_release_finished")
    assert finished[-1]["released"]["s3_versions"] == 2
    assert {e["key"] for e in finished[-1]["released"]["s3_examples"]} == {
        "recordings/cam-0.mp4",
        "recordings/cam-1.mp4",
    }
    assert _audit(live_unit, "data_source.hold_release_started")[-1]["total_steps"] == 2

    again = release_holds.prepare_release(live_unit, source_id)
    assert again.plan.steps == ()
    assert again.plan.notes == ("no hold placed by this service is in force on this source",)


def test_a_backup_legal_hold_is_cancelled_on_release(
    live_unit: Unit, released_vault: int, backup_clients: AwsClients
) -> None:
    source_id = released_vault
    releaser = HoldReleaser(backup_clients)
    request = release_holds.prepare_release(live_unit, source_id)
    live_unit.session.commit()

    with Stubber(backup_clients.client("backup")) as stubber:
        stubber.add_response(
            "cancel_legal_hold",
            {},
            {
                "LegalHoldId": "hold-1",
                "CancelDescription": f"preservation of data source {source_id} ended: no active order covers it",
            },
        )
        release_holds.record_release_started(live_unit, request)
        live_unit.session.commit()
        results = release_holds.carry_out(request, releaser)
        stubber.assert_no_pending_responses()
    summary = release_holds.record_release_finished(live_unit, request, results)
    live_unit.session.commit()

    assert summary["released"]["backup_legal_holds"] == [{"vault": "poe-vault", "legal_hold_id": "hold-1"}]
    hold = live_unit.session.scalars(select(StorageHold)).one()
    assert hold.released_at is not None


def test_a_failed_release_keeps_the_hold_on_record(
    live_unit: Unit, released_vault: int, backup_clients: AwsClients
) -> None:
    request = release_holds.prepare_release(live_unit, released_vault)
    with Stubber(backup_clients.client("backup")) as stubber:
        stubber.add_client_error("cancel_legal_hold", "AccessDeniedException", "denied", 403)
        results = release_holds.carry_out(request, HoldReleaser(backup_clients))
    summary = release_holds.record_release_finished(live_unit, request, results)
    live_unit.session.commit()

    assert (summary["succeeded"], summary["failed"]) == (0, 1)
    assert summary["failures"][0]["error"]["code"] == "AccessDeniedException"
    assert live_unit.session.scalars(select(StorageHold)).one().released_at is None


@pytest.fixture
def checked_app(app: Flask, inspectors: AwsInspectors) -> Flask:
    """The app, using the test's inspectors."""
    app.extensions[COLLECTORS_KEY] = inspectors
    return app


def test_release_holds_through_the_api(s3: Any, checked_app: Flask, api: Any) -> None:
    _seed(s3)
    source_id = api_source(api)
    api_ok(api.post(f"{API}/data-sources/{source_id}/preserve", json={"dry_run": False}))

    refused = api.post(f"{API}/data-sources/{source_id}/release-holds", json={"confirm": True})
    assert refused.status_code == 409
    assert "still covered by active order" in refused.get_json()["message"]
    assert _hold_status(s3, "recordings/cam-0.mp4") == "ON"
    bad = api.post(f"{API}/data-sources/{source_id}/release-holds", json={"confirm": "perhaps"})
    assert bad.status_code in {400, 422}
    unknown = api.post(f"{API}/data-sources/{source_id}/release-holds", json={"everything": True})
    assert unknown.status_code in {400, 422}
    viewer = api.post(f"{API}/data-sources/{source_id}/release-holds", json={}, role="viewer")
    assert viewer.status_code == 403
    assert api.post(f"{API}/data-sources/999999/release-holds", json={}).status_code == 404

    matters = api_ok(api.get(f"{API}/matters"))["items"]
    orders_page = api_ok(api.get(f"{API}/matters/{matters[0]['id']}/orders"))["items"]
    order_id = orders_page[0]["id"]
    api_ok(api.post(f"{API}/orders/{order_id}/release", json={"reason": "case settled"}))

    plan = api_ok(api.post(f"{API}/data-sources/{source_id}/release-holds", json={}))
    assert (plan["dry_run"], plan["total_steps"], plan["results"]) == (True, 2, None)
    assert _hold_status(s3, "recordings/cam-1.mp4") == "ON"
    done = api_ok(api.post(f"{API}/data-sources/{source_id}/release-holds", json={"confirm": True}))
    assert done["results"]["succeeded"] == 2
    assert _hold_status(s3, "recordings/cam-1.mp4") == "OFF"
    assert _hold_status(s3, "recordings/theirs.mp4") == "ON"


@pytest.fixture
def runner(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose commands use the test database."""
    monkeypatch.setenv("PRESERVATION_DATABASE_URL", database_url)
    monkeypatch.setenv("PRESERVATION_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("PRESERVATION_SECRET_KEY", "test-secret-key")
    return CliRunner()


def test_release_holds_from_the_command_line(
    s3: Any, runner: CliRunner, live_unit: Unit, bound_source: SourceFactory
) -> None:
    _seed(s3)
    source_id = bound_source()
    assert runner.invoke(main, ["preserve", str(source_id), "--execute"]).exit_code == 0

    refused = runner.invoke(main, ["release-holds", str(source_id), "--confirm"])
    assert refused.exit_code == 1
    assert "still covered by active order" in refused.output
    _release_order_of(live_unit, source_id)

    plan = runner.invoke(main, ["release-holds", str(source_id)])
    assert plan.exit_code == 0, plan.output
    assert "remove_legal_hold: 2" in plan.output
    assert _hold_status(s3, "recordings/cam-0.mp4") == "ON"
    done = runner.invoke(main, ["release-holds", str(source_id), "--confirm"])
    assert done.exit_code == 0, done.output
    assert "done: 2 released, 0 failed" in done.output
    assert _hold_status(s3, "recordings/cam-0.mp4") == "OFF"
