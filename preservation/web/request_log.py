"""A request id for every request (taken from X-Request-ID when sane), echoed back and put on every log record."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from config.logging import request_id

log = logging.getLogger("preservation.request")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def _begin() -> None:
    offered = request.headers.get("X-Request-ID", "")
    g.request_id = offered if _SANE_ID.match(offered) else uuid.uuid4().hex
    g.request_token = request_id.set(g.request_id)
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    started = g.get("request_started")
    if started is not None:
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
    return response


def _reset(_exc: BaseException | None = None) -> None:
    token = g.pop("request_token", None)
    if token is not None:
        request_id.reset(token)


def register_request_log(app: Flask) -> None:
    """Install the request id hooks; they run before access checks so refusals are logged with an id too."""
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_reset)
