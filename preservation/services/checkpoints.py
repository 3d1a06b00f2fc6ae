"""Signed checkpoints of the audit log, and verification of the whole log against the latest one.

A checkpoint is only ever signed over a chain that verifies: the events since the previous checkpoint
(by the same key) are walked from that checkpoint's signed state, or the whole log when there is none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.domain.audit_chain import (
    ChainWalk,
    format_timestamp,
)
from preservation.domain.audit_segments import JoinedWalk
from preservation.domain.checkpoints import (
    Checkpoint,
    NoteError,
    Signer,
    VerifierKey,
    checkpoint_body,
    open_note,
    parse_checkpoint,
    sign_note,
    verifier_key,
)
from preservation.domain.errors import Conflict
from preservation.models import AuditCheckpoint
from preservation.services.audit_rows import generated_columns_problem, last_seq, matter_heads_at, read_checked
from preservation.services.audit_walk import WalkPlan, walk_log


class CheckpointRefused(Conflict):
    """The chain does not verify, so no checkpoint may vouch for it."""


@dataclass(frozen=True)
class CheckpointDraft:
    """A signed checkpoint not yet stored."""

    tree_size: int
    head_hash: str
    public_key: str
    note: str
    created_at: dt.datetime


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The newest stored checkpoint."""
    return session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).first()


def signed_state(row: AuditCheckpoint, key: VerifierKey) -> Checkpoint:
    """What a stored checkpoint signs, once its signature verifies with key (NoteError otherwise)."""
    return parse_checkpoint(open_note(row.note, key))


def _walk_from(previous: Checkpoint | None) -> ChainWalk:
    walk = ChainWalk()
    if previous is not None:
        walk.count = walk.last_seq = previous.tree_size
        walk.head = previous.head_hash
        walk.matter_heads = dict(previous.matter_heads)
    return walk


def draft_checkpoint(session: Session, signer: Signer, now: dt.datetime) -> CheckpointDraft | None:
    """Verify the events since the last checkpoint and sign the new head; None when nothing was appended.

    Reads only, so it can run in a read-only transaction; store the draft with save_checkpoint.
    """
    key = verifier_key(signer)
    previous_row = latest_checkpoint(session)
    previous: Checkpoint | None = None
    if previous_row is not None and previous_row.public_key == str(key):
        try:
            previous = signed_state(previous_row, key)
        except NoteError as error:
            raise CheckpointRefused(f"checkpoint {previous_row.id} does not verify with this key: {error}") from None
    size = last_seq(session)
    if previous is not None and previous_row is not None:
        if previous.tree_size == size:
            return None
        if size < previous.tree_size:
            raise CheckpointRefused(
                f"no checkpoint signed: the log holds {size} events but checkpoint {previous_row.id} signed "
                f"{previous.tree_size}: events were removed"
            )
    walk = _walk_from(previous)
    for batch in read_checked(session, first=walk.last_seq + 1, last=size):
        first = walk.check_batch(batch)
        if first is not None:
            raise CheckpointRefused(f"no checkpoint signed: the chain breaks at seq {first.seq}: {first.reason}")
    if walk.last_seq != size:
        raise CheckpointRefused(f"no checkpoint signed: the log should run to seq {size}, it stops at {walk.last_seq}")
    body = checkpoint_body(signer.name, size, walk.head, format_timestamp(now), walk.matter_heads)
    return CheckpointDraft(size, walk.head, str(key), sign_note(body, signer), now)


def save_checkpoint(session: Session, draft: CheckpointDraft) -> AuditCheckpoint:
    """Store a drafted checkpoint."""
    row = AuditCheckpoint(
        created_at=draft.created_at,
        tree_size=draft.tree_size,
        head_hash=draft.head_hash,
        public_key=draft.public_key,
        note=draft.note,
        anchor_uri=None,
    )
    session.add(row)
    session.flush()
    return row


def record_anchor(session: Session, checkpoint_id: int, uri: str) -> None:
    """Note where a checkpoint was copied under Object Lock."""
    row = session.get(AuditCheckpoint, checkpoint_id)
    if row is not None:
        row.anchor_uri = uri
        session.flush()


# Verification against the latest checkpoint -------------------------------------------------------------


@dataclass(frozen=True)
class VerifyProblem:
    """The first thing wrong: a kind, the seq it shows at (None for a bad signature), and why."""

    kind: str  # chain | missing_tail | rewritten | signature
    seq: int | None
    reason: str


@dataclass(frozen=True)
class CheckpointCheck:
    """Which checkpoint the log was checked against, and with which key."""

    id: int
    tree_size: int
    head_hash: str
    time: str
    matters: int
    key_name: str
    key_fingerprint: str
    key_source: str  # configured | stored (the copy kept with the checkpoint, when no key is configured)
    anchor_uri: str | None


@dataclass(frozen=True)
class LogVerdict:
    """The verdict on the whole log."""

    events: int
    head_hash: str
    problem: VerifyProblem | None
    checkpoint: CheckpointCheck | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """True when nothing is wrong."""
        return self.problem is None


def _checked_state(row: AuditCheckpoint, key: VerifierKey | None) -> tuple[Checkpoint | None, CheckpointCheck, str]:
    error = ""
    try:
        used = key or VerifierKey.parse(row.public_key)
    except NoteError as problem:
        used, error = VerifierKey("unreadable", b""), f"its stored public key is unreadable: {problem}"
    try:
        state: Checkpoint | None = None if error else signed_state(row, used)
    except NoteError as problem:
        state, error = None, str(problem)
    summary = CheckpointCheck(
        id=row.id,
        tree_size=row.tree_size,
        head_hash=row.head_hash,
        time=state.time if state else "",
        matters=len(state.matter_heads) if state else 0,
        key_name=used.name,
        key_fingerprint=used.fingerprint,
        key_source="configured" if key else "stored",
        anchor_uri=row.anchor_uri,
    )
    return state, summary, error


def verify_log(session: Session, key: VerifierKey | None, *, segments: int | None = None) -> LogVerdict:
    """Walk the whole log, then hold it against the latest checkpoint; report the first problem.

    key is the configured signing key's public half; without it the copy stored with the checkpoint is
    used, which proves the checkpoint was not altered since signing but not who signed it. segments: how
    many runs of the log to walk side by side (see services.audit_walk; by default, what pays). The events
    are those in the log when it starts. Their columns are generated from the hashed bytes; a table whose
    definition no longer says so is reported first, as nothing read from its columns can be trusted.
    """
    row = latest_checkpoint(session)
    signed: Checkpoint | None = None
    summary: CheckpointCheck | None = None
    if row is not None:
        signed, summary, error = _checked_state(row, key)
        if signed is None:
            problem = VerifyProblem("signature", None, f"checkpoint {row.id} does not verify: {error}")
            return LogVerdict(0, "", problem, summary)
    changed = generated_columns_problem(session)
    if changed is not None:
        return LogVerdict(0, "", VerifyProblem("schema", None, changed), summary)
    size = last_seq(session)
    return _walk_log(session, size, row, signed, summary, segments=segments)


def _walk_log(
    session: Session,
    size: int,
    row: AuditCheckpoint | None,
    signed: Checkpoint | None,
    summary: CheckpointCheck | None,
    *,
    segments: int | None = None,
) -> LogVerdict:
    """The chain walk of verify_log over seq 1 .. size: hashes, links, and the signed heads."""
    # Unsigned hints from earlier checkpoints: where a rewrite begins.
    earlier = dict(session.execute(select(AuditCheckpoint.tree_size, AuditCheckpoint.head_hash)).all())
    cut = signed.tree_size if signed is not None else None
    marks = sorted(earlier)
    if signed is None:
        walked = walk_log(session, size, WalkPlan(cut, marks), segments=segments)
    else:
        # Fast: up to the signed head only the global chain is followed (see ChainWalk.check_batch), and
        # the matter heads it signs are read from the index. Anything wrong up to there, and the exact
        # walk (every event in full, in this process) says what and where first.
        walked = walk_log(session, size, WalkPlan(cut, marks, signed.matter_heads), segments=segments)
        if _wrong_before_cut(session, walked, signed):
            walked = walk_log(session, size, WalkPlan(cut, marks), segments=1)
    problem = walked.problem
    # The heads a checkpoint signed are compared where the walk reaches them, before anything after.
    if signed is not None and walked.cut_head is not None and (problem is None or problem.seq > signed.tree_size):
        reached = walked.cut_heads or {}
        if walked.cut_head != signed.head_hash or reached != signed.matter_heads:
            matched_before = max(
                [0]
                + [
                    position
                    for position, head in earlier.items()
                    if position < signed.tree_size and walked.marks.get(position) == head
                ]
            )
            reason = _rewrite_reason(signed, walked.cut_head, reached, matched_before, row)
            at = signed.tree_size
            return LogVerdict(at, walked.cut_head, VerifyProblem("rewritten", at, reason), summary)
    if problem is not None:
        return LogVerdict(walked.count, walked.head, VerifyProblem("chain", problem.seq, problem.reason), summary)
    if signed is not None and walked.last_seq < signed.tree_size:
        missing = signed.tree_size - walked.last_seq
        reason = (
            f"missing tail: the log ends at seq {walked.last_seq} but checkpoint {summary.id if summary else ''} "
            f"signed {signed.tree_size} events: the last {missing} were removed"
        )
        return LogVerdict(
            walked.count, walked.head, VerifyProblem("missing_tail", walked.last_seq + 1, reason), summary
        )
    appended = walked.last_seq - signed.tree_size if signed is not None else 0
    notes = [f"{appended} events appended since the checkpoint, chained but not yet signed"] if appended else []
    return LogVerdict(walked.count, walked.head, None, summary, notes)


def _wrong_before_cut(session: Session, walked: JoinedWalk, signed: Checkpoint) -> bool:
    """Whether the fast walk found anything wrong up to the signed head, or the heads there differ."""
    if walked.problem is not None and (walked.cut_head is None or walked.problem.seq <= signed.tree_size):
        return True
    if walked.cut_head is None:
        return False  # the log ends before the signed head: a missing tail, and nothing wrong before it
    return walked.cut_head != signed.head_hash or (
        matter_heads_at(session, signed.tree_size, signed.matter_heads) != signed.matter_heads
    )


def _rewrite_reason(
    signed: Checkpoint,
    found: str,
    heads: dict[int, tuple[int, str]],
    matched_before: int,
    row: AuditCheckpoint | None,
) -> str:
    what = "the hash" if found != signed.head_hash else "the matter heads"
    reason = (
        f"{what} at seq {signed.tree_size} differ(s) from what checkpoint {row.id if row else ''} signed: "
        "events were altered and their hashes recomputed"
    )
    differing = sorted(m for m in set(heads) | set(signed.matter_heads) if heads.get(m) != signed.matter_heads.get(m))
    if differing:
        reason += f"; heads differ for matter(s) {', '.join(map(str, differing))}"
    if matched_before:
        reason += f"; an earlier checkpoint still matches at seq {matched_before}, so the change lies after it"
    return reason
