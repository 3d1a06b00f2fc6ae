"""Each page, and each list of the API, issues the same number of SQL statements however much data there is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from preservation.services import users
from preservation.services.unit import Unit
from tests.accounts.support import open_session
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

API_LISTS = (
    "/api/v1/matters",
    "/api/v1/matters/{matter}/orders",
    "/api/v1/orders/{order}/custodians",
    "/api/v1/orders/{order}/obligations",
    "/api/v1/orders/{order}/acknowledgements",
    "/api/v1/orders/{order}/notices",
    "/api/v1/data-sources",
    "/api/v1/data-sources/{source}/checks",
    "/api/v1/custodians",
    "/api/v1/custodians/{custodian}/holds",
    "/api/v1/alerts",
    "/api/v1/deadlines",
    "/api/v1/audit/events",
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


def _counts(app: Flask, client: FlaskClient, ids: dict[str, int], token: str) -> dict[str, int]:
    found = {}
    bearer = {"Authorization": f"Bearer {token}"}
    for template, headers in [(page, {}) for page in PAGES] + [(path, bearer) for path in API_LISTS]:
        path = template.format(**ids)
        client.get(path, headers=headers)  # the first visit may refresh the session's last-seen time; measure the next
        with counting(app) as statements:
            response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        found[template] = len(statements)
    return found


def _token(database_url: str) -> str:
    with open_session(database_url) as session:
        unit = Unit(session=session, actor="cli")
        reader = users.create_user(unit, "api-reader@example.org", "admin")
        token = users.issue_token(unit, reader, "query counts")[1]
        session.commit()
    return token


def test_each_page_costs_the_same_number_of_queries_at_two_sizes(
    app: Flask, sign_in_as: SignIn, database_url: str
) -> None:
    ids = populate(database_url, 2)
    client = sign_in_as("admin")
    token = _token(database_url)
    small = _counts(app, client, ids, token)
    populate(database_url, 30, caption="Bigger v. Smaller")
    grow_matter(database_url, ids, 15)
    large = _counts(app, client, ids, token)
    assert large == small
    assert max(small.values()) <= 20, small
