"""An order's re-affirmation period through the API: set, bounded, turned off; bad input changes nothing."""

from __future__ import annotations

from preservation.services.unit import Unit
from tests.conftest import ApiClient
from tests.custodians.conftest import World, json_of


def test_reaffirmation_period_through_the_order_api(api: ApiClient, frozen: Unit, world: World) -> None:
    order_id, matter_id = world.order_id, world.matter_id
    frozen.session.rollback()
    changed = api.patch(f"/api/v1/orders/{order_id}", json={"reaffirm_every_days": 90})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert json_of(changed)["reaffirm_every_days"] == 90
    for bad in (0, 6, 367, "90", 90.5, True):
        refused = api.patch(f"/api/v1/orders/{order_id}", json={"reaffirm_every_days": bad})
        assert refused.status_code in (400, 422), (bad, refused.get_data(as_text=True))
        assert "reaffirm_every_days" in json_of(refused)["fields"]
    assert json_of(api.get(f"/api/v1/orders/{order_id}"))["reaffirm_every_days"] == 90
    off = api.patch(f"/api/v1/orders/{order_id}", json={"reaffirm_every_days": None})
    assert json_of(off)["reaffirm_every_days"] is None
    created = api.post(
        f"/api/v1/matters/{matter_id}/orders",
        json={"kind": "litigation_hold", "title": "Quarterly hold", "reaffirm_every_days": 91},
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert json_of(created)["reaffirm_every_days"] == 91
    refused = api.post(
        f"/api/v1/matters/{matter_id}/orders",
        json={"kind": "litigation_hold", "title": "Daily hold", "reaffirm_every_days": 1},
    )
    assert refused.status_code in (400, 422)
    titles = [o["title"] for o in json_of(api.get(f"/api/v1/matters/{matter_id}/orders"))["items"]]
    assert "Daily hold" not in titles
