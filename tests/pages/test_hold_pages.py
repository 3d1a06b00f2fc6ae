"""Counsel's pages of holds: a custodian's holds across matters, and per order who acknowledged, who is
overdue and who was escalated; a data source shows its steward's confirmation beside its status."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select

from preservation.models import HoldNotice, PreservationOrder
from preservation.services import custodian_notices, custodians, matters, orders, sources, users
from preservation.services.notice_mail import NoticePolicy
from preservation.services.notice_reminders import remind_and_escalate
from preservation.services.unit import Unit, system_clock
from tests.accounts.support import open_session
from tests.clock import FrozenClock
from tests.pages.conftest import SignIn
from tests.pages.support import HOSTILE


@dataclass
class Holds:
    matter_id: int
    order_id: int
    other_order_id: int
    ana: int
    ben: int
    cy: int
    dee: int
    sam: int
    source_id: int


def notice_of(unit: Unit, custodian_id: int, order_id: int) -> HoldNotice:
    return unit.session.scalars(
        select(HoldNotice).where(
            HoldNotice.custodian_id == custodian_id,
            HoldNotice.order_id == order_id,
            HoldNotice.superseded_at.is_(None),
        )
    ).one()


def make_holds(database_url: str) -> Holds:
    """Twelve days ago: notices to Ana (acknowledges) and Dee (never does), Cy held silently, a steward notice to Sam.

    Dee is escalated by the reminder run a week later; Ben was placed after, so he is only overdue.
    """
    now = system_clock()
    clock = FrozenClock(now - dt.timedelta(days=12))
    policy = NoticePolicy(secret="unused-in-pages")
    with open_session(database_url) as session:
        unit = Unit(session=session, actor="user:setup@example.com", clock=clock)
        users.create_user(unit, "lawyer@example.org", "counsel")
        matter = matters.create_matter(unit, {"caption": f"Doe v. Agency {HOSTILE}", "docket_number": "3:26-cv-9"})
        order = orders.create_order(
            unit, matter.id, {"kind": "court_order", "title": "Preserve camera footage", "reaffirm_every_days": 90}
        )
        other = orders.create_order(unit, matter.id, {"kind": "litigation_hold", "title": "Hold on email"})
        boss = custodians.create_custodian(unit, {"name": "Max Manager", "email": "max@example.org"})
        people = {
            name: custodians.create_custodian(
                unit, {"name": f"{name.title()} Person", "email": f"{name}@example.org", "manager_id": boss.id}
            ).id
            for name in ("ana", "dee", "cy", "sam")
        }
        for name in ("ana", "dee", "cy"):
            custodians.place_custodian_hold(unit, order.id, people[name])
        custodians.place_custodian_hold(unit, other.id, people["ana"])
        custodian_notices.issue_notices(unit, order.id, policy, silent_custodian_ids=[people["cy"]])
        source = sources.create_data_source(
            unit,
            {
                "name": "San Ysidro camera archive",
                "kind": "manual",
                "location": "nvr://sy",
                "steward_id": people["sam"],
            },
        )
        custodian_notices.issue_steward_notice(unit, order.id, source.id, policy)
        session.commit()
        clock.advance(hours=2)
        assert custodian_notices.acknowledge(unit, notice_of(unit, people["ana"], order.id))
        session.commit()
        clock.advance(days=7)
        remind_and_escalate(unit, policy)
        ben = custodians.create_custodian(unit, {"name": "Ben Person", "email": "ben@example.org"})
        custodians.place_custodian_hold(unit, order.id, ben.id)
        session.expire_all()
        custodian_notices.issue_notices(unit, order.id, policy, custodian_ids=[ben.id])
        session.commit()
        return Holds(
            matter.id, order.id, other.id, people["ana"], ben.id, people["cy"], people["dee"], people["sam"], source.id
        )


def _row(html: str, row_id: str) -> str:
    start = html.index(f'id="{row_id}"')
    return html[start : html.index("</tr>", start)]


def test_order_page_shows_who_acknowledged_is_overdue_or_was_escalated(sign_in_as: SignIn, database_url: str) -> None:
    holds = make_holds(database_url)
    for role in ("viewer", "auditor", "counsel"):
        page = sign_in_as(role).get(f"/matters/orders/{holds.order_id}/acknowledgements")
        assert page.status_code == 200, role
    html = page.get_data(as_text=True)
    assert HOSTILE not in html
    assert "re-affirmation every 90 days" in html
    rows = html.split('id="hold-')[1:]
    by_name = {row.split("</a>")[0].rsplit(">", 1)[1]: row.split("</tr>")[0] for row in rows}
    assert "acknowledged" in by_name["Ana Person"]
    assert "escalated" in by_name["Dee Person"]
    assert "max@example.org" in by_name["Dee Person"]
    assert "overdue" in by_name["Ben Person"]
    assert "silent" in by_name["Cy Person"]
    assert "awaiting" not in by_name["Sam Person"]  # the steward never confirmed: escalated
    assert "escalated" in by_name["Sam Person"]
    assert html.count('id="notice-') == 5  # Ana, Dee, Cy (silent), the steward's, Ben's


def test_custodian_page_lists_holds_across_matters(sign_in_as: SignIn, database_url: str) -> None:
    holds = make_holds(database_url)
    page = sign_in_as("viewer").get(f"/custodians/{holds.ana}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Preserve camera footage" in html
    assert "Hold on email" in html
    assert "acknowledged" in html
    assert "not notified" in html
    assert f'href="/matters/orders/{holds.other_order_id}/acknowledgements"' in html
    assert sign_in_as("viewer").get("/custodians/999999").status_code == 404
    listing = sign_in_as("viewer").get("/custodians").get_data(as_text=True)
    assert f'href="/custodians/{holds.ana}"' in listing
    assert sign_in_as("viewer").get("/matters/orders/999999/acknowledgements").status_code == 404


def test_order_form_sets_the_reaffirmation_period(sign_in_as: SignIn, database_url: str) -> None:
    holds = make_holds(database_url)
    client = sign_in_as("counsel")
    path = f"/matters/orders/{holds.order_id}/edit"
    form = client.get(path).get_data(as_text=True)
    assert 'name="reaffirm_every_days"' in form
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    assert token is not None
    fields = {"csrf_token": token.group(1), "kind": "court_order", "title": "Preserve camera footage"}
    refused = client.post(path, data=fields | {"reaffirm_every_days": "3"})
    assert refused.status_code == 200  # the form again, with its message
    assert "Number must be between 7 and 366" in refused.get_data(as_text=True)
    assert client.get(f"/matters/orders/{holds.order_id}/acknowledgements").status_code == 200
    with open_session(database_url) as session:
        order = session.get(PreservationOrder, holds.order_id)
        assert order is not None
        assert order.reaffirm_every_days == 90
    saved = client.post(path, data=fields | {"reaffirm_every_days": "30"})
    assert saved.status_code == 303
    with open_session(database_url) as session:
        order = session.get(PreservationOrder, holds.order_id)
        assert order is not None
        assert order.reaffirm_every_days == 30
    turned_off = client.post(path, data=fields | {"reaffirm_every_days": ""})
    assert turned_off.status_code == 303
    with open_session(database_url) as session:
        order = session.get(PreservationOrder, holds.order_id)
        assert order is not None
        assert order.reaffirm_every_days is None
