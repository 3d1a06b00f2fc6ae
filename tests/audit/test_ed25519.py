"""The verifier's pure-Python Ed25519 against RFC 8032's test vectors and against keys made by `cryptography`."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from preservation.domain.export_verifier import ed25519_verify

# RFC 8032 section 7.1: TEST 1, TEST 2, TEST 3 and TEST SHA(abc); (public key, message, signature).
RFC_8032_VECTORS = [
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
    (
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    ),
]
GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493


@pytest.mark.parametrize(("public", "message", "signature"), RFC_8032_VECTORS)
def test_rfc_8032_vectors_verify(public: str, message: str, signature: str) -> None:
    assert ed25519_verify(bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature))


@pytest.mark.parametrize(("public", "message", "signature"), RFC_8032_VECTORS)
def test_rfc_8032_vectors_fail_once_anything_changes(public: str, message: str, signature: str) -> None:
    key, text, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    assert not ed25519_verify(key, text + b"\x00", sig)
    for position in (0, 31, 32, 63):
        flipped = bytearray(sig)
        flipped[position] ^= 0x01
        assert not ed25519_verify(key, text, bytes(flipped))
    other_key = bytes.fromhex(RFC_8032_VECTORS[(RFC_8032_VECTORS.index((public, message, signature)) + 1) % 4][0])
    assert not ed25519_verify(other_key, text, sig)


def test_malformed_keys_and_signatures_are_refused() -> None:
    public, message, signature = (bytes.fromhex(part) for part in RFC_8032_VECTORS[1])
    assert not ed25519_verify(public[:31], message, signature)
    assert not ed25519_verify(public, message, signature[:63])
    # S must be below the group order: S + L is the same scalar but a malleated signature.
    s = int.from_bytes(signature[32:], "little") + GROUP_ORDER
    assert not ed25519_verify(public, message, signature[:32] + s.to_bytes(32, "little"))
    # y = p (not canonical) and a y with no point on the curve are both refused.
    p = 2**255 - 19
    assert not ed25519_verify(p.to_bytes(32, "little"), message, signature)
    assert not ed25519_verify((2).to_bytes(32, "little"), message, signature)


@settings(max_examples=25, deadline=None)
@given(message=st.binary(max_size=300), seed=st.binary(min_size=32, max_size=32))
def test_signatures_made_by_cryptography_verify(message: bytes, seed: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    signature = key.sign(message)
    assert ed25519_verify(public, message, signature)
    assert not ed25519_verify(public, message + b"!", signature)


def test_fresh_keys_from_cryptography_verify_and_reject_forgeries() -> None:
    for _ in range(5):
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        signature = key.sign(b"checkpoint body\n")
        assert ed25519_verify(public, b"checkpoint body\n", signature)
        other = Ed25519PrivateKey.generate().sign(b"checkpoint body\n")
        assert not ed25519_verify(public, b"checkpoint body\n", other)
