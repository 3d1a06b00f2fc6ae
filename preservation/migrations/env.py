"""Alembic environment: the database comes from the caller or from PRESERVATION_DATABASE_URL."""

from alembic import context

import preservation.models  # noqa: F401  (registers every table on the metadata)
from config.settings import Settings
from preservation.db import Base, make_engine

config = context.config


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if url:
        return str(url)
    return Settings.from_env().database_url


def run_migrations() -> None:
    """Run the migrations on a live connection (offline SQL generation is not supported)."""
    engine = make_engine(_database_url())
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        # Also when a migration refuses: its pooled connection must not outlive the command.
        engine.dispose()


run_migrations()
