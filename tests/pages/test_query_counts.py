"""Each page issues the same number of SQL statements however much data there is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.pages.conftest import SignIn
from tests.pages.support import grow_matter, populate

PAGES = (
    "/overview",
    "/matters",
    "/matters/{matter}",
    "/sources",
    "/sources/{source}",
    "/custodians",
    "/custodians/{custodian}",
    "/matters/orders/{order}/acknowledgements",
    "/alerts",
    "/scheduler",
    "/audit",
    "/audit?matter={matter}",
    "/matters/{matter}/orders/new",
    "/sources/{source}/edit",
)


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    """Every statement the app's engine sends while the block runs."""
    statements: list[str] = []
    engine = app.extensions["preservation"].engine

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _counts(app: Flask, client: FlaskClient, ids: dict[str, int]) -> dict[str, int]:
    found = {}
    for template in PAGES:
        path = template.format(**ids)
        client.get(path)  # the first visit may refresh the session's last-seen time; measure the second
        with counting(app) as statements:
            response = client.get(path)
        assert response.status_code == 200, path
        found[template] = len(statements)
    return found


def test_each_page_costs_the_same_number_of_queries_at_two_sizes(
    app: Flask, sign_in_as: SignIn, database_url: str
) -> None:
    ids = populate(database_url, 2)
    client = sign_in_as("admin")
    small = _counts(app, client, ids)
    populate(database_url, 30, caption="Bigger v. Smaller")
    grow_matter(database_url, ids, 15)
    large = _counts(app, client, ids)
    assert large == small
    assert max(small.values()) <= 20, small
