"""The jobs themselves: short reconcile runs that compute what is owed from the tables and do it.

Each opens one transaction per unit of work (a source checked, a deadline's alerts raised, a delivery
claimed), so a run that is killed half-way leaves finished units finished and the next run does the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from jobs import notices, units
from jobs.context import JobContext
from jobs.units import PartialFailure
from preservation.domain.alerting import DeliveryFailed
from preservation.domain.errors import DomainError
from preservation.services import alerts, check_schedule, checks, deadlines, job_runs, outbox, status_history
from preservation.services.leases import LeaseLost
from preservation.services.unit import Unit

log = logging.getLogger(__name__)

# Deadline rows written per transaction. One per row made a first sweep over a large database (thousands
# of rows) pay a commit, and on SQLite an fsync, for each: about 5 ms a row. A batch that fails is
# redone one row per transaction, so a bad row is still left out alone, and a kill costs at most one
# batch, which the next sweep writes again.
DEADLINE_BATCH = 100


def retention_checks(ctx: JobContext) -> dict[str, Any]:
    """Check every source whose check interval has passed since its last check."""
    with ctx.unit(fenced=False, read_only=True) as unit:
        due = check_schedule.sources_due_now(unit)
    counts: dict[str, Any] = {"due": len(due), "checked": 0, "skipped": 0, "failed": 0, "statuses": {}}
    attestation_valid_for = dt.timedelta(days=ctx.settings.attestation_valid_days)
    for source_id in due:
        try:
            with ctx.unit() as unit:
                request = checks.prepare_check(unit, source_id)
            # No transaction is open while the storage answers.
            snapshot = checks.collect(request, ctx.check_collectors())
            with ctx.unit() as unit:
                check = checks.record_check(unit, request, snapshot, attestation_valid_for=attestation_valid_for)
        except DomainError as error:
            counts["skipped"] += 1
            log.info("retention check of source %s skipped: %s", source_id, error.message)
            continue
        except LeaseLost:
            raise
        except Exception:
            counts["failed"] += 1
            log.exception("retention check of source %s failed", source_id)
            continue
        counts["checked"] += 1
        counts["statuses"][check.status] = counts["statuses"].get(check.status, 0) + 1
    if counts["failed"]:
        raise PartialFailure(f"{counts['failed']} of {len(due)} retention checks failed", counts)
    return counts


def deadline_sweep(ctx: JobContext) -> dict[str, Any]:
    """Reconcile the deadlines with their records, then create every alert owed and not yet created.

    Deadline rows are written in batches of DEADLINE_BATCH, each in its own transaction; a batch that
    fails is done again one row per transaction, so a row that cannot be written fails alone (the run is
    recorded failed, with what failed). Then one transaction per deadline's alerts. A run killed half-way
    loses at most the batch or the deadline it was writing; the next run does it.
    """
    with ctx.unit(fenced=False, read_only=True) as unit:
        changes = deadlines.changes_owed(unit.session, ctx.deadline_policy())
    counts = deadlines.ReconcileCounts()
    failed: list[str] = []
    for start in range(0, len(changes), DEADLINE_BATCH):
        batch = changes[start : start + DEADLINE_BATCH]
        batch_counts = deadlines.ReconcileCounts()
        if units.attempt(ctx, _apply_changes, batch, batch_counts) is None:
            counts.add(batch_counts)
            continue
        for change in batch:
            unit_counts = deadlines.ReconcileCounts()
            if units.unit_of_work(
                ctx, f"deadline {change.kind} {change.subject_id}", failed, deadlines.apply_change, change, unit_counts
            ):
                counts.add(unit_counts)
    details: dict[str, Any] = counts.as_dict()
    with ctx.unit(fenced=False, read_only=True) as unit:
        open_ids = deadlines.open_deadline_ids(unit.session)
    with ctx.unit() as unit:
        details["deliveries_cancelled"] = alerts.cancel_for_closed_deadlines(unit.session)
    policy = ctx.alert_policy()
    created = 0
    for deadline_id in open_ids:
        raised: list[Any] = []
        if units.unit_of_work(
            ctx, f"alerts of deadline {deadline_id}", failed, _raise_alerts, deadline_id, policy, raised
        ):
            created += len(raised)
    details.update(open_deadlines=len(open_ids), alerts_created=created)
    if failed:
        details.update(units_failed=len(failed), failures=failed[:20])
        raise PartialFailure(f"{len(failed)} of {len(changes) + len(open_ids)} deadline units failed", details)
    return details


def _raise_alerts(unit: Unit, deadline_id: int, policy: alerts.AlertPolicy, raised: list[Any]) -> None:
    raised.extend(alerts.raise_alerts(unit, deadline_id, policy))


def _apply_changes(unit: Unit, batch: list[deadlines.DeadlineChange], counts: deadlines.ReconcileCounts) -> None:
    for change in batch:
        deadlines.apply_change(unit, change, counts)


def alert_dispatch(ctx: JobContext) -> dict[str, Any]:
    """Hand every due delivery to its channel, oldest first; one target's deliveries keep their order."""
    policy = ctx.retry_policy()
    notifiers = ctx.channel_notifiers()
    with ctx.unit(fenced=False, read_only=True) as unit:
        plan = outbox.waiting(unit.session)
    counts = {"sent": 0, "retrying": 0, "dead": 0, "waiting": 0}
    blocked: set[tuple[str, str]] = set()
    for item in plan:
        now = ctx.clock()
        if item.lane in blocked:
            counts["waiting"] += 1
            continue
        if item.next_attempt_at > now or (item.claimed_until is not None and item.claimed_until > now):
            # An earlier delivery to this target is still waiting; later ones wait behind it.
            blocked.add(item.lane)
            counts["waiting"] += 1
            continue
        with ctx.unit() as unit:
            claimed = outbox.claim(unit.session, item.delivery_id, now, policy)
        if claimed is None:
            continue
        token, message = claimed
        notifier = notifiers.get(item.channel)
        try:
            if notifier is None:
                raise DeliveryFailed(f"no {item.channel} channel is configured", permanent=True)
            receipt = notifier.send(message, item.target)
        except DeliveryFailed as failure:
            status = _record_failure(ctx, item.delivery_id, token, failure, policy)
        except Exception as error:
            log.exception("channel %s failed unexpectedly", item.channel)
            status = _record_failure(
                ctx, item.delivery_id, token, DeliveryFailed(f"{type(error).__name__}: {error}"), policy
            )
        else:
            _mark_sent(ctx, item.delivery_id, token, receipt)
            counts["sent"] += 1
            continue
        counts["dead" if status == "dead" else "retrying"] += 1
        blocked.add(item.lane)
    return counts


def _record_failure(
    ctx: JobContext, delivery_id: int, token: str, failure: DeliveryFailed, policy: outbox.RetryPolicy
) -> str:
    log.warning("delivery %s failed: %s", delivery_id, failure.message)
    with ctx.unit(fenced=False) as unit:
        return outbox.record_failure(unit, delivery_id, token, failure, policy)


def _mark_sent(ctx: JobContext, delivery_id: int, token: str, receipt: str, attempts: int = 3) -> None:
    """The channel accepted it: record that, trying a little harder, as failing here means one duplicate later."""
    for attempt in range(1, attempts + 1):
        try:
            with ctx.unit(fenced=False) as unit:
                outbox.mark_sent(unit.session, delivery_id, token, ctx.clock(), receipt)
            return
        except SQLAlchemyError:
            if attempt == attempts:
                raise
            log.warning("recording delivery %s as sent failed; trying again", delivery_id)
            time.sleep(attempt)


def audit_checkpoint(ctx: JobContext) -> dict[str, Any]:
    """Sign a checkpoint of the audit log (and copy it to S3 Object Lock) when a signing key is configured."""
    if getattr(ctx.settings, "audit_signing_key", None) is None:
        return {"skipped": "PRESERVATION_AUDIT_SIGNING_KEY is not set"}
    from jobs.audit import checkpoint_audit_log  # noqa: PLC0415  (signing is loaded only when configured)

    outcome = checkpoint_audit_log(ctx.settings, clock=ctx.clock)
    details = {
        "checkpoint_id": outcome.checkpoint_id,
        "created": outcome.created,
        "tree_size": outcome.tree_size,
        "anchor_uri": outcome.anchor_uri,
    }
    if outcome.anchor_error:
        raise PartialFailure(f"checkpoint signed but not anchored: {outcome.anchor_error}", details)
    return details


def custodian_reminders(ctx: JobContext) -> dict[str, Any]:
    """Remind custodians who have not acknowledged their holds, escalate, and send the release notices owed."""
    return notices.custodian_reminders(ctx)


def heartbeat(ctx: JobContext) -> dict[str, Any]:
    """Say the scheduler is alive, forget runs older than the retention period, and roll up source statuses."""
    now = ctx.clock()
    keep = dt.timedelta(days=ctx.settings.scheduling.job_run_retention_days)
    with ctx.unit() as unit:
        job_runs.beat(unit.session, ctx.holder, ctx.lease_token(), now)
        pruned = job_runs.prune_runs(unit.session, now - keep)
    # Its own transaction: the beat stands even if counting fails.
    with ctx.unit() as unit:
        rolled = status_history.roll_up(unit)
    return {
        "beat_at": now.isoformat(),
        "runs_pruned": pruned,
        "status_days_carried_forward": rolled["days_carried_forward"],
    }
