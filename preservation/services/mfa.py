"""The second factor: TOTP authenticators (RFC 6238) and single-use recovery codes."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import pyotp
from sqlalchemy import func, select

from preservation.domain.errors import Conflict, FieldError
from preservation.models import RecoveryCode, User
from preservation.services import audit
from preservation.services.unit import Unit

TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
# One step either side of now, for a clock that drifts or a code typed at the turn of a step.
_TOTP_TOLERANCE = 1
RECOVERY_CODE_COUNT = 10
# 31 symbols, none easily confused (no 0/o, 1/l/i); 16 of them carry about 79 bits.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 16


def _step(moment: dt.datetime) -> int:
    return int(moment.timestamp()) // TOTP_STEP_SECONDS


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def begin_enrolment(unit: Unit, user: User) -> str:
    """The secret to load into an authenticator; the same one until a code confirms it."""
    if user.has_mfa:
        raise Conflict("an authenticator is already set up for this account")
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32(32)
    return user.totp_secret


def provisioning_uri(user: User, secret: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (typed in or scanned)."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=user.email, issuer_name=issuer
    )


def _accept_totp(unit: Unit, user: User, code: str) -> bool:
    """Check a TOTP code; a code for a step already used (or an earlier one) is a replay and is refused."""
    if user.totp_secret is None or len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
    now = _step(unit.clock())
    for step in range(now - _TOTP_TOLERANCE, now + _TOTP_TOLERANCE + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False


def confirm_enrolment(unit: Unit, user: User, code: str) -> list[str]:
    """Turn the authenticator on once it produced a right code; returns fresh recovery codes, shown once."""
    if user.has_mfa:
        raise Conflict("an authenticator is already set up for this account")
    if user.totp_secret is None:
        raise Conflict("start setting up an authenticator first")
    if not _accept_totp(unit, user, _normalise(code)):
        raise FieldError("code", "that code is not right: check the device's clock and type the current code")
    user.totp_enabled_at = unit.clock()
    codes = _replace_recovery_codes(unit, user)
    audit.record(
        unit,
        "user.mfa_enrolled",
        "user",
        user.id,
        matter_id=None,
        details={"email": user.email, "method": "totp", "recovery_codes": len(codes)},
    )
    return codes


def replace_recovery_codes(unit: Unit, user: User) -> list[str]:
    """New recovery codes; the old ones stop working."""
    if not user.has_mfa:
        raise Conflict("set up an authenticator first")
    codes = _replace_recovery_codes(unit, user)
    audit.record(
        unit,
        "user.recovery_codes_replaced",
        "user",
        user.id,
        matter_id=None,
        details={"email": user.email, "recovery_codes": len(codes)},
    )
    return codes


def _replace_recovery_codes(unit: Unit, user: User) -> list[str]:
    for old in unit.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        unit.session.delete(old)
    unit.session.flush()
    codes = []
    now = unit.clock()
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        unit.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(raw), created_at=now))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    unit.session.flush()
    return codes


def unused_recovery_codes(unit: Unit, user: User) -> int:
    """How many recovery codes the user has left."""
    count = unit.session.scalar(
        select(func.count()).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


def verify_second_factor(unit: Unit, user: User, code: str) -> str | None:
    """Check a TOTP code or a recovery code; returns which one worked ("totp", "recovery_code") or None."""
    candidate = _normalise(code)
    if len(candidate) == TOTP_DIGITS:
        return "totp" if _accept_totp(unit, user, candidate) else None
    if len(candidate) != _RECOVERY_LENGTH or not candidate.isascii() or not candidate.isalnum():
        return None
    row = unit.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_code(candidate),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return None
    row.used_at = unit.clock()
    return "recovery_code"
