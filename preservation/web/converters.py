"""URL converters: record ids in paths stay within the range the database columns hold."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

# Ids are 32-bit integer columns; a larger number in a path names nothing, so it is a 404, not a
# query that PostgreSQL refuses with "integer out of range".
MAX_ID = 2**31 - 1


class RecordIdConverter(IntegerConverter):
    """`<int:...>` limited to 0..MAX_ID."""

    def __init__(self, url_map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max)


def record_id_schema(_converter: Any) -> dict[str, Any]:
    """The OpenAPI schema of a record id in a path."""
    return {"type": "integer", "minimum": 0, "maximum": MAX_ID}
