"""The pages for people: cookie settings, CSRF protection and the sign-in, account and admin blueprints."""

from __future__ import annotations

from flask import Flask, Response
from flask_wtf.csrf import CSRFError, CSRFProtect

from config.settings import Settings
from preservation.web import account, admin, auth, custodian_pages, dashboard, matter_pages, outbox_pages, source_pages
from preservation.web.errors import error_response
from preservation.web.html import error_page, is_api_request
from preservation.web.notice_pages import bp as notice_pages_bp
from preservation.web.page_format import register_formatting


def register_pages(app: Flask, settings: Settings) -> None:
    """Configure the session cookie and CSRF, and mount the page blueprints."""
    secure = settings.session_cookie_secure
    app.config.update(
        # The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only and for path /.
        SESSION_COOKIE_NAME="__Host-preservation_session" if secure else "preservation_session",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The cookie lives as long as the browser; the server-side session decides when it stops working.
        SESSION_PERMANENT=False,
        # The access hook checks the token on page requests only; the bearer-token API carries no cookies.
        WTF_CSRF_CHECK_DEFAULT=False,
        # The strict check wants a Referer header, which Referrer-Policy: no-referrer stops browsers sending.
        WTF_CSRF_SSL_STRICT=False,
        WTF_CSRF_TIME_LIMIT=settings.session_max_hours * 3600,
    )
    CSRFProtect(app)
    for blueprint in (auth.bp, account.bp, admin.bp):
        app.register_blueprint(blueprint)
    # A custodian's notice page: public, opened by the personal link from their email.
    app.register_blueprint(notice_pages_bp)
    # The litigation team's pages: overview, matters, data sources, custodians, alerts, scheduler, audit.
    for blueprint in (dashboard.bp, matter_pages.bp, source_pages.bp, custodian_pages.bp):
        app.register_blueprint(blueprint)
    # The console transport's emails, while email goes to a file (a demo or a development instance).
    app.register_blueprint(outbox_pages.bp)
    register_formatting(app)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Response | tuple[Response, int]:
        if is_api_request():
            return error_response(400, "csrf", str(error.description))
        return error_page(400, "The form had expired or did not come from this site. Go back, reload and try again.")
