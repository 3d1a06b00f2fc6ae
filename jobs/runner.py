"""The scheduler process: a leader lease, a record of every run, and APScheduler as a metronome.

APScheduler 3.x keeps its schedule in memory and runs a job at most once per fire time; it knows
nothing of other processes. So every process that runs `preservation scheduler` ticks, but only the
holder of the lease runs jobs, and what a job owes is read from the application's tables, never from
APScheduler: a missed or killed run is made good by the next one.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import signal
import socket
import threading
from collections import deque
from collections.abc import Callable
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from jobs.context import JobContext
from jobs.reconcile import PartialFailure
from jobs.registry import JOBS, JobSpec, find
from preservation.services import job_runs, leases
from preservation.services.job_runs import RunRecord
from preservation.services.leases import LeaseGrant, LeaseLost
from preservation.services.unit import system_clock

log = logging.getLogger(__name__)

LEASE_JOB_ID = "scheduler-lease"
# A run may start this late (a suspended host, a busy pool) and still run; later ones are skipped,
# which is harmless as the next fire catches up.
MISFIRE_GRACE_SECONDS = 3600
# Runs that could not be recorded while the database was away, kept until it is back.
UNSAVED_RUNS_KEPT = 500
# The lease is looked at every tenth of its time to live (so a standby takes over at most that long after
# it expires) and renewed by the leader every third (so two renewals may fail before it runs out).
LEASE_POLLS_PER_TTL = 10
LEASE_RENEWALS_PER_TTL = 3
LEASE_POLL_FLOOR_SECONDS = 0.1


def lease_poll_seconds(ttl: dt.timedelta) -> float:
    """How often every scheduler looks at the lease."""
    return max(ttl.total_seconds() / LEASE_POLLS_PER_TTL, LEASE_POLL_FLOOR_SECONDS)


def process_name(prefix: str = "scheduler") -> str:
    """Who this process is in lease rows and run records: host, pid and a random suffix."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class JobRunner:
    """Runs a job and records the run: start, end, outcome, error, and what it did."""

    def __init__(self, ctx: JobContext, holder: str, *, trigger: str = "schedule") -> None:
        self.ctx = ctx
        self.holder = holder
        self.trigger = trigger
        self._unsaved: deque[RunRecord] = deque(maxlen=UNSAVED_RUNS_KEPT)
        self._lock = threading.Lock()
        self._running = 0
        self._idle = threading.Condition()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no run is in progress; False if some still are after `timeout` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout)

    def run(self, spec: JobSpec) -> RunRecord:
        """Run once now; the record says how it ended (the job's exceptions never escape)."""
        with self._idle:
            self._running += 1
        try:
            return self._run(spec)
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def _run(self, spec: JobSpec) -> RunRecord:
        record = RunRecord(
            job_id=spec.job_id,
            trigger=self.trigger,
            holder=self.holder,
            fencing_token=self.ctx.lease_token(),
            started_at=self.ctx.clock(),
        )
        self.flush_unsaved()
        try:
            with self.ctx.unit(fenced=False) as unit:
                record.run_id = job_runs.start_run(unit.session, record)
        except SQLAlchemyError as error:
            log.error("run of %s not recorded at its start: %s", spec.job_id, type(error).__name__)
        try:
            record.details = dict(spec.run(self.ctx) or {})
            record.outcome = "succeeded"
        except PartialFailure as failure:
            record.details = dict(failure.details)
            record.outcome, record.error = "failed", str(failure)
        except LeaseLost as error:
            record.outcome, record.error = "failed", f"stopped: {error}"
            log.warning("%s stopped: %s", spec.job_id, error)
        except Exception as error:
            record.outcome, record.error = "failed", f"{type(error).__name__}: {error}"[:4000]
            log.exception("%s failed", spec.job_id)
        record.finished_at = self.ctx.clock()
        self._save(record)
        log.info(
            "%s %s in %.1fs", spec.job_id, record.outcome, (record.finished_at - record.started_at).total_seconds()
        )
        return record

    def _save(self, record: RunRecord) -> bool:
        try:
            with self.ctx.unit(fenced=False) as unit:
                record.run_id = job_runs.save_run(unit.session, record)
        except SQLAlchemyError as error:
            log.error("run of %s kept in memory until the database answers: %s", record.job_id, type(error).__name__)
            with self._lock:
                self._unsaved.append(record)
            return False
        return True

    def flush_unsaved(self) -> int:
        """Record the runs the database could not take before; how many were written."""
        with self._lock:
            pending = list(self._unsaved)
            self._unsaved.clear()
        written = 0
        for position, record in enumerate(pending):
            try:
                with self.ctx.unit(fenced=False) as unit:
                    record.run_id = job_runs.save_run(unit.session, record)
            except SQLAlchemyError:
                with self._lock:
                    self._unsaved.extendleft(reversed(pending[position:]))
                break
            written += 1
        return written

    @property
    def unsaved(self) -> int:
        """Runs still waiting to be recorded."""
        return len(self._unsaved)


class LeaseKeeper:
    """Takes the leader lease when it is free (looking every tenth of its time to live) and renews it every third."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        holder: str,
        ttl: dt.timedelta,
        clock: Callable[[], dt.datetime] = system_clock,
        on_gain: Callable[[], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.holder = holder
        self.ttl = ttl
        self.clock = clock
        self.on_gain = on_gain
        self.grant: LeaseGrant | None = None
        self._renewed_at: dt.datetime | None = None
        self._lock = threading.Lock()

    def tick(self) -> bool:
        """Renew the lease, or take it if free; whether this process leads now."""
        with self._lock:
            gained = False
            now = self.clock()
            renewed_at = self._renewed_at
            if (
                self.grant is not None
                and renewed_at is not None
                and now - renewed_at < self.ttl / LEASE_RENEWALS_PER_TTL
                and now < self.grant.expires_at
            ):
                return True  # renewed recently; standbys look this often, the leader need not write this often
            try:
                with self.session_factory() as session:
                    # Begin first (on SQLite: wait for the write lock), then read the clock: a renewal that
                    # waited behind the job's units must not set an expiry older than the one they set.
                    session.connection()
                    now = self.clock()
                    if self.grant is not None:
                        self.grant = leases.renew(session, self.grant, now, self.ttl)
                        if self.grant is None:
                            log.warning("%s lost the scheduler lease", self.holder)
                    if self.grant is None:
                        self.grant = leases.try_acquire(session, leases.SCHEDULER_LEASE, self.holder, now, self.ttl)
                        if self.grant is not None:
                            abandoned = job_runs.abandon_runs(session, self.holder, now)
                            gained = True
                            log.info(
                                "%s leads with fencing token %s (%s runs of a previous leader marked abandoned)",
                                self.holder,
                                self.grant.fencing_token,
                                abandoned,
                            )
                    session.commit()
                    self._renewed_at = now if self.grant is not None else None
            except SQLAlchemyError as error:
                # The lease runs out on its own; is_leader() stops this process at its expiry.
                log.error("scheduler lease not renewed: %s", type(error).__name__)
        if gained and self.on_gain is not None:
            self.on_gain()
        return self.is_leader()

    def is_leader(self) -> bool:
        """True while this process holds an unexpired lease (as far as it knows)."""
        grant = self.grant
        return grant is not None and self.clock() < grant.expires_at

    @property
    def token(self) -> int | None:
        """The fencing token of the lease held, if any."""
        grant = self.grant
        return grant.fencing_token if grant is not None else None

    def fence(self, session: Session) -> None:
        """Refuse to commit unless this process still holds the lease it was granted."""
        grant = self.grant
        if grant is None:
            raise LeaseLost(f"{self.holder} does not hold the scheduler lease")
        now = self.clock()
        leases.verify(session, grant, now)
        # The unit renews the lease it proved it holds, in its own transaction: on SQLite the keeper's
        # renewal waits for the write lock behind the job's units and can lose that race for longer than
        # the lease lasts, so a leader busy committing would otherwise lose its lease to its own work.
        # Not under self._lock: tick() may hold it while waiting for this very transaction.
        renewed = leases.renew(session, grant, now, self.ttl)
        if renewed is not None:
            self.grant = renewed

    def release(self) -> None:
        """Give the lease up, so another process takes over at once."""
        with self._lock:
            grant, self.grant = self.grant, None
            if grant is None:
                return
            try:
                with self.session_factory() as session:
                    leases.release(session, grant, self.clock())
                    session.commit()
                log.info("%s released the scheduler lease", self.holder)
            except SQLAlchemyError as error:
                log.error("scheduler lease not released (it will expire): %s", type(error).__name__)


def build_scheduler(ctx: JobContext, keeper: LeaseKeeper, runner: JobRunner) -> BlockingScheduler:
    """The metronome: UTC, a memory job store, the lease tick on its own thread, every job from the registry."""
    scheduler = BlockingScheduler(
        timezone=dt.UTC,
        jobstores={"default": MemoryJobStore()},
        executors={
            "default": ThreadPoolExecutor(max_workers=len(JOBS)),
            "lease": ThreadPoolExecutor(max_workers=1),
        },
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
    )

    def fire(job_id: str) -> None:
        if keeper.is_leader():
            runner.run(find(job_id))

    def run_everything_now() -> None:
        # A new leader does not wait for the next tick: what is owed may be overdue already.
        now = dt.datetime.now(dt.UTC)
        for spec in JOBS:
            scheduler.modify_job(spec.job_id, next_run_time=now)

    keeper.on_gain = run_everything_now
    scheduler.add_job(
        keeper.tick,
        "interval",
        seconds=lease_poll_seconds(keeper.ttl),
        id=LEASE_JOB_ID,
        name="take or renew the leader lease",
        executor="lease",
        next_run_time=dt.datetime.now(dt.UTC),
    )
    for spec in JOBS:
        scheduler.add_job(
            fire,
            "interval",
            seconds=ctx.settings.scheduling.interval_of(spec.job_id, spec.every_seconds),
            args=(spec.job_id,),
            id=spec.job_id,
            name=spec.description,
        )
    return scheduler


def run_scheduler(settings: Settings, *, holder: str | None = None) -> None:
    """Run the scheduler in this process until SIGTERM or SIGINT; one of many may run, one leads."""
    holder = holder or process_name()
    if settings.log_level != "DEBUG":
        # APScheduler logs every fire at INFO; the run records say what matters.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    ctx = JobContext.from_settings(settings)
    keeper = LeaseKeeper(ctx.session_factory, holder, dt.timedelta(seconds=settings.scheduling.lease_seconds))
    ctx.fence = keeper.fence
    ctx.holder = holder
    ctx.lease_token = lambda: keeper.token
    runner = JobRunner(ctx, holder)
    scheduler = build_scheduler(ctx, keeper, runner)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s stopping on signal %s", holder, signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("%s started; jobs: %s", holder, ", ".join(spec.job_id for spec in JOBS))
    try:
        scheduler.start()
    finally:
        # Runs in progress may finish (and commit) while the lease they hold lasts; then it is given up.
        grace = settings.scheduling.lease_seconds / 2
        if not runner.wait_idle(grace):
            log.warning("%s stops with runs still in progress; the next leader redoes their work", holder)
        keeper.release()
        ctx.close()
