"""Signed checkpoints: the key file, the note format, what is signed, and when signing is refused."""

from __future__ import annotations

import base64
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.adapters.signing import SigningKeyError, generate_key_file, load_signer
from preservation.db import make_engine
from preservation.domain.audit_chain import BROKEN_LINK, HASH_MISMATCH
from preservation.domain.checkpoints import NoteError, VerifierKey, open_note, parse_checkpoint
from preservation.models import AuditCheckpoint
from tests.audit.support import KEY_NAME, REWRITE, StoredTrail, altered, record_trail

GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_NOTE = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _checkpoints(database_url: str) -> list[AuditCheckpoint]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        rows = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)))
    engine.dispose()
    return rows


# The key file -----------------------------------------------------------------------------------------


def test_keygen_writes_an_owner_only_key_and_prints_the_public_key(cli: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "new.key"
    result = cli("audit", "keygen", "--out", str(path), "--name", "court.example/hold-log")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    public = VerifierKey.parse(result.stdout.strip())
    assert public.name == "court.example/hold-log"
    assert public.public_key == load_signer(path).public_key
    assert public.fingerprint in result.stderr
    again = cli("audit", "keygen", "--out", str(path))
    assert again.exit_code != 0
    assert "never overwritten" in again.output


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loose.key"
    generate_key_file(path, KEY_NAME)
    path.chmod(0o644)
    with pytest.raises(SigningKeyError, match="open to other users"):
        load_signer(path)


def test_keys_and_notes_interoperate_with_the_go_signed_note_package(tmp_path: Path) -> None:
    """The example key and note of golang.org/x/mod/sumdb/note read, verify and re-sign identically."""
    key = VerifierKey.parse(GO_VERIFIER_KEY)
    body = open_note(GO_NOTE, key)
    assert body.startswith("If you think")
    path = tmp_path / "go.key"
    path.write_text(GO_SIGNER_KEY + "\n")
    path.chmod(0o600)
    signer = load_signer(path)
    assert str(VerifierKey(signer.name, signer.public_key)) == GO_VERIFIER_KEY
    signature = GO_NOTE.rpartition(" ")[2].strip()
    assert base64.b64decode(signature)[4:] == signer.sign(body.encode())  # Ed25519 is deterministic
    with pytest.raises(NoteError, match="does not verify"):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), key)


# Checkpoints ------------------------------------------------------------------------------------------


def test_a_checkpoint_signs_size_head_time_and_every_matter_head(
    trail: StoredTrail, cli: Callable[..., Result], signing_key: Path
) -> None:
    result = cli("audit", "checkpoint")
    assert result.exit_code == 0, result.output
    last = trail.events[-1]
    assert f"checkpoint 1 signed: {len(trail.events)} events, head {last.hash}" in result.stdout

    (row,) = _checkpoints(trail.database_url)
    body, _, signature_line = row.note.rpartition("\n\n")
    lines = body.split("\n")
    assert lines[:3] == [KEY_NAME, str(len(trail.events)), last.hash]
    assert lines[3].startswith("time 20")
    expected = [f"matter {m} {len(trail.of_matter(m))} {trail.of_matter(m)[-1].hash}" for m in (1, 2, 3)]
    assert lines[4:] == expected
    assert signature_line.startswith(f"\u2014 {KEY_NAME} ")
    # The signature is plain Ed25519 over the body: any implementation checks it.
    raw = base64.b64decode(signature_line.split(" ")[2])
    public = load_signer(signing_key).public_key
    Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], (body + "\n").encode())
    state = parse_checkpoint(open_note(row.note, VerifierKey(KEY_NAME, public)))
    assert state.tree_size == len(trail.events)
    assert state.matter_heads[2] == (len(trail.of_matter(2)), trail.of_matter(2)[-1].hash)


def test_a_checkpoint_is_signed_only_when_the_log_grew(trail: StoredTrail, cli: Callable[..., Result]) -> None:
    assert cli("audit", "checkpoint").exit_code == 0
    unchanged = cli("audit", "checkpoint")
    assert "checkpoint 1 unchanged" in unchanged.stdout
    more = record_trail(trail.database_url, 5, first_minute=100)
    grown = cli("audit", "checkpoint")
    assert grown.exit_code == 0, grown.output
    assert f"checkpoint 2 signed: {len(more.events)} events, head {more.events[-1].hash}" in grown.stdout
    assert [row.tree_size for row in _checkpoints(trail.database_url)] == [48, 53]


def test_no_checkpoint_vouches_for_a_broken_chain(
    trail: StoredTrail, cli: Callable[..., Result], hostile_dba: Callable[..., None]
) -> None:
    hostile_dba(REWRITE, **altered(trail.events[4], actor="user:mallory@example.org"))
    result = cli("audit", "checkpoint")
    assert result.exit_code != 0
    assert f"no checkpoint signed: the chain breaks at seq 5: {HASH_MISMATCH}" in result.output
    hostile_dba(REWRITE, **altered(trail.events[4], rehash=True, actor="user:mallory@example.org"))
    relinked = cli("audit", "checkpoint")
    assert relinked.exit_code != 0
    assert f"no checkpoint signed: the chain breaks at seq 6: {BROKEN_LINK}" in relinked.output
    assert _checkpoints(trail.database_url) == []


def test_no_checkpoint_is_signed_over_a_log_shorter_than_the_last_one(
    trail: StoredTrail, cli: Callable[..., Result], hostile_dba: Callable[..., None]
) -> None:
    assert cli("audit", "checkpoint").exit_code == 0
    hostile_dba("DELETE FROM audit_events WHERE seq > 45")
    result = cli("audit", "checkpoint")
    assert result.exit_code != 0
    assert "the log holds 45 events but checkpoint 1 signed 48: events were removed" in result.output


def test_checkpoint_needs_a_key(trail: StoredTrail, cli: Callable[..., Result]) -> None:
    result = cli("audit", "checkpoint", audit_signing_key=None)
    assert result.exit_code != 0
    assert "PRESERVATION_AUDIT_SIGNING_KEY is not set" in result.output
