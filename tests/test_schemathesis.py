"""No request can produce a 500, and every answer is one the app's own OpenAPI document declares.

schemathesis drives every API operation from that document and checks each answer's status code, content
type and body against it (a field dumped as null must be declared nullable, a status among its enum).

The document is read through WSGI from an app built at import time (the spec does not depend on the
database); each generated case is then sent in-process to the test's own app, as an admin, on SQLite
and on PostgreSQL, with AWS played by moto. Each operation starts from a clean database holding one
matter, order, obligation, data source (an S3 bucket that exists) and custodian; their ids are fed to
the generator as a dictionary for path and body ids, so about half of the cases reach real records
instead of a 404.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from moto import mock_aws
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.settings import Settings
from preservation.app import create_app
from tests.conftest import ApiClient

MAX_EXAMPLES = 25

# Every test starts from an empty database, so the seeded rows get the first id of their table;
# the `seeded` fixture checks that they did.
SEEDED_IDS = {"matter": 1, "order": 1, "obligation": 1, "source": 1, "custodian": 1}

# Path parameters and body fields that name a record, with the kind of record they name.
ID_PARAMETERS = {
    "path.matter_id": "matter",
    "path.order_id": "order",
    "path.obligation_id": "obligation",
    "path.source_id": "source",
    "path.custodian_id": "custodian",
    "body.supersedes_id": "order",
    "body.data_source_id": "source",
    "body.steward_id": "custodian",
    "body.custodian_id": "custodian",
    "body.manager_id": "custodian",
}


def _spec_app() -> Flask:
    """An app that only serves its spec: it never opens its (in-memory) database."""
    instance = Path(tempfile.gettempdir()) / "preservation-spec-only"
    return create_app(Settings(database_url="sqlite://", secret_key="spec-only", instance_path=instance))


SCHEMA = schemathesis.openapi.from_wsgi(
    "/api/openapi.json",
    _spec_app(),
    config=schemathesis.Config.from_dict(
        {
            "dictionaries": {kind: {"values": [ident]} for kind, ident in SEEDED_IDS.items()},
            "parameters": {name: {"dictionary": kind, "probability": 0.5} for name, kind in ID_PARAMETERS.items()},
            "generation": {"database": "none"},
        }
    ),
)


def _created(response: Any) -> int:
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


@pytest.fixture
def aws() -> Iterator[None]:
    """Retention checks and preservation reach AWS: here they reach moto, in-process, with the seeded bucket."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="poe-video-san-ysidro")
        s3.put_object(Bucket="poe-video-san-ysidro", Key="recordings/2018-09-27/cam1.mp4", Body=b"video")
        yield


@pytest.fixture
def seeded(api: ApiClient) -> dict[str, int]:
    """One record of each kind, linked together as a real matter would be."""
    matter = _created(
        api.post("/api/v1/matters", {"caption": "Al Otro Lado, Inc. v. Nielsen", "docket_number": "3:17-cv-02366"})
    )
    order = _created(
        api.post(
            f"/api/v1/matters/{matter}/orders",
            {"kind": "court_order", "title": "POE video and audio", "docket_entry": "170", "signed_on": "2018-09-27"},
        )
    )
    obligation = _created(
        api.post(
            f"/api/v1/orders/{order}/obligations",
            {"description": "Preserve San Ysidro video", "preserve_from": "2016-01-01"},
        )
    )
    custodian = _created(api.post("/api/v1/custodians", {"name": "CCTV administrator", "email": "cctv@example.org"}))
    source = _created(
        api.post(
            "/api/v1/data-sources",
            {
                "name": "San Ysidro recordings",
                "kind": "s3",
                "location": "s3://poe-video-san-ysidro/recordings/",
                "steward_id": custodian,
            },
        )
    )
    linked = api.post(f"/api/v1/obligations/{obligation}/data-sources", {"data_source_id": source})
    assert linked.status_code == 201, linked.get_json()
    ids = {"matter": matter, "order": order, "obligation": obligation, "source": source, "custodian": custodian}
    assert ids == SEEDED_IDS
    return ids


def test_the_tested_spec_is_the_one_the_app_serves(client: Any) -> None:
    assert client.get("/api/openapi.json").get_json() == SCHEMA.raw_schema


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    # The app, its database and the seeded rows are built once per operation and shared by its cases on
    # purpose: what one case leaves behind (a released order, a new custodian) is input for the next.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@SCHEMA.parametrize()
def test_no_request_produces_a_server_error(
    case: schemathesis.Case, app: Flask, tokens: dict[str, str], seeded: dict[str, int], aws: None
) -> None:
    case.call_and_validate(
        app=app,
        headers={"Authorization": f"Bearer {tokens['admin']}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
