"""The hold tables page and search: an order's acknowledgements and notices, and a custodian's holds across matters."""

from __future__ import annotations

import re

from preservation.services import custodian_notices, custodians, matters, orders
from preservation.services.notice_mail import NoticePolicy
from preservation.services.unit import Unit
from tests.accounts.support import open_session
from tests.pages.conftest import SignIn
from tests.pages.test_hold_pages import make_holds


def _many_held(database_url: str, people: int) -> tuple[int, int]:
    """One order binding `people` custodians, each notified; the first custodian is held by `people` orders."""
    with open_session(database_url) as session:
        unit = Unit(session=session, actor="user:setup@example.com")
        matter = matters.create_matter(unit, {"caption": "Crowd v. Company"})
        order = orders.create_order(unit, matter.id, {"kind": "litigation_hold", "title": "Company-wide hold"})
        ids = [
            custodians.create_custodian(unit, {"name": f"Worker {n:02d}", "email": f"worker{n:02d}@example.org"}).id
            for n in range(people)
        ]
        for person in ids:
            custodians.place_custodian_hold(unit, order.id, person)
        custodian_notices.issue_notices(unit, order.id, NoticePolicy(secret="pages"))
        for n in range(1, people):
            other = orders.create_order(unit, matter.id, {"kind": "litigation_hold", "title": f"Team hold {n:02d}"})
            custodians.place_custodian_hold(unit, other.id, ids[0])
        session.commit()
        return order.id, ids[0]


def _rows(html: str, prefix: str) -> int:
    return len(re.findall(rf'<tr id="{prefix}-\d+">', html))


def test_an_orders_holds_and_notices_page_separately(sign_in_as: SignIn, database_url: str) -> None:
    order_id, _ = _many_held(database_url, 27)
    client = sign_in_as("viewer")
    path = f"/matters/orders/{order_id}/acknowledgements"
    first = client.get(path).get_data(as_text=True)
    assert _rows(first, "hold") == 25
    assert _rows(first, "notice") == 25
    assert "Page 1 of 2 (27 in all)" in first
    assert "awaiting</span> 27" in first  # the counts cover every hold, not the page
    assert f'href="{path}?page=2"' in first
    assert f'href="{path}?notices_page=2"' in first
    holds_second = client.get(f"{path}?page=2").get_data(as_text=True)
    assert _rows(holds_second, "hold") == 2
    assert _rows(holds_second, "notice") == 25  # the notices stay on their own first page
    notices_second = client.get(f"{path}?notices_page=2").get_data(as_text=True)
    assert _rows(notices_second, "notice") == 2
    assert _rows(notices_second, "hold") == 25


def test_an_orders_acknowledgements_are_searched_and_filtered_by_state(sign_in_as: SignIn, database_url: str) -> None:
    holds = make_holds(database_url)
    client = sign_in_as("viewer")
    path = f"/matters/orders/{holds.order_id}/acknowledgements"
    found = client.get(f"{path}?q=ana%40example").get_data(as_text=True)
    assert "Ana Person" in found
    assert "Dee Person" not in found
    assert _rows(found, "notice") == 1  # the search narrows the notices too
    escalated = client.get(f"{path}?state=escalated").get_data(as_text=True)
    holds_table = escalated.split('id="notices"')[0]
    assert {name for name in ("Dee Person", "Sam Person", "Ana Person") if name in holds_table} == {
        "Dee Person",
        "Sam Person",
    }
    assert "acknowledged</span> 1" in escalated  # the counts are the order's, whatever the filter
    nobody = client.get(f"{path}?q=nobody-like-this").get_data(as_text=True)
    assert "No custodians match." in nobody
    assert "No notices to custodians who match." in nobody
    assert client.get(f"{path}?q=%25").get_data(as_text=True).count('<tr id="hold-') == 0  # % is taken literally
    ignored = client.get(f"{path}?state=bogus").get_data(as_text=True)
    assert _rows(ignored, "hold") == 5


def test_a_custodians_holds_page_and_are_searched(sign_in_as: SignIn, database_url: str) -> None:
    _, worker = _many_held(database_url, 27)
    client = sign_in_as("viewer")
    first = client.get(f"/custodians/{worker}").get_data(as_text=True)
    assert _rows(first, "hold") == 25
    assert "Page 1 of 2 (27 in all)" in first
    second = client.get(f"/custodians/{worker}?page=2").get_data(as_text=True)
    assert _rows(second, "hold") == 2
    searched = client.get(f"/custodians/{worker}?q=team+hold+07").get_data(as_text=True)
    assert _rows(searched, "hold") == 1
    assert "Team hold 07" in searched
    notified = client.get(f"/custodians/{worker}?state=awaiting").get_data(as_text=True)
    assert _rows(notified, "hold") == 1  # only the company-wide order sent a notice
    assert "Company-wide hold" in notified
