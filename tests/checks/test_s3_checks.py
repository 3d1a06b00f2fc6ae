"""S3 checks end to end on moto: at risk, preserved after preserve, lost, hidden, missing, and the manifest.

moto stores lifecycle rules but never runs them, so the dates are what the formula predicts from the
listing; it also refuses to enable Object Lock on a bucket that holds objects (AWS allows it on a
versioned bucket since 2023), which the unversioned-bucket test shows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from preservation.adapters.inspectors import AwsInspectors
from preservation.models import AuditEvent, DataSource, ManifestEntry
from preservation.services.unit import Unit
from tests.checks.conftest import SourceFactory
from tests.checks.support import DAY, ceil_midnight, codes, one_finding, run_check, run_preserve

BUCKET = "poe-video"
PREFIX = "recordings/"
EXPIRE_30_DAYS = {
    "ID": "overwrite-loop",
    "Status": "Enabled",
    "Filter": {"Prefix": PREFIX},
    "Expiration": {"Days": 30},
    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
}


def _locked_bucket(s3: Any, rules: list[dict[str, Any]] | None = None) -> None:
    """Object Lock enabled (so versioned), no default retention, no holds: nothing is actually locked."""
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    if rules:
        s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": rules})


def _put(s3: Any, key: str, body: bytes = b"video") -> dict[str, Any]:
    response: dict[str, Any] = s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return response


def _versions(s3: Any) -> list[dict[str, Any]]:
    versions: list[dict[str, Any]] = s3.list_object_versions(Bucket=BUCKET, Prefix=PREFIX).get("Versions", [])
    return versions


def test_thirty_day_expiration_without_lock_is_at_risk_then_preserved_after_preserve(
    s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    _locked_bucket(s3, [EXPIRE_30_DAYS])
    for number in range(3):
        _put(s3, f"{PREFIX}cam-{number}.mp4")
    _put(s3, "elsewhere/not-in-prefix.mp4")
    source_id = bound_source()

    check = run_check(live_unit, source_id, inspectors)

    assert check.status == "at_risk"
    finding = one_finding(check, "S3_LIFECYCLE_DESTROYS_IN_SCOPE")
    assert finding.details["rule_id"] == "overwrite-loop"
    assert finding.count == 3
    # The current version becomes noncurrent at the midnight after LastModified + 30 days, then goes a day later.
    first = min(v["LastModified"] for v in _versions(s3))
    expected = ceil_midnight(first + 30 * DAY) + DAY
    assert finding.earliest_destruction_at == expected
    assert check.earliest_destruction_at == expected
    assert "S3_VERSION_UNPROTECTED" in codes(check)
    assert "S3_OBJECT_LOCK_DISABLED" not in codes(check)
    source = live_unit.session.get(DataSource, source_id)
    assert source is not None
    assert (source.status, source.earliest_destruction_at) == ("at_risk", expected)
    assert source.last_checked_at is not None
    manifest = live_unit.session.scalars(select(ManifestEntry).where(ManifestEntry.data_source_id == source_id))
    assert sorted(m.key for m in manifest) == [f"{PREFIX}cam-{n}.mp4" for n in range(3)]

    plan = run_preserve(live_unit, source_id, inspectors, execute=False)
    assert plan["steps"] == [
        {"action": "put_legal_hold", "count": 3, "examples": plan["steps"][0]["examples"]},
    ]
    assert all(
        "Status" not in s3.get_object_legal_hold(Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"])["LegalHold"]
        for v in _versions(s3)
    ), "a dry run changes nothing"

    done = run_preserve(live_unit, source_id, inspectors, execute=True)
    assert done["results"] == {"succeeded": 3, "failed": 0, "failures": []}
    for version in _versions(s3):
        hold = s3.get_object_legal_hold(Bucket=BUCKET, Key=version["Key"], VersionId=version["VersionId"])
        assert hold["LegalHold"]["Status"] == "ON"

    after = run_check(live_unit, source_id, inspectors)
    assert after.status == "preserved", [(f.code, f.message) for f in after.findings]
    assert after.earliest_destruction_at is None
    assert codes(after) == set()

    again = run_preserve(live_unit, source_id, inspectors, execute=False)
    assert again["total_steps"] == 0, "a second run has nothing left to do"
    actions = [e.action for e in live_unit.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert actions.count("data_source.checked") == 2
    assert actions.count("data_source.preservation_started") == 1
    assert actions.count("data_source.preservation_finished") == 1


def test_unversioned_bucket_with_thirty_day_expiration_deletes_at_the_next_midnight(
    s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET,
        LifecycleConfiguration={
            "Rules": [{"ID": "thirty", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 30}}]
        },
    )
    _put(s3, f"{PREFIX}cam-1.mp4")
    source_id = bound_source()

    check = run_check(live_unit, source_id, inspectors)

    assert check.status == "at_risk"
    assert {"S3_VERSIONING_DISABLED", "S3_OBJECT_LOCK_DISABLED", "S3_VERSION_UNPROTECTED"} <= codes(check)
    expected = ceil_midnight(_versions(s3)[0]["LastModified"] + 30 * DAY)
    assert one_finding(check, "S3_LIFECYCLE_DESTROYS_IN_SCOPE").earliest_destruction_at == expected
    assert check.summary["heads_read"] == 0, "no HEAD is needed when nothing can be locked"

    plan = run_preserve(live_unit, source_id, inspectors, execute=False)
    assert [step["action"] for step in plan["steps"]] == ["enable_versioning", "enable_object_lock", "put_legal_hold"]

    # moto answers "Bucket needs to be empty" to enabling Object Lock here; AWS allows it on a versioned bucket.
    done = run_preserve(live_unit, source_id, inspectors, execute=True)
    assert done["results"]["succeeded"] == 1
    assert done["results"]["failed"] == 2
    failures = done["results"]["failures"]
    assert failures[0]["action"] == "enable_object_lock"
    assert failures[1] == {
        "action": "put_legal_hold",
        "target": failures[1]["target"],
        "error": {"code": "NotAttempted", "message": "enable_object_lock failed first"},
    }
    assert run_check(live_unit, source_id, inspectors).status == "at_risk", "still not preserved, and says so"


def test_version_deleted_for_good_after_the_first_check_is_lost(
    s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    _locked_bucket(s3)
    kept = _put(s3, f"{PREFIX}kept.mp4")
    doomed = _put(s3, f"{PREFIX}doomed.mp4")
    source_id = bound_source()
    first = run_check(live_unit, source_id, inspectors)
    assert first.status == "at_risk"

    s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}doomed.mp4", VersionId=doomed["VersionId"])
    second = run_check(live_unit, source_id, inspectors)

    assert second.status == "lost"
    missing = one_finding(second, "S3_VERSION_MISSING")
    assert missing.severity == "critical"
    assert missing.count == 1
    assert missing.examples[0]["version_id"] == doomed["VersionId"]
    assert kept["VersionId"] not in {e["version_id"] for e in missing.examples}
    entry = live_unit.session.scalars(
        select(ManifestEntry).where(ManifestEntry.version_id == doomed["VersionId"])
    ).one()
    assert entry.missing_since_check_id == second.id
    assert live_unit.session.get(DataSource, source_id).status == "lost"  # type: ignore[union-attr]

    # Preserving what is left does not bring back what is gone.
    run_preserve(live_unit, source_id, inspectors, execute=True)
    assert run_check(live_unit, source_id, inspectors).status == "lost"


def test_a_delete_marker_hides_but_does_not_lose_held_versions(
    s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    _locked_bucket(s3)
    _put(s3, f"{PREFIX}cam.mp4")
    source_id = bound_source()
    run_preserve(live_unit, source_id, inspectors, execute=True)
    s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}cam.mp4")  # adds a delete marker

    check = run_check(live_unit, source_id, inspectors)

    assert check.status == "preserved"
    hidden = one_finding(check, "S3_DELETE_MARKER_IN_SCOPE")
    assert hidden.count == 1
    assert "S3_VERSION_MISSING" not in codes(check)


def test_versions_outside_the_scope_are_not_judged(
    s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    _locked_bucket(s3, [EXPIRE_30_DAYS])
    _put(s3, f"{PREFIX}cam.mp4")
    source_id = bound_source(preserve_from=dt.date(2017, 1, 1), preserve_until=dt.date(2017, 12, 31))

    check = run_check(live_unit, source_id, inspectors)

    assert check.status == "unverifiable"
    assert codes(check) == {"S3_NO_VERSIONS_IN_SCOPE"}
    assert check.summary["versions_in_scope"] == 0


def test_a_bucket_that_never_existed_is_unverifiable_and_one_that_vanished_is_lost(
    s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    never = bound_source(location="s3://no-such-bucket/x/")
    check = run_check(live_unit, never, inspectors)
    assert (check.status, codes(check)) == ("unverifiable", {"S3_BUCKET_MISSING"})

    s3.create_bucket(Bucket=BUCKET)
    _put(s3, f"{PREFIX}cam.mp4")
    source_id = bound_source()
    assert run_check(live_unit, source_id, inspectors).status == "at_risk"
    s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}cam.mp4")
    s3.delete_bucket(Bucket=BUCKET)
    gone = run_check(live_unit, source_id, inspectors)
    assert gone.status == "lost"
    assert one_finding(gone, "S3_BUCKET_MISSING").severity == "critical"


def test_a_changed_lifecycle_rule_is_reported_as_drift(
    s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    _locked_bucket(s3)
    _put(s3, f"{PREFIX}cam.mp4")
    source_id = bound_source()
    run_preserve(live_unit, source_id, inspectors, execute=True)
    assert "CONFIG_DRIFT" not in codes(run_check(live_unit, source_id, inspectors))

    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [EXPIRE_30_DAYS]})
    check = run_check(live_unit, source_id, inspectors)

    drift = one_finding(check, "CONFIG_DRIFT")
    assert drift.details["lifecycle_rules"]["from"] == []
    assert drift.details["lifecycle_rules"]["to"][0]["ID"] == "overwrite-loop"
    assert check.status == "preserved", "held versions survive the new rule; the drift is reported, not counted"


def test_a_check_asks_at_most_one_head_per_in_scope_version_plus_the_listing(
    s3: Any, boto_session: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    _locked_bucket(s3, [EXPIRE_30_DAYS])
    for number in range(5):
        _put(s3, f"{PREFIX}cam-{number}.mp4")
    source_id = bound_source()
    sent: list[str] = []
    boto_session.events.register("before-call.s3", lambda model, **_: sent.append(model.name))

    check = run_check(live_unit, source_id, inspectors)

    assert check.summary["versions_in_scope"] == 5
    assert sorted(sent) == sorted(
        [
            "GetBucketVersioning",
            "GetObjectLockConfiguration",
            "GetBucketLifecycleConfiguration",
            "ListObjectVersions",
            "GetObjectLegalHold",
            *["HeadObject"] * 5,
        ]
    )


def test_a_source_that_moves_starts_a_new_manifest(
    s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    from preservation.services import sources  # noqa: PLC0415

    _locked_bucket(s3)
    _put(s3, f"{PREFIX}cam.mp4")
    s3.create_bucket(Bucket="poe-video-archive", ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket="poe-video-archive", Key=f"{PREFIX}cam.mp4", Body=b"video")
    source_id = bound_source()
    run_preserve(live_unit, source_id, inspectors, execute=True)
    assert run_check(live_unit, source_id, inspectors).status == "preserved"

    sources.update_data_source(live_unit, source_id, {"location": f"s3://poe-video-archive/{PREFIX}"})
    live_unit.session.commit()
    moved = run_check(live_unit, source_id, inspectors)

    assert moved.status == "at_risk", "the archive's copy is judged on its own, not as a loss of the old one"
    assert codes(moved) == {"S3_VERSION_UNPROTECTED"}
    assert moved.summary["location"] == f"s3://poe-video-archive/{PREFIX}"
    run_preserve(live_unit, source_id, inspectors, execute=True)
    assert run_check(live_unit, source_id, inspectors).status == "preserved"


@pytest.mark.parametrize("count", [0, 1])
def test_released_obligations_leave_nothing_to_check(
    s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory, count: int
) -> None:
    from preservation.models import Obligation  # noqa: PLC0415
    from preservation.services import orders  # noqa: PLC0415

    source_id = bound_source()
    obligation = live_unit.session.scalars(select(Obligation)).one()
    orders.release_order(live_unit, obligation.order_id, "case settled")
    live_unit.session.commit()
    checks_run = [run_check(live_unit, source_id, inspectors) for _ in range(count + 1)]
    assert {c.status for c in checks_run} == {"released"}
    assert live_unit.session.get(DataSource, source_id).status == "released"  # type: ignore[union-attr]
