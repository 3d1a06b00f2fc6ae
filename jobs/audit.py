"""The audit checkpoint job: sign the log's new head, then copy the checkpoint under S3 Object Lock.

Three short transactions: a read-only walk of the events appended since the last checkpoint (it never
stalls writers), the insert of the signed checkpoint, and, after the S3 copy succeeded, its address.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from config.settings import Settings
from preservation.adapters.anchor import AnchorError, AnchorLocation, S3Anchor
from preservation.adapters.aws import AwsClients
from preservation.adapters.signing import load_signer
from preservation.db import begin_read_only, make_engine, make_session_factory
from preservation.services import checkpoints
from preservation.services.unit import system_clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckpointOutcome:
    """What one run did."""

    checkpoint_id: int | None
    tree_size: int
    head_hash: str
    created: bool
    anchor_uri: str | None = None
    anchor_error: str | None = None


def checkpoint_audit_log(
    settings: Settings | None = None,
    *,
    clock: Callable[[], dt.datetime] = system_clock,
    aws: AwsClients | None = None,
) -> CheckpointOutcome:
    """Sign a checkpoint when events were appended since the last one; anchor it in S3 when configured.

    Raises SigningKeyError without a usable key, CheckpointRefused when the chain does not verify.
    """
    settings = settings or Settings.from_env()
    if settings.audit_signing_key is None:
        raise checkpoints.CheckpointRefused("PRESERVATION_AUDIT_SIGNING_KEY is not set: no key to sign with")
    signer = load_signer(settings.audit_signing_key)
    engine = make_engine(settings.database_url, sqlite_busy_timeout=settings.sqlite_busy_timeout_seconds)
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            begin_read_only(session)
            draft = checkpoints.draft_checkpoint(session, signer, clock())
        with factory() as session:
            row = checkpoints.save_checkpoint(session, draft) if draft else checkpoints.latest_checkpoint(session)
            session.commit()
        if row is None:
            return CheckpointOutcome(None, 0, "", created=False)
        outcome = CheckpointOutcome(row.id, row.tree_size, row.head_hash, draft is not None, row.anchor_uri)
        if settings.audit_anchor is None or row.anchor_uri is not None:
            return outcome
        anchor = S3Anchor(
            aws or AwsClients(), AnchorLocation.parse(settings.audit_anchor), settings.audit_anchor_retention_days
        )
        try:
            uri = anchor.put(row.id, row.tree_size, row.note, clock())
        except AnchorError as error:
            # The checkpoint stands; the next run tries the copy again.
            log.error("checkpoint %s not copied to %s: %s", row.id, settings.audit_anchor, error)
            return CheckpointOutcome(row.id, row.tree_size, row.head_hash, outcome.created, None, str(error))
        with factory() as session:
            checkpoints.record_anchor(session, row.id, uri)
            session.commit()
        return CheckpointOutcome(row.id, row.tree_size, row.head_hash, outcome.created, uri)
    finally:
        engine.dispose()
