"""Pieces every API blueprint uses: the Api class, blueprint factory, error docs, list envelope."""

from __future__ import annotations

from typing import Any

from flask_smorest import Api, Blueprint

from preservation.services.pages import Page
from preservation.web.api.schemas import ErrorSchema
from preservation.web.errors import handle_http_exception

ERROR_RESPONSES = {
    400: "malformed request (for example invalid JSON)",
    401: "no valid bearer token",
    403: "the token's role may not do this",
    404: "no such record",
    409: "the change clashes with the record's state",
    413: "request body over the size limit",
    422: "a field breaks a rule; `fields` names it",
}


class PreservationApi(Api):
    """flask-smorest's Api with the service's error shape."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: Any) -> Any:
        return handle_http_exception(error)


def api_blueprint(name: str, description: str) -> Blueprint:
    """A blueprint mounted under /api/v1."""
    return Blueprint(name, name, url_prefix="/api/v1", description=description)


def documented_errors(blueprint: Blueprint, *statuses: int) -> Any:
    """Declare the error answers a route can give, so the spec lists them."""

    def decorate(view: Any) -> Any:
        for status in statuses:
            view = blueprint.alt_response(status, schema=ErrorSchema, description=ERROR_RESPONSES[status])(view)
        return view

    return decorate


def page_body(page: Page) -> dict[str, Any]:
    """The list envelope: items and where they sit."""
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page}
