"""`preservation check` and `preservation preserve`: retention checks and preservation from the command line."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from config.settings import Settings, SettingsError
from preservation.adapters.inspectors import build_inspectors
from preservation.db import make_engine, make_session_factory
from preservation.domain.batch_operations import BatchOptions
from preservation.domain.errors import DomainError
from preservation.models import RetentionCheck
from preservation.services import attestations, batch_jobs, checks, preserve, release_holds
from preservation.services.checks import Collectors
from preservation.services.unit import Unit

CLI_ACTOR = "cli"
# Statuses that need nobody's attention; any other makes `check` exit 1.
SETTLED = frozenset({"preserved", "released"})


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


@contextmanager
def _unit(settings: Settings, actor: str = CLI_ACTOR) -> Iterator[Unit]:
    """A session for one command; each step commits its own transaction, errors roll back."""
    engine = make_engine(settings.database_url, sqlite_busy_timeout=settings.sqlite_busy_timeout_seconds)
    session = make_session_factory(engine)()
    try:
        yield Unit(session=session, actor=actor)
    except DomainError as error:
        session.rollback()
        raise click.ClickException(error.message) from None
    finally:
        session.close()
        engine.dispose()


def _collectors(settings: Settings) -> Collectors:
    return build_inspectors(max_workers=settings.aws_max_concurrency)


def _run_one(unit: Unit, source_id: int, collectors: Collectors, settings: Settings) -> RetentionCheck:
    request = checks.prepare_check(unit, source_id)
    unit.session.commit()  # no transaction stays open while AWS answers
    snapshot = checks.collect(request, collectors)
    check = checks.record_check(
        unit, request, snapshot, attestation_valid_for=dt.timedelta(days=settings.attestation_valid_days)
    )
    unit.session.commit()
    return check


def _show(source_id: int, check: RetentionCheck) -> None:
    earliest = check.earliest_destruction_at.isoformat() if check.earliest_destruction_at else "none"
    click.echo(f"source {source_id}: {check.status} (check {check.id}, earliest destruction: {earliest})")
    for item in check.findings:
        count = f" x{item.count}" if item.count is not None else ""
        click.echo(f"  [{item.severity}] {item.code}{count}: {item.message}")


@click.command("check")
@click.argument("source_id", type=int, required=False)
@click.option("--all", "check_all", is_flag=True, help="every source linked to an obligation and not retired")
def check_command(source_id: int | None, check_all: bool) -> None:
    """Check a data source in the storage itself; exit 1 when any source checked is not preserved."""
    if (source_id is None) == (not check_all):
        raise click.UsageError("name one SOURCE_ID, or --all")
    settings = _settings()
    collectors = _collectors(settings)
    settled = True
    with _unit(settings) as unit:
        source_ids = checks.sources_due(unit) if check_all else [source_id or 0]
        unit.session.commit()
        for ident in source_ids:
            try:
                check = _run_one(unit, ident, collectors, settings)
            except DomainError as error:
                unit.session.rollback()
                if not check_all:
                    raise
                click.echo(f"source {ident}: skipped: {error.message}", err=True)
                continue
            _show(ident, check)
            settled = settled and check.status in SETTLED
    if not settled:
        sys.exit(1)


@click.command("preserve")
@click.argument("source_id", type=int)
@click.option("--execute", is_flag=True, help="carry the plan out; without it the plan is only shown")
@click.option("--status", is_flag=True, help="show how the source's S3 Batch Operations jobs are doing, and stop")
def preserve_command(source_id: int, execute: bool, status: bool) -> None:
    """Plan, and with --execute carry out, what preserves a source: legal holds, log retention."""
    settings = _settings()
    if status:
        _batch_status(settings, source_id)
        return
    collectors = _collectors(settings)
    batch = BatchOptions(settings.batch_operations_threshold, settings.batch_operations_role_arn)
    with _unit(settings) as unit:
        request = preserve.prepare_preservation(unit, source_id)
        unit.session.commit()
        snapshot = checks.collect(request, collectors)
        plan = batch_jobs.plan_with_batch(request, preserve.plan_preservation(request, snapshot, unit.clock()), batch)
        if plan.blocked:
            raise click.ClickException(plan.blocked)
        for step in plan.summary(examples=3):
            click.echo(f"{step['action']}: {step['count']}")
        for note in plan.notes:
            click.echo(f"note: {note}")
        if not execute:
            click.echo("dry run: nothing changed; run again with --execute to carry the plan out", err=True)
            return
        preserve.record_preservation_started(unit, request, plan)
        unit.session.commit()
        with click.progressbar(length=len(plan.steps), label="preserving", file=sys.stderr) as bar:
            results = preserve.carry_out(request, plan, collectors, bar.update)
        summary = preserve.record_preservation_finished(unit, request, plan, results)
        created = batch_jobs.record_created(unit, request, results)
        unit.session.commit()
    click.echo(f"done: {summary['succeeded']} succeeded, {summary['failed']} failed")
    for job in created:
        click.echo(
            f"S3 Batch Operations job {job['job_id']} holds {job['versions_planned']} versions; follow it with --status"
        )
    for failure in summary["failures"]:
        click.echo(f"  failed {failure['action']} {failure['target']}: {failure['error'].get('code')}", err=True)
    if summary["failed"]:
        sys.exit(1)


def _batch_status(settings: Settings, source_id: int) -> None:
    batch = build_inspectors(max_workers=1).s3.batch
    with _unit(settings) as unit:
        pending = batch_jobs.unfinished(unit, source_id)
        unit.session.commit()
        items = batch_jobs.refresh(unit, source_id, batch_jobs.describe_all(pending, batch.describe))
        unit.session.commit()
    if not items:
        click.echo("no S3 Batch Operations job for this source")
    for job in items:
        summary = job["progress"].get("ProgressSummary") or {}
        done = summary.get("NumberOfTasksSucceeded", 0)
        failed = summary.get("NumberOfTasksFailed", 0)
        click.echo(
            f"{job['job_id']}: {job['status']}, {done} held, {failed} failed of {job['versions_planned']} planned"
        )


@click.command("release-holds")
@click.argument("source_id", type=int)
@click.option("--confirm", is_flag=True, help="remove the holds; without it the plan is only shown")
def release_holds_command(source_id: int, confirm: bool) -> None:
    """Show, and with --confirm remove, the holds this service placed on a source no active order covers."""
    settings = _settings()
    collectors = _collectors(settings)
    with _unit(settings) as unit:
        request = release_holds.prepare_release(unit, source_id)
        unit.session.commit()
        for step in request.plan.summary(examples=3):
            click.echo(f"{step['action']}: {step['count']}")
        for note in request.plan.notes:
            click.echo(f"note: {note}")
        if not confirm:
            click.echo("dry run: nothing changed; run again with --confirm to release the holds", err=True)
            return
        release_holds.record_release_started(unit, request)
        unit.session.commit()
        with click.progressbar(length=len(request.plan.steps), label="releasing", file=sys.stderr) as bar:
            results = release_holds.carry_out(request, collectors.releaser, bar.update)
        summary = release_holds.record_release_finished(unit, request, results)
        unit.session.commit()
    click.echo(f"done: {summary['succeeded']} released, {summary['failed']} failed")
    for failure in summary["failures"]:
        click.echo(f"  failed {failure['action']} {failure['target']}: {failure['error'].get('code')}", err=True)
    if summary["failed"]:
        sys.exit(1)


@click.command("attest")
@click.argument("source_id", type=int)
@click.option("--note", required=True, help="what was checked, and how")
@click.option("--as", "actor", default=CLI_ACTOR, show_default=True, help="who attests, e.g. user:steward@example.org")
def attest_command(source_id: int, note: str, actor: str) -> None:
    """Record a steward's attestation that a manual source still holds the evidence."""
    with _unit(_settings(), actor) as unit:
        attestation = attestations.attest(unit, source_id, note)
        unit.session.commit()
    click.echo(f"attestation {attestation.id} recorded for source {source_id}", err=True)


COMMANDS = (check_command, preserve_command, release_holds_command, attest_command)
