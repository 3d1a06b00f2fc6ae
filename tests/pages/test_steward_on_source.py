"""A data source shows its steward's confirmation beside its status, in the API and on its page."""

from __future__ import annotations

import json

from sqlalchemy import select

from preservation.models import AuditEvent
from preservation.services import custodian_notices
from preservation.services.unit import Unit
from tests.accounts.support import open_session
from tests.conftest import ApiClient
from tests.pages.conftest import SignIn
from tests.pages.test_hold_pages import make_holds, notice_of


def test_steward_confirmation_shows_on_the_source_without_changing_its_status(
    sign_in_as: SignIn, api: ApiClient, database_url: str
) -> None:
    holds = make_holds(database_url)
    body = api.get(f"/api/v1/data-sources/{holds.source_id}").get_json()
    assert body["status"] == "unchecked"
    assert body["steward_notice"]["state"] == "escalated"
    assert body["steward_notice"]["confirmed_at"] is None
    page = sign_in_as("viewer").get(f"/sources/{holds.source_id}").get_data(as_text=True)
    assert "Steward notices" in page
    assert "escalated" in page

    with open_session(database_url) as session:
        unit = Unit(session=session, actor="custodian:sam@example.org")
        notice = notice_of(unit, holds.sam, holds.order_id)
        assert notice.kind == "steward"
        assert custodian_notices.acknowledge(unit, notice)
        session.commit()
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "data_source.steward_confirmed", AuditEvent.subject_id == str(holds.source_id)
            )
        ).one()
        assert json.loads(event.details)["notice_id"] == notice.id

    body = api.get(f"/api/v1/data-sources/{holds.source_id}").get_json()
    assert body["status"] == "unchecked"  # the steward's word is recorded beside the status, not as it
    assert body["steward_notice"]["state"] == "confirmed"
    assert body["steward_notice"]["confirmed_at"] is not None
    assert [n["state"] for n in body["steward_notice"]["notices"]] == ["confirmed"]
    listed = api.get("/api/v1/data-sources").get_json()["items"]
    assert [s["steward_notice"]["state"] for s in listed if s["id"] == holds.source_id] == ["confirmed"]
    page = sign_in_as("viewer").get(f"/sources/{holds.source_id}").get_data(as_text=True)
    assert "Last confirmed that auto-deletion is suspended" in page

    # Once the order is released, no steward notice binds the source any more; the confirmation stays on record.
    assert api.post(f"/api/v1/orders/{holds.order_id}/release", json={"reason": "settled"}).status_code == 200
    body = api.get(f"/api/v1/data-sources/{holds.source_id}").get_json()
    assert body["steward_notice"]["state"] == "none"
    assert body["steward_notice"]["confirmed_at"] is not None
