"""Scheduler processes for the fault tests: real `python -m jobs` children, killed and restarted at will."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from preservation.db import begin_read_only, make_engine, make_session_factory
from preservation.models import SchedulerLease

REPOSITORY = Path(__file__).resolve().parents[2]


class SchedulerProcess:
    """One `python -m jobs` child on the test database, its output kept in a file."""

    def __init__(self, name: str, database_url: str, instance: Path, log_dir: Path, **settings: str) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PRESERVATION_")}
        env.update(
            PRESERVATION_DATABASE_URL=database_url,
            PRESERVATION_INSTANCE_PATH=str(instance),
            PRESERVATION_LOG_LEVEL="INFO",
            PYTHONPATH=str(REPOSITORY),
        )
        env.update({f"PRESERVATION_{key.upper()}": value for key, value in settings.items()})
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jobs"], cwd=REPOSITORY, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no cleanup, no lease release, runs left as they are."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> int:
        """SIGTERM, then wait for a clean exit; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self._log.close()
        return code

    def output(self) -> str:
        return self.log_path.read_text()


def wait_for(condition: Callable[[], Any], timeout: float, interval: float = 0.05, what: str = "condition") -> Any:
    """Poll until the condition returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Watcher:
    """Reads the database from the test process while schedulers run."""

    def __init__(self, database_url: str) -> None:
        self.engine: Engine = make_engine(database_url)
        self.sessions = make_session_factory(self.engine)

    def scalar(self, query: Any) -> Any:
        with self.sessions() as session:
            # A reader (DEFERRED on SQLite): an IMMEDIATE transaction would queue for the write lock behind
            # a scheduler committing back to back, and see its work only when it pauses.
            begin_read_only(session)
            return session.scalar(query)

    def scalars(self, query: Any) -> list[Any]:
        with self.sessions() as session:
            begin_read_only(session)
            return list(session.scalars(query))

    def lease(self) -> SchedulerLease | None:
        with self.sessions() as session:
            begin_read_only(session)
            return session.scalars(select(SchedulerLease)).first()

    def leader_pid(self) -> int | None:
        """The pid in the holder of an unexpired lease, or None."""
        lease = self.lease()
        if lease is None or lease.holder is None or lease.expires_at is None:
            return None
        if lease.expires_at <= dt.datetime.now(dt.UTC):
            return None
        return int(lease.holder.split(":")[2])

    def close(self) -> None:
        self.engine.dispose()
