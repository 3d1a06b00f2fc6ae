"""The API of court days, deadlines, alerts, the scheduler and calendar feeds, and /readyz's heartbeat."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from config.settings import Settings
from jobs.context import JobContext
from preservation.adapters.notifiers import ConsoleNotifier
from preservation.models import Alert
from preservation.services import notice_mail
from preservation.services.unit import system_clock
from tests.conftest import ApiClient
from tests.jobs.test_sweep_and_dispatch import run

API = "/api/v1"
TODAY = dt.datetime.now(dt.UTC).date()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


@pytest.fixture
def live_ctx(settings: Settings, tmp_path: Path) -> Iterator[JobContext]:
    """Jobs on the app's database, on the real clock (the API's clock), alerts to a console outbox."""
    context = JobContext.from_settings(settings, clock=system_clock)
    console = ConsoleNotifier(tmp_path / "outbox.jsonl")
    context.notifiers = {"email": console, "console": console}
    yield context
    context.close()


def new_obligation(api: ApiClient, **fields: Any) -> dict[str, Any]:
    matter = ok(api.post(f"{API}/matters", json={"caption": "Al Otro Lado, Inc. v. Nielsen"}), 201)
    order = ok(
        api.post(f"{API}/matters/{matter['id']}/orders", json={"kind": "court_order", "title": "Preservation order"}),
        201,
    )
    body = {"description": "Produce the preserved video", **fields}
    return ok(api.post(f"{API}/orders/{order['id']}/obligations", json=body), 201)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("start", "days", "direction", "due"),
    [
        ("2026-12-11", 14, "after", "2026-12-28"),
        ("2027-01-11", 7, "after", "2027-01-19"),
        ("2027-06-04", 30, "after", "2027-07-06"),
        ("2027-01-25", 7, "before", "2027-01-15"),
    ],
)
def test_court_days_answers_the_due_date_and_its_steps(
    api: ApiClient, start: str, days: int, direction: str, due: str
) -> None:
    body = ok(api.get(f"{API}/court-days?from={start}&days={days}&direction={direction}", role="auditor"))
    assert body["due_on"] == due
    assert body["from"] == start
    assert body["rule"] == "FRCP 6(a)(1)"
    assert body["steps"][-1]["note"].endswith(due)


def test_court_days_refuses_bad_input(api: ApiClient) -> None:
    assert api.get(f"{API}/court-days?from=2027-01-01&days=3", role=None).status_code == 401
    for query in ("days=3", "from=2027-01-01", "from=2027-01-01&days=-1", "from=2027-01-01&days=3&direction=up"):
        assert api.get(f"{API}/court-days?{query}").status_code == 422, query
    assert api.get(f"{API}/court-days?from=9999-12-30&days=10").status_code == 422


def test_an_obligation_due_a_period_after_an_event_is_counted_in_court_days(api: ApiClient) -> None:
    obligation = new_obligation(api, due_period_days=14, due_from="2026-12-11")
    assert obligation["due_on"] == "2026-12-28"
    assert obligation["due_direction"] == "after"
    assert obligation["due_computation"]["plain_count"] == "2026-12-25"
    assert "Christmas Day" in obligation["due_computation"]["steps"][2]["note"]
    # Moving the event recounts; a plain date replaces the period.
    moved = ok(api.patch(f"{API}/obligations/{obligation['id']}", json={"due_from": "2027-01-04"}))
    assert moved["due_on"] == "2027-01-19"  # the 18th is King Day
    plain = ok(api.patch(f"{API}/obligations/{obligation['id']}", json={"due_on": "2027-02-01"}))
    assert (plain["due_on"], plain["due_period_days"], plain["due_computation"]) == ("2027-02-01", None, None)
    refused = api.post(
        f"{API}/orders/{obligation['order_id']}/obligations",
        json={"description": "x", "due_on": "2027-01-01", "due_period_days": 3, "due_from": "2026-12-01"},
    )
    assert refused.status_code == 422
    assert "due_on" in refused.get_json()["fields"]
    half = api.post(
        f"{API}/orders/{obligation['order_id']}/obligations", json={"description": "x", "due_period_days": 3}
    )
    assert half.status_code == 422
    assert "due_from" in half.get_json()["fields"]


def test_deadlines_are_listed_with_their_filters(api: ApiClient, live_ctx: JobContext) -> None:
    soon = new_obligation(api, due_on=(TODAY + dt.timedelta(days=3)).isoformat())
    later = new_obligation(api, due_on=(TODAY + dt.timedelta(days=40)).isoformat())
    late = new_obligation(api, due_on=(TODAY - dt.timedelta(days=2)).isoformat())
    run(live_ctx, "deadline-sweep")
    everything = ok(api.get(f"{API}/deadlines", role="viewer"))
    assert [d["subject_id"] for d in everything["items"]] == [late["id"], soon["id"], later["id"]]
    within = ok(api.get(f"{API}/deadlines?within_days=7"))
    assert [d["subject_id"] for d in within["items"]] == [late["id"], soon["id"]]
    overdue = ok(api.get(f"{API}/deadlines?overdue=true"))
    assert [d["subject_id"] for d in overdue["items"]] == [late["id"]]
    upcoming = ok(api.get(f"{API}/deadlines?overdue=false&within_days=7"))
    assert [d["subject_id"] for d in upcoming["items"]] == [soon["id"]]
    deadline_id = within["items"][1]["id"]
    one = ok(api.get(f"{API}/deadlines/{deadline_id}"))
    assert one["computation"]["rule"] == "as entered on the obligation"
    matter_id = one["matter_id"]
    assert [d["id"] for d in ok(api.get(f"{API}/deadlines?matter_id={matter_id}"))["items"]] == [deadline_id]
    ok(api.patch(f"{API}/obligations/{soon['id']}", json={"status": "satisfied"}))
    run(live_ctx, "deadline-sweep")
    assert ok(api.get(f"{API}/deadlines?status=met"))["total"] == 1
    assert ok(api.get(f"{API}/deadlines?status=any"))["total"] == 3
    assert api.get(f"{API}/deadlines?within_days=-1").status_code == 422
    assert api.get(f"{API}/deadlines/999999").status_code == 404


def test_alerts_are_listed_and_acknowledged_once_by_a_reader_who_may_act(api: ApiClient, live_ctx: JobContext) -> None:
    new_obligation(api, due_on=TODAY.isoformat())
    run(live_ctx, "deadline-sweep")
    run(live_ctx, "alert-dispatch")
    page = ok(api.get(f"{API}/alerts?acknowledged=false", role="auditor"))
    assert page["total"] == 1
    alert = page["items"][0]
    assert alert["threshold"] == "0d"
    assert {(d["target"], d["status"]) for d in alert["deliveries"]} == {
        ("admin@example.org", "sent"),
        ("counsel@example.org", "sent"),
    }
    assert api.post(f"{API}/alerts/{alert['id']}/acknowledge", role="auditor").status_code == 403
    acknowledged = ok(api.post(f"{API}/alerts/{alert['id']}/acknowledge", role="viewer"))
    assert acknowledged["acknowledged_by"] == "user:viewer@example.org"
    again = ok(api.post(f"{API}/alerts/{alert['id']}/acknowledge", role="counsel"))
    assert again["acknowledged_by"] == "user:viewer@example.org"
    assert again["acknowledged_at"] == acknowledged["acknowledged_at"]
    assert ok(api.get(f"{API}/alerts?acknowledged=true"))["total"] == 1
    events = ok(api.get(f"{API}/audit/events?limit=200", role="auditor"))
    actions = [event["action"] for event in events["items"]]
    assert actions.count("alert.acknowledged") == 1
    assert api.post(f"{API}/alerts/424242/acknowledge").status_code == 404


def test_custodian_notice_emails_stay_in_the_outbox_and_out_of_the_alerts(api: ApiClient, live_ctx: JobContext) -> None:
    new_obligation(api, due_on=TODAY.isoformat())
    run(live_ctx, "deadline-sweep")
    with live_ctx.unit(fenced=False) as unit:
        notice = notice_mail.queue_email(
            unit,
            "reminder:1:2027-01-01T14:00:00",
            "Reminder: legal hold",
            "Please acknowledge the hold.",
            targets=["custodian@example.org"],
            label="reminder",
        )
        assert notice is not None
        notice_id = notice.id
    # The outbox carries it like an alert.
    assert run(live_ctx, "alert-dispatch").details["sent"] == 3
    assert "Reminder: legal hold" in (live_ctx.notifiers or {})["email"].outbox.read_text()  # type: ignore[attr-defined]

    for query in ("", "?acknowledged=false"):
        page = ok(api.get(f"{API}/alerts{query}"))
        assert page["total"] == 1
        assert [item["threshold"] for item in page["items"]] == ["0d"]
    refused = api.post(f"{API}/alerts/{notice_id}/acknowledge", role="counsel")
    assert refused.status_code == 404
    with live_ctx.unit(fenced=False) as unit:
        row = unit.session.get(Alert, notice_id)
        assert row is not None
        assert row.acknowledged_at is None


def test_webhook_addresses_are_not_shown(api: ApiClient, live_ctx: JobContext) -> None:
    from preservation.services import alerts  # noqa: PLC0415

    new_obligation(api, due_on=TODAY.isoformat())
    with live_ctx.unit(fenced=False) as unit:
        alerts.subscribe(unit, "webhook", "https://hooks.slack.example/services/T000/B000/secret-part")
    run(live_ctx, "deadline-sweep")
    delivery = ok(api.get(f"{API}/alerts"))["items"][0]["deliveries"][0]
    assert delivery["target"] == "https://hooks.slack.example/…"


def test_the_scheduler_state_and_readyz_report_the_heartbeat(api: ApiClient, live_ctx: JobContext) -> None:
    state = ok(api.get(f"{API}/scheduler", role="viewer"))
    assert state["heartbeat"]["stale"] is True
    assert state["heartbeat"]["beat_at"] is None
    assert [job["job_id"] for job in state["jobs"]] == [
        "retention-checks",
        "deadline-sweep",
        "alert-dispatch",
        "audit-checkpoint",
        "custodian-reminders",
        "heartbeat",
    ]
    ready = api.client.get("/readyz").get_json()
    assert ready["checks"]["scheduler"] == {"heartbeat_at": None, "age_seconds": None, "stale": True}

    run(live_ctx, "heartbeat")
    state = ok(api.get(f"{API}/scheduler"))
    assert state["heartbeat"]["stale"] is False
    assert state["heartbeat"]["age_seconds"] < 60
    heartbeat = next(job for job in state["jobs"] if job["job_id"] == "heartbeat")
    assert heartbeat["last_run"]["outcome"] == "succeeded"
    assert heartbeat["every_seconds"] == 60
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"]["scheduler"]["stale"] is False


def test_a_calendar_feed_shows_deadlines_with_stable_uids_until_revoked(api: ApiClient, live_ctx: JobContext) -> None:
    obligation = new_obligation(api, due_on=(TODAY + dt.timedelta(days=20)).isoformat())
    run(live_ctx, "deadline-sweep")
    feed = ok(api.post(f"{API}/calendar-feeds", role="viewer"), 201)
    path = feed["url"].split("localhost", 1)[1]
    response = api.client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    (event,) = Calendar.from_ical(response.data).walk("VEVENT")
    assert str(event["UID"]).startswith("deadline-")
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == TODAY + dt.timedelta(days=20)

    ok(api.patch(f"{API}/obligations/{obligation['id']}", json={"due_on": (TODAY + dt.timedelta(days=21)).isoformat()}))
    run(live_ctx, "deadline-sweep")
    (moved,) = Calendar.from_ical(api.client.get(path).data).walk("VEVENT")
    assert moved["UID"] == event["UID"]
    assert moved["SEQUENCE"] == 1

    listed = ok(api.get(f"{API}/calendar-feeds", role="viewer"))["items"]
    assert [f["id"] for f in listed] == [feed["id"]]
    assert "url" not in listed[0]
    assert ok(api.get(f"{API}/calendar-feeds", role="counsel"))["items"] == []
    assert api.post(f"{API}/calendar-feeds/{feed['id']}/revoke", role="counsel").status_code == 404
    ok(api.post(f"{API}/calendar-feeds/{feed['id']}/revoke", role="viewer"))
    assert api.client.get(path).status_code == 404
    assert api.client.get(f"{API}/calendar/not-a-feed.ics").status_code == 404
