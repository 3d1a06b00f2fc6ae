"""What makes a password acceptable: length, and not guessable; no composition rules, no rotation."""

from __future__ import annotations

import functools
import itertools
import re
from importlib import resources

from preservation.domain.errors import FieldError

MIN_LENGTH = 12
MAX_LENGTH = 256
# Digits and symbols people add around a common word to satisfy composition rules elsewhere.
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_NOT_LETTERS = re.compile(r"[\W\d_]+")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_MIN_DISTINCT_CHARACTERS = 5
_MIN_PERSONAL_WORD = 4


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords and the words they are built on, lower case."""
    text = resources.files("preservation.domain").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password(password: str, personal_words: tuple[str, ...] = ()) -> None:
    """Refuse a password that is too short, too long, common, or built from the user's own name or email."""
    if len(password) < MIN_LENGTH:
        raise FieldError("password", f"must be at least {MIN_LENGTH} characters; a few unrelated words make a good one")
    if len(password) > MAX_LENGTH:
        raise FieldError("password", f"must be at most {MAX_LENGTH} characters")
    if _is_common(password):
        raise FieldError("password", "is too common, or a common password with digits or symbols added")
    if _is_monotonous(password):
        raise FieldError("password", "repeats or counts through too few characters")
    lowered = password.casefold()
    for word in _personal_fragments(personal_words):
        if word in lowered:
            raise FieldError("password", "must not contain your email address or name")


def _is_common(password: str) -> bool:
    common = common_passwords()
    lowered = password.casefold()
    candidates = {lowered, _DECORATION.sub("", lowered), _NOT_LETTERS.sub("", lowered)}
    candidates |= {_DECORATION.sub("", candidate.translate(_LEET)) for candidate in set(candidates)}
    candidates |= {candidate.translate(_LEET) for candidate in set(candidates)}
    return any(candidate in common for candidate in candidates if candidate)


def _is_monotonous(password: str) -> bool:
    """Too few distinct characters, or one steady step through the alphabet or the digits."""
    if len(set(password.casefold())) < _MIN_DISTINCT_CHARACTERS:
        return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(password)}
    return len(steps) == 1 and steps <= {-1, 0, 1}


def _personal_fragments(personal_words: tuple[str, ...]) -> set[str]:
    fragments: set[str] = set()
    for word in personal_words:
        lowered = word.casefold().strip()
        local = lowered.partition("@")[0]
        for fragment in (lowered, local, *re.split(r"[\s._+-]+", local)):
            if len(fragment) >= _MIN_PERSONAL_WORD:
                fragments.add(fragment)
    return fragments
