"""PRESERVATION_NOTICE_* are checked once, at start-up, and the app and the scheduler use the values read
then: a bad value stops the process with a clear message instead of failing each page and each run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from config.notices import NoticeSettings
from config.settings import Settings, SettingsError
from jobs import notices as notice_jobs
from jobs.context import JobContext
from preservation.app import create_app
from preservation.services import custodians
from preservation.services.unit import Unit
from tests.conftest import ApiClient
from tests.custodians.conftest import json_of, make_world


def _env(tmp_path: Path, **notice: str) -> dict[str, str]:
    env = {"PRESERVATION_SECRET_KEY": "s", "PRESERVATION_INSTANCE_PATH": str(tmp_path)}
    return env | {f"PRESERVATION_NOTICE_{name.upper()}": value for name, value in notice.items()}


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("reminder_days", "soon", "must be a whole number of days, not 'soon'"),
        ("escalation_days", "0", "must be between 1 and 3650 days"),
        ("link_days", "-5", "must be between 1 and 3650 days"),
        ("departure_warning_days", "1.5", "must be a whole number of days"),
    ],
)
def test_a_bad_notice_setting_stops_the_start(tmp_path: Path, name: str, value: str, reason: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(_env(tmp_path, **{name: value}))
    assert f"PRESERVATION_NOTICE_{name.upper()}" in str(refused.value)
    assert reason in str(refused.value)


def test_notice_settings_are_read_into_the_settings(tmp_path: Path) -> None:
    settings = Settings.from_env(_env(tmp_path, reminder_days="5", link_days="30"))
    assert settings.notices == NoticeSettings(link_valid_days=30, reminder_every_days=5)
    assert Settings.from_env(_env(tmp_path)).notices == NoticeSettings()


def test_pages_and_the_job_use_the_settings_read_at_start(
    settings: Settings, session: Session, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = dataclasses.replace(settings, notices=NoticeSettings(reminder_every_days=5, escalate_after_days=9))
    world = make_world(Unit(session=session, actor="test"))
    custodians.place_custodian_hold(Unit(session=session, actor="test"), world.order_id, world.ana.id)
    session.commit()
    order_id = world.order_id
    session.rollback()
    app = create_app(configured)
    app.config["TESTING"] = True
    ctx = JobContext.from_settings(configured)
    try:
        # A value changed (or broken) in the environment after start-up is not read again.
        monkeypatch.setenv("PRESERVATION_NOTICE_REMINDER_DAYS", "soon")
        api = ApiClient(app.test_client(), tokens)
        assert api.post(f"/api/v1/orders/{order_id}/notices", json={}).status_code == 201
        answer = api.get(f"/api/v1/orders/{order_id}/acknowledgements")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert [s["acknowledgement"] for s in json_of(answer)["items"]] == ["awaiting"]
        policy = notice_jobs.notice_policy(ctx)
        assert (policy.reminder_every_days, policy.escalate_after_days) == (5, 9)
        assert notice_jobs.custodian_reminders(ctx)["reminders"] == 0
    finally:
        ctx.close()
        app.extensions["preservation"].engine.dispose()
