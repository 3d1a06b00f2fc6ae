"""Retention checks: look inside the storage, judge what is seen, keep the evidence, update the source.

A check runs in three steps so that no database transaction stays open while AWS is asked:
`prepare_check` reads the source and its scope, the caller ends that transaction, `collect` asks the
storage (no database), and `record_check` evaluates the snapshot with the domain's pure functions and
stores the check, its findings, its evidence and the manifest in the caller's next transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from preservation.domain.backup_evaluation import BackupAssessment, vault_name
from preservation.domain.destruction import in_scope
from preservation.domain.errors import Conflict
from preservation.domain.findings import Evaluation, conclude, finding
from preservation.domain.inventory_check import evaluate_inventory_snapshot
from preservation.domain.log_check import evaluate_log_group, evaluate_manual, log_group_name
from preservation.domain.preservation_plan import PlanStep, StepResult
from preservation.domain.rules import parse_s3_location
from preservation.domain.s3_check import ManifestVersion, VersionAssessment, evaluate_s3
from preservation.domain.s3_findings import is_gone
from preservation.domain.scope import DateRange, union_of_ranges
from preservation.models import CheckFinding, DataSource, ManifestEntry, RetentionCheck
from preservation.services import audit, backup_checks, status_history
from preservation.services.attestations import latest_attestation
from preservation.services.backup_checks import BackupCollector
from preservation.services.evidence import evidence_row
from preservation.services.pages import Page, paginate
from preservation.services.release_holds import HoldReleaser
from preservation.services.unit import Unit

CHECKABLE_KINDS = ("s3", "cloudwatch_logs", "aws_backup", "manual")
# The code of a check whose collector failed, by kind (logs for any other kind).
READ_FAILED_CODES = {"s3": "S3_READ_FAILED", "aws_backup": "BACKUP_READ_FAILED"}

log = logging.getLogger(__name__)


class S3Collector(Protocol):
    """Reads and changes S3 (adapters.s3.S3Inspector)."""

    def snapshot(self, bucket: str, prefix: str, region: str | None, scope: Sequence[DateRange]) -> dict[str, Any]:
        """The raw answers about a bucket and prefix."""
        ...

    def apply(
        self, steps: Sequence[PlanStep], region: str | None, progress: Callable[[int], None] | None = None
    ) -> list[StepResult]:
        """Carry out preservation steps."""
        ...


class LogsCollector(Protocol):
    """Reads and changes CloudWatch Logs (adapters.logs.LogsInspector)."""

    def snapshot(self, log_group: str, region: str | None) -> dict[str, Any]:
        """The raw answers about a log group."""
        ...

    def apply(
        self, steps: Sequence[PlanStep], region: str | None, progress: Callable[[int], None] | None = None
    ) -> list[StepResult]:
        """Carry out preservation steps."""
        ...


class InventoryCollector(Protocol):
    """Reads S3 through an inventory report, checking only what changed since the report live."""

    def snapshot(  # noqa: PLR0917  (the check request's fields)
        self,
        bucket: str,
        prefix: str,
        region: str | None,
        scope: Sequence[DateRange],
        configuration_id: str,
        now: dt.datetime,
    ) -> dict[str, Any]:
        """The bucket's settings, the report's tallies, and the recent keys' versions."""
        ...


class Collectors(Protocol):
    """One collector per kind of source that lives in AWS."""

    @property
    def s3(self) -> S3Collector:
        """The S3 collector."""
        ...

    @property
    def logs(self) -> LogsCollector:
        """The CloudWatch Logs collector."""
        ...

    @property
    def inventory(self) -> InventoryCollector:
        """The S3 collector that reads an inventory report (adapters.s3_inventory_check.InventoryInspector)."""
        ...

    @property
    def backup(self) -> BackupCollector:
        """The AWS Backup collector."""
        ...

    @property
    def releaser(self) -> HoldReleaser:
        """Removes the holds preservation runs placed (adapters.hold_release.HoldReleaser)."""
        ...


@dataclass(frozen=True)
class CheckRequest:
    """What a check needs to know about its source, read before the storage is asked anything."""

    source_id: int
    kind: str
    location: str
    region: str | None
    scope: tuple[DateRange, ...]
    # No obligation binds the source any more: nothing is owed, nothing is asked of the storage.
    released: bool
    started_at: dt.datetime
    # S3: the inventory configuration whose newest report answers for the versions it lists.
    inventory_configuration_id: str | None = None


def prepare_check(unit: Unit, source_id: int) -> CheckRequest:
    """Read a source and the union of its binding obligations' ranges; refuse what cannot be checked."""
    source: DataSource = unit.get(DataSource, source_id)
    if source.retired_at is not None:
        raise Conflict(f"data source {source.id} is retired; it is no longer checked")
    if source.kind not in CHECKABLE_KINDS:
        raise Conflict(f"checks of {source.kind} sources are not available yet")
    if not source.obligations:
        raise Conflict(f"data source {source.id} is linked to no obligation: nothing is owed, so nothing to check")
    binding = [o for o in source.obligations if o.status != "released"]
    scope = union_of_ranges(DateRange(o.preserve_from, o.preserve_until) for o in binding)
    return CheckRequest(
        source_id=source.id,
        kind=source.kind,
        location=source.location,
        region=source.region,
        scope=tuple(scope),
        released=not binding,
        started_at=unit.clock(),
        inventory_configuration_id=source.inventory_configuration_id if source.kind == "s3" else None,
    )


def collect(request: CheckRequest, collectors: Collectors) -> dict[str, Any]:  # noqa: PLR0911  (one answer per kind)
    """Ask the storage; the answer is the check's evidence. No database access, and it never raises.

    The collectors record AWS errors call by call; anything else that goes wrong is recorded as a
    collector error, which makes the check unverifiable instead of leaving the source's last status.
    """
    if request.released:
        return {"kind": request.kind, "skipped": "no obligation binds this source any more"}
    try:
        if request.kind == "s3":
            location = parse_s3_location(request.location)
            if request.inventory_configuration_id:
                return collectors.inventory.snapshot(
                    location.bucket,
                    location.prefix,
                    request.region,
                    request.scope,
                    request.inventory_configuration_id,
                    request.started_at,
                )
            return collectors.s3.snapshot(location.bucket, location.prefix, request.region, request.scope)
        if request.kind == "cloudwatch_logs":
            return collectors.logs.snapshot(log_group_name(request.location), request.region)
        if request.kind == "aws_backup":
            return collectors.backup.snapshot(vault_name(request.location), request.region, request.scope)
    except Exception as error:
        log.exception("collecting data source %s failed", request.source_id)
        return {"kind": request.kind, "collector_error": f"{type(error).__name__}: {error}"}
    return {"kind": request.kind}


def record_check(
    unit: Unit,
    request: CheckRequest,
    snapshot: dict[str, Any],
    *,
    attestation_valid_for: dt.timedelta = dt.timedelta(days=30),
) -> RetentionCheck:
    """Evaluate a snapshot and store the check; the source takes its status and earliest destruction time."""
    session = unit.session
    source: DataSource = unit.get(DataSource, request.source_id)
    if source.retired_at is not None or (source.kind, source.location, source.region) != (
        request.kind,
        request.location,
        request.region,
    ):
        raise Conflict(f"data source {source.id} changed while it was being checked; check it again")
    now = unit.clock()
    # Only what earlier checks saw at this same location counts: a source that moved starts afresh.
    history = session.execute(
        select(RetentionCheck.id, RetentionCheck.summary, RetentionCheck.config)
        .where(RetentionCheck.data_source_id == source.id)
        .order_by(RetentionCheck.id.desc())
    ).all()
    here = [h for h in history if (h.summary or {}).get("location") == request.location]
    here_ids = {h.id for h in here}
    every_entry = list(session.scalars(select(ManifestEntry).where(ManifestEntry.data_source_id == source.id)))
    manifest = [m for m in every_entry if m.first_seen_check_id in here_ids]
    # The last settings that could be read here (a check that could not read them has none).
    previous_config = next((h.config for h in here if h.config is not None), None)
    seen_before = bool(manifest) or previous_config is not None
    versions: Sequence[VersionAssessment] | None = None
    backup: BackupAssessment | None = None
    if request.released:
        evaluation = Evaluation(status="released", earliest_destruction_at=None, findings=())
    elif "collector_error" in snapshot:
        code = READ_FAILED_CODES.get(request.kind, "LOGS_READ_FAILED")
        evaluation = conclude([finding(code, f"the check could not finish: {snapshot['collector_error']}")])
    elif request.kind == "s3" and "inventory" in snapshot:
        evaluation = evaluate_inventory_snapshot(
            snapshot, request.scope, now, previous_config=previous_config, seen_before=seen_before
        ).evaluation
    elif request.kind == "s3":
        assessment = evaluate_s3(
            snapshot,
            request.scope,
            now,
            manifest=[_manifest_version(m) for m in manifest],
            previous_config=previous_config,
            seen_before=seen_before,
        )
        evaluation = assessment.evaluation
        listing = snapshot.get("listing")
        if listing is not None and "error" not in listing:
            versions = assessment.versions
    elif request.kind == "cloudwatch_logs":
        evaluation = evaluate_log_group(
            snapshot, request.scope, now, previous_config=previous_config, seen_before=seen_before
        )
    elif request.kind == "aws_backup":
        backup = backup_checks.assess(
            snapshot,
            request.scope,
            now,
            manifest=manifest,
            previous_config=previous_config,
            seen_before=seen_before,
        )
        evaluation = backup.evaluation
    else:
        attestation = latest_attestation(session, source.id)
        attested_at = attestation.attested_at if attestation is not None else None
        snapshot = {
            **snapshot,
            "attestation": None
            if attestation is None
            else {"id": attestation.id, "attested_at": attested_at.isoformat() if attested_at else None},
        }
        evaluation = evaluate_manual(attested_at, attestation_valid_for, now)

    check = _store(unit, request, evaluation, snapshot, now, error=snapshot.get("collector_error"))
    if versions is not None:
        elsewhere = [m for m in every_entry if m.first_seen_check_id not in here_ids]
        _update_manifest(
            unit, check, versions, scope=request.scope, snapshot=snapshot, manifest=manifest, elsewhere=elsewhere
        )
    if backup is not None:
        backup_checks.update_manifest(unit, check, backup, snapshot=snapshot, manifest=manifest, scope=request.scope)
    previous_status = source.status
    source.status = evaluation.status
    source.earliest_destruction_at = evaluation.earliest_destruction_at
    source.last_checked_at = now
    audit.record(
        unit,
        "data_source.checked",
        "data_source",
        source.id,
        matter_id=None,
        details={
            "check_id": check.id,
            "status": {"from": previous_status, "to": evaluation.status},
            "earliest_destruction_at": _iso(evaluation.earliest_destruction_at),
            "findings": {f.code: f.count if f.count is not None else 1 for f in evaluation.findings},
        },
    )
    # After the audit event, as every status change does: one order of locks.
    status_history.record_change(unit, previous_status, evaluation.status)
    return check


def _store(
    unit: Unit,
    request: CheckRequest,
    evaluation: Evaluation,
    snapshot: dict[str, Any],
    now: dt.datetime,
    *,
    error: str | None = None,
) -> RetentionCheck:
    check = RetentionCheck(
        data_source_id=request.source_id,
        kind=request.kind,
        actor=unit.actor,
        started_at=request.started_at,
        finished_at=now,
        status=evaluation.status,
        earliest_destruction_at=evaluation.earliest_destruction_at,
        error=error,
        summary={**evaluation.summary, "location": request.location},
        config=dict(evaluation.config) if evaluation.config is not None else None,
    )
    check.findings = [
        CheckFinding(
            code=f.code,
            severity=f.severity,
            message=f.message,
            count=f.count,
            examples=[dict(e) for e in f.examples],
            details=dict(f.details),
            earliest_destruction_at=f.earliest_destruction_at,
        )
        for f in evaluation.findings
    ]
    unit.session.add(check)
    unit.session.flush()
    check.evidence = evidence_row(check.id, snapshot)
    unit.session.flush()
    return check


def _manifest_version(entry: ManifestEntry) -> ManifestVersion:
    return ManifestVersion(entry.key, entry.version_id, entry.last_modified, entry.etag, entry.size)


def _update_manifest(
    unit: Unit,
    check: RetentionCheck,
    versions: Sequence[VersionAssessment],
    *,
    scope: Sequence[DateRange],
    snapshot: dict[str, Any],
    manifest: Sequence[ManifestEntry],
    elsewhere: Sequence[ManifestEntry] = (),
) -> None:
    """Record newly seen in-scope versions; mark recorded ones missing (or found again).

    An entry recorded at an earlier location of the source that names the same key and version is
    taken over by this location (an unversioned bucket's "null" versions collide across buckets).
    """
    known = {(m.key, m.version_id) for m in manifest}
    previous = {(m.key, m.version_id): m for m in elsewhere}
    new_rows = []
    for v in versions:
        identity = (v.key, v.version_id)
        if identity in known:
            continue
        taken = previous.get(identity)
        if taken is not None:
            taken.etag, taken.size, taken.last_modified = v.etag, v.size, v.last_modified
            taken.first_seen_check_id, taken.missing_since_check_id = check.id, None
            continue
        new_rows.append(
            {
                "data_source_id": check.data_source_id,
                "key": v.key,
                "version_id": v.version_id,
                "etag": v.etag,
                "size": v.size,
                "last_modified": v.last_modified,
                "first_seen_check_id": check.id,
            }
        )
    if new_rows:
        unit.session.execute(insert(ManifestEntry), new_rows)
    listed = {(v["Key"], v["VersionId"]): v.get("ETag") for v in snapshot["listing"].get("versions", ())}
    for entry in manifest:
        if is_gone(_manifest_version(entry), listed):
            if entry.missing_since_check_id is None and in_scope(scope, entry.last_modified):
                entry.missing_since_check_id = check.id
        elif entry.missing_since_check_id is not None:
            entry.missing_since_check_id = None


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def list_checks(unit: Unit, source_id: int, page: int, per_page: int) -> Page:
    """A source's checks, newest first."""
    unit.get(DataSource, source_id)
    query = (
        select(RetentionCheck)
        .where(RetentionCheck.data_source_id == source_id)
        .options(selectinload(RetentionCheck.findings))
        .order_by(RetentionCheck.id.desc())
    )
    return paginate(unit.session, query, page, per_page)


def get_check(unit: Unit, check_id: int) -> RetentionCheck:
    """One check with its findings and evidence."""
    check: RetentionCheck = unit.get(RetentionCheck, check_id)
    return check


def sources_due(unit: Unit) -> list[int]:
    """Every source a `check --all` run looks at: not retired, of a checkable kind, linked to an obligation."""
    sources = unit.session.scalars(
        select(DataSource)
        .where(DataSource.retired_at.is_(None), DataSource.kind.in_(CHECKABLE_KINDS))
        .order_by(DataSource.id)
    )
    return [s.id for s in sources if s.obligations]
