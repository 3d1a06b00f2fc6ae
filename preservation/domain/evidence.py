"""Recorded AWS answers: each call is {"response": ...} or {"error": {"code", "message", "http_status"}}."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DENIED_CODES = frozenset(
    {"AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
    | {"ExpiredToken", "InvalidToken", "UnauthorizedOperation", "AccessDeniedException"}
)


def error_of(call: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The error a recorded call ended with, or None when it answered."""
    return None if call is None else call.get("error")


def is_denied(error: Mapping[str, Any] | None) -> bool:
    """Whether a recorded error is a refusal to let the caller look."""
    return error is not None and (error.get("code") in DENIED_CODES or error.get("http_status") == 403)


def is_code(error: Mapping[str, Any] | None, *codes: str) -> bool:
    """Whether a recorded error carries one of these codes."""
    return error is not None and error.get("code") in codes
