"""What every page shares: telling pages from the API, error pages, safe redirects, the client's address."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, render_template, request

API_PREFIX = "/api/"


def is_api_request() -> bool:
    """True for the JSON API, which authenticates by bearer token only and never reads cookies."""
    return request.path.startswith(API_PREFIX)


def error_page(status: int, message: str) -> Response:
    """An HTML error page for people (the API answers errors in JSON)."""
    response = current_app.make_response(render_template("error.html", status=status, message=message))
    response.status_code = status
    return response


def safe_next(target: str | None) -> str | None:
    """A place to return to after sign-in, only if it is a path on this site (no open redirect)."""
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(char) < 32 for char in target):
        return None
    return target


def current_path() -> str:
    """The path and query of this request, to come back to after signing in."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def client_address() -> str | None:
    """The client's address (ProxyFix rewrites it from X-Forwarded-For when PRESERVATION_PROXY_HOPS is set)."""
    return request.remote_addr


def user_agent() -> str | None:
    """The browser's description of itself, cut short, to tell sessions apart on the account page."""
    return (request.user_agent.string or "")[:200] or None
