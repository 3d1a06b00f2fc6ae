"""The password rules: long enough, not common, not built from the person's own name or email, not easy to guess."""

from __future__ import annotations

import pytest
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from preservation.domain.errors import FieldError
from preservation.domain.passwords import MAX_LENGTH, MIN_LENGTH, check_password
from preservation.services import accounts


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


# zxcvbn's estimate beside the shipped list ----------------------------------------------------------

# The ranked list zxcvbn ships (most common first), and how long a password must be here.
_ZXCVBN_PASSWORDS: list[str] = FREQUENCY_LISTS["passwords"]
_TOP = 3000


def _fit_the_length_rule(common: str) -> str:
    """What people do to a common password a 12-character minimum refuses: count on with digits until it fits."""
    digits = "1234567890" * 2
    return common if len(common) >= MIN_LENGTH else common + digits[: MIN_LENGTH - len(common)]


def test_the_top_3000_passwords_made_to_fit_the_length_rule_are_all_refused() -> None:
    candidates = {_fit_the_length_rule(common) for common in _ZXCVBN_PASSWORDS[:_TOP]}
    assert len(_ZXCVBN_PASSWORDS) >= 30_000
    assert len(candidates) >= _TOP - 5  # a few of the top entries differ only in their digits
    assert all(len(candidate) >= MIN_LENGTH for candidate in candidates)
    accepted = []
    for candidate in sorted(candidates):
        try:
            accounts.check_new_password(candidate, ())
        except FieldError:
            continue
        accepted.append(candidate)
    assert accepted == []


def test_every_listed_password_that_meets_the_length_rule_is_refused() -> None:
    long_enough = [common for common in _ZXCVBN_PASSWORDS if MIN_LENGTH <= len(common) <= MAX_LENGTH]
    assert len(long_enough) >= 200
    for common in long_enough:
        with pytest.raises(FieldError):
            accounts.check_new_password(common, ())


@pytest.mark.parametrize(
    "password",
    [
        "iloveyoubaby1",  # words and names the shipped list does not hold
        "michaeljordan23",
        "qazwsxedcrfvtgb",  # a keyboard walk
        "dragonmaster99",
        "harrypotter2020",
        "manchesterunited1",
    ],
)
def test_zxcvbn_refuses_what_the_shipped_list_lets_through(password: str) -> None:
    check_password(password, ())  # the shipped list alone lets it through
    with pytest.raises(FieldError) as refused:
        accounts.check_new_password(password, ())
    assert "too easy to guess" in refused.value.message


@pytest.mark.parametrize(
    "password",
    [
        "river otter lantern 42",
        "copper kettle marsh violin",
        "Zq8#mT1v!Lp4",
        "the slow grey heron waits by the weir " * 6,
    ],
)
def test_good_passwords_pass_both_checks(password: str) -> None:
    accounts.check_new_password(password, ("ann.lee@example.org", "Ann Lee"))
