"""S3: snapshot what decides whether in-scope versions survive, and put legal holds on them.

Requests per check: the bucket's versioning, Object Lock and lifecycle configuration, the listing pages,
one legal-hold read to prove the lock fields are visible, and one HEAD per in-scope version (none when
Object Lock is off and no lifecycle rule filters on tags). Tags are read only for versions that have
some, and only when an Enabled rule filters on tags.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from preservation.adapters.aws import AwsClients, bounded_map, call, error_record, jsonable
from preservation.adapters.batch_operations import BatchOperations
from preservation.domain.batch_operations import BATCH_ACTION
from preservation.domain.destruction import FOREVER, filters_on_tags, in_scope, parse_lifecycle_rules, parse_timestamp
from preservation.domain.evidence import is_code
from preservation.domain.preservation_plan import BUCKET_ACTIONS, PlanStep, StepResult
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
    "DeleteMarker",
)


class S3Inspector:
    """Reads and changes one bucket at a time, HEADs and holds under a bounded thread pool."""

    def __init__(self, clients: AwsClients, *, max_workers: int = 16) -> None:
        self._clients = clients
        self._max_workers = max_workers
        self.batch = BatchOperations(clients)

    def snapshot(self, bucket: str, prefix: str, region: str | None, scope: Sequence[DateRange]) -> dict[str, Any]:
        """The raw answers a check evaluates, as plain JSON."""
        s3 = self._clients.client("s3", region)
        snapshot: dict[str, Any] = {"kind": "s3", "bucket": bucket, "prefix": prefix, "region": region}
        snapshot["versioning"] = call(s3.get_bucket_versioning, Bucket=bucket)
        if is_code(snapshot["versioning"].get("error"), "NoSuchBucket"):
            return snapshot
        snapshot["object_lock"] = call(s3.get_object_lock_configuration, Bucket=bucket)
        snapshot["lifecycle"] = call(s3.get_bucket_lifecycle_configuration, Bucket=bucket)
        snapshot["listing"] = self._listing(s3, bucket, prefix)
        if "error" in snapshot["listing"]:
            return snapshot
        targets = [
            (v["Key"], v["VersionId"])
            for v in snapshot["listing"]["versions"]
            if in_scope(scope, parse_timestamp(v["LastModified"]) or FOREVER)
        ]
        lock_off = is_code(snapshot["object_lock"].get("error"), "ObjectLockConfigurationNotFoundError")
        lifecycle = snapshot["lifecycle"].get("response") or {}
        tag_rules = filters_on_tags(parse_lifecycle_rules(lifecycle.get("Rules") or ()))
        if targets and not lock_off:
            key, version_id = targets[0]
            probe = call(s3.get_object_legal_hold, Bucket=bucket, Key=key, VersionId=version_id)
            snapshot["legal_hold_probe"] = {"key": key, "version_id": version_id, **probe}
        heads: list[dict[str, Any]] = []
        if targets and (not lock_off or tag_rules):
            heads = bounded_map(lambda t: self._head(s3, bucket, *t), targets, self._max_workers)
        snapshot["heads"] = heads
        snapshot["tags"] = []
        if tag_rules:
            tagged = [(h["key"], h["version_id"]) for h in heads if (h.get("response") or {}).get("TagCount")]
            snapshot["tags"] = bounded_map(lambda t: self._tags(s3, bucket, *t), tagged, self._max_workers)
        return snapshot

    def _listing(self, s3: Any, bucket: str, prefix: str) -> dict[str, Any]:
        versions: list[dict[str, Any]] = []
        markers: list[dict[str, Any]] = []
        pages = 0
        try:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
                pages += 1
                versions.extend({f: v[f] for f in _VERSION_FIELDS if f in v} for v in page.get("Versions", ()))
                markers.extend({f: m[f] for f in _MARKER_FIELDS if f in m} for m in page.get("DeleteMarkers", ()))
        except (ClientError, BotoCoreError) as error:  # mid-pagination: recorded, not raised
            return {"pages": pages, "error": error_record(error)}
        return {"pages": pages, "versions": jsonable(versions), "delete_markers": jsonable(markers)}

    @staticmethod
    def _head(s3: Any, bucket: str, key: str, version_id: str) -> dict[str, Any]:
        answer = call(s3.head_object, Bucket=bucket, Key=key, VersionId=version_id)
        if "response" in answer:
            answer["response"] = {f: answer["response"][f] for f in _HEAD_FIELDS if f in answer["response"]}
        return {"key": key, "version_id": version_id, **answer}

    @staticmethod
    def _tags(s3: Any, bucket: str, key: str, version_id: str) -> dict[str, Any]:
        answer = call(s3.get_object_tagging, Bucket=bucket, Key=key, VersionId=version_id)
        return {"key": key, "version_id": version_id, **answer}

    def apply(
        self,
        steps: Sequence[PlanStep],
        region: str | None,
        progress: Callable[[int], None] | None = None,
    ) -> list[StepResult]:
        """Carry out a plan: bucket steps in order (stopping at the first failure), then holds in parallel."""
        s3 = self._clients.client("s3", region)
        results: list[StepResult] = []
        bucket_steps = [s for s in steps if s.action in BUCKET_ACTIONS]
        holds = [s for s in steps if s.action not in BUCKET_ACTIONS]
        for index, step in enumerate(bucket_steps):
            result = self._run(s3, step)
            results.append(result)
            if progress is not None:
                progress(1)
            if not result.ok:
                skipped = {"code": "NotAttempted", "message": f"{step.action} failed first"}
                results.extend(StepResult(s, False, skipped) for s in [*bucket_steps[index + 1 :], *holds])
                return results
        jobs = [s for s in holds if s.action == BATCH_ACTION]
        results.extend(self.batch.create_hold_job(s, region) for s in jobs)
        if progress is not None and jobs:
            progress(len(jobs))
        holds = [s for s in holds if s.action != BATCH_ACTION]
        results.extend(bounded_map(lambda s: self._run(s3, s), holds, self._max_workers, progress))
        return results

    @staticmethod
    def _run(s3: Any, step: PlanStep) -> StepResult:
        target = step.target
        if step.action == "enable_versioning":
            answer = call(
                s3.put_bucket_versioning, Bucket=target["bucket"], VersioningConfiguration={"Status": "Enabled"}
            )
        elif step.action == "enable_object_lock":
            answer = call(
                s3.put_object_lock_configuration,
                Bucket=target["bucket"],
                ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"},
            )
        elif step.action == "put_legal_hold":
            answer = call(
                s3.put_object_legal_hold,
                Bucket=target["bucket"],
                Key=target["key"],
                VersionId=target["version_id"],
                LegalHold={"Status": "ON"},
            )
        else:
            answer = {"error": {"code": "UnknownAction", "message": step.action}}
        return StepResult(step, "error" not in answer, answer.get("error"))
