"""S3 Batch Operations for large preserves: when the holds are too many to put one by one, one job puts them.

A plan whose legal holds outnumber the threshold has them replaced by one `create_batch_hold_job` step:
an S3PutObjectLegalHold job over a manifest S3 generates itself (S3JobManifestGenerator) from the
bucket, filtered on the prefix and on the creation dates of the scope. A generated manifest costs no
listing here and no manifest file to write and protect; the filter is coarser than the plan (it spans
the whole scope, from its first day to the day after its last, and holds versions already held again,
which is idempotent), and versions written after the job starts are not in it: the check that follows
reads every version's hold, so anything the job missed shows up as unprotected, never as preserved.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from preservation.domain.preservation_plan import OBJECT_ACTIONS, PlanStep, PreservationPlan
from preservation.domain.scope import DateRange

BATCH_ACTION = "create_batch_hold_job"
# describe_job statuses after which nothing changes any more.
FINISHED_STATUSES = frozenset({"Complete", "Failed", "Cancelled"})
_ROLE_ACCOUNT = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/")


@dataclass(frozen=True)
class BatchOptions:
    """When a preserve creates a Batch Operations job instead of putting holds one by one, and as whom."""

    threshold: int
    role_arn: str | None

    @property
    def account_id(self) -> str | None:
        """The account that owns the jobs: the role's."""
        match = _ROLE_ACCOUNT.match(self.role_arn or "")
        return match.group(1) if match else None


def batch_plan(
    plan: PreservationPlan, bucket: str, prefix: str, scope: Sequence[DateRange], options: BatchOptions
) -> PreservationPlan:
    """The plan with its legal holds replaced by one job when they are more than the threshold."""
    holds = [s for s in plan.steps if s.action in OBJECT_ACTIONS]
    if len(holds) <= options.threshold or plan.blocked:
        return plan
    if options.account_id is None:
        note = (
            f"{len(holds)} holds exceed the Batch Operations threshold ({options.threshold}) but no "
            "PRESERVATION_BATCH_OPERATIONS_ROLE_ARN is set: they are put one by one"
        )
        return replace(plan, notes=(*plan.notes, note))
    created_after, created_before = _bounds(scope)
    step = PlanStep(
        BATCH_ACTION,
        {
            "bucket": bucket,
            "prefix": prefix,
            "account_id": options.account_id,
            "role_arn": options.role_arn,
            "created_after": None if created_after is None else created_after.isoformat(),
            "created_before": None if created_before is None else created_before.isoformat(),
            "versions": len(holds),
        },
        f"{len(holds)} versions to hold: one S3 Batch Operations job (S3PutObjectLegalHold), not a request each",
    )
    others = tuple(s for s in plan.steps if s.action not in OBJECT_ACTIONS)
    return replace(plan, steps=(*others, step))


def create_job_request(target: Mapping[str, Any], token: str) -> dict[str, Any]:
    """The s3control CreateJob parameters of a batch step (a generated manifest, no completion report)."""
    job_filter: dict[str, Any] = {}
    if target["prefix"]:
        job_filter["KeyNameConstraint"] = {"MatchAnyPrefix": [target["prefix"]]}
    if target.get("created_after"):
        job_filter["CreatedAfter"] = dt.datetime.fromisoformat(target["created_after"])
    if target.get("created_before"):
        job_filter["CreatedBefore"] = dt.datetime.fromisoformat(target["created_before"])
    generator: dict[str, Any] = {
        "ExpectedBucketOwner": target["account_id"],
        "SourceBucket": f"arn:aws:s3:::{target['bucket']}",
        "EnableManifestOutput": False,
    }
    if job_filter:
        generator["Filter"] = job_filter
    return {
        "AccountId": target["account_id"],
        "ConfirmationRequired": False,
        "Operation": {"S3PutObjectLegalHold": {"LegalHold": {"Status": "ON"}}},
        "Report": {"Enabled": False},
        "ClientRequestToken": token,
        "ManifestGenerator": {"S3JobManifestGenerator": generator},
        "Priority": 10,
        "RoleArn": target["role_arn"],
        "Description": f"preservation: legal holds on s3://{target['bucket']}/{target['prefix']}"[:256],
    }


def _bounds(scope: Sequence[DateRange]) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The creation-time window spanning the scope: from its first UTC day to the midnight after its last."""
    starts = [r.start for r in scope]
    ends = [r.end for r in scope]
    after = None if not starts or None in starts else min(s for s in starts if s is not None)
    before = None if not ends or None in ends else max(e for e in ends if e is not None)
    return (
        None if after is None else dt.datetime.combine(after, dt.time(), dt.UTC),
        None if before is None else dt.datetime.combine(before + dt.timedelta(days=1), dt.time(), dt.UTC),
    )
