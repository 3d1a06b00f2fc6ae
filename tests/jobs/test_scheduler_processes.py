"""Real scheduler processes: one leads, another takes over when it is killed; a sweep killed half-way
loses and doubles nothing; a dispatcher killed between the mail server taking a message and recording it
sends it once more, under the same Message-ID."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jobs.runner import lease_poll_seconds
from preservation.db import make_engine, make_session_factory
from preservation.models import Alert, AlertDelivery, JobRun, SchedulerHeartbeat
from preservation.services import users
from preservation.services.unit import Unit
from tests.jobs.conftest import free_port, obligation_due
from tests.jobs.processes import SchedulerProcess, Watcher, wait_for
from tests.jobs.servers import MailServer

LEASE_SECONDS = 3
QUIET = "retention-checks=3600,deadline-sweep=3600,alert-dispatch=3600,audit-checkpoint=3600,custodian-reminders=3600"


@pytest.fixture
def watcher(database_url: str) -> Iterator[Watcher]:
    """Reads the test database while the schedulers run."""
    reader = Watcher(database_url)
    yield reader
    reader.close()


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[SchedulerProcess]]:
    """Every scheduler a test starts, stopped at the end whatever happened."""
    processes: list[SchedulerProcess] = []
    yield processes
    for process in processes:
        if process.process.poll() is None:
            process.kill()


def start(
    started: list[SchedulerProcess], name: str, database_url: str, tmp_path: Path, **settings: str
) -> SchedulerProcess:
    process = SchedulerProcess(name, database_url, tmp_path / "instance", tmp_path, **settings)
    started.append(process)
    return process


def test_one_scheduler_leads_and_another_takes_over_within_the_lease_after_a_kill(
    database_url: str, tmp_path: Path, watcher: Watcher, started: list[SchedulerProcess]
) -> None:
    settings = {"scheduler_lease_seconds": str(LEASE_SECONDS), "job_intervals": f"{QUIET},heartbeat=1"}
    first = start(started, "first", database_url, tmp_path, **settings)
    wait_for(lambda: watcher.leader_pid() == first.pid, 20, what="the first scheduler to lead")
    first_token = watcher.lease().fencing_token  # type: ignore[union-attr]
    second = start(started, "second", database_url, tmp_path, **settings)

    # For two lease periods the second only waits: the lease and every heartbeat stay the first's.
    time.sleep(2 * LEASE_SECONDS)
    assert watcher.leader_pid() == first.pid
    holders = {run.holder.split(":")[2] for run in watcher.scalars(select(JobRun))}
    assert holders == {str(first.pid)}

    first.kill()
    killed_at = time.monotonic()
    wait_for(lambda: watcher.leader_pid() == second.pid, 4 * LEASE_SECONDS, what="the second scheduler to lead")
    took_over_in = time.monotonic() - killed_at
    # The lease expires at most LEASE_SECONDS after the kill (it was renewed before it); the second looks
    # every tenth of it. The last second is slack for this test's own polling and a busy machine.
    assert took_over_in <= LEASE_SECONDS + lease_poll_seconds(dt.timedelta(seconds=LEASE_SECONDS)) + 1, took_over_in
    lease = watcher.lease()
    assert lease is not None
    assert lease.fencing_token == first_token + 1

    # The new leader beats, and its runs carry its own token.
    wait_for(
        lambda: (beat := watcher.scalar(select(SchedulerHeartbeat))) and str(second.pid) in beat.holder,
        10,
        what="the second scheduler's heartbeat",
    )
    tokens = {
        run.fencing_token for run in watcher.scalars(select(JobRun).where(JobRun.holder.contains(f":{second.pid}:")))
    }
    assert tokens == {first_token + 1}

    # A clean stop gives the lease up at once.
    assert second.stop() == 0
    assert watcher.leader_pid() is None
    assert "released the scheduler lease" in second.output()


def seed_deadlines(database_url: str, count: int) -> None:
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        unit = Unit(session=session, actor="test")
        users.create_user(unit, "counsel@example.org", "counsel")
        for number in range(count):
            obligation_due(unit, dt.datetime.now(dt.UTC).date(), f"Obligation number {number}")
        session.commit()
    engine.dispose()


def test_a_sweep_killed_half_way_then_restarted_loses_no_alert_and_sends_none_twice(
    database_url: str, tmp_path: Path, watcher: Watcher, started: list[SchedulerProcess]
) -> None:
    count = 2000
    seed_deadlines(database_url, count)
    quiet = QUIET.replace("deadline-sweep=3600,", "")
    # The first scheduler's mail server is unreachable: whatever it tries to send fails and waits.
    first = start(
        started,
        "first",
        database_url,
        tmp_path,
        scheduler_lease_seconds=str(LEASE_SECONDS),
        job_intervals=f"{quiet},deadline-sweep=3600,heartbeat=3600",
        mail_transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=str(free_port()),
        smtp_starttls="0",
        alert_retry_seconds="1",
    )
    alerts_now = lambda: watcher.scalar(select(func.count()).select_from(Alert))  # noqa: E731
    wait_for(lambda: alerts_now() > 0, 30, interval=0.01, what="the sweep to start creating alerts")
    first.kill()
    created_before_kill = alerts_now()
    assert 0 < created_before_kill < count, "the kill did not land in the middle of the sweep"
    running = watcher.scalars(select(JobRun).where(JobRun.job_id == "deadline-sweep"))
    assert [run.outcome for run in running] == ["running"], first.output()[-4000:]

    second = start(
        started,
        "second",
        database_url,
        tmp_path,
        scheduler_lease_seconds=str(LEASE_SECONDS),
        job_intervals="alert-dispatch=1,heartbeat=1,deadline-sweep=5",
        mail_transport="console",
        alert_retry_seconds="1",
    )
    sent = lambda: watcher.scalar(  # noqa: E731
        select(func.count()).select_from(AlertDelivery).where(AlertDelivery.status == "sent")
    )
    try:
        wait_for(lambda: alerts_now() == count, 180, what="the second scheduler to finish the sweep")
        wait_for(lambda: sent() == count, 180, interval=0.2, what="every alert to be delivered")
    except AssertionError as error:
        raise AssertionError(f"{error}; the second scheduler said:\n{second.output()[-4000:]}") from None
    assert second.stop() == 0

    outbox = [json.loads(line) for line in (tmp_path / "instance" / "outbox.jsonl").read_text().splitlines()]
    keys = [entry["key"] for entry in outbox]
    assert len(keys) == count
    assert len(set(keys)) == count
    assert set(keys) == set(watcher.scalars(select(Alert.dedupe_key)))
    sweeps = watcher.scalars(select(JobRun).where(JobRun.job_id == "deadline-sweep").order_by(JobRun.id))
    outcomes = [(run.outcome, run.error) for run in sweeps]
    assert sweeps[0].outcome == "abandoned", outcomes
    # The second's sweeps finished the work; one still running at the clean stop may be cut short, nothing else.
    assert any(run.outcome == "succeeded" and run.details.get("alerts_created") for run in sweeps[1:]), outcomes
    assert all(
        outcome == "succeeded" or (outcome == "failed" and (error or "").startswith("stopped:"))
        for outcome, error in outcomes[1:]
    ), outcomes


def test_a_dispatcher_killed_after_the_mail_server_took_a_message_sends_it_again_under_the_same_message_id(
    database_url: str, tmp_path: Path, watcher: Watcher, started: list[SchedulerProcess], mail_server: MailServer
) -> None:
    count, kill_at = 40, 15
    seed_deadlines(database_url, count)
    settings = {
        "scheduler_lease_seconds": str(LEASE_SECONDS),
        "job_intervals": "retention-checks=3600,audit-checkpoint=3600,custodian-reminders=3600,"
        "deadline-sweep=3600,heartbeat=3600,alert-dispatch=1",
        "mail_transport": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": str(mail_server.port),
        "smtp_starttls": "0",
        "alert_claim_seconds": "2",
    }
    victims: list[SchedulerProcess] = []
    killed = threading.Event()

    def kill_before_the_answer(received: int) -> None:
        # The server has kept the message; the sender dies before it hears "250" and records it as sent.
        if received == kill_at and victims:
            os.kill(victims[0].pid, signal.SIGKILL)
            killed.set()

    mail_server.on_message.append(kill_before_the_answer)
    first = start(started, "first", database_url, tmp_path, **settings)
    victims.append(first)
    assert killed.wait(60), f"the dispatcher never sent {kill_at} messages:\n{first.output()[-4000:]}"
    first.kill()
    assert len(mail_server.messages()) == kill_at
    statuses = watcher.scalars(select(AlertDelivery.status).order_by(AlertDelivery.id))
    # Kept by the server, never recorded as sent: the delivery is still pending, under the dead one's claim.
    assert statuses.count("sent") == kill_at - 1
    in_flight = watcher.scalars(
        select(AlertDelivery).where(AlertDelivery.status == "pending", AlertDelivery.claim_token.is_not(None))
    )
    assert len(in_flight) == 1

    mail_server.on_message.clear()
    second = start(started, "second", database_url, tmp_path, **settings)
    sent = lambda: watcher.scalar(  # noqa: E731
        select(func.count()).select_from(AlertDelivery).where(AlertDelivery.status == "sent")
    )
    try:
        wait_for(lambda: sent() == count, 60, interval=0.2, what="every alert to be delivered")
    except AssertionError as error:
        raise AssertionError(f"{error}; the second scheduler said:\n{second.output()[-4000:]}") from None
    assert second.stop() == 0

    messages = mail_server.messages()
    keys = set(watcher.scalars(select(Alert.dedupe_key)))
    # No alert lost: each is in the inbox.
    assert {str(message["X-Preservation-Alert"]) for message in messages} == keys
    # The one duplicate is the message in flight at the kill, and it carries the Message-ID of the first copy.
    by_key: dict[str, set[str]] = {}
    for message in messages:
        by_key.setdefault(str(message["X-Preservation-Alert"]), set()).add(str(message["Message-ID"]))
    assert all(len(ids) == 1 for ids in by_key.values()), by_key
    assert len({str(message["Message-ID"]) for message in messages}) == count
    assert len(messages) == count + 1
    counted = Counter(str(message["Message-ID"]) for message in messages)
    [(twice, copies)] = [(message_id, n) for message_id, n in counted.items() if n > 1]
    assert copies == 2
    assert messages[kill_at - 1]["Message-ID"] == twice
    # What the delivery records as the receipt is that same Message-ID.
    receipts = set(watcher.scalars(select(AlertDelivery.provider_message_id)))
    assert receipts == set(counted)
