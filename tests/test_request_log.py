"""Request ids: echoed, sanitised, and carried by every log record of the request."""

from __future__ import annotations

import json
import logging

import pytest
from flask.testing import FlaskClient

from config.logging import JsonFormatter, request_id


def test_a_sane_request_id_is_echoed(client: FlaskClient) -> None:
    response = client.get("/livez", headers={"X-Request-ID": "abc-123.X_y"})
    assert response.headers["X-Request-ID"] == "abc-123.X_y"


def test_an_unsafe_request_id_is_replaced(client: FlaskClient) -> None:
    response = client.get("/livez", headers={"X-Request-ID": "<script>alert(1)</script> " + "a" * 200})
    issued = response.headers["X-Request-ID"]
    assert len(issued) == 32
    assert all(c in "0123456789abcdef" for c in issued)


def test_refused_requests_carry_an_id_and_are_logged(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="preservation.request"):
        response = client.get("/api/v1/matters", headers={"X-Request-ID": "req-401"})
    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "req-401"
    records = [r for r in caplog.records if r.name == "preservation.request"]
    assert [(r.method, r.path, r.status) for r in records] == [("GET", "/api/v1/matters", 401)]  # type: ignore[attr-defined]


def test_json_formatter_writes_one_object_with_the_request_id() -> None:
    token = request_id.set("req-7")
    try:
        record = logging.makeLogRecord(
            {"name": "preservation.request", "levelname": "INFO", "msg": "GET %s", "args": ("/x",), "status": 200}
        )
        document = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert document["message"] == "GET /x"
    assert document["request_id"] == "req-7"
    assert document["status"] == 200
    assert document["level"] == "INFO"
