"""Helpers of the retention-check tests: run checks the way the edges do, and fake AWS failures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse

from preservation.models import RetentionCheck
from preservation.services import checks, preserve
from preservation.services.checks import Collectors
from preservation.services.unit import Unit

DAY = dt.timedelta(days=1)


def run_check(unit: Unit, source_id: int, collectors: Collectors, **kwargs: Any) -> RetentionCheck:
    """prepare, commit, collect, record, commit: what the API and the command line do."""
    request = checks.prepare_check(unit, source_id)
    unit.session.commit()
    snapshot = checks.collect(request, collectors)
    check = checks.record_check(unit, request, snapshot, **kwargs)
    unit.session.commit()
    return check


def run_preserve(unit: Unit, source_id: int, collectors: Collectors, *, execute: bool) -> dict[str, Any]:
    """Plan, and when asked carry out, a preservation run."""
    request = preserve.prepare_preservation(unit, source_id)
    unit.session.commit()
    snapshot = checks.collect(request, collectors)
    plan = preserve.plan_preservation(request, snapshot, unit.clock())
    document = preserve.plan_document(request, plan, dry_run=not execute)
    if execute:
        preserve.record_preservation_started(unit, request, plan)
        unit.session.commit()
        results = preserve.carry_out(request, plan, collectors)
        document["results"] = preserve.record_preservation_finished(unit, request, plan, results)
        unit.session.commit()
    return document


def codes(check: RetentionCheck) -> set[str]:
    """The finding codes of a check."""
    return {f.code for f in check.findings}


def one_finding(check: RetentionCheck, code: str) -> Any:
    """The single finding of a code."""
    found = [f for f in check.findings if f.code == code]
    assert len(found) == 1, [f.code for f in check.findings]
    return found[0]


def ceil_midnight(moment: dt.datetime) -> dt.datetime:
    """The next UTC midnight, computed independently of the code under test (integer microseconds since the epoch)."""
    micros = (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    day = 86_400 * 1_000_000
    rounded = -(-micros // day) * day
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=rounded)


class _Body:
    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_kwargs: Any) -> Any:
        yield self._content


def aws_error(status: int, code: str, message: str = "injected") -> Callable[..., AWSResponse]:
    """A before-send handler answering with an S3-style XML error."""
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()

    def handler(request: Any, **_kwargs: Any) -> AWSResponse:
        return AWSResponse(request.url, status, {"Content-Type": "application/xml"}, _Body(body))

    return handler


def json_error(status: int, code: str, message: str = "injected") -> Callable[..., AWSResponse]:
    """A before-send handler answering with a JSON-protocol error (CloudWatch Logs)."""
    body = f'{{"__type": "{code}", "message": "{message}"}}'.encode()

    def handler(request: Any, **_kwargs: Any) -> AWSResponse:
        return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.1"}, _Body(body))

    return handler
