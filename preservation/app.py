"""The application factory."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

from config.settings import Settings
from preservation import __version__
from preservation.db import make_engine, make_session_factory
from preservation.migrate import head_revision
from preservation.web.access import enforce_access
from preservation.web.api import register_api
from preservation.web.api.common import PreservationApi
from preservation.web.converters import RecordIdConverter, record_id_schema
from preservation.web.errors import register_error_handlers
from preservation.web.health import bp as health_bp
from preservation.web.pages import register_pages
from preservation.web.request_log import register_request_log
from preservation.web.session import close_session


@dataclass
class AppState:
    """What the app holds for its lifetime: settings, the engine and the session factory."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    head_revision: str | None


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web application; nothing is created at import time."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
        API_TITLE="preservation-tracker",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": "Record preservation duties and verify them in the storage itself."},
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        sqlite_busy_timeout=settings.sqlite_busy_timeout_seconds,
    )
    app.extensions["preservation"] = AppState(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        head_revision=head_revision(),
    )

    # Before any route is added: every `<int:...>` in a path is a record id within the columns' range.
    app.url_map.converters["int"] = RecordIdConverter
    api = PreservationApi(app)
    api.register_converter(RecordIdConverter, record_id_schema)
    register_api(api)
    app.register_blueprint(health_bp)
    register_error_handlers(app)
    register_pages(app, settings)
    if settings.proxy_hops:
        # Trust exactly this many proxies for the client's address and scheme (sign-in throttle, HSTS).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    register_request_log(app)
    app.before_request(enforce_access)
    app.teardown_appcontext(close_session)
    app.after_request(_security_headers)
    return app


def _security_headers(response: ResponseReturnValue) -> ResponseReturnValue:
    headers = response.headers  # type: ignore[union-attr]
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cache-Control", "no-store")
    headers.setdefault(
        "Content-Security-Policy", "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
