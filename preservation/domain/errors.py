"""Errors that use cases raise; the web layer turns them into 4xx answers."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; nothing was changed."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class FieldError(DomainError):
    """One or more fields break a rule."""

    status = 422
    code = "validation_error"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", {field: [reason]})


class NotFound(DomainError):
    """The thing named does not exist."""

    status = 404
    code = "not_found"

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} does not exist")


class Conflict(DomainError):
    """The change clashes with the current state (a duplicate, a released order)."""

    status = 409
    code = "conflict"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, {field: [message]} if field else None)
