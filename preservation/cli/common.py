"""What every command needs: the settings, an engine, and one transaction per command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from config.settings import Settings, SettingsError
from preservation import migrate
from preservation.db import make_engine, make_session_factory
from preservation.domain.errors import DomainError
from preservation.services.unit import Unit

CLI_ACTOR = "cli"


def load_settings() -> Settings:
    """The settings, or a clean error message naming the bad variable."""
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def open_engine(settings: Settings) -> Engine:
    """An engine for one command."""
    return make_engine(settings.database_url, sqlite_busy_timeout=settings.sqlite_busy_timeout_seconds)


@contextmanager
def command_unit(actor: str = CLI_ACTOR) -> Iterator[Unit]:
    """One transaction for one command: committed on success, rolled back on any error."""
    settings = load_settings()
    engine = open_engine(settings)
    session = make_session_factory(engine)()
    try:
        yield Unit(session=session, actor=actor)
        session.commit()
    except DomainError as error:
        session.rollback()
        raise click.ClickException(error.message) from None
    except (OperationalError, ProgrammingError):
        session.rollback()
        if migrate.current_revision(engine) is None:
            raise click.ClickException("the database has no tables yet: run `preservation db upgrade` first") from None
        raise
    finally:
        session.close()
        engine.dispose()
