"""`preservation scheduler`, `preservation jobs ...` and `preservation alerts ...` on the command line."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from jobs.context import JobContext
from jobs.registry import JOBS, find
from jobs.runner import JobRunner, process_name, run_scheduler
from preservation.cli.common import command_unit, load_settings
from preservation.services import alerts, job_runs, leases


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler process (never inside the web app); several may run, one leads."""
    run_scheduler(load_settings())


@click.group("jobs")
def jobs_group() -> None:
    """The scheduled jobs: list them with their last runs, or run one now."""


@jobs_group.command("list")
def list_jobs() -> None:
    """Every job with its interval and its last run; then the leader and the heartbeat."""
    settings = load_settings()
    with command_unit() as unit:
        last = job_runs.last_runs(unit.session)
        lease = leases.current(unit.session)
        beat = job_runs.heartbeat(unit.session)
        now = unit.clock()
        for spec in JOBS:
            every = settings.scheduling.interval_of(spec.job_id, spec.every_seconds)
            run = last.get(spec.job_id)
            if run is None:
                summary = "never ran"
            else:
                took = f" in {(run.finished_at - run.started_at).total_seconds():.1f}s" if run.finished_at else ""
                summary = f"{run.outcome} {run.started_at.isoformat(timespec='seconds')}{took}"
                if run.error:
                    summary += f": {run.error.splitlines()[0][:100]}"
            click.echo(f"{spec.job_id:<20} every {every:>5}s  {summary}")
        if lease is not None and lease.holder and lease.expires_at and lease.expires_at > now:
            click.echo(f"leader: {lease.holder} (fencing token {lease.fencing_token}, until {lease.expires_at})")
        else:
            click.echo("leader: none (no scheduler holds the lease)")
        if beat is not None:
            click.echo(f"heartbeat: {beat.beat_at.isoformat(timespec='seconds')} ({_age(now - beat.beat_at)} ago)")
        else:
            click.echo("heartbeat: never")


def _age(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds}s" if seconds < 120 else f"{seconds // 60}m" if seconds < 7200 else f"{seconds // 3600}h"


@jobs_group.command("run")
@click.argument("job_id")
def run_job(job_id: str) -> None:
    """Run JOB_ID once, now, and record the run; exit 1 if it failed."""
    try:
        spec = find(job_id)
    except KeyError as error:
        raise click.ClickException(str(error.args[0])) from None
    ctx = JobContext.from_settings(load_settings())
    ctx.holder = process_name("cli")
    try:
        record = JobRunner(ctx, ctx.holder, trigger="manual").run(spec)
    finally:
        ctx.close()
    click.echo(json.dumps({"job": job_id, "outcome": record.outcome, "error": record.error, **record.details}))
    if record.outcome != "succeeded":
        sys.exit(1)


@click.group("alerts")
def alerts_group() -> None:
    """Who receives deadline alerts."""


@alerts_group.command("subscribe")
@click.option("--channel", type=click.Choice(["email", "webhook", "sns", "console"]), required=True)
@click.option("--to", "target", required=True, help="an email, role:ROLE, a webhook URL or an SNS topic ARN")
@click.option("--matter", "matter_id", type=int, help="only this matter's alerts (default: every matter's)")
def subscribe(channel: str, target: str, matter_id: int | None) -> None:
    """Send alerts to a recipient; a matter with any subscription no longer uses the default routes."""
    with command_unit() as unit:
        row = alerts.subscribe(unit, channel, target, matter_id)
    click.echo(
        f"subscription {row.id}: {channel} {row.target} for {f'matter {matter_id}' if matter_id else 'every matter'}"
    )


@alerts_group.command("unsubscribe")
@click.argument("subscription_id", type=int)
def unsubscribe(subscription_id: int) -> None:
    """Remove a subscription."""
    with command_unit() as unit:
        alerts.unsubscribe(unit, subscription_id)
    click.echo(f"subscription {subscription_id} removed", err=True)


@alerts_group.command("subscriptions")
def subscriptions() -> None:
    """List the subscriptions."""
    with command_unit() as unit:
        for row in alerts.list_subscriptions(unit):
            scope = f"matter {row.matter_id}" if row.matter_id else "every matter"
            click.echo(f"{row.id}\t{row.channel}\t{row.target}\t{scope}")


COMMANDS = (scheduler_command, jobs_group, alerts_group)
