"""CloudWatch Logs checks on moto, manual sources with attestations, and what cannot be checked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from preservation.adapters.inspectors import AwsInspectors
from preservation.domain.errors import Conflict
from preservation.domain.log_check import (
    ALLOWED_RETENTION_DAYS,
    log_group_name,
    required_log_retention,
    retention_covers,
)
from preservation.domain.scope import DateRange
from preservation.services import attestations, checks, sources
from preservation.services.unit import Unit
from tests.checks.conftest import SourceFactory
from tests.checks.support import codes, one_finding, run_check, run_preserve

GROUP = "/aws/poe/san-ysidro"


def _created_at(logs: Any) -> dt.datetime:
    group = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]
    return dt.datetime.fromtimestamp(group["creationTime"] / 1000, tz=dt.UTC)


def test_a_log_group_that_expires_events_is_at_risk_until_preserved(
    logs: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    logs.create_log_group(logGroupName=GROUP)
    logs.put_retention_policy(logGroupName=GROUP, retentionInDays=30)
    source_id = bound_source(kind="cloudwatch_logs", location=GROUP)

    check = run_check(live_unit, source_id, inspectors)

    assert check.status == "at_risk"
    too_short = one_finding(check, "LOGS_RETENTION_TOO_SHORT")
    # The scope starts in 2018, before the group existed: its first events are the oldest in scope.
    assert too_short.earliest_destruction_at == _created_at(logs) + dt.timedelta(days=30)
    assert too_short.details["required"] is None, "an open-ended duty needs events that never expire"

    plan = run_preserve(live_unit, source_id, inspectors, execute=False)
    assert plan["steps"][0]["action"] == "remove_log_retention"
    done = run_preserve(live_unit, source_id, inspectors, execute=True)
    assert done["results"]["succeeded"] == 1
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]

    after = run_check(live_unit, source_id, inspectors)
    assert after.status == "preserved"
    assert one_finding(after, "CONFIG_DRIFT").details == {"retention_in_days": {"from": 30, "to": None}}


def test_a_log_group_named_by_arn_that_never_expires_is_preserved(
    logs: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_group(logGroupName=GROUP + "-other")
    arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}:*"
    source_id = bound_source(kind="cloudwatch_logs", location=arn)

    check = run_check(live_unit, source_id, inspectors)

    assert (check.status, codes(check)) == ("preserved", set())
    assert check.evidence is not None
    assert GROUP + "-other" not in check.evidence.document


def test_a_missing_log_group_is_unverifiable_then_lost_once_seen(
    logs: Any, inspectors: AwsInspectors, live_unit: Unit, bound_source: SourceFactory
) -> None:
    source_id = bound_source(kind="cloudwatch_logs", location=GROUP)
    assert run_check(live_unit, source_id, inspectors).status == "unverifiable"
    logs.create_log_group(logGroupName=GROUP)
    assert run_check(live_unit, source_id, inspectors).status == "preserved"
    logs.delete_log_group(logGroupName=GROUP)
    gone = run_check(live_unit, source_id, inspectors)
    assert gone.status == "lost"
    assert codes(gone) == {"LOGS_GROUP_MISSING"}


def test_the_smallest_allowed_retention_covering_a_finite_duty() -> None:
    group = {"creationTime": 0}
    scope = [DateRange(dt.date(2026, 1, 1), dt.date(2026, 6, 30))]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert required_log_retention(scope, group, start + dt.timedelta(days=100)) == 120
    assert required_log_retention(scope, group, start + dt.timedelta(days=365)) == 365
    assert required_log_retention(scope, group, start + dt.timedelta(days=366)) == 400
    assert required_log_retention(scope, group, start + dt.timedelta(days=4000)) is None
    assert required_log_retention(scope, group, None) is None
    assert retention_covers(None, None)
    assert retention_covers(400, 365)
    assert not retention_covers(3653, None)
    assert ALLOWED_RETENTION_DAYS[-1] == 3653
    assert log_group_name("arn:aws:logs:us-west-2:123456789012:log-group:/a/b:*") == "/a/b"


def test_a_manual_source_needs_a_fresh_attestation(live_unit: Unit, bound_source: SourceFactory) -> None:
    source_id = bound_source(kind="manual", location="DVR in the San Ysidro control room")
    no_collectors: Any = None

    first = run_check(live_unit, source_id, no_collectors)
    assert first.status == "unverifiable"
    assert codes(first) == {"MANUAL_ATTESTATION_OVERDUE"}

    attestation = attestations.attest(live_unit, source_id, "Checked the DVR export drive; footage present.")
    live_unit.session.commit()
    fresh = run_check(live_unit, source_id, no_collectors)
    assert (fresh.status, codes(fresh)) == ("preserved", set())

    later = Unit(live_unit.session, live_unit.actor, lambda: attestation.attested_at + dt.timedelta(days=31))
    stale = run_check(later, source_id, no_collectors)
    assert stale.status == "unverifiable"
    assert one_finding(stale, "MANUAL_ATTESTATION_OVERDUE").details["valid_days"] == 30


def test_only_manual_sources_are_attested(live_unit: Unit, bound_source: SourceFactory) -> None:
    source_id = bound_source()
    with pytest.raises(Conflict, match="only manual sources"):
        attestations.attest(live_unit, source_id, "looked at it")


def test_what_cannot_be_checked_is_refused(live_unit: Unit, bound_source: SourceFactory) -> None:
    unlinked = sources.create_data_source(live_unit, {"name": "x", "kind": "s3", "location": "s3://poe-video/"})
    retired = bound_source()
    sources.retire_data_source(live_unit, retired, "moved")
    live_unit.session.commit()
    with pytest.raises(Conflict, match="linked to no obligation"):
        checks.prepare_check(live_unit, unlinked.id)
    with pytest.raises(Conflict, match="retired"):
        checks.prepare_check(live_unit, retired)
    assert checks.sources_due(live_unit) == []
