"""Checkpoints of the audit log: signed notes (C2SP signed-note, in the spirit of tlog-checkpoint).

A checkpoint's body is, one item a line:

    <origin>                       the log's name; the same as the signing key's name
    <tree size>                    how many events the log held
    <head hash>                    the hash of event <tree size>, lowercase hex like every hash in the trail
    time <UTC timestamp>           when it was signed
    matter <id> <matter_seq> <hash>   one line per matter, in matter order: that matter's head

then a blank line and `— <key name> <base64(4-byte key id || Ed25519 signature)>`. The hash is hex
rather than tlog-checkpoint's base64 because the head is a hash-chain head, not a Merkle root, and
auditors compare it by eye with the hashes in events.jsonl. Reading and verifying notes lives in
export_verifier, the stand-alone verifier shipped in every export, so there is one implementation.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Protocol

from preservation.domain.export_verifier import (
    ED25519_ALGORITHM,
    SIGNATURE_DASH,
    Checkpoint,
    NoteError,
    VerifierKey,
    key_id,
    open_note,
    parse_checkpoint,
)

__all__ = [
    "Checkpoint",
    "NoteError",
    "Signer",
    "VerifierKey",
    "check_key_name",
    "checkpoint_body",
    "open_note",
    "parse_checkpoint",
    "private_key_line",
    "sign_note",
    "verifier_key",
]


class Signer(Protocol):
    """Holds an Ed25519 private key under a signed-note name; signs bytes."""

    @property
    def name(self) -> str: ...

    @property
    def public_key(self) -> bytes: ...

    def sign(self, message: bytes) -> bytes: ...


def check_key_name(name: str) -> str:
    """A signed-note key name: non-empty, printable, no spaces and no plus signs."""
    if not name or not name.isprintable() or any(c.isspace() or c == "+" for c in name) or len(name) > 200:
        raise NoteError("a key name is 1-200 printable characters without spaces or '+'")
    return name


def checkpoint_body(
    origin: str, tree_size: int, head_hash: str, time: str, matter_heads: Mapping[int, tuple[int, str]]
) -> str:
    """The text a checkpoint signs."""
    lines = [origin, str(tree_size), head_hash, f"time {time}"]
    lines += [f"matter {matter} {seq} {head}" for matter, (seq, head) in sorted(matter_heads.items())]
    return "\n".join(lines) + "\n"


def sign_note(body: str, signer: Signer) -> str:
    """The body, a blank line, and the signer's signature line."""
    signature = signer.sign(body.encode())
    encoded = base64.b64encode(key_id(signer.name, signer.public_key) + signature).decode()
    return f"{body}\n{SIGNATURE_DASH}{signer.name} {encoded}\n"


def verifier_key(signer: Signer) -> VerifierKey:
    """The public half of a signer, as auditors are given it."""
    return VerifierKey(signer.name, signer.public_key)


def private_key_line(name: str, public_key: bytes, seed: bytes) -> str:
    """PRIVATE+KEY+NAME+KEYID+BASE64(0x01 || seed): the signed-note private key encoding."""
    encoded = base64.b64encode(ED25519_ALGORITHM + seed).decode()
    return f"PRIVATE+KEY+{check_key_name(name)}+{key_id(name, public_key).hex()}+{encoded}"
