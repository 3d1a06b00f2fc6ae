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


API = "/api/v1"


def api_ok(response: Any, status: int = 200) -> Any:
    """The JSON of an answer that must have this status."""
    assert response.status_code == status, response.get_json()
    return response.get_json()


def api_source(api: Any, *, kind: str = "s3", location: str = "s3://poe-video/recordings/") -> int:
    """A matter, an order, an obligation from 2018 on, and a source linked to it, through the API."""
    matter = api_ok(api.post(f"{API}/matters", json={"caption": "Al Otro Lado, Inc. v. Nielsen"}), 201)
    order = api_ok(
        api.post(f"{API}/matters/{matter['id']}/orders", json={"kind": "court_order", "title": "Preservation order"}),
        201,
    )
    obligation = api_ok(
        api.post(
            f"{API}/orders/{order['id']}/obligations",
            json={"description": "Preserve POE video", "preserve_from": "2018-01-01"},
        ),
        201,
    )
    source = api_ok(api.post(f"{API}/data-sources", json={"name": "cams", "kind": kind, "location": location}), 201)
    api_ok(api.post(f"{API}/obligations/{obligation['id']}/data-sources", json={"data_source_id": source["id"]}), 201)
    source_id: int = source["id"]
    return source_id
