"""One database session per request, closed at teardown; views commit."""

from __future__ import annotations

from flask import current_app, g

from preservation.services.unit import Unit


def unit_of_work(actor: str | None = None) -> Unit:
    """The request's unit of work, acting as the signed-in user."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["preservation"].session_factory()
    return Unit(session=g.db_session, actor=actor or g.get("actor", "anonymous"))


def close_session(_exc: BaseException | None = None) -> None:
    """teardown hook: roll back whatever was not committed and give the connection back."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
