"""The audit signing key: an Ed25519 private key in a file of its own, never in the database.

The file holds one line in the signed-note private key encoding, PRIVATE+KEY+NAME+KEYID+BASE64, and must
be readable by its owner alone.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from preservation.domain.checkpoints import NoteError, check_key_name, private_key_line
from preservation.domain.export_verifier import ED25519_ALGORITHM, key_id

PREFIX = "PRIVATE+KEY+"


class SigningKeyError(ValueError):
    """The signing key file is missing, unreadable, malformed or open to other users."""


class FileSigner:
    """Signs checkpoints with an Ed25519 key read from a file."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._name = check_key_name(name)
        self._key = private_key
        self._public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def name(self) -> str:
        """The key's signed-note name, which is also the log's origin line."""
        return self._name

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        return self._public

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature of message."""
        return self._key.sign(message)


def generate_key_file(path: Path, name: str) -> FileSigner:
    """Make a new key and write it to path (mode 0600), refusing to replace an existing file."""
    key = Ed25519PrivateKey.generate()
    signer = FileSigner(name, key)
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    line = private_key_line(name, signer.public_key, seed) + "\n"
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningKeyError(f"{path} already exists; a signing key is never overwritten") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(line)
    return signer


def load_signer(path: Path) -> FileSigner:
    """Read a key file written by generate_key_file."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise SigningKeyError(f"cannot read the signing key {path}: {error}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(f"the signing key {path} is open to other users; chmod 600 it")
    parts = text[len(PREFIX) :].split("+", 2) if text.startswith(PREFIX) else []
    if len(parts) != 3:
        raise SigningKeyError(f"{path} is not a signing key (expected PRIVATE+KEY+NAME+KEYID+BASE64)")
    name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
        if len(raw) != 33 or raw[:1] != ED25519_ALGORITHM:
            raise SigningKeyError(f"{path} does not hold an Ed25519 key")
        signer = FileSigner(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
    except (ValueError, NoteError) as error:
        raise SigningKeyError(f"{path} is not a valid signing key: {error}") from None
    if key_id(name, signer.public_key).hex() != hex_id:
        raise SigningKeyError(f"{path}: the key id does not match the key")
    return signer
