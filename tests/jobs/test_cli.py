"""`preservation jobs ...` and `preservation alerts ...` run in-process, and the email channel chosen by settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from config.settings import Settings, SettingsError
from jobs.context import build_notifiers
from jobs.registry import JOBS
from preservation.adapters.mail import SesMailer, SmtpMailer
from preservation.adapters.notifiers import ConsoleNotifier, SnsNotifier, WebhookNotifier
from preservation.cli import main
from preservation.db import make_engine, make_session_factory
from preservation.models import AlertSubscription, JobRun
from preservation.services import matters
from preservation.services.unit import Unit


class Cli:
    """Runs `preservation ...` on the test database, as a deployed command would be configured."""

    def __init__(self, database_url: str, instance: Path) -> None:
        self.env = {"PRESERVATION_DATABASE_URL": database_url, "PRESERVATION_INSTANCE_PATH": str(instance)}

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=self.env)


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    return Cli(database_url, tmp_path / "instance")


def rows(database_url: str, model: type[JobRun] | type[AlertSubscription]) -> list[JobRun] | list[AlertSubscription]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.query(model).order_by(model.id))
    finally:
        engine.dispose()


def test_jobs_list_shows_every_job_then_run_records_a_manual_run(cli: Cli, database_url: str) -> None:
    listed = cli("jobs", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert [line.split()[0] for line in lines[: len(JOBS)]] == [spec.job_id for spec in JOBS]
    assert all("never ran" in line for line in lines[: len(JOBS)])
    assert "leader: none (no scheduler holds the lease)" in listed.output
    assert "heartbeat: never" in listed.output

    ran = cli("jobs", "run", "deadline-sweep")
    assert ran.exit_code == 0, ran.output
    answer = json.loads(ran.stdout)
    assert (answer["job"], answer["outcome"], answer["error"]) == ("deadline-sweep", "succeeded", None)
    [run] = rows(database_url, JobRun)
    assert (run.job_id, run.trigger, run.outcome) == ("deadline-sweep", "manual", "succeeded")  # type: ignore[union-attr]
    assert run.holder.startswith("cli:")  # type: ignore[union-attr]

    sweep_line = next(line for line in cli("jobs", "list").output.splitlines() if line.startswith("deadline-sweep"))
    assert "every   300s  succeeded 20" in sweep_line


def test_jobs_run_of_an_unknown_job_fails_naming_the_known_ones(cli: Cli, database_url: str) -> None:
    result = cli("jobs", "run", "deadline-sweeep")
    assert result.exit_code != 0
    assert "no job 'deadline-sweeep'; known jobs: retention-checks, deadline-sweep" in result.output
    assert rows(database_url, JobRun) == []


def test_alert_subscriptions_are_added_listed_and_removed(cli: Cli, database_url: str) -> None:
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        matter = matters.create_matter(Unit(session=session, actor="test"), {"caption": "Al Otro Lado v. Nielsen"})
        session.commit()
        matter_id = matter.id
    engine.dispose()

    added = cli("alerts", "subscribe", "--channel", "email", "--to", "role:counsel", "--matter", str(matter_id))
    assert added.exit_code == 0, added.output
    assert added.output == f"subscription 1: email role:counsel for matter {matter_id}\n"
    everywhere = cli("alerts", "subscribe", "--channel", "webhook", "--to", "https://hooks.example.org/x")
    assert everywhere.output == "subscription 2: webhook https://hooks.example.org/x for every matter\n"

    duplicate = cli("alerts", "subscribe", "--channel", "email", "--to", "role:counsel", "--matter", str(matter_id))
    assert duplicate.exit_code == 1
    assert "subscription 1 already sends these alerts there" in duplicate.output
    bad_role = cli("alerts", "subscribe", "--channel", "email", "--to", "role:janitor")
    assert bad_role.exit_code == 1
    assert "role must be one of" in bad_role.output
    no_matter = cli("alerts", "subscribe", "--channel", "email", "--to", "a@example.org", "--matter", "999")
    assert no_matter.exit_code == 1
    assert "Matter 999 does not exist" in no_matter.output

    listed = cli("alerts", "subscriptions")
    assert listed.output.splitlines() == [
        f"1\temail\trole:counsel\tmatter {matter_id}",
        "2\twebhook\thttps://hooks.example.org/x\tevery matter",
    ]
    assert cli("alerts", "unsubscribe", "1").exit_code == 0
    remaining = cli("alerts", "subscriptions").output.splitlines()
    assert remaining == ["2\twebhook\thttps://hooks.example.org/x\tevery matter"]
    gone = cli("alerts", "unsubscribe", "1")
    assert gone.exit_code == 1
    assert "AlertSubscription 1 does not exist" in gone.output
    assert [row.id for row in rows(database_url, AlertSubscription)] == [2]


def settings_from(tmp_path: Path, **variables: str) -> Settings:
    env = {"PRESERVATION_INSTANCE_PATH": str(tmp_path / "instance"), "PRESERVATION_SECRET_KEY": "test-secret-key"}
    env.update({f"PRESERVATION_{name.upper()}": value for name, value in variables.items()})
    return Settings.from_env(env)


def test_the_email_channel_is_chosen_by_the_settings(tmp_path: Path) -> None:
    smtp = build_notifiers(
        settings_from(
            tmp_path,
            smtp_host="mail.example.org",
            smtp_port="2525",
            smtp_username="alerts",
            smtp_password="x",
            smtp_starttls="0",
            smtp_timeout_seconds="7",
            mail_from="alerts@example.org",
        )
    )
    mailer = smtp["email"]
    assert isinstance(mailer, SmtpMailer)  # an SMTP host alone means SMTP
    assert (mailer.host, mailer.port, mailer.username, mailer.password) == ("mail.example.org", 2525, "alerts", "x")
    assert (mailer.starttls, mailer.timeout, mailer.sender) == (False, 7, "alerts@example.org")
    assert isinstance(smtp["webhook"], WebhookNotifier)
    assert isinstance(smtp["sns"], SnsNotifier)
    assert isinstance(smtp["console"], ConsoleNotifier)

    ses = build_notifiers(settings_from(tmp_path, mail_transport="ses", mail_from="alerts@example.org"))["email"]
    assert isinstance(ses, SesMailer)
    assert ses.sender == "alerts@example.org"

    for console_settings in (settings_from(tmp_path), settings_from(tmp_path, mail_transport="console")):
        console = build_notifiers(console_settings)["email"]
        assert isinstance(console, ConsoleNotifier)
        assert console.outbox == (tmp_path / "instance").resolve() / "outbox.jsonl"

    with pytest.raises(SettingsError, match="SMTP_HOST"):
        settings_from(tmp_path, mail_transport="smtp")
    with pytest.raises(SettingsError, match="MAIL_TRANSPORT"):
        settings_from(tmp_path, mail_transport="pigeon")
