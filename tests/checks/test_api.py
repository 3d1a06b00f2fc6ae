"""The check, preserve and attestation API, on moto in-process and through a moto server over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from flask import Flask
from moto.server import ThreadedMotoServer

from preservation.adapters.inspectors import AwsInspectors
from preservation.web.api.checks import COLLECTORS_KEY
from tests.checks.support import API, api_ok, api_source

BUCKET = "poe-video"
RULES = [
    {
        "ID": "overwrite-loop",
        "Status": "Enabled",
        "Filter": {"Prefix": "recordings/"},
        "Expiration": {"Days": 30},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
    }
]


def _seed(s3: Any) -> None:
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": RULES})
    for number in range(2):
        s3.put_object(Bucket=BUCKET, Key=f"recordings/cam-{number}.mp4", Body=b"video")


@pytest.fixture
def checked_app(app: Flask, inspectors: AwsInspectors) -> Flask:
    """The app, using the test's inspectors."""
    app.extensions[COLLECTORS_KEY] = inspectors
    return app


def test_check_preserve_and_read_back_through_the_api(s3: Any, checked_app: Flask, api: Any) -> None:
    _seed(s3)
    source_id = api_source(api)

    check = api_ok(api.post(f"{API}/data-sources/{source_id}/checks"), 201)
    assert check["status"] == "at_risk"
    assert check["data_source_id"] == source_id
    assert check["actor"] == "user:counsel@example.org"
    by_code = {f["code"]: f for f in check["findings"]}
    lifecycle = by_code["S3_LIFECYCLE_DESTROYS_IN_SCOPE"]
    assert lifecycle["severity"] == "critical"
    assert lifecycle["count"] == 2
    assert lifecycle["details"]["rule_id"] == "overwrite-loop"
    assert lifecycle["earliest_destruction_at"] == check["earliest_destruction_at"]
    assert lifecycle["examples"][0]["key"].startswith("recordings/cam-")
    assert "evidence" not in check

    source = api_ok(api.get(f"{API}/data-sources/{source_id}", role="viewer"))
    assert (source["status"], source["earliest_destruction_at"]) == ("at_risk", check["earliest_destruction_at"])
    assert source["last_checked_at"] is not None

    detail = api_ok(api.get(f"{API}/checks/{check['id']}", role="auditor"))
    assert detail["findings"] == check["findings"]
    evidence = detail["evidence"]
    assert evidence["truncated"] is False
    assert len(evidence["full_sha256"]) == 64
    assert {v["Key"] for v in evidence["document"]["listing"]["versions"]} == {
        "recordings/cam-0.mp4",
        "recordings/cam-1.mp4",
    }

    plan = api_ok(api.post(f"{API}/data-sources/{source_id}/preserve", json={}))
    assert plan["dry_run"] is True
    assert plan["results"] is None
    assert plan["steps"][0]["action"] == "put_legal_hold"
    assert plan["steps"][0]["count"] == 2
    done = api_ok(api.post(f"{API}/data-sources/{source_id}/preserve", json={"dry_run": False}))
    assert done["results"] == {"succeeded": 2, "failed": 0, "failures": []}

    after = api_ok(api.post(f"{API}/data-sources/{source_id}/checks"), 201)
    assert (after["status"], after["findings"], after["earliest_destruction_at"]) == ("preserved", [], None)

    page = api_ok(api.get(f"{API}/data-sources/{source_id}/checks", role="viewer"))
    assert [item["id"] for item in page["items"]] == [after["id"], check["id"]]
    assert page["total"] == 2

    events = api_ok(api.get(f"{API}/audit/events", role="auditor", query_string={"limit": 1000}))["items"]
    actions = [e["action"] for e in events]
    assert actions.count("data_source.checked") == 2
    assert {"data_source.preservation_started", "data_source.preservation_finished"} <= set(actions)


def test_who_may_do_what_and_what_is_refused(s3: Any, checked_app: Flask, api: Any) -> None:
    _seed(s3)
    source_id = api_source(api)
    assert api.post(f"{API}/data-sources/{source_id}/checks", role="viewer").status_code == 403
    assert api.post(f"{API}/data-sources/{source_id}/preserve", json={}, role="auditor").status_code == 403
    assert api.post(f"{API}/data-sources/{source_id}/checks", role=None).status_code == 401
    assert api.post(f"{API}/data-sources/999/checks").status_code == 404
    assert api.get(f"{API}/checks/999").status_code == 404
    assert api.get(f"{API}/data-sources/999/checks").status_code == 404
    bad = api.post(f"{API}/data-sources/{source_id}/preserve", json={"dry_run": "maybe"})
    assert bad.status_code == 422
    assert "dry_run" in bad.get_json()["fields"]
    unlinked = api_ok(api.post(f"{API}/data-sources", json={"name": "x", "kind": "s3", "location": "s3://x-y-z/"}), 201)
    refused = api.post(f"{API}/data-sources/{unlinked['id']}/checks")
    assert refused.status_code == 409
    assert "linked to no obligation" in refused.get_json()["message"]


def test_attestations_through_the_api(checked_app: Flask, api: Any) -> None:
    source_id = api_source(api, kind="manual", location="DVR in the control room")
    assert api_ok(api.post(f"{API}/data-sources/{source_id}/checks"), 201)["status"] == "unverifiable"
    attestation = api_ok(
        api.post(f"{API}/data-sources/{source_id}/attestations", json={"note": "Export drive checked"}), 201
    )
    assert attestation["attested_by"] == "user:counsel@example.org"
    assert api.post(f"{API}/data-sources/{source_id}/attestations", json={"note": "  "}).status_code == 422
    listed = api_ok(api.get(f"{API}/data-sources/{source_id}/attestations", role="viewer"))
    assert [a["id"] for a in listed["items"]] == [attestation["id"]]
    assert api_ok(api.post(f"{API}/data-sources/{source_id}/checks"), 201)["status"] == "preserved"
    blocked = api.post(f"{API}/data-sources/{source_id}/preserve", json={"dry_run": False})
    assert blocked.status_code == 409
    assert "steward" in blocked.get_json()["message"]


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on a free port; AWS_ENDPOINT_URL points every new client at it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    yield url
    server.stop()


def test_end_to_end_over_http_with_the_standard_aws_environment(moto_server: str, app: Flask, api: Any) -> None:
    """No collectors are injected: the app builds its own clients, and they honour AWS_ENDPOINT_URL."""
    s3 = boto3.client("s3", region_name="us-east-1")
    assert s3.meta.endpoint_url == moto_server
    _seed(s3)
    source_id = api_source(api)

    check = api_ok(api.post(f"{API}/data-sources/{source_id}/checks"), 201)
    assert check["status"] == "at_risk"
    assert (
        api_ok(api.post(f"{API}/data-sources/{source_id}/preserve", json={"dry_run": False}))["results"]["failed"] == 0
    )
    assert api_ok(api.post(f"{API}/data-sources/{source_id}/checks"), 201)["status"] == "preserved"
