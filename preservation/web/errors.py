"""Every error is a JSON answer naming the fields at fault; nothing leaks a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from preservation.domain.errors import DomainError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error raised by the web layer itself (authentication, access)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> tuple[Response, int]:
    """The one shape of every error answer."""
    body: dict[str, Any] = {"status": status, "code": code, "message": message, "fields": fields or {}}
    response = jsonify(body)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="preservation-tracker"'
    return response, status


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs nests errors by location and field; clients want {"field": ["reason"]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key)
            if name in {"json", "query", "path", "form", "headers"} and not prefix:
                name = ""
            child = f"{prefix}.{name}" if prefix and name else (name or prefix)
            for field, reasons in _flatten(value, child).items():
                flat.setdefault(field, []).extend(reasons)
    elif isinstance(messages, list) and all(isinstance(item, str) for item in messages):
        flat[prefix or "_body"] = list(messages)
    else:
        flat[prefix or "_body"] = [str(messages)]
    return flat


def handle_http_exception(error: HTTPException) -> tuple[Response, int]:
    """Werkzeug and webargs errors (404, 405, 413, 422, bad JSON) in the common shape."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if messages:
        fields = _flatten(messages)
        if fields.get("_body") == ["Invalid JSON body."]:
            return error_response(400, "invalid_json", "the request body is not valid JSON", fields)
        summary = "; ".join(f"{name}: {', '.join(reasons)}" for name, reasons in fields.items())
        return error_response(422 if status == 422 else status, "validation_error", summary, fields)
    code = (error.name or "error").lower().replace(" ", "_")
    message = data.get("message") or error.description or error.name
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = f"the request body is larger than the limit of {limit} bytes"
    response, status = error_response(status, code, str(message))
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        # A 405 must say which methods the resource does allow (RFC 9110, section 15.5.6).
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response, status


def register_error_handlers(app: Flask) -> None:
    """Install the JSON error handlers."""

    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> tuple[Response, int]:
        return error_response(error.status, error.code, error.message, error.fields)

    @app.errorhandler(ApiError)
    def _api(error: ApiError) -> tuple[Response, int]:
        return error_response(error.status, error.code, error.message)

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError) -> tuple[Response, int]:
        # A concurrent request won a uniqueness race; the transaction was rolled back whole.
        log.warning("integrity error: %s", error.orig)
        return error_response(409, "conflict", "the change clashes with a concurrent change; retry")

    @app.errorhandler(OperationalError)
    def _operational(error: OperationalError) -> tuple[Response, int]:
        log.error("database unavailable: %s", error.orig)
        return error_response(503, "database_unavailable", "the database cannot be reached or is busy; retry")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response, int]:
        if isinstance(error, HTTPException):
            return handle_http_exception(error)
        log.exception("unhandled error")
        return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")
