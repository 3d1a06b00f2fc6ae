"""Evaluating CloudWatch Logs and manually kept sources, and the log retention a duty needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from preservation.domain.destruction import NO_FLOOR, at_risk
from preservation.domain.evidence import error_of, is_denied
from preservation.domain.findings import Evaluation, Finding, conclude, config_drift, drift_finding, finding, iso
from preservation.domain.scope import DateRange

# The only values PutRetentionPolicy accepts, in days.
ALLOWED_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


def log_group_name(location: str) -> str:
    """The log group a location names: the name itself, or the name inside a log group ARN."""
    if location.startswith("arn:") and ":log-group:" in location:
        name = location.split(":log-group:", 1)[1]
        return name.removesuffix(":*")
    return location


def _scope_start(scope: Sequence[DateRange]) -> dt.datetime:
    starts = [r.start for r in scope]
    if not starts or any(start is None for start in starts):
        return NO_FLOOR
    first = min(start for start in starts if start is not None)
    return dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)


def _created_at(group: Mapping[str, Any]) -> dt.datetime:
    created = group.get("creationTime")
    return NO_FLOOR if created is None else dt.datetime.fromtimestamp(created / 1000, tz=dt.UTC)


def evaluate_log_group(
    snapshot: Mapping[str, Any],
    scope: Sequence[DateRange],
    now: dt.datetime,
    *,
    duty_ends_at: dt.datetime | None = None,
    previous_config: Mapping[str, Any] | None = None,
    seen_before: bool = False,
) -> Evaluation:
    """Judge a log group: it must exist and keep in-scope events until the duty ends."""
    name = snapshot["log_group"]
    call = snapshot.get("describe_log_groups") or {}
    error = error_of(call)
    if error is not None or "response" not in call:
        code = "LOGS_ACCESS_DENIED" if is_denied(error) else "LOGS_READ_FAILED"
        reason = "access denied" if code == "LOGS_ACCESS_DENIED" else f"could not read ({(error or {}).get('code')})"
        return conclude([finding(code, f"log group {name}: {reason}", details={"error": error})])
    group = next((g for g in call["response"].get("logGroups", ()) if g.get("logGroupName") == name), None)
    if group is None:
        status = "lost" if seen_before else "unverifiable"
        message = f"log group {name} does not exist" + ("; it existed when last checked" if seen_before else "")
        return conclude([finding("LOGS_GROUP_MISSING", message, status=status)])
    retention = group.get("retentionInDays")
    config = {"retention_in_days": retention}
    findings: list[Finding] = []
    diff = config_drift(previous_config, config)
    if diff:
        findings.append(drift_finding(diff))
    earliest = None
    if retention is not None:
        first_event = max(_scope_start(scope), _created_at(group))
        if first_event <= NO_FLOOR:
            first_event = now
        earliest = first_event + dt.timedelta(days=int(retention))
        if at_risk(earliest, duty_ends_at):
            message = (
                f"log group {name} deletes events after {retention} days: in-scope events written on "
                f"{iso(first_event)} are deleted from {iso(earliest)} (deletion can lag up to 72 hours)"
            )
            if earliest <= now:
                message += "; in-scope events older than the retention may already be gone"
            findings.append(
                finding(
                    "LOGS_RETENTION_TOO_SHORT",
                    message,
                    earliest_destruction_at=earliest,
                    details={
                        "retention_in_days": retention,
                        "required": required_log_retention(scope, group, duty_ends_at),
                    },
                )
            )
    return conclude(findings, earliest=earliest, config=config, summary={"retention_in_days": retention})


def required_log_retention(
    scope: Sequence[DateRange], group: Mapping[str, Any], duty_ends_at: dt.datetime | None
) -> int | None:
    """The smallest allowed retention that keeps every in-scope event until the duty ends; None = never expire.

    An open-ended duty is only covered by never expiring (no retention policy).
    """
    if duty_ends_at is None:
        return None
    first_event = max(_scope_start(scope), _created_at(group))
    if first_event <= NO_FLOOR:
        return None
    needed = (duty_ends_at - first_event) / dt.timedelta(days=1)
    return next((days for days in ALLOWED_RETENTION_DAYS if days >= needed), None)


def retention_covers(current: int | None, required: int | None) -> bool:
    """Whether a group's retention already keeps what the duty needs (None = never expires)."""
    if current is None:
        return True
    return required is not None and current >= required


def evaluate_manual(last_attested_at: dt.datetime | None, valid_for: dt.timedelta, now: dt.datetime) -> Evaluation:
    """A manual source is preserved while a steward's attestation is fresh."""
    if last_attested_at is None:
        message = "no steward has attested that this source still holds the evidence"
    elif last_attested_at + valid_for < now:
        message = (
            f"the last attestation ({iso(last_attested_at)}) is older than {valid_for.days} days; "
            "ask the steward to attest again"
        )
    else:
        return conclude([], summary={"last_attested_at": iso(last_attested_at)})
    due = None if last_attested_at is None else last_attested_at + valid_for
    return conclude(
        [finding("MANUAL_ATTESTATION_OVERDUE", message, details={"due_at": iso(due), "valid_days": valid_for.days})],
        summary={"last_attested_at": iso(last_attested_at)},
    )
