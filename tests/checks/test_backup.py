"""AWS Backup checks and legal holds, with botocore's Stubber (moto does not emulate recovery points or legal holds).

The Stubber checks every request against the service model and the parameters each test expects, so
these tests also pin down exactly which calls a check and a preservation run make.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from flask import Flask
from sqlalchemy import select

from preservation.adapters.aws import AwsClients
from preservation.adapters.backup import BackupInspector
from preservation.adapters.inspectors import AwsInspectors
from preservation.domain.backup_evaluation import evaluate_backup, vault_name
from preservation.domain.scope import DateRange
from preservation.models import AuditEvent, DataSource, ManifestEntry, StorageHold
from preservation.services.evidence import evidence_row
from preservation.services.unit import Unit
from preservation.web.api.checks import COLLECTORS_KEY
from tests.checks.conftest import SourceFactory
from tests.checks.support import API, api_ok, api_source, codes, one_finding, run_check, run_preserve

VAULT = "poe-vault"
ACCOUNT = "123456789012"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def point_arn(name: str) -> str:
    """A recovery point ARN of an EBS snapshot."""
    return f"arn:aws:ec2:us-east-1::snapshot/snap-{name}"


def recovery_point(name: str, created: dt.datetime, delete_at: dt.datetime | None) -> dict[str, Any]:
    """One entry of ListRecoveryPointsByBackupVault."""
    point: dict[str, Any] = {
        "RecoveryPointArn": point_arn(name),
        "BackupVaultName": VAULT,
        "CreationDate": created,
        "Status": "COMPLETED",
        "ResourceType": "EBS",
        "BackupSizeInBytes": 1024,
    }
    if delete_at is not None:
        point["Lifecycle"] = {"DeleteAfterDays": 35}
        point["CalculatedLifecycle"] = {"DeleteAt": delete_at}
    return point


VAULT_ANSWER = {
    "BackupVaultName": VAULT,
    "BackupVaultArn": f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:{VAULT}",
    "Locked": False,
    "NumberOfRecoveryPoints": 2,
}


class BackupStub:
    """The Stubber on the backup client the inspectors use, with the answers of one whole check."""

    def __init__(self, stubber: Stubber) -> None:
        self.stubber = stubber

    def vault(self, answer: dict[str, Any] | None = None) -> None:
        """DescribeBackupVault answers."""
        self.stubber.add_response("describe_backup_vault", answer or VAULT_ANSWER, {"BackupVaultName": VAULT})

    def points(self, points: list[dict[str, Any]]) -> None:
        """One page of recovery points, narrowed to the scope's start (2018-01-01)."""
        self.stubber.add_response(
            "list_recovery_points_by_backup_vault",
            {"RecoveryPoints": points},
            {"BackupVaultName": VAULT, "ByCreatedAfter": dt.datetime(2018, 1, 1, tzinfo=dt.UTC)},
        )

    def holds(self, holds: list[dict[str, Any]], held: dict[str, list[str]] | None = None) -> None:
        """ListLegalHolds, then GetLegalHold and the points of each ACTIVE hold."""
        self.stubber.add_response("list_legal_holds", {"LegalHolds": holds}, {})
        for hold in holds:
            if hold["Status"] != "ACTIVE":
                continue
            hold_id = hold["LegalHoldId"]
            self.stubber.add_response(
                "get_legal_hold",
                {"LegalHoldId": hold_id, "Status": "ACTIVE", "Title": hold["Title"]},
                {"LegalHoldId": hold_id},
            )
            self.stubber.add_response(
                "list_recovery_points_by_legal_hold",
                {"RecoveryPoints": [{"RecoveryPointArn": arn} for arn in (held or {}).get(hold_id, [])]},
                {"LegalHoldId": hold_id},
            )

    def check(self, points: list[dict[str, Any]], holds: list[dict[str, Any]] | None = None, **held: Any) -> None:
        """Every answer of a check that can read everything."""
        self.vault()
        self.points(points)
        self.holds(holds or [], held.get("held"))


@pytest.fixture
def backup_stub(
    boto_session: boto3.session.Session, inspectors: AwsInspectors
) -> Iterator[tuple[BackupStub, AwsInspectors]]:
    """Inspectors whose backup client answers from a Stubber; every stubbed answer must be used."""
    clients = AwsClients(boto_session, max_attempts=3)
    client = clients.client("backup")
    stubbed = dataclasses.replace(inspectors, backup=BackupInspector(clients))
    with Stubber(client) as stubber:
        yield BackupStub(stubber), stubbed
        stubber.assert_no_pending_responses()


def test_a_recovery_point_deleted_by_its_lifecycle_is_at_risk_and_a_held_one_is_not(
    backup_stub: tuple[BackupStub, AwsInspectors], live_unit: Unit, bound_source: SourceFactory
) -> None:
    stub, inspectors = backup_stub
    delete_at = (NOW + dt.timedelta(days=30)).replace(microsecond=0)
    stub.check(
        [
            recovery_point("expiring", NOW - dt.timedelta(days=5), delete_at),
            recovery_point("held", NOW - dt.timedelta(days=4), NOW + dt.timedelta(days=10)),
            recovery_point("old", dt.datetime(2017, 6, 1, tzinfo=dt.UTC), None),
        ],
        [
            {"LegalHoldId": "other", "Status": "ACTIVE", "Title": "Another matter"},
            {"LegalHoldId": "gone", "Status": "CANCELED", "Title": "Old"},
        ],
        held={"other": [point_arn("held")]},
    )
    source_id = bound_source(kind="aws_backup", location=VAULT)

    check = run_check(live_unit, source_id, inspectors)

    assert check.status == "at_risk"
    assert codes(check) == {"BACKUP_RECOVERY_POINT_EXPIRES", "BACKUP_NO_LEGAL_HOLD"}
    expires = one_finding(check, "BACKUP_RECOVERY_POINT_EXPIRES")
    assert (expires.severity, expires.count) == ("critical", 1)
    assert expires.earliest_destruction_at == delete_at
    assert expires.examples[0]["recovery_point_arn"] == point_arn("expiring")
    assert check.earliest_destruction_at == delete_at
    assert one_finding(check, "BACKUP_NO_LEGAL_HOLD").count == 1
    assert check.summary["recovery_points_in_scope"] == 2
    assert check.summary["held"] == 1
    source = live_unit.session.get(DataSource, source_id)
    assert source is not None
    assert (source.status, source.earliest_destruction_at) == ("at_risk", delete_at)
    document = json.loads(check.evidence.document)
    assert document["describe_backup_vault"]["response"]["Locked"] is False
    assert [h["legal_hold_id"] for h in document["legal_hold_details"]] == ["other"]
    manifest = live_unit.session.scalars(select(ManifestEntry.key).where(ManifestEntry.data_source_id == source_id))
    assert sorted(manifest) == [point_arn("expiring"), point_arn("held")]


def test_every_in_scope_point_under_an_active_hold_is_preserved(
    backup_stub: tuple[BackupStub, AwsInspectors], live_unit: Unit, bound_source: SourceFactory
) -> None:
    stub, inspectors = backup_stub
    points = [recovery_point(n, NOW - dt.timedelta(days=2), NOW + dt.timedelta(days=3)) for n in ("a", "b")]
    stub.check(
        points,
        [{"LegalHoldId": "ours", "Status": "ACTIVE", "Title": "POE"}],
        held={"ours": [point_arn("a"), point_arn("b")]},
    )
    source_id = bound_source(kind="aws_backup", location=f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:{VAULT}")

    check = run_check(live_unit, source_id, inspectors)

    assert (check.status, codes(check), check.earliest_destruction_at) == ("preserved", set(), None)


def test_a_missing_vault_is_unverifiable_then_lost_once_seen_and_a_vanished_point_is_lost(
    backup_stub: tuple[BackupStub, AwsInspectors], live_unit: Unit, bound_source: SourceFactory
) -> None:
    stub, inspectors = backup_stub
    source_id = bound_source(kind="aws_backup", location=VAULT)
    stub.stubber.add_client_error(
        "describe_backup_vault",
        "ResourceNotFoundException",
        "no vault",
        400,
        expected_params={"BackupVaultName": VAULT},
    )
    never_seen = run_check(live_unit, source_id, inspectors)
    assert (never_seen.status, codes(never_seen)) == ("unverifiable", {"BACKUP_VAULT_MISSING"})

    stub.check([recovery_point("a", NOW - dt.timedelta(days=1), None)], [])
    seen = run_check(live_unit, source_id, inspectors)
    assert (seen.status, codes(seen)) == ("at_risk", {"BACKUP_NO_LEGAL_HOLD"})

    stub.check([], [])
    vanished = run_check(live_unit, source_id, inspectors)
    assert vanished.status == "lost"
    missing = one_finding(vanished, "BACKUP_RECOVERY_POINT_MISSING")
    assert missing.examples[0]["recovery_point_arn"] == point_arn("a")
    entry = live_unit.session.scalars(select(ManifestEntry).where(ManifestEntry.data_source_id == source_id)).one()
    assert entry.missing_since_check_id == vanished.id

    stub.stubber.add_client_error("describe_backup_vault", "ResourceNotFoundException", "no vault", 400)
    gone = run_check(live_unit, source_id, inspectors)
    assert (gone.status, codes(gone)) == ("lost", {"BACKUP_VAULT_MISSING"})


def test_what_cannot_be_read_is_unverifiable_never_preserved(
    backup_stub: tuple[BackupStub, AwsInspectors], live_unit: Unit, bound_source: SourceFactory
) -> None:
    stub, inspectors = backup_stub
    source_id = bound_source(kind="aws_backup", location=VAULT)
    stub.stubber.add_client_error("describe_backup_vault", "AccessDeniedException", "denied", 403)
    denied = run_check(live_unit, source_id, inspectors)
    assert (denied.status, codes(denied)) == ("unverifiable", {"BACKUP_ACCESS_DENIED"})

    stub.vault()
    stub.points([recovery_point("a", NOW - dt.timedelta(days=1), None)])
    stub.stubber.add_client_error("list_legal_holds", "AccessDeniedException", "denied", 403)
    holds_denied = run_check(live_unit, source_id, inspectors)
    assert holds_denied.status == "unverifiable"
    unknown = one_finding(holds_denied, "BACKUP_HOLD_STATUS_UNKNOWN")
    assert unknown.details["denied"] is True
    assert unknown.count == 1

    stub.vault()
    stub.stubber.add_client_error("list_recovery_points_by_backup_vault", "ServiceUnavailableException", "busy", 503)
    unread = run_check(live_unit, source_id, inspectors)
    assert (unread.status, codes(unread)) == ("unverifiable", {"BACKUP_READ_FAILED"})


def test_missing_fields_and_no_points_in_scope_make_the_answer_unverifiable() -> None:
    scope = [DateRange(dt.date(2018, 1, 1), None)]
    no_date = recovery_point("a", NOW, None)
    del no_date["CreationDate"]
    uncomputed = recovery_point("b", NOW, NOW + dt.timedelta(days=1))
    del uncomputed["CalculatedLifecycle"]
    snapshot = {
        "vault": VAULT,
        "describe_backup_vault": {"response": {"Locked": True, "MinRetentionDays": 7}},
        "recovery_points": {"response": {"RecoveryPoints": [no_date, uncomputed]}},
        "legal_holds": {"response": {"LegalHolds": []}},
        "legal_hold_points": [],
    }
    jsonable = json.loads(json.dumps(snapshot, default=lambda moment: moment.isoformat()))

    assessment = evaluate_backup(jsonable, scope, NOW)

    # The point without a computed date has no hold either: that alone is a risk, the worse status.
    assert assessment.evaluation.status == "at_risk"
    unreadable = [f for f in assessment.evaluation.findings if f.code == "BACKUP_RECOVERY_POINT_UNREADABLE"]
    assert sorted(f.count for f in unreadable) == [1, 1]
    undated_only = {
        **jsonable,
        "recovery_points": {
            "response": {"RecoveryPoints": [jsonable["recovery_points"]["response"]["RecoveryPoints"][0]]}
        },
    }
    undated = evaluate_backup(undated_only, scope, NOW)
    assert [(f.code, f.status) for f in undated.evaluation.findings] == [
        ("BACKUP_RECOVERY_POINT_UNREADABLE", "unverifiable")
    ]
    assert undated.evaluation.status == "unverifiable"
    empty = {**jsonable, "recovery_points": {"response": {"RecoveryPoints": []}}}
    nothing = evaluate_backup(empty, scope, NOW)
    assert [f.code for f in nothing.evaluation.findings] == ["BACKUP_NO_RECOVERY_POINTS_IN_SCOPE"]
    assert nothing.evaluation.status == "unverifiable"
    assert vault_name(f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:{VAULT}") == VAULT


def test_a_finite_duty_outlasted_by_the_lifecycle_is_not_at_risk() -> None:
    scope = [DateRange(dt.date(2018, 1, 1), None)]
    point = recovery_point("a", NOW, NOW + dt.timedelta(days=40))
    snapshot = json.loads(
        json.dumps(
            {
                "vault": VAULT,
                "describe_backup_vault": {"response": {"Locked": False}},
                "recovery_points": {"response": {"RecoveryPoints": [point]}},
                "legal_holds": {"response": {"LegalHolds": []}},
                "legal_hold_points": [],
            },
            default=lambda moment: moment.isoformat(),
        )
    )
    codes_found = {
        f.code
        for f in evaluate_backup(snapshot, scope, NOW, duty_ends_at=NOW + dt.timedelta(days=20)).evaluation.findings
    }
    assert codes_found == {"BACKUP_NO_LEGAL_HOLD"}


def test_preserve_plans_then_creates_one_legal_hold_over_the_vault_and_the_scope(
    backup_stub: tuple[BackupStub, AwsInspectors], live_unit: Unit, bound_source: SourceFactory
) -> None:
    stub, inspectors = backup_stub
    source_id = bound_source(kind="aws_backup", location=VAULT, preserve_until=dt.date(2019, 12, 31))
    points = [recovery_point("a", dt.datetime(2018, 5, 1, tzinfo=dt.UTC), NOW + dt.timedelta(days=3))]
    narrowed = {
        "BackupVaultName": VAULT,
        "ByCreatedAfter": dt.datetime(2018, 1, 1, tzinfo=dt.UTC),
        "ByCreatedBefore": dt.datetime.combine(dt.date(2019, 12, 31), dt.time.max, tzinfo=dt.UTC),
    }
    for _ in range(2):
        stub.vault()
        stub.stubber.add_response("list_recovery_points_by_backup_vault", {"RecoveryPoints": points}, narrowed)
        stub.holds([])

    plan = run_preserve(live_unit, source_id, inspectors, execute=False)
    assert plan["total_steps"] == 1
    target = plan["steps"][0]["examples"][0]
    assert plan["steps"][0]["action"] == "create_backup_legal_hold"
    assert (target["vault"], target["recovery_points_in_scope"]) == (VAULT, 1)
    assert target["from"].startswith("2018-01-01T00:00:00")
    assert target["to"].startswith("2019-12-31T23:59:59")

    stub.stubber.add_response(
        "create_legal_hold",
        {"LegalHoldId": "hold-1", "LegalHoldArn": f"arn:aws:backup:us-east-1:{ACCOUNT}:legal-hold:hold-1"},
        {
            "Title": f"preservation-tracker data source {source_id}",
            "Description": ANY,
            "RecoveryPointSelection": {
                "VaultNames": [VAULT],
                "DateRange": {
                    "FromDate": dt.datetime(2018, 1, 1, tzinfo=dt.UTC),
                    "ToDate": dt.datetime.combine(dt.date(2019, 12, 31), dt.time.max, tzinfo=dt.UTC),
                },
            },
        },
    )
    done = run_preserve(live_unit, source_id, inspectors, execute=True)

    assert done["results"]["succeeded"] == 1
    hold = live_unit.session.scalars(select(StorageHold).where(StorageHold.data_source_id == source_id)).one()
    assert (hold.kind, hold.container, hold.legal_hold_id, hold.released_at) == ("backup", VAULT, "hold-1", None)
    actions = live_unit.session.scalars(
        select(AuditEvent.action).where(AuditEvent.subject_id == str(source_id)).order_by(AuditEvent.seq)
    ).all()
    assert actions[-2:] == ["data_source.preservation_started", "data_source.preservation_finished"]
    finished = live_unit.session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == "data_source.preservation_finished")
    ).one()
    assert json.loads(finished)["holds_recorded"] == 1


def test_a_vault_that_cannot_be_read_blocks_preservation(
    backup_stub: tuple[BackupStub, AwsInspectors], live_unit: Unit, bound_source: SourceFactory
) -> None:
    stub, inspectors = backup_stub
    source_id = bound_source(kind="aws_backup", location=VAULT)
    stub.stubber.add_client_error("describe_backup_vault", "ResourceNotFoundException", "no vault", 400)

    plan = run_preserve(live_unit, source_id, inspectors, execute=False)

    assert plan["blocked"] == f"backup vault {VAULT} does not exist"
    assert plan["total_steps"] == 0


def test_backup_clients_retry_in_standard_mode(boto_session: boto3.session.Session) -> None:
    client = AwsClients(boto_session).client("backup")
    assert client.meta.config.retries["mode"] == "standard"


def test_a_large_vault_listing_is_cut_to_fit_the_evidence_cap() -> None:
    points = [recovery_point(f"{n:05}", NOW, None) for n in range(400)]
    snapshot = json.loads(
        json.dumps(
            {
                "vault": VAULT,
                "describe_backup_vault": {"response": VAULT_ANSWER},
                "recovery_points": {"response": {"RecoveryPoints": points}},
            },
            default=lambda moment: moment.isoformat(),
        )
    )

    row = evidence_row(1, snapshot, max_bytes=20_000)

    document = json.loads(row.document)
    assert row.truncated is True
    assert row.stored_bytes <= 20_000 < row.full_bytes
    note = document["truncated"]["lists"]["recovery_points.response.RecoveryPoints"]
    assert note["total"] == 400
    assert 0 < note["kept"] == len(document["recovery_points"]["response"]["RecoveryPoints"]) < 400
    assert document["describe_backup_vault"]["response"]["BackupVaultName"] == VAULT


def test_a_backup_source_is_checked_and_preserved_through_the_api(
    backup_stub: tuple[BackupStub, AwsInspectors], app: Flask, api: Any
) -> None:
    stub, inspectors = backup_stub
    app.extensions[COLLECTORS_KEY] = inspectors
    source_id = api_source(api, kind="aws_backup", location=VAULT)
    delete_at = NOW + dt.timedelta(days=7)
    points = [recovery_point("a", NOW - dt.timedelta(days=1), delete_at)]
    for _ in range(2):
        stub.check(points, [])

    check = api_ok(api.post(f"{API}/data-sources/{source_id}/checks"), 201)
    plan = api_ok(api.post(f"{API}/data-sources/{source_id}/preserve", json={}))

    assert check["status"] == "at_risk"
    by_code = {f["code"]: f for f in check["findings"]}
    assert by_code["BACKUP_RECOVERY_POINT_EXPIRES"]["earliest_destruction_at"] == check["earliest_destruction_at"]
    assert by_code["BACKUP_NO_LEGAL_HOLD"]["count"] == 1
    assert (plan["dry_run"], plan["total_steps"]) == (True, 1)
    assert plan["steps"][0]["action"] == "create_backup_legal_hold"
    refused = api.post(f"{API}/data-sources/{source_id}/release-holds", json={"confirm": True})
    assert refused.status_code == 409
