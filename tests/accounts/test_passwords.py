"""The password rules: long enough, not common, not built from the person's own name or email."""

from __future__ import annotations

import pytest

from preservation.domain.errors import FieldError
from preservation.domain.passwords import MAX_LENGTH, MIN_LENGTH, check_password


@pytest.mark.parametrize(
    "password",
    [
        "river otter lantern 42",
        "copper kettle marsh violin",
        "Zq8#mT1v!Lp4",
        "a" * 3 + "x" * 3 + "lantern-otter",
        "ü" * 4 + "kyrillisch-парол",
        "the slow grey heron waits by the weir " * 6,  # 228 characters
    ],
)
def test_long_uncommon_passwords_pass(password: str) -> None:
    check_password(password, ("ann.lee@example.org", "Ann Lee"))


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short one", "at least 12"),
        ("x" * (MAX_LENGTH + 1), "at most"),
        ("password1234", "common"),
        ("P@ssw0rd2026!", "common"),
        ("qwertyuiop123", "common"),
        ("Iloveyou1234!!", "common"),
        ("123456789012", "common"),
        ("correct horse battery staple", "common"),
        ("aaaaaaaaaaaaaaaa", "too few"),
        ("abababababababab", "too few"),
        ("abcdefghijklm", "too few"),
        ("annabel.lee@example.org is me", "email"),
        ("my name is annabel lee", "email"),
        ("preservation-tracker-2026", "common"),
    ],
)
def test_weak_passwords_are_refused(password: str, reason: str) -> None:
    with pytest.raises(FieldError) as refused:
        check_password(password, ("annabel.lee@example.org", "Annabel Lee"))
    assert reason in refused.value.message


def test_limits_allow_at_least_128_characters() -> None:
    assert MIN_LENGTH == 12
    assert MAX_LENGTH >= 128
    check_password("lantern otter " * 9 + "river", ())


@pytest.mark.usefixtures("production_argon2")
def test_passwords_are_stored_as_argon2id_with_the_library_defaults() -> None:
    from preservation.services import accounts  # noqa: PLC0415

    stored = accounts.hash_password("river otter lantern 42")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "river" not in stored
