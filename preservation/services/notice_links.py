"""The personal link in a notice: signed with the app's secret, expiring, and bound to one custodian,
one hold and one notice version, so it opens that notice and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from preservation.models import HoldNotice

# A salt of its own: no other signed value of the app (a session, a CSRF token) can pass for a notice link.
SALT = "preservation.custodian-notice.v1"


@dataclass(frozen=True)
class LinkClaims:
    """What a valid link names."""

    notice_id: int
    hold_id: int
    custodian_id: int
    version: int


class BadLink(Exception):
    """A link that is expired, tampered with, or does not match the notice it names."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def sign(secret: str, notice: HoldNotice) -> str:
    """The token for one notice to one custodian."""
    claims = {"n": notice.id, "h": notice.hold_id, "c": notice.custodian_id, "v": notice.template_version or 0}
    return str(_serializer(secret).dumps(claims))


def read(secret: str, token: str, max_age_seconds: int) -> LinkClaims:
    """The claims of a genuine, unexpired token; BadLink otherwise."""
    if len(token) > 1000:
        raise BadLink("tampered", "This link is not valid.")
    try:
        data = _serializer(secret).loads(token, max_age=max_age_seconds)
    except SignatureExpired as error:
        raise BadLink("expired", "This link has expired. Ask the legal team for a new one.") from error
    except BadSignature as error:
        raise BadLink("tampered", "This link is not valid. Use the link from your email exactly as sent.") from error
    try:
        return LinkClaims(int(data["n"]), int(data["h"]), int(data["c"]), int(data["v"]))
    except (KeyError, TypeError, ValueError) as error:
        raise BadLink("tampered", "This link is not valid.") from error


def check_matches(claims: LinkClaims, notice: HoldNotice | None) -> HoldNotice:
    """The notice the claims name, if it still belongs to that custodian, hold and version."""
    if notice is None:
        raise BadLink("unknown", "This notice does not exist.")
    if (
        notice.hold_id != claims.hold_id
        or notice.custodian_id != claims.custodian_id
        or (notice.template_version or 0) != claims.version
    ):
        raise BadLink("mismatch", "This link does not belong to this notice. Use the link from your own email.")
    return notice
