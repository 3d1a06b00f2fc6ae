"""S3 Inventory reports: reading them safely, judging their rows exactly as a listing would, and on moto.

moto stores inventory configurations but never publishes reports, so the reports here are written
into the destination bucket by the test, in the layout and format S3 uses.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import itertools
import json
from typing import Any
from urllib.parse import quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preservation.adapters.aws import AwsClients
from preservation.adapters.s3_inventory import InventoryReader
from preservation.domain import inventory
from preservation.domain.destruction import parse_lifecycle_rules
from preservation.domain.inventory import (
    InventoryError,
    newest_manifest_key,
    parse_manifest,
    read_rows,
    report_prefix,
)
from preservation.domain.inventory_evaluation import InventoryEvaluator
from preservation.domain.s3_check import evaluate_s3
from preservation.domain.s3_findings import version_findings
from preservation.domain.scope import DateRange

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 28, 12, tzinfo=UTC)
SCHEMA = (
    "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, "
    "ObjectLockRetainUntilDate, ObjectLockMode, ObjectLockLegalHoldStatus"
)
COLUMNS = [c.strip() for c in SCHEMA.split(",")]
# Hypothesis takes naive bounds.
EARLY = dt.datetime(2025, 6, 1)  # noqa: DTZ001
LATE = dt.datetime(2026, 11, 1)  # noqa: DTZ001


def _text(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _gzip_rows(rows: list[dict[str, str]], columns: list[str] = COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return gzip.compress(buffer.getvalue().encode())


def _manifest(files: list[tuple[str, bytes]], schema: str = SCHEMA) -> bytes:
    return json.dumps(
        {
            "sourceBucket": "poe-video",
            "destinationBucket": "arn:aws:s3:::poe-inventory",
            "version": "2016-11-30",
            "creationTimestamp": str(int(NOW.timestamp() * 1000)),
            "fileFormat": "CSV",
            "fileSchema": schema,
            "files": [
                {"key": key, "size": len(data), "MD5checksum": hashlib.md5(data, usedforsecurity=False).hexdigest()}
                for key, data in files
            ],
        }
    ).encode()


# Reading ---------------------------------------------------------------------------------------------


def test_manifest_checks() -> None:
    raw = _manifest([("data/a.csv.gz", b"x")])
    manifest = parse_manifest(raw, hashlib.md5(raw, usedforsecurity=False).hexdigest())
    assert manifest.columns[:3] == ("Bucket", "Key", "VersionId")
    assert manifest.created_at == NOW
    assert manifest.index("ObjectLockMode") == 9
    assert manifest.index("StorageClass") is None
    with pytest.raises(InventoryError, match=r"manifest\.checksum"):
        parse_manifest(raw, "0" * 32)
    with pytest.raises(InventoryError, match="lacks VersionId, IsLatest"):
        parse_manifest(_manifest([], schema="Bucket, Key, IsDeleteMarker, LastModifiedDate"), None)
    parquet = json.loads(raw)
    parquet["fileFormat"] = "Parquet"
    with pytest.raises(InventoryError, match="only CSV"):
        parse_manifest(json.dumps(parquet).encode(), None)


def test_the_newest_report_folder_wins() -> None:
    prefix = report_prefix("inventory/", "poe-video", "all-versions")
    assert prefix == "inventory/poe-video/all-versions/"
    keys = [
        f"{prefix}2026-11-26T01-00Z/manifest.json",
        f"{prefix}2026-11-27T01-00Z/manifest.json",
        f"{prefix}data/x.csv.gz",
        f"{prefix}hive/dt=2026-11-28-01-00/symlink.txt",
    ]
    assert newest_manifest_key(keys) == f"{prefix}2026-11-27T01-00Z/manifest.json"
    assert newest_manifest_key([]) is None


def _chunked(data: bytes, size: int = 7) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_rows_are_streamed_decoded_and_checked() -> None:
    rows = [
        {"Key": quote_plus("recordings/cam 1.mp4", safe=""), "VersionId": "v1", "IsLatest": "true"},
        # Quotes and commas send the line through the csv module; the fields come out the same.
        {"Key": "odd", "VersionId": 'a"b,c', "IsLatest": "true"},
    ]
    data = _gzip_rows(rows) + _gzip_rows(rows[:1])  # two gzip members, as S3 may write
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    read = list(read_rows(_chunked(data), md5))
    assert [r[1] for r in read] == ["recordings%2Fcam+1.mp4", "odd", "recordings%2Fcam+1.mp4"]
    assert read[1][2] == 'a"b,c'
    with pytest.raises(InventoryError, match="MD5"):
        list(read_rows(_chunked(data), "0" * 32))
    with pytest.raises(InventoryError, match="middle of its gzip stream"):
        list(read_rows(_chunked(data[:-9]), md5))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.text(alphabet='ab",% é', max_size=5), min_size=3, max_size=3), min_size=1, max_size=40),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from([csv.QUOTE_ALL, csv.QUOTE_MINIMAL]),
    st.integers(min_value=1, max_value=300),
)
def test_rows_read_in_blocks_are_the_rows_csv_reads(
    rows: list[list[str]], terminator: str, quoting: int, block_bytes: int
) -> None:
    # Blocks of any size, lines as S3 writes them or not: a block split at C speed gives csv's fields.
    buffer = io.StringIO()
    csv.writer(buffer, quoting=quoting, lineterminator=terminator).writerows(rows)
    text = buffer.getvalue()
    data = gzip.compress(text.encode())
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inventory, "_BLOCK_BYTES", block_bytes)
        read = list(read_rows(_chunked(data, 50), md5))
    assert read == list(csv.reader(io.StringIO(text, newline="")))


# Judging: the same answer as a listing -------------------------------------------------------------


@st.composite
def buckets(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Keys with a few versions each (and maybe a delete marker), with locks, oldest entry first."""
    keys = draw(
        st.lists(
            st.text(alphabet="ab/ +%é,", min_size=1, max_size=6).map(lambda k: "rec/" + k),
            min_size=1,
            max_size=8,
            unique=True,
        )
    )
    entries = []
    for key in sorted(keys):
        moment = draw(st.datetimes(min_value=EARLY, max_value=LATE)).replace(tzinfo=UTC, microsecond=0)
        for number in range(draw(st.integers(min_value=1, max_value=3))):
            moment += dt.timedelta(seconds=draw(st.integers(min_value=1, max_value=40 * 86_400)))
            lock = draw(st.sampled_from(["none", "hold", "governance", "compliance", "expired"]))
            entries.append(
                {"key": key, "version": f"{key}-v{number}", "modified": moment, "lock": lock, "marker": False}
            )
        if draw(st.booleans()):
            moment += dt.timedelta(seconds=draw(st.integers(min_value=1, max_value=86_400)))
            entries.append({"key": key, "version": f"{key}-m", "modified": moment, "lock": "none", "marker": True})
    return entries


RULE_SETS = st.sampled_from(
    [
        [],
        [{"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "rec/a"}, "Expiration": {"Days": 30}}],
        [
            {
                "ID": "loop",
                "Status": "Enabled",
                "Filter": {},
                "Expiration": {"Days": 10},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 3, "NewerNoncurrentVersions": 1},
            },
            {"ID": "big", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 50}, "Expiration": {"Days": 5}},
        ],
    ]
)


def _lock_fields(entry: dict[str, Any]) -> dict[str, str]:
    lock, modified = entry["lock"], entry["modified"]
    if entry["marker"] or lock == "none":
        return {}
    if lock == "hold":
        return {"ObjectLockLegalHoldStatus": "ON"}
    until = modified + dt.timedelta(days=400 if lock != "expired" else 1)
    mode = "COMPLIANCE" if lock == "compliance" else "GOVERNANCE"
    return {"ObjectLockMode": mode, "ObjectLockRetainUntilDate": _text(until)}


def _as_listing(entries: list[dict[str, Any]], rules: list[dict[str, Any]]) -> dict[str, Any]:
    latest = {e["key"]: e for e in entries}  # the last entry of each key is its newest
    versions = [
        {
            "Key": e["key"],
            "VersionId": e["version"],
            "IsLatest": latest[e["key"]] is e,
            "LastModified": e["modified"].isoformat(),
            "ETag": '"e"',
            "Size": len(e["version"]) * 9,
        }
        for e in reversed(entries)
        if not e["marker"]
    ]
    markers = [
        {
            "Key": e["key"],
            "VersionId": e["version"],
            "IsLatest": latest[e["key"]] is e,
            "LastModified": e["modified"].isoformat(),
        }
        for e in reversed(entries)
        if e["marker"]
    ]
    heads = []
    for e in entries:
        if e["marker"]:
            continue
        fields = _lock_fields(e)
        if "ObjectLockRetainUntilDate" in fields:
            fields["ObjectLockRetainUntilDate"] = fields["ObjectLockRetainUntilDate"].replace(".000Z", "+00:00")
        heads.append({"key": e["key"], "version_id": e["version"], "response": fields})
    return {
        "bucket": "poe-video",
        "versioning": {"response": {"Status": "Enabled"}},
        "object_lock": {"response": {"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}}},
        "lifecycle": {"response": {"Rules": rules}},
        "listing": {"pages": 1, "versions": versions, "delete_markers": markers},
        "legal_hold_probe": {"key": "k", "version_id": "v", "error": {"code": "NoSuchObjectLockConfiguration"}},
        "heads": heads,
    }


def _as_inventory_rows(entries: list[dict[str, Any]]) -> list[dict[str, str]]:
    latest = {e["key"]: e for e in entries}
    return [
        {
            "Bucket": "poe-video",
            "Key": quote_plus(e["key"], safe=""),
            "VersionId": e["version"],
            "IsLatest": "true" if latest[e["key"]] is e else "false",
            "IsDeleteMarker": "true" if e["marker"] else "false",
            "Size": "" if e["marker"] else str(len(e["version"]) * 9),
            "LastModifiedDate": _text(e["modified"]),
            "ETag": "" if e["marker"] else "e",
            **_lock_fields(e),
        }
        for e in reversed(entries)  # newest first, as S3 writes them
    ]


def _inventory_findings(rows: list[dict[str, str]], rules: list[dict[str, Any]], scope: list[DateRange]) -> Any:
    data = _gzip_rows(rows)
    manifest = parse_manifest(_manifest([("data/a.csv.gz", data)]), None)
    evaluator = InventoryEvaluator(
        manifest,
        prefix="rec/",
        scope=scope,
        now=NOW,
        rules=parse_lifecycle_rules(rules),
        versioning="Enabled",
        object_lock="enabled",
    )
    evaluator.feed(read_rows(_chunked(data, 64), manifest.files[0].md5))
    tallies = evaluator.finish()
    return tallies, version_findings(tallies, None)


def _comparable(findings: Any) -> list[tuple[Any, ...]]:
    return [(f.code, f.count, f.earliest_destruction_at, tuple(map(str, f.examples)), str(f.details)) for f in findings]


@settings(max_examples=150, deadline=None)
@given(buckets(), RULE_SETS, st.sampled_from([None, dt.date(2026, 3, 1)]))
def test_an_inventory_is_judged_exactly_as_the_listing_and_heads_would_be(
    entries: list[dict[str, Any]], rules: list[dict[str, Any]], start: dt.date | None
) -> None:
    scope = [DateRange(start, None)]
    listed = evaluate_s3(_as_listing(entries, rules), scope, NOW)
    tallies, findings = _inventory_findings(_as_inventory_rows(entries), rules, scope)
    expected = [f for f in listed.evaluation.findings if f.code != "S3_NO_VERSIONS_IN_SCOPE"]
    assert _comparable(findings) == _comparable(expected)
    assert tallies.in_scope == len(listed.versions)
    assert tallies.earliest == listed.evaluation.earliest_destruction_at


def test_a_key_split_across_files_is_judged_as_early_as_it_could_go() -> None:
    rules = [{"ID": "nc", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 3}}]
    older = {
        "Key": "rec%2Fcam",
        "VersionId": "v1",
        "IsLatest": "false",
        "IsDeleteMarker": "false",
        "LastModifiedDate": "2026-10-01T10:00:00.000Z",
        "ObjectLockLegalHoldStatus": "OFF",
    }
    tallies, findings = _inventory_findings([older], rules, [DateRange(None, None)])
    lifecycle = next(f for f in findings if f.code == "S3_LIFECYCLE_DESTROYS_IN_SCOPE")
    # Its successor is in another file: it may have been noncurrent since it was written.
    assert lifecycle.earliest_destruction_at == dt.datetime(2026, 10, 5, tzinfo=UTC)
    assert tallies.in_scope == 1


def test_a_report_without_lock_columns_proves_nothing_about_locks() -> None:
    columns = ["Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker", "LastModifiedDate"]
    row = {"Bucket": "b", "Key": "rec/x", "VersionId": "v", "IsLatest": "true", "IsDeleteMarker": "false"}
    row["LastModifiedDate"] = "2026-10-01T10:00:00.000Z"
    data = _gzip_rows([row], columns)
    manifest = parse_manifest(_manifest([("d", data)], schema=", ".join(columns)), None)
    evaluator = InventoryEvaluator(
        manifest,
        prefix="",
        scope=[DateRange(None, None)],
        now=NOW,
        rules=[],
        versioning="Enabled",
        object_lock="enabled",
    )
    evaluator.feed(read_rows([data], manifest.files[0].md5))
    findings = version_findings(evaluator.finish(), None)
    assert [f.code for f in findings] == ["S3_LOCK_STATUS_UNKNOWN"]
    assert "leaves out the Object Lock fields" in findings[0].message


# On moto ---------------------------------------------------------------------------------------------


def test_the_newest_report_is_found_and_streamed_from_s3(s3: Any, boto_session: Any) -> None:
    s3.create_bucket(Bucket="poe-video")
    s3.create_bucket(Bucket="poe-inventory")
    s3.put_bucket_inventory_configuration(
        Bucket="poe-video",
        Id="all-versions",
        InventoryConfiguration={
            "Destination": {
                "S3BucketDestination": {"Bucket": "arn:aws:s3:::poe-inventory", "Format": "CSV", "Prefix": "inventory"}
            },
            "IsEnabled": True,
            "Id": "all-versions",
            "IncludedObjectVersions": "All",
            "OptionalFields": [
                "Size",
                "LastModifiedDate",
                "ETag",
                "ObjectLockRetainUntilDate",
                "ObjectLockMode",
                "ObjectLockLegalHoldStatus",
            ],
            "Schedule": {"Frequency": "Daily"},
        },
    )
    base = "inventory/poe-video/all-versions/"
    held = {"Key": "rec%2Fheld.mp4", "VersionId": "v1", "IsLatest": "true", "IsDeleteMarker": "false"}
    held |= {"LastModifiedDate": "2026-10-01T10:00:00.000Z", "ObjectLockLegalHoldStatus": "ON"}
    bare = held | {"Key": "rec%2Fbare+1.mp4", "ObjectLockLegalHoldStatus": "OFF"}
    old_data, new_data = _gzip_rows([bare]), _gzip_rows([bare, held])
    for folder, data in (("2026-11-26T01-00Z", old_data), ("2026-11-27T01-00Z", new_data)):
        data_key = f"{base}data/{folder}.csv.gz"
        manifest = _manifest([(data_key, data)])
        s3.put_object(Bucket="poe-inventory", Key=data_key, Body=data)
        s3.put_object(Bucket="poe-inventory", Key=f"{base}{folder}/manifest.json", Body=manifest)
        checksum = hashlib.md5(manifest, usedforsecurity=False).hexdigest()
        s3.put_object(Bucket="poe-inventory", Key=f"{base}{folder}/manifest.checksum", Body=checksum.encode())

    reader = InventoryReader(AwsClients(boto_session))
    report = reader.newest_report("poe-video", "all-versions", None)
    assert report.manifest_key == f"{base}2026-11-27T01-00Z/manifest.json"
    evaluator = InventoryEvaluator(
        report.manifest,
        prefix="rec/",
        scope=[DateRange(None, None)],
        now=NOW,
        rules=[],
        versioning="Enabled",
        object_lock="enabled",
    )
    evaluator.feed(
        itertools.chain.from_iterable(read_rows(reader.chunks(report, f, None), f.md5) for f in report.manifest.files)
    )
    tallies = evaluator.finish()
    findings = version_findings(tallies, None)
    assert tallies.in_scope == 2
    assert [(f.code, f.count) for f in findings] == [("S3_VERSION_UNPROTECTED", 1)]
    assert findings[0].examples[0]["key"] == "rec/bare 1.mp4"

    s3.put_object(Bucket="poe-inventory", Key=f"{base}2026-11-27T01-00Z/manifest.checksum", Body=b"0" * 32)
    with pytest.raises(InventoryError, match=r"manifest\.checksum"):
        reader.newest_report("poe-video", "all-versions", None)
