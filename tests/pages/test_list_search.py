"""Search and pages on every list: alerts, scheduler runs, and the four lists of a matter's page."""

from __future__ import annotations

import datetime as dt
import re

from preservation.models import JobRun
from preservation.services.unit import system_clock
from tests.accounts.support import open_session
from tests.pages.conftest import SignIn
from tests.pages.support import grow_matter, populate


def _section(html: str, name: str) -> str:
    start = html.index(f'<section aria-labelledby="{name}">')
    return html[start : html.index("</section>", start)]


def test_alerts_are_searched_by_subject_or_text(sign_in_as: SignIn, database_url: str) -> None:
    populate(database_url, 3)
    client = sign_in_as("viewer")
    found = client.get("/alerts?q=soon+1").get_data(as_text=True)
    assert "Due soon 1" in found
    assert "Due soon 0" not in found
    assert "Due soon 2" not in found
    assert 'value="soon 1"' in found  # the search stays in its box
    assert "No alerts match." in client.get("/alerts?q=nothing-like-it").get_data(as_text=True)
    assert "No alerts match." in client.get("/alerts?q=soon&state=acknowledged").get_data(as_text=True)
    assert "Due soon 2" in client.get("/alerts?q=soon&state=open").get_data(as_text=True)


def test_scheduler_runs_are_searched_by_job_holder_or_error(sign_in_as: SignIn, database_url: str) -> None:
    populate(database_url, 2)
    now = system_clock()
    with open_session(database_url) as session:
        session.add(
            JobRun(
                job_id="deliver-alerts",
                trigger="schedule",
                holder="host-2",
                started_at=now - dt.timedelta(minutes=30),
                finished_at=now,
                outcome="failed",
                error="SMTP server timed out",
                details={},
            )
        )
        session.commit()
    client = sign_in_as("viewer")
    runs = _section_rows(client.get("/scheduler?q=timed+out").get_data(as_text=True))
    assert [run[0] for run in runs] == ["deliver-alerts"]
    assert {run[0] for run in _section_rows(client.get("/scheduler?q=host-1").get_data(as_text=True))} == {"sweep"}
    assert len(_section_rows(client.get("/scheduler?q=swe").get_data(as_text=True))) == 2
    assert "No runs match." in client.get("/scheduler?q=sweep&outcome=failed").get_data(as_text=True)


def _section_rows(html: str) -> list[list[str]]:
    body = html.split("<tbody>")[1].split("</tbody>", maxsplit=1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
        for row in rows
    ]


def test_a_matters_orders_obligations_custodians_and_timeline_each_page(sign_in_as: SignIn, database_url: str) -> None:
    ids = populate(database_url, 1)
    grow_matter(database_url, ids, 27)
    client = sign_in_as("viewer")
    path = f"/matters/{ids['matter']}"
    page = client.get(path).get_data(as_text=True)
    orders = _section(page, "orders")
    assert orders.count('<article class="order"') == 25
    assert "Page 1 of 2 (28 in all)" in orders
    assert f'href="{path}?orders_page=2"' in orders
    obligations = _section(page, "obligations")
    assert obligations.count('<tr id="obligation-') == 25
    assert "Page 1 of 2 (28 in all)" in obligations
    custodians = _section(page, "custodians")
    assert custodians.count('<tr id="hold-') == 25
    assert "(82 in all)" in custodians  # Pat, and per new order Lee twice and Pat once
    timeline = _section(page, "timeline")
    assert timeline.count("<time ") == 50
    assert f'href="{path}?timeline_page=2#timeline" rel="next">Older' in timeline
    assert "/audit" not in page  # a viewer pages through the matter's own timeline

    second = client.get(f"{path}?orders_page=2&timeline_page=2").get_data(as_text=True)
    assert _section(second, "orders").count('<article class="order"') == 3
    assert _section(second, "obligations").count('<tr id="obligation-') == 25  # its own page is still the first
    older = _section(second, "timeline")
    assert 0 < older.count("<time ") <= 50
    assert 'rel="prev">Newer' in older
    assert 'name="orders_page" value="2"' in _section(second, "timeline")  # the other lists stay where they were


def test_a_matters_lists_are_searched_and_filtered(sign_in_as: SignIn, database_url: str) -> None:
    ids = populate(database_url, 1)
    grow_matter(database_url, ids, 12)
    client = sign_in_as("viewer")
    path = f"/matters/{ids['matter']}"
    orders = _section(client.get(f"{path}?order_q=hold+7").get_data(as_text=True), "orders")
    assert orders.count('<article class="order"') == 1
    assert "Hold 7" in orders
    assert "No orders match." in client.get(f"{path}?order_status=released").get_data(as_text=True)
    obligations = _section(client.get(f"{path}?obligation_q=mail+1").get_data(as_text=True), "obligations")
    assert obligations.count('<tr id="obligation-') == 3  # Mail 1, 10 and 11
    custodians = _section(client.get(f"{path}?custodian_q=lee7%40").get_data(as_text=True), "custodians")
    assert custodians.count('<tr id="hold-') == 2  # on its own order and on the first one
    pending = _section(client.get(f"{path}?hold_status=notified").get_data(as_text=True), "custodians")
    assert "Pat 0" in pending
    created = _section(client.get(f"{path}?action=order.created").get_data(as_text=True), "timeline")
    assert created.count("<time ") == 13
    assert set(re.findall(r"</time> ([a-z_.]+) ", created)) == {"order.created"}
