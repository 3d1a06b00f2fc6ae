"""S3 checks through an inventory report: the bucket's settings, the report streamed and judged, recent keys live.

Requests per check: the bucket's versioning, Object Lock and lifecycle configuration, the inventory
configuration, one listing of its report folders, manifest.json and manifest.checksum, one streamed GET
per data file, the ListObjectVersions pages under the prefix (only the keys changed since the report's
cutoff are kept), one legal-hold read to prove the lock fields are visible, and one HEAD per in-scope
version written after the cutoff that the report does not hold. No request per version the report
answers. The rows are judged while they stream (domain/inventory_evaluation.py); only the tallies and the
report's identity enter the snapshot.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from preservation.adapters.aws import AwsClients, bounded_map, call, error_record, jsonable
from preservation.adapters.s3_inventory import InventoryReader
from preservation.domain.destruction import FOREVER, in_scope, parse_timestamp
from preservation.domain.evidence import is_code
from preservation.domain.inventory import InventoryError, decode_key, read_rows
from preservation.domain.inventory_check import covers_prefix, report_cutoff, row_as_head, tallies_document
from preservation.domain.inventory_evaluation import InventoryEvaluator
from preservation.domain.s3_check import bucket_settings
from preservation.domain.scope import DateRange

_VERSION_FIELDS = ("Key", "VersionId", "IsLatest", "LastModified", "ETag", "Size")
_MARKER_FIELDS = ("Key", "VersionId", "IsLatest", "LastModified")
_HEAD_FIELDS = (
    "LastModified",
    "ETag",
    "ContentLength",
    "VersionId",
    "ObjectLockMode",
    "ObjectLockRetainUntilDate",
    "ObjectLockLegalHoldStatus",
    "TagCount",
)

log = logging.getLogger(__name__)


class InventoryInspector:
    """Checks an S3 prefix from the newest report of a named inventory configuration."""

    def __init__(self, clients: AwsClients, *, max_workers: int = 16) -> None:
        self._clients = clients
        self._reader = InventoryReader(clients)
        self._max_workers = max_workers

    def snapshot(  # noqa: PLR0911, PLR0917  (each failure is recorded and ends the snapshot; the request fields)
        self,
        bucket: str,
        prefix: str,
        region: str | None,
        scope: Sequence[DateRange],
        configuration_id: str,
        now: dt.datetime,
    ) -> dict[str, Any]:
        """The bucket's settings, the report's tallies, and the keys written since the report, as plain JSON."""
        s3 = self._clients.client("s3", region)
        snapshot: dict[str, Any] = {"kind": "s3", "bucket": bucket, "prefix": prefix, "region": region}
        snapshot["versioning"] = call(s3.get_bucket_versioning, Bucket=bucket)
        if is_code(snapshot["versioning"].get("error"), "NoSuchBucket"):
            return snapshot
        snapshot["object_lock"] = call(s3.get_object_lock_configuration, Bucket=bucket)
        snapshot["lifecycle"] = call(s3.get_bucket_lifecycle_configuration, Bucket=bucket)
        inventory: dict[str, Any] = {"configuration_id": configuration_id}
        snapshot["inventory"] = inventory
        try:
            report = self._reader.newest_report(bucket, configuration_id, region)
        except InventoryError as error:
            inventory["error"] = {"code": "InventoryUnusable", "message": str(error)}
            return snapshot
        except (ClientError, BotoCoreError) as error:
            inventory["error"] = error_record(error)
            return snapshot
        manifest = report.manifest
        cutoff = report_cutoff(manifest.created_at)
        inventory |= {
            "manifest_key": report.manifest_key,
            "destination_bucket": report.destination_bucket,
            "created_at": manifest.created_at.isoformat(),
            "cutoff": cutoff,
            "files": [{"key": f.key, "md5": f.md5} for f in manifest.files],
        }
        if manifest.source_bucket and manifest.source_bucket != bucket:
            inventory["error"] = {"code": "InventoryUnusable", "message": f"the report lists {manifest.source_bucket}"}
            return snapshot
        if not covers_prefix(report.configuration, prefix):
            inventory["error"] = {
                "code": "InventoryUnusable",
                "message": f"the configuration's filter does not cover the prefix {prefix!r}",
            }
            return snapshot
        snapshot["listing"] = self._recent_listing(s3, bucket, prefix, cutoff)
        if "error" in snapshot["listing"]:
            return snapshot
        recent_keys = {v["Key"] for v in snapshot["listing"]["versions"]} | {
            m["Key"] for m in snapshot["listing"]["delete_markers"]
        }
        settings = bucket_settings(snapshot)
        evaluator = InventoryEvaluator(
            manifest,
            prefix=prefix,
            scope=scope,
            now=now,
            rules=settings.rules,
            versioning=settings.versioning,
            object_lock=settings.object_lock,
        )
        # Rows of keys changed since the cutoff are judged with the listing; their lock fields are kept.
        diverted: dict[tuple[str, str], dict[str, str]] = {}
        columns = manifest.columns
        try:
            for data_file in manifest.files:
                rows = read_rows(self._reader.chunks(report, data_file, region), data_file.md5)
                evaluator.feed(_without(rows, recent_keys, columns, diverted) if recent_keys else rows)
        except InventoryError as error:
            inventory["error"] = {"code": "InventoryUnusable", "message": str(error)}
            return snapshot
        except (ClientError, BotoCoreError) as error:
            inventory["error"] = error_record(error)
            return snapshot
        inventory["rows"] = evaluator.rows
        inventory["tallies"] = tallies_document(evaluator.finish())
        self._spot_check(s3, snapshot, scope, settings.object_lock, diverted, lock_columns=_has_lock_columns(columns))
        return snapshot

    def _spot_check(
        self,
        s3: Any,
        snapshot: dict[str, Any],
        scope: Sequence[DateRange],
        object_lock: str,
        diverted: dict[tuple[str, str], dict[str, str]],
        *,
        lock_columns: bool,
    ) -> None:
        """Lock fields of the recent keys' in-scope versions: the report's row when it has one, else HEAD."""
        bucket = snapshot["bucket"]
        targets = [
            (v["Key"], v["VersionId"])
            for v in snapshot["listing"]["versions"]
            if in_scope(scope, parse_timestamp(v["LastModified"]) or FOREVER)
        ]
        lock_off = object_lock == "disabled"
        heads: list[dict[str, Any]] = []
        if lock_columns and not lock_off:
            for key, version_id in targets:
                row = diverted.get((key, version_id))
                if row is not None:
                    heads.append({"key": key, "version_id": version_id, **row_as_head(row)})
        answered = {(h["key"], h["version_id"]) for h in heads}
        unanswered = [t for t in targets if t not in answered]
        if unanswered and not lock_off:
            key, version_id = unanswered[0]
            probe = call(s3.get_object_legal_hold, Bucket=bucket, Key=key, VersionId=version_id)
            snapshot["legal_hold_probe"] = {"key": key, "version_id": version_id, **probe}
            heads.extend(bounded_map(lambda t: _head(s3, bucket, *t), unanswered, self._max_workers))
        elif heads:
            # The report's lock columns are S3's own reading of the lock: they prove visibility.
            snapshot["legal_hold_probe"] = {"source": "inventory", "response": {}}
        snapshot["heads"] = heads
        snapshot["tags"] = []

    @staticmethod
    def _recent_listing(s3: Any, bucket: str, prefix: str, cutoff: str) -> dict[str, Any]:
        """Every entry of the keys with a version or delete marker written on or after the cutoff day."""
        versions: list[dict[str, Any]] = []
        markers: list[dict[str, Any]] = []
        pages = 0
        # A key's entries may run over a page boundary: the page's last key is held until the next page.
        held: dict[str, list[tuple[bool, dict[str, Any]]]] = {}
        try:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
                pages += 1
                entries = [(False, {f: v[f] for f in _VERSION_FIELDS if f in v}) for v in page.get("Versions", ())]
                entries += [(True, {f: m[f] for f in _MARKER_FIELDS if f in m}) for m in page.get("DeleteMarkers", ())]
                for is_marker, entry in jsonable(entries):
                    held.setdefault(entry["Key"], []).append((is_marker, entry))
                last = max(held) if held else None
                for key in [k for k in held if k != last]:
                    _keep_if_recent(held.pop(key), cutoff, versions, markers)
        except (ClientError, BotoCoreError) as error:  # mid-pagination: recorded, not raised
            return {"pages": pages, "error": error_record(error)}
        for group in held.values():
            _keep_if_recent(group, cutoff, versions, markers)
        return {"pages": pages, "versions": versions, "delete_markers": markers, "since": cutoff}


def _keep_if_recent(
    group: list[tuple[bool, dict[str, Any]]], cutoff: str, versions: list[dict[str, Any]], markers: list[dict[str, Any]]
) -> None:
    if any(_day(entry["LastModified"]) >= cutoff for _, entry in group):
        for is_marker, entry in group:
            (markers if is_marker else versions).append(entry)


def _day(stamp: str) -> str:
    return (parse_timestamp(stamp) or FOREVER).astimezone(dt.UTC).date().isoformat()


def _has_lock_columns(columns: Sequence[str]) -> bool:
    return "ObjectLockLegalHoldStatus" in columns and "ObjectLockRetainUntilDate" in columns


def _without(
    rows: Iterable[list[str]],
    recent_keys: set[str],
    columns: Sequence[str],
    diverted: dict[tuple[str, str], dict[str, str]],
) -> Iterator[list[str]]:
    """The rows of keys not changed since the cutoff; the others' fields are put aside by (key, version)."""
    key_column, version_column = columns.index("Key"), columns.index("VersionId")
    for row in rows:
        key = decode_key(row[key_column])
        if key in recent_keys:
            diverted[(key, row[version_column])] = dict(zip(columns, row, strict=False))
        else:
            yield row


def _head(s3: Any, bucket: str, key: str, version_id: str) -> dict[str, Any]:
    answer = call(s3.head_object, Bucket=bucket, Key=key, VersionId=version_id)
    if "response" in answer:
        answer["response"] = {f: answer["response"][f] for f in _HEAD_FIELDS if f in answer["response"]}
    return {"key": key, "version_id": version_id, **answer}
