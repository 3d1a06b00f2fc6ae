"""Column helpers shared by the models."""

import datetime as dt

from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> dt.datetime:
    """The current time in UTC; models use it only as a fallback default."""
    return dt.datetime.now(dt.UTC)


class Timestamps:
    """created_at and updated_at, both UTC."""

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint body that keeps a column inside a fixed vocabulary."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"
