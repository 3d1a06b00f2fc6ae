"""S3 Batch Operations jobs created by large preserves: list them, and refresh them from describe_job."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app

from preservation.adapters.s3 import S3Inspector
from preservation.domain.batch_operations import BatchOptions
from preservation.services import batch_jobs
from preservation.web import access
from preservation.web.api.common import api_blueprint, documented_errors
from preservation.web.session import unit_of_work

blp = api_blueprint("batch_jobs", "S3 Batch Operations jobs that put legal holds on a large source's versions.")


class BatchJobSchema(ma.Schema):
    """One job and what describe_job last said of it."""

    job_id = ma.fields.String()
    status = ma.fields.String(metadata={"description": "as describe_job names it: New, Active, Complete, Failed, ..."})
    versions_planned = ma.fields.Integer()
    progress = ma.fields.Dict(metadata={"description": "ProgressSummary and FailureReasons, as last read"})
    created_at = ma.fields.String()
    refreshed_at = ma.fields.String(allow_none=True)


class BatchJobListSchema(ma.Schema):
    """A source's jobs, oldest first."""

    items = ma.fields.List(ma.fields.Nested(BatchJobSchema))


def batch_options() -> BatchOptions:
    """When a preserve creates a job, from the settings."""
    settings = current_app.extensions["preservation"].settings
    return BatchOptions(settings.batch_operations_threshold, settings.batch_operations_role_arn)


@blp.route("/data-sources/<int:source_id>/batch-jobs", methods=["POST"])
@access.writers
@blp.response(200, BatchJobListSchema)
@documented_errors(blp, 401, 403, 404)
def refresh_batch_jobs(source_id: int) -> dict[str, Any]:
    """Ask AWS how the source's unfinished jobs are doing, record it, and return every job."""
    from preservation.web.api.checks import collectors  # noqa: PLC0415  (checks imports this module)

    unit = unit_of_work()
    pending = batch_jobs.unfinished(unit, source_id)
    unit.session.commit()  # no transaction stays open while AWS answers
    inspector = collectors().s3
    if not isinstance(inspector, S3Inspector):
        raise TypeError("batch jobs are followed through the S3 inspector")
    answers = batch_jobs.describe_all(pending, inspector.batch.describe)
    items = batch_jobs.refresh(unit, source_id, answers)
    unit.session.commit()
    return {"items": items}
