"""Declarative base, engine and session factory, and the write lock that keeps the audit chain linear."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic can alter them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Execution option of a transaction that only reads (see begin_read_only).
READ_ONLY_OPTION = "preservation_read_only"

# Any fixed 64-bit number; it names the lock that serialises audit appends on PostgreSQL.
AUDIT_CHAIN_LOCK_KEY = 0x5052_4553_4552_5645


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


def make_engine(database_url: str, *, pool_size: int = 5, sqlite_busy_timeout: float = 30.0) -> Engine:
    """Build the engine; SQLite gets WAL, foreign keys and BEGIN IMMEDIATE on every transaction."""
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url,
            connect_args={"timeout": sqlite_busy_timeout, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(database_url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that reads first and writes later fails with "database is locked"
        # instead of waiting; IMMEDIATE takes the write lock up front and waits for it. Readers that
        # never write (see begin_read_only) begin DEFERRED: under WAL they hold nothing writers wait for.
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (views serialise after committing)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def begin_read_only(session: Session) -> None:
    """Begin the session's next transaction as a reader, so a long export or verification never stalls writers.

    On SQLite it begins DEFERRED instead of IMMEDIATE; the transaction must not write.
    """
    session.connection(execution_options={READ_ONLY_OPTION: True})


def lock_audit_chain(session: Session) -> None:
    """Serialise audit appends until this transaction ends.

    PostgreSQL: a transaction-scoped advisory lock (READ COMMITTED then sees the latest head).
    SQLite: every transaction already began IMMEDIATE and holds the only write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_CHAIN_LOCK_KEY})
