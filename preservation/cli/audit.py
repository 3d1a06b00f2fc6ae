"""`preservation audit`: verify the trail, sign checkpoints, make the signing key, export for auditors."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from config.settings import Settings
from jobs.audit import checkpoint_audit_log
from preservation.adapters.signing import SigningKeyError, generate_key_file, load_signer
from preservation.cli.common import load_settings, open_engine
from preservation.db import begin_read_only, make_session_factory
from preservation.domain.checkpoints import VerifierKey, verifier_key
from preservation.domain.errors import DomainError
from preservation.services import checkpoints
from preservation.services.audit_export import ExportFilter, stream_export
from preservation.services.checkpoints import LogVerdict
from preservation.services.unit import system_clock

NO_CHECKPOINT = "no signed checkpoint yet: set PRESERVATION_AUDIT_SIGNING_KEY and run `preservation audit checkpoint`"


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


def _configured_key(settings: Settings) -> VerifierKey | None:
    if settings.audit_signing_key is None:
        return None
    try:
        return verifier_key(load_signer(settings.audit_signing_key))
    except SigningKeyError as error:
        raise click.ClickException(str(error)) from None


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute every hash and link and hold the log against the latest signed checkpoint.

    Exits 1 naming the first bad seq: an altered, missing or inserted event, a missing tail, or a chain
    whose hashes were all recomputed (the signed head no longer matches).
    """
    settings = load_settings()
    key = _configured_key(settings)
    engine = open_engine(settings)
    try:
        with make_session_factory(engine)() as session:
            begin_read_only(session)
            verdict = checkpoints.verify_log(session, key)
    finally:
        engine.dispose()
    _report(verdict)


def _report(verdict: LogVerdict) -> None:
    problem, signed = verdict.problem, verdict.checkpoint
    if problem is not None and problem.kind == "schema":
        click.echo(f"audit table CHANGED: {problem.reason}", err=True)
        sys.exit(1)
    if problem is not None and problem.seq is None:
        click.echo(f"audit checkpoint INVALID: {problem.reason}", err=True)
        sys.exit(1)
    if problem is not None:
        click.echo(f"audit chain BROKEN at seq {problem.seq}: {problem.reason}", err=True)
        sys.exit(1)
    click.echo(f"audit chain intact: {verdict.events} events, head {verdict.head_hash}")
    if signed is None:
        click.echo("no signed checkpoint yet: a deleted tail or a recomputed chain would go unnoticed", err=True)
        return
    source = "the configured key" if signed.key_source == "configured" else "the key stored with it (none configured)"
    click.echo(
        f"checkpoint {signed.id} ({signed.time}) matches: {signed.tree_size} events, head {signed.head_hash}, "
        f"{signed.matters} matter heads; signature by {signed.key_name} valid with {source} {signed.key_fingerprint}"
    )
    for note in verdict.notes:
        click.echo(note)


@audit_group.command("keygen")
@click.option("--out", "path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", default="preservation-tracker", show_default=True, help="key name; also the log's origin")
def audit_keygen(path: Path, name: str) -> None:
    """Make an Ed25519 signing key (file mode 0600); prints the public key to give auditors."""
    try:
        signer = generate_key_file(path, name)
    except (SigningKeyError, DomainError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    key = verifier_key(signer)
    click.echo(str(key))
    click.echo(f"private key written to {path} (mode 0600); fingerprint {key.fingerprint}", err=True)
    click.echo(f"set PRESERVATION_AUDIT_SIGNING_KEY={path.resolve()} and publish the public key above", err=True)


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of the log now (and copy it to the S3 anchor when one is configured)."""
    settings = load_settings()
    try:
        outcome = checkpoint_audit_log(settings)
    except (SigningKeyError, DomainError) as error:
        raise click.ClickException(str(error)) from None
    state = "signed" if outcome.created else "unchanged since the last one"
    click.echo(f"checkpoint {outcome.checkpoint_id} {state}: {outcome.tree_size} events, head {outcome.head_hash}")
    if outcome.anchor_uri:
        click.echo(f"copied to {outcome.anchor_uri} (S3 Object Lock, COMPLIANCE)")
    if outcome.anchor_error:
        click.echo(f"copy to {settings.audit_anchor} FAILED: {outcome.anchor_error}", err=True)
        sys.exit(1)


def _moment(_context: click.Context, _parameter: click.Parameter, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("give an ISO 8601 time, e.g. 2026-01-31T00:00:00Z") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. 2026-01-31T00:00:00Z")
    return moment


@audit_group.command("export")
@click.option("--out", "path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--matter", "matter_id", type=click.IntRange(min=1), help="only this matter's events")
@click.option("--since", callback=_moment, help="events at or after this time (ISO 8601 with zone)")
@click.option("--until", callback=_moment, help="events before this time (ISO 8601 with zone)")
@click.option(
    "--checkpoint/--no-checkpoint",
    "fresh",
    default=True,
    show_default=True,
    help="sign a checkpoint first (when a key is configured), so the export runs up to now",
)
@click.option(
    "--csv/--no-csv",
    "with_csv",
    default=True,
    show_default=True,
    help="include events.csv (derived from events.jsonl; most of the export's time)",
)
def audit_export(
    *,
    path: Path,
    matter_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    fresh: bool,
    with_csv: bool,
) -> None:
    """Write the auditor's export zip: events, proof, CSV, manifest, signed checkpoint and verify.py."""
    if since and until and since >= until:
        raise click.BadParameter("--since must come before --until")
    settings = load_settings()
    if fresh and settings.audit_signing_key is not None:
        try:
            checkpoint_audit_log(settings)
        except (SigningKeyError, DomainError) as error:
            raise click.ClickException(str(error)) from None
    engine = open_engine(settings)
    partial = path.with_name(path.name + ".part")
    try:
        with make_session_factory(engine)() as session, partial.open("wb") as handle:
            begin_read_only(session)
            checkpoint = checkpoints.latest_checkpoint(session)
            if checkpoint is None:
                raise click.ClickException(
                    "no signed checkpoint yet: set a signing key and run `preservation audit checkpoint`"
                )
            wanted = ExportFilter(matter_id=matter_id, since=since, until=until)
            for chunk in stream_export(session, checkpoint, wanted, now=system_clock(), with_csv=with_csv):
                handle.write(chunk)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
        engine.dispose()
    click.echo(f"export written to {path}: up to checkpoint {checkpoint.id} ({checkpoint.tree_size} events)")
    click.echo(f"check it anywhere with: unzip {path.name} && python3 verify.py --public-key '{checkpoint.public_key}'")
