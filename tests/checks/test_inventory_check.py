"""S3 checks answered by an inventory report on moto: no request per version the report answers, HEAD for
what is newer than the report, and a report that cannot be trusted makes the check unverifiable.

moto never publishes inventory reports: the tests write them into the destination bucket. The report's
rows name versions that are not in the moto bucket at all, which proves they were judged from the
report alone; moto's own objects carry today's LastModified, newer than the report's cutoff, so they
are the ones checked live.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import boto3
import pytest

from preservation.adapters.inspectors import AwsInspectors
from preservation.models import DataSource
from preservation.services import sources
from preservation.services.unit import Unit
from tests.checks.conftest import SourceFactory
from tests.checks.support import DAY, ceil_midnight, codes, one_finding, run_check
from tests.checks.test_inventory import _gzip_rows, _manifest

BUCKET = "poe-video"
DESTINATION = "poe-inventory"
CONFIGURATION = "all-versions"
BASE = f"inventory/{BUCKET}/{CONFIGURATION}/"
EXPIRE_30_DAYS = {
    "ID": "overwrite-loop",
    "Status": "Enabled",
    "Filter": {"Prefix": "recordings/"},
    "Expiration": {"Days": 30},
    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
}
OLD = "2026-10-01T10:00:00.000Z"


def _row(key: str, version_id: str, *, hold: str = "OFF", modified: str = OLD) -> dict[str, str]:
    return {
        "Bucket": BUCKET,
        "Key": key.replace("/", "%2F"),
        "VersionId": version_id,
        "IsLatest": "true",
        "IsDeleteMarker": "false",
        "Size": "5",
        "LastModifiedDate": modified,
        "ETag": "e",
        "ObjectLockLegalHoldStatus": hold,
    }


def _bucket(s3: Any) -> None:
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [EXPIRE_30_DAYS]})
    s3.create_bucket(Bucket=DESTINATION)
    s3.put_bucket_inventory_configuration(
        Bucket=BUCKET,
        Id=CONFIGURATION,
        InventoryConfiguration={
            "Destination": {
                "S3BucketDestination": {"Bucket": f"arn:aws:s3:::{DESTINATION}", "Format": "CSV", "Prefix": "inventory"}
            },
            "IsEnabled": True,
            "Id": CONFIGURATION,
            "IncludedObjectVersions": "All",
            "OptionalFields": ["Size", "LastModifiedDate", "ETag", "ObjectLockLegalHoldStatus"],
            "Schedule": {"Frequency": "Daily"},
        },
    )


def _publish(s3: Any, rows: list[dict[str, str]], *, created_at: dt.datetime, checksum: str | None = None) -> str:
    """Write a report the way S3 lays it out; returns the data file's key."""
    folder = created_at.strftime("%Y-%m-%dT%H-%MZ")
    data_key = f"{BASE}data/{folder}.csv.gz"
    data = _gzip_rows(rows)
    document = json.loads(_manifest([(data_key, data)]))
    document["creationTimestamp"] = str(int(created_at.timestamp() * 1000))
    manifest = json.dumps(document).encode()
    s3.put_object(Bucket=DESTINATION, Key=data_key, Body=data)
    s3.put_object(Bucket=DESTINATION, Key=f"{BASE}{folder}/manifest.json", Body=manifest)
    digest = checksum or hashlib.md5(manifest, usedforsecurity=False).hexdigest()
    s3.put_object(Bucket=DESTINATION, Key=f"{BASE}{folder}/manifest.checksum", Body=digest.encode())
    return data_key


def _count_calls(session: boto3.session.Session) -> dict[str, int]:
    counted: dict[str, int] = {}

    def count(model: Any, **_kwargs: Any) -> None:
        counted[model.name] = counted.get(model.name, 0) + 1

    session.events.register("before-call.s3", count)
    return counted


def _inventory_source(live_unit: Unit, bound_source: SourceFactory) -> int:
    source_id = bound_source()
    sources.update_data_source(live_unit, source_id, {"inventory_configuration_id": CONFIGURATION})
    live_unit.session.commit()
    return source_id


def test_the_report_answers_old_versions_and_only_newer_ones_are_headed(
    s3: Any,
    boto_session: boto3.session.Session,
    inspectors: AwsInspectors,
    live_unit: Unit,
    bound_source: SourceFactory,
) -> None:
    _bucket(s3)
    held = [_row(f"recordings/held-{n}.mp4", f"h{n}", hold="ON") for n in range(3)]
    bare = [_row(f"recordings/bare-{n}.mp4", f"b{n}") for n in range(2)]
    _publish(s3, [*bare, *held], created_at=dt.datetime.now(dt.UTC) - DAY)
    recent = s3.put_object(Bucket=BUCKET, Key="recordings/new.mp4", Body=b"video")
    source_id = _inventory_source(live_unit, bound_source)
    calls = _count_calls(boto_session)

    check = run_check(live_unit, source_id, inspectors)

    # One HEAD for the one version newer than the report; none for the five rows the report answers.
    assert calls.get("HeadObject") == 1
    assert calls.get("GetObjectLegalHold") == 1
    assert check.status == "at_risk"
    assert check.summary["versions_in_scope"] == 6
    assert check.summary["inventory_rows"] == 5
    assert check.summary["recent_versions_in_scope"] == 1
    unprotected = one_finding(check, "S3_VERSION_UNPROTECTED")
    assert unprotected.count == 3
    assert {e["key"] for e in unprotected.examples} == {
        "recordings/bare-0.mp4",
        "recordings/bare-1.mp4",
        "recordings/new.mp4",
    }
    lifecycle = one_finding(check, "S3_LIFECYCLE_DESTROYS_IN_SCOPE")
    assert lifecycle.count == 3
    expected = ceil_midnight(dt.datetime(2026, 10, 1, 10, tzinfo=dt.UTC) + 30 * DAY) + DAY
    assert lifecycle.earliest_destruction_at == expected == check.earliest_destruction_at
    assert recent["VersionId"] in {e["version_id"] for e in unprotected.examples}
    document = json.loads(check.evidence.document)
    assert document["inventory"]["manifest_key"].endswith("/manifest.json")
    assert "tallies" in document["inventory"]


def test_held_report_and_held_new_version_are_preserved(
    s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    _bucket(s3)
    _publish(
        s3, [_row(f"recordings/held-{n}.mp4", f"h{n}", hold="ON") for n in range(4)], created_at=dt.datetime.now(dt.UTC)
    )
    recent = s3.put_object(Bucket=BUCKET, Key="recordings/new.mp4", Body=b"video")
    s3.put_object_legal_hold(
        Bucket=BUCKET, Key="recordings/new.mp4", VersionId=recent["VersionId"], LegalHold={"Status": "ON"}
    )
    source_id = _inventory_source(live_unit, bound_source)

    check = run_check(live_unit, source_id, inspectors)

    assert (check.status, [f.code for f in check.findings]) == ("preserved", [])
    assert check.summary["versions_in_scope"] == 5


@pytest.mark.parametrize("fault", ["no report", "manifest checksum", "data file MD5"])
def test_a_report_that_cannot_be_trusted_fails_closed(
    fault: str, s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    _bucket(s3)
    rows = [_row("recordings/held.mp4", "h", hold="ON")]
    if fault == "manifest checksum":
        _publish(s3, rows, created_at=dt.datetime.now(dt.UTC), checksum="0" * 32)
    elif fault == "data file MD5":
        data_key = _publish(s3, rows, created_at=dt.datetime.now(dt.UTC))
        s3.put_object(Bucket=DESTINATION, Key=data_key, Body=_gzip_rows([*rows, *rows]))
    source_id = _inventory_source(live_unit, bound_source)

    check = run_check(live_unit, source_id, inspectors)

    assert check.status == "unverifiable"
    unusable = one_finding(check, "S3_INVENTORY_UNUSABLE")
    expected = {"no report": "has not published", "manifest checksum": "manifest.checksum", "data file MD5": "MD5"}
    assert expected[fault] in unusable.message
    assert unusable.details["configuration_id"] == CONFIGURATION
    source = live_unit.session.get(DataSource, source_id)
    assert source is not None
    assert source.status == "unverifiable"


def test_an_unknown_configuration_fails_closed(
    s3: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    _bucket(s3)
    source_id = bound_source()
    sources.update_data_source(live_unit, source_id, {"inventory_configuration_id": "no-such-inventory"})
    live_unit.session.commit()

    check = run_check(live_unit, source_id, inspectors)

    assert check.status == "unverifiable"
    assert codes(check) == {"S3_INVENTORY_UNUSABLE"}
