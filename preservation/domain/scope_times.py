"""Per-scope destruction times: when the data of each obligation's range is destroyed first, from a check's evidence.

A check judges the union of a source's obligations; counsel also needs each obligation's own answer, since
one order may reach back years and another only months. The stored snapshot is judged again with the same
functions the check used, restricted to one obligation's range, at the moment the check ran.

Fail closed: a range is "none found" only when every item written in it was seen and judged and none is
scheduled for destruction; whatever the check could not see makes it "cannot tell". Kinds whose stored
evidence cannot be split by range (an inventory report's tallies, a manual source's attestation, evidence
cut to its size cap) are "not computed per scope".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from preservation.domain.backup_evaluation import evaluate_backup
from preservation.domain.destruction import in_scope, parse_timestamp
from preservation.domain.findings import Evaluation
from preservation.domain.log_check import evaluate_log_group
from preservation.domain.s3_check import evaluate_s3
from preservation.domain.scope import DateRange

# What a range's answer can be, worst first.
LOST = "lost"
CANNOT_TELL = "cannot_tell"
DESTROYED_FROM = "destroyed_from"
NONE_FOUND = "none_found"
NOT_COMPUTED = "not_computed"
RELEASED = "released"
# What a snapshot of each kind names first; the evaluations read it unconditionally.
_NAMED_BY = {"cloudwatch_logs": "log_group", "aws_backup": "vault"}


@dataclass(frozen=True)
class ScopeTime:
    """The earliest destruction of one range's data, or why there is no such time."""

    state: str
    # For "cannot tell", the earliest time that was seen, if any: the real one may be sooner.
    at: dt.datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class StoredCheck:
    """What a check kept that a per-scope answer is read from."""

    kind: str
    status: str
    finished_at: dt.datetime
    snapshot: Mapping[str, Any]
    truncated: bool
    # (code, count, examples) of each finding.
    findings: Sequence[tuple[str, int | None, Sequence[Mapping[str, Any]]]] = ()


def scope_times(check: StoredCheck, ranges: Sequence[DateRange]) -> list[ScopeTime]:
    """One answer per range, in the order given."""
    return [scope_time(check, one) for one in ranges]


def scope_time(check: StoredCheck, scope: DateRange) -> ScopeTime:  # noqa: PLR0911  (one answer per kind)
    """The earliest destruction time of the data written inside one range, as the check saw it."""
    snapshot = check.snapshot
    if "skipped" in snapshot:
        return ScopeTime(CANNOT_TELL, reason="the latest check looked at nothing: no obligation bound the source")
    if "collector_error" in snapshot:
        return ScopeTime(CANNOT_TELL, reason=f"the latest check could not finish: {snapshot['collector_error']}")
    if check.kind == "manual":
        return ScopeTime(NOT_COMPUTED, reason="a manual source has no destruction time; its steward attests to it")
    if check.truncated:
        return ScopeTime(NOT_COMPUTED, reason="the stored evidence was cut to its size cap, so not every item is in it")
    named = _NAMED_BY.get(check.kind)
    if named is not None and named not in snapshot:
        return ScopeTime(CANNOT_TELL, reason=f"the stored evidence does not name the {named.replace('_', ' ')}")
    seen_before = check.status == LOST
    if check.kind == "s3" and "inventory" in snapshot:
        return ScopeTime(
            NOT_COMPUTED, reason="an inventory report is stored as counts over all the obligations' ranges together"
        )
    if check.kind == "s3":
        evaluation = evaluate_s3(snapshot, [scope], check.finished_at, seen_before=seen_before).evaluation
        gone = _missing_versions(check.findings, scope)
        if gone is not None and evaluation.status != LOST:
            return gone
        return _answer(evaluation, nothing="none of the versions written in this range is scheduled for destruction")
    if check.kind == "cloudwatch_logs":
        evaluation = evaluate_log_group(snapshot, [scope], check.finished_at, seen_before=seen_before)
        return _answer(evaluation, nothing="the log group has no retention policy: its events never expire")
    if check.kind == "aws_backup":
        missing = _finding(check.findings, "BACKUP_RECOVERY_POINT_MISSING")
        evaluation = evaluate_backup(snapshot, [scope], check.finished_at, seen_before=seen_before).evaluation
        if missing is not None and evaluation.status != LOST:
            # The evidence names a missing point by its ARN alone, so its range cannot be told.
            return ScopeTime(
                CANNOT_TELL,
                reason=f"{missing[0] or 'some'} recovery point(s) seen by earlier checks are gone; "
                "the evidence does not say which range they were in",
            )
        return _answer(evaluation, nothing="no recovery point created in this range is deleted while unheld")
    return ScopeTime(NOT_COMPUTED, reason=f"{check.kind} sources are not judged per scope")


def _answer(evaluation: Evaluation, *, nothing: str) -> ScopeTime:
    if evaluation.status == LOST:
        return ScopeTime(LOST, reason=_messages(evaluation, LOST))
    if any(f.status == "unverifiable" for f in evaluation.findings):
        # Something in the range went unseen, so a time seen elsewhere in it only bounds the earliest from above.
        reason = _messages(evaluation, "unverifiable")
        return ScopeTime(CANNOT_TELL, at=evaluation.earliest_destruction_at, reason=reason)
    if evaluation.earliest_destruction_at is not None:
        return ScopeTime(DESTROYED_FROM, at=evaluation.earliest_destruction_at)
    return ScopeTime(NONE_FOUND, reason=nothing)


def _messages(evaluation: Evaluation, status: str) -> str:
    return "; ".join(f.message for f in evaluation.findings if f.status == status)


def _finding(
    findings: Iterable[tuple[str, int | None, Sequence[Mapping[str, Any]]]], code: str
) -> tuple[int | None, Sequence[Mapping[str, Any]]] | None:
    return next(((count, examples) for found, count, examples in findings if found == code), None)


def _missing_versions(
    findings: Sequence[tuple[str, int | None, Sequence[Mapping[str, Any]]]], scope: DateRange
) -> ScopeTime | None:
    """Versions an earlier check recorded that this one found gone, placed in the range by their dates."""
    missing = _finding(findings, "S3_VERSION_MISSING")
    if missing is None:
        return None
    count, examples = missing
    dated = [parse_timestamp(e.get("last_modified")) for e in examples]
    here = [moment for moment in dated if moment is not None and in_scope([scope], moment)]
    if here:
        return ScopeTime(LOST, reason=f"{len(here)} version(s) written in this range, recorded earlier, are gone")
    if (count or 0) > len(examples) or None in dated:
        return ScopeTime(
            CANNOT_TELL,
            reason=f"{count} version(s) recorded earlier are gone and only {len(examples)} are named in the "
            "evidence, so whether this range lost any cannot be told",
        )
    return None
