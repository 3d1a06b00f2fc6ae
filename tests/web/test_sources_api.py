"""Data sources: cataloguing, location rules, changing, retiring, and linking them to obligations."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.web.support import (
    API,
    audit_events,
    fetched,
    last_seq,
    new_custodian,
    new_matter,
    new_obligation,
    new_order,
    new_source,
    patched,
    refused,
    single_new_event,
)

LOG_GROUP_ARN = "arn:aws:logs:us-west-2:123456789012:log-group:/poe/calexico/audio-gateway:*"
VAULT_ARN = "arn:aws:backup:us-west-2:123456789012:backup-vault:poe-vault"


@pytest.fixture
def obligation(api: Any) -> dict[str, Any]:
    """An open obligation of an active order."""
    matter = new_matter(api)
    order = new_order(api, matter["id"])
    return new_obligation(api, order["id"])


def link(api: Any, obligation_id: int, source_id: Any) -> Any:
    return api.post(f"{API}/obligations/{obligation_id}/data-sources", json={"data_source_id": source_id})


def test_create_source_starts_unchecked_and_records_one_event(api: Any) -> None:
    steward = new_custodian(api)
    before = last_seq(api)
    body = {
        "name": "Calexico audio gateway",
        "kind": "cloudwatch_logs",
        "location": "/poe/calexico/audio-gateway",
        "region": "us-west-2",
        "description": "Audio from the pedestrian lanes",
        "steward_id": steward["id"],
        "natural_retention_days": 14,
        "check_interval_hours": 6,
    }
    source = new_source(api, **body)
    assert {name: source[name] for name in body} == body
    assert source["status"] == "unchecked"
    assert source["retired_at"] is None
    assert source["earliest_destruction_at"] is None
    assert source["obligation_ids"] == []
    assert fetched(api, f"/data-sources/{source['id']}") == source
    event = single_new_event(api, before)
    assert event["action"] == "data_source.created"
    assert event["subject_type"] == "data_source"
    assert event["subject_id"] == str(source["id"])
    assert event["matter_id"] is None
    assert event["details"] == {**body, "status": "unchecked", "inventory_configuration_id": None}


def test_check_interval_defaults_to_a_day(api: Any) -> None:
    source = new_source(api)
    assert source["check_interval_hours"] == 24
    assert source["natural_retention_days"] is None


@pytest.mark.parametrize(
    ("kind", "location"),
    [
        ("s3", "s3://poe-video"),
        ("s3", "s3://poe-video/"),
        ("s3", "s3://poe.video-2018/recordings/san-ysidro/"),
        ("s3", "s3://abc"),
        ("s3", "s3://" + "a" * 63 + "/x"),
        ("cloudwatch_logs", "/poe/calexico/audio-gateway"),
        ("cloudwatch_logs", "poe_audio#1"),
        ("cloudwatch_logs", LOG_GROUP_ARN),
        ("cloudwatch_logs", "arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:poe"),
        ("aws_backup", "poe-vault"),
        ("aws_backup", VAULT_ARN),
        ("manual", "San Ysidro POE equipment room, DVR rack 2"),
    ],
)
def test_well_formed_locations_are_accepted(api: Any, kind: str, location: str) -> None:
    assert new_source(api, kind=kind, location=location)["location"] == location


@pytest.mark.parametrize(
    ("kind", "location"),
    [
        ("s3", "poe-video/recordings"),
        ("s3", "https://poe-video.s3.amazonaws.com/recordings"),
        ("s3", "S3://poe-video"),
        ("s3", "s3://"),
        ("s3", "s3:///recordings"),
        ("s3", "s3://ab"),
        ("s3", "s3://" + "a" * 64),
        ("s3", "s3://POE-Video"),
        ("s3", "s3://poe_video"),
        ("s3", "s3://-poe-video"),
        ("s3", "s3://poe-video-"),
        ("s3", "s3://poe..video"),
        ("s3", "s3://192.168.10.1"),
        ("s3", "s3://poe video"),
        ("s3", "s3://poe-video/" + "k" * 1025),
        ("cloudwatch_logs", "s3://poe-video"),
        ("cloudwatch_logs", "log group with spaces"),
        ("cloudwatch_logs", "l" * 513),
        ("cloudwatch_logs", "arn:aws:logs:us-west-2:12345:log-group:poe"),
        ("cloudwatch_logs", "arn:aws:s3:::poe-video"),
        ("aws_backup", "v"),
        ("aws_backup", "v" * 51),
        ("aws_backup", "poe.vault"),
        ("aws_backup", "arn:aws:backup:us-west-2:123456789012:recovery-point:abc"),
        ("aws_backup", "arn:aws:backup:us-west-2:123456789012:backup-vault:a"),
        ("manual", "   "),
    ],
)
def test_malformed_locations_are_refused(api: Any, session: Session, kind: str, location: str) -> None:
    body = {"name": "Source", "kind": kind, "location": location}
    refused(api, session, "post", "/data-sources", body, status=422, field="location")


@pytest.mark.parametrize("region", ["US-WEST-2", "uswest2", "us-west", "us-west-2a", "", "earth-1", "us-west-123"])
def test_bad_region_is_refused(api: Any, session: Session, region: str) -> None:
    body = {"name": "Source", "kind": "s3", "location": "s3://poe-video", "region": region}
    refused(api, session, "post", "/data-sources", body, status=422, field="region")


@pytest.mark.parametrize("region", ["us-west-2", "eu-central-1", "us-gov-west-1", "ap-southeast-4"])
def test_real_regions_are_accepted(api: Any, region: str) -> None:
    assert new_source(api, region=region)["region"] == region


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"steward_id": 999}, "steward_id"),
        ({"steward_id": 0}, "steward_id"),
        ({"steward_id": "1"}, "steward_id"),
        ({"natural_retention_days": -1}, "natural_retention_days"),
        ({"natural_retention_days": 36_501}, "natural_retention_days"),
        ({"natural_retention_days": 1.5}, "natural_retention_days"),
        ({"natural_retention_days": True}, "natural_retention_days"),
        ({"check_interval_hours": 0}, "check_interval_hours"),
        ({"check_interval_hours": 8_761}, "check_interval_hours"),
        ({"check_interval_hours": None}, "check_interval_hours"),
        ({"check_interval_hours": 10**40}, "check_interval_hours"),
        ({"kind": "gcs"}, "kind"),
        ({"status": "preserved"}, "status"),
        ({"retired_at": "2020-01-01T00:00:00+00:00"}, "retired_at"),
        ({"name": "n" * 301}, "name"),
        ({"location": "s3://poe-video/" + "k" * 2040}, "location"),
    ],
)
def test_create_source_refuses_bad_fields(api: Any, session: Session, extra: dict[str, Any], field: str) -> None:
    body = {"name": "Source", "kind": "s3", "location": "s3://poe-video", **extra}
    refused(api, session, "post", "/data-sources", body, status=422, field=field)


def test_patch_source_records_the_diff(api: Any) -> None:
    source = new_source(api, natural_retention_days=30)
    before = last_seq(api)
    changed = patched(api, f"/data-sources/{source['id']}", {"natural_retention_days": 90, "region": "us-west-2"})
    assert changed["natural_retention_days"] == 90
    event = single_new_event(api, before)
    assert event["action"] == "data_source.updated"
    assert event["matter_id"] is None
    assert event["details"] == {
        "changes": {
            "natural_retention_days": {"from": 30, "to": 90},
            "region": {"from": None, "to": "us-west-2"},
        }
    }


def test_moving_a_source_is_recorded(api: Any) -> None:
    source = new_source(api)
    before = last_seq(api)
    changed = patched(api, f"/data-sources/{source['id']}", {"location": "s3://poe-video-2/recordings/"})
    assert changed["status"] == "unchecked"
    event = single_new_event(api, before)
    assert event["details"]["changes"]["location"] == {
        "from": "s3://poe-video/recordings/",
        "to": "s3://poe-video-2/recordings/",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # The stored source is an s3 source at s3://poe-video/recordings/.
        ({"location": "/poe/calexico"}, "location"),
        ({"kind": "aws_backup"}, "location"),
        ({"kind": "cloudwatch_logs", "location": "s3://poe-video"}, "location"),
        ({"location": None}, "location"),
        ({"location": ""}, "location"),
        ({"name": None}, "name"),
        ({"name": " "}, "name"),
        ({"kind": None}, "kind"),
        ({"region": "Mars-1"}, "region"),
        ({"steward_id": 999}, "steward_id"),
        ({"status": "lost"}, "status"),
        ({"earliest_destruction_at": None}, "earliest_destruction_at"),
        ({"check_interval_hours": "6"}, "check_interval_hours"),
    ],
)
def test_patch_source_refuses_bad_fields(api: Any, session: Session, body: dict[str, Any], field: str) -> None:
    source = new_source(api)
    refused(api, session, "patch", f"/data-sources/{source['id']}", body, status=422, field=field)


def test_unknown_source_is_404(api: Any, session: Session) -> None:
    assert api.get(f"{API}/data-sources/999").status_code == 404
    refused(api, session, "patch", "/data-sources/999", {"name": "N"}, status=404)
    refused(api, session, "post", "/data-sources/999/retire", {"reason": "gone"}, status=404)


# Retiring ---------------------------------------------------------------------------------------------


def test_retire_keeps_the_source_and_hides_it_from_the_default_list(api: Any) -> None:
    kept = new_source(api, name="Kept")
    source = new_source(api, name="Retired")
    before = last_seq(api)
    response = api.post(f"{API}/data-sources/{source['id']}/retire", json={"reason": "camera replaced"})
    assert response.status_code == 200
    retired = response.get_json()
    assert retired["retired_at"] is not None
    assert retired["retired_reason"] == "camera replaced"
    assert fetched(api, f"/data-sources/{source['id']}") == retired
    event = single_new_event(api, before)
    assert (event["action"], event["subject_id"]) == ("data_source.retired", str(source["id"]))
    assert event["details"] == {"reason": "camera replaced"}
    assert [item["id"] for item in fetched(api, "/data-sources")["items"]] == [kept["id"]]
    everything = fetched(api, "/data-sources?include_retired=true")
    assert [item["id"] for item in everything["items"]] == [kept["id"], source["id"]]
    assert everything["total"] == 2


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "  "}, {"reason": None}, {"reason": "x" * 10_001}])
def test_retire_needs_a_reason(api: Any, session: Session, body: dict[str, Any]) -> None:
    source = new_source(api)
    refused(api, session, "post", f"/data-sources/{source['id']}/retire", body, status=422, field="reason")


def test_retired_source_cannot_be_retired_patched_or_linked(
    api: Any, session: Session, obligation: dict[str, Any]
) -> None:
    source = new_source(api)
    assert api.post(f"{API}/data-sources/{source['id']}/retire", json={"reason": "gone"}).status_code == 200
    refused(api, session, "post", f"/data-sources/{source['id']}/retire", {"reason": "again"}, status=409)
    refused(api, session, "patch", f"/data-sources/{source['id']}", {"name": "Renamed"}, status=409)
    body = {"data_source_id": source["id"]}
    refused(
        api, session, "post", f"/obligations/{obligation['id']}/data-sources", body, status=409, field="data_source_id"
    )


def test_list_sources_filters_by_kind_and_status(api: Any) -> None:
    s3 = new_source(api)
    logs = new_source(api, kind="cloudwatch_logs", location="/poe/logs")
    assert [item["id"] for item in fetched(api, "/data-sources?kind=cloudwatch_logs")["items"]] == [logs["id"]]
    assert [item["id"] for item in fetched(api, "/data-sources?status=unchecked")["items"]] == [s3["id"], logs["id"]]
    assert fetched(api, "/data-sources?status=preserved")["total"] == 0
    for query in ("kind=gcs", "status=fine", "include_retired=perhaps"):
        response = api.get(f"{API}/data-sources?{query}")
        assert response.status_code == 422
        assert query.split("=")[0] in response.get_json()["fields"]


# Linking -------------------------------------------------------------------------------------------


def test_link_source_to_obligation(api: Any, obligation: dict[str, Any]) -> None:
    source = new_source(api)
    before = last_seq(api)
    response = link(api, obligation["id"], source["id"])
    assert response.status_code == 201
    assert response.get_json()["data_source_ids"] == [source["id"]]
    assert fetched(api, f"/obligations/{obligation['id']}")["data_source_ids"] == [source["id"]]
    assert fetched(api, f"/data-sources/{source['id']}")["obligation_ids"] == [obligation["id"]]
    event = single_new_event(api, before)
    assert event["action"] == "obligation.source_linked"
    assert event["subject_id"] == str(obligation["id"])
    matter_id = fetched(api, f"/orders/{obligation['order_id']}")["matter_id"]
    assert event["matter_id"] == matter_id
    assert event["details"] == {"data_source_id": source["id"], "location": source["location"]}


def test_linking_twice_answers_200_and_records_nothing_more(api: Any, obligation: dict[str, Any]) -> None:
    source = new_source(api)
    assert link(api, obligation["id"], source["id"]).status_code == 201
    before = last_seq(api)
    again = link(api, obligation["id"], source["id"])
    assert again.status_code == 200
    assert again.get_json()["data_source_ids"] == [source["id"]]
    assert audit_events(api, before) == []


def test_one_source_serves_many_obligations(api: Any, obligation: dict[str, Any]) -> None:
    other = new_obligation(api, obligation["order_id"], description="Other")
    source = new_source(api)
    second = new_source(api, name="Second", location="s3://poe-video-2")
    for obligation_id, source_id in ((obligation["id"], source["id"]), (other["id"], source["id"])):
        assert link(api, obligation_id, source_id).status_code == 201
    assert link(api, obligation["id"], second["id"]).status_code == 201
    assert fetched(api, f"/data-sources/{source['id']}")["obligation_ids"] == [obligation["id"], other["id"]]
    assert fetched(api, f"/obligations/{obligation['id']}")["data_source_ids"] == [source["id"], second["id"]]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"data_source_id": 999}, 422),
        ({"data_source_id": 0}, 422),
        ({"data_source_id": -1}, 422),
        ({"data_source_id": 2**31}, 422),
        ({"data_source_id": "1"}, 422),
        ({"data_source_id": 1.0}, 422),
        ({"data_source_id": None}, 422),
        ({}, 422),
    ],
)
def test_link_refuses_a_source_that_does_not_exist(
    api: Any, session: Session, obligation: dict[str, Any], body: dict[str, Any], status: int
) -> None:
    new_source(api)
    refused(
        api,
        session,
        "post",
        f"/obligations/{obligation['id']}/data-sources",
        body,
        status=status,
        field="data_source_id",
    )


def test_link_refuses_unknown_fields(api: Any, session: Session, obligation: dict[str, Any]) -> None:
    source = new_source(api)
    body = {"data_source_id": source["id"], "note": "x"}
    refused(api, session, "post", f"/obligations/{obligation['id']}/data-sources", body, status=422, field="note")


def test_released_obligation_takes_no_links(api: Any, session: Session, obligation: dict[str, Any]) -> None:
    source = new_source(api)
    assert api.post(f"{API}/orders/{obligation['order_id']}/release", json={"reason": "done"}).status_code == 200
    body = {"data_source_id": source["id"]}
    refused(api, session, "post", f"/obligations/{obligation['id']}/data-sources", body, status=409)


@pytest.mark.parametrize(
    ("field", "day"), [("preserve_until", "9999-12-31"), ("preserve_from", "0001-01-01"), ("due_on", "2200-01-01")]
)
def test_dates_beyond_the_calendar_records_take_are_refused(
    api: Any, session: Session, obligation: dict[str, Any], field: str, day: str
) -> None:
    refused(api, session, "patch", f"/obligations/{obligation['id']}", {field: day}, status=422, field=field)
    order_id = obligation["order_id"]
    body = {"description": "Preserve POE video", field: day}
    refused(api, session, "post", f"/orders/{order_id}/obligations", body, status=422, field=field)


def test_a_source_whose_scope_runs_to_the_last_day_allowed_still_reads_and_lists(
    api: Any, obligation: dict[str, Any]
) -> None:
    source = new_source(api)
    later = new_obligation(api, obligation["order_id"], preserve_from="2030-01-01", preserve_until="2199-12-31")
    patched(api, f"/obligations/{obligation['id']}", {"preserve_from": "2018-09-01", "preserve_until": "2199-12-31"})
    for owner in (obligation["id"], later["id"]):
        assert link(api, owner, source["id"]).status_code == 201
    read = fetched(api, f"/data-sources/{source['id']}")
    assert read["preservation_scope"] == [{"preserve_from": "2018-09-01", "preserve_until": "2199-12-31"}]
    assert [item["id"] for item in fetched(api, "/data-sources")["items"]] == [source["id"]]
