"""The inventory configuration of a data source through the API: named, refused when bad, and used by the check."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask

from preservation.adapters.inspectors import AwsInspectors
from preservation.web.api.checks import COLLECTORS_KEY
from tests.checks.support import API, api_ok, api_source
from tests.checks.test_inventory_check import CONFIGURATION, _bucket, _publish, _row


@pytest.fixture
def checked_app(app: Flask, inspectors: AwsInspectors) -> Flask:
    """The app, using the test's inspectors."""
    app.extensions[COLLECTORS_KEY] = inspectors
    return app


def test_the_configuration_is_named_through_the_api_and_bad_ids_change_nothing(
    s3: Any, checked_app: Flask, api: Any
) -> None:
    _bucket(s3)
    _publish(s3, [_row("recordings/held.mp4", "h", hold="ON")], created_at=dt.datetime.now(dt.UTC))
    source_id = api_source(api)
    before = api_ok(api.get(f"{API}/data-sources/{source_id}"))

    for bad in ("", "has space", "x" * 65, 7):
        answer = api.patch(f"{API}/data-sources/{source_id}", json={"inventory_configuration_id": bad})
        assert answer.status_code == 422, bad
        assert "inventory_configuration_id" in str(answer.get_json())
    logs = api_ok(
        api.post(f"{API}/data-sources", json={"name": "l", "kind": "cloudwatch_logs", "location": "/aws/x"}), 201
    )
    answer = api.patch(f"{API}/data-sources/{logs['id']}", json={"inventory_configuration_id": CONFIGURATION})
    assert answer.status_code == 422
    assert api_ok(api.get(f"{API}/data-sources/{source_id}")) == before

    named = api_ok(api.patch(f"{API}/data-sources/{source_id}", json={"inventory_configuration_id": CONFIGURATION}))
    assert named["inventory_configuration_id"] == CONFIGURATION
    check = api_ok(api.post(f"{API}/data-sources/{source_id}/checks"), 201)
    assert check["status"] == "preserved"
    assert check["summary"]["inventory_rows"] == 1
