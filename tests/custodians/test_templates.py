"""Notice templates: sandboxed, checked when saved, versioned; a notice keeps the version it was issued with.
Names with HTML in them are escaped on the page and sent as plain text in the email."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.domain.errors import FieldError
from preservation.models import Alert, HoldNotice, PreservationOrder
from preservation.services import custodian_notices, custodians, notice_links, notice_templates, sources
from preservation.services.notice_mail import NoticePolicy
from preservation.services.unit import Unit
from tests.conftest import ApiClient
from tests.custodians.conftest import SECRET, World, json_of, make_world

ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ matter.__class__ }}",
    "{{ matter.caption.__class__.__base__ }}",
    "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ obligations.append(1) }}",
    "{{ custodian.update(name='x') }}",
    "{{ config }}",
    "{{ request }}",
]


@pytest.mark.parametrize("body", ESCAPES)
def test_sandbox_escapes_are_refused_at_save_time(frozen: Unit, body: str) -> None:
    with pytest.raises(FieldError) as refused:
        notice_templates.save_template(frozen, "hold-notice", "hold", "Hold", body)
    assert "cannot be rendered" in refused.value.message


@pytest.mark.parametrize(
    ("subject", "body", "field"),
    [
        ("Hold {{ matter.caption", "ok", "subject"),
        ("Hold", "{% for o in obligations %}{{ o.description }}", "body"),
        ("Hold", "{{ matter.caption | nosuchfilter }}", "body"),
        ("Hold", "{{ unknown_variable }}", "body"),
        ("Hold", "{% if %}{% endif %}", "body"),
    ],
)
def test_broken_templates_are_refused_at_save_time(frozen: Unit, subject: str, body: str, field: str) -> None:
    with pytest.raises(FieldError) as refused:
        notice_templates.save_template(frozen, "hold-notice", "hold", subject, body)
    assert field in refused.value.fields


def test_api_refuses_a_template_escape(api: ApiClient) -> None:
    answer = api.post(
        "/api/v1/notice-templates",
        json={"name": "x", "kind": "hold", "subject": "s", "body": "{{ ''.__class__.__mro__ }}"},
    )
    assert answer.status_code == 422
    assert "body" in json_of(answer)["fields"]
    assert json_of(api.get("/api/v1/notice-templates"))["items"] == []


def test_versions_are_kept_and_a_notice_keeps_its_version(frozen: Unit, world: World, policy: NoticePolicy) -> None:
    first = notice_templates.save_template(
        frozen, "camera", "hold", "Hold for {{ custodian.name }}", "Keep {{ obligations[0].description }}."
    )
    custodians.place_custodian_hold(frozen, world.order_id, world.ana.id)
    [notice] = custodian_notices.issue_notices(frozen, world.order_id, policy, template_id=first.id)
    second = notice_templates.save_template(frozen, "camera", "hold", "New hold {{ due_date }}", "Changed wording.")
    assert (first.version, second.version) == (1, 2)
    assert notice.template_version == 1
    assert notice.body == "Keep San Ysidro camera archive, Sept. 2026."
    assert notice.subject == "Hold for Ana Agent"
    # A re-issue with the new version supersedes the old notice; both stay on record.
    [reissued] = custodian_notices.issue_notices(frozen, world.order_id, policy, template_id=second.id)
    frozen.session.commit()
    assert reissued.subject == "New hold 2027-03-15"
    assert notice.superseded_by_id == reissued.id
    history = frozen.session.scalars(select(HoldNotice).order_by(HoldNotice.id)).all()
    assert [(n.template_version, n.superseded_at is not None) for n in history] == [(1, True), (2, False)]
    assert notice.body == "Keep San Ysidro camera archive, Sept. 2026."


def test_a_superseding_order_needs_new_acknowledgements(frozen: Unit, world: World, policy: NoticePolicy) -> None:
    from preservation.services import orders  # noqa: PLC0415

    custodians.place_custodian_hold(frozen, world.order_id, world.ana.id)
    [old] = custodian_notices.issue_notices(frozen, world.order_id, policy)
    assert custodian_notices.acknowledge(frozen, old)
    modified = orders.create_order(
        frozen, world.matter_id, {"kind": "court_order", "title": "Amended order", "supersedes_id": world.order_id}
    )
    [new] = custodian_notices.issue_notices(frozen, modified.id, policy)
    frozen.session.commit()
    assert new.custodian_id == world.ana.id
    assert new.hold.order_id == modified.id
    assert new.hold.status == "notified"
    assert new.acknowledged_at is None
    # The old acknowledgement stays on record, superseded by the new notice.
    assert old.acknowledged_at is not None
    assert old.superseded_by_id == new.id


def test_html_in_names_is_escaped_on_the_page_and_plain_in_the_email(
    client: FlaskClient, frozen: Unit, world: World, policy: NoticePolicy
) -> None:
    evil = custodians.create_custodian(frozen, {"name": "<script>alert(1)</script> Eve", "email": "eve@example.org"})
    custodians.place_custodian_hold(frozen, world.order_id, evil.id)
    world_order = world.order_id
    [notice] = custodian_notices.issue_notices(frozen, world_order, policy)
    frozen.session.commit()
    token = notice_links.sign(SECRET, notice)
    email = frozen.session.scalars(select(Alert).where(Alert.dedupe_key == f"notice:{notice.id}")).one()
    assert "Dear <script>alert(1)</script> Eve" in email.body  # plain text: shown as written, never run
    frozen.session.rollback()
    html = client.get(f"/notices/{token}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Eve" in html


def test_every_variable_a_notice_gets_is_accepted_at_save_time(
    frozen: Unit, world: World, policy: NoticePolicy
) -> None:
    from preservation.services import orders  # noqa: PLC0415

    body = (
        "In force from {{ order.effective_on }}. "
        "{% for o in obligations %}{{ o.description }} until {{ o.preserve_until }}.{% endfor %}"
    )
    saved = notice_templates.save_template(frozen, "dated", "hold", "Hold", body)
    orders.update_order(frozen, world.order_id, {"effective_on": dt.date(2027, 2, 20)})
    custodians.place_custodian_hold(frozen, world.order_id, world.ana.id)
    [notice] = custodian_notices.issue_notices(frozen, world.order_id, policy, template_id=saved.id)
    assert notice.body == "In force from 2027-02-20. San Ysidro camera archive, Sept. 2026 until None."


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("hold", "{{ source.name }}"),
        ("hold", "{% for hold in remaining %}{{ hold.order }}{% endfor %}"),
        ("steward", "{% for hold in remaining %}{{ hold.order }}{% endfor %}"),
        ("release", "{{ source.location }}"),
    ],
)
def test_a_variable_of_another_kind_of_notice_is_refused_at_save_time(frozen: Unit, kind: str, body: str) -> None:
    with pytest.raises(FieldError) as refused:
        notice_templates.save_template(frozen, f"{kind}-x", kind, "Notice", body)
    assert "UndefinedError" in refused.value.message


@pytest.mark.parametrize("body", ["{{ 1 / 0 }}", "{{ order.title + 1 }}", "{{ '%d' % order.title }}"])
def test_python_errors_in_a_template_are_refused_at_save_time(frozen: Unit, body: str) -> None:
    with pytest.raises(FieldError) as refused:
        notice_templates.save_template(frozen, "broken", "hold", "Hold", body)
    assert "cannot be rendered" in refused.value.message


def _shape(context: dict[str, Any]) -> dict[str, Any]:
    """The names in a notice context, with the field names of each record (and of a list's first record)."""
    shape: dict[str, Any] = {}
    for name, value in context.items():
        record = (value[0] if value else None) if isinstance(value, list) else value
        shape[name] = sorted(record) if isinstance(record, dict) else None
    return shape


@pytest.mark.parametrize("kind", ["hold", "steward", "release"])
def test_the_save_check_sees_exactly_the_variables_a_notice_gets(frozen: Unit, world: World, kind: str) -> None:
    source = sources.create_data_source(
        frozen, {"name": "Archive", "kind": "manual", "location": "nvr://a", "steward_id": world.ben.id}
    )
    order = frozen.session.get(PreservationOrder, world.order_id)
    other = frozen.session.get(PreservationOrder, world.other_order_id)
    assert order is not None
    assert other is not None
    issued = notice_templates.notice_context(
        kind,
        order,
        world.ana,
        source=source if kind == "steward" else None,
        remaining=[other] if kind == "release" else (),
    )
    assert _shape(notice_templates.sample_context(kind)) == _shape(issued)


def test_a_template_that_fails_when_issued_is_refused_and_changes_nothing(api: ApiClient, session: Session) -> None:
    world = make_world(Unit(session=session, actor="test"))
    custodians.place_custodian_hold(Unit(session=session, actor="test"), world.other_order_id, world.ana.id)
    session.commit()
    order_id = world.other_order_id  # an order with no obligations
    session.rollback()
    saved = api.post(
        "/api/v1/notice-templates",
        json={"name": "first", "kind": "hold", "subject": "Hold", "body": "Keep {{ obligations[0].description }}."},
    )
    assert saved.status_code == 201, saved.get_data(as_text=True)
    template_id = json_of(saved)["id"]
    answer = api.post(f"/api/v1/orders/{order_id}/notices", json={"template_id": template_id})
    assert answer.status_code == 422, answer.get_data(as_text=True)
    refusal = json_of(answer)
    assert "template_id" in refusal["fields"]
    assert "cannot be rendered" in refusal["message"]
    assert "UndefinedError" in refusal["message"]
    assert json_of(api.get(f"/api/v1/orders/{order_id}/notices"))["items"] == []
    assert [h["status"] for h in json_of(api.get(f"/api/v1/orders/{order_id}/custodians"))["items"]] == ["pending"]
    assert session.scalars(select(Alert)).all() == []


def test_a_release_template_that_fails_is_refused_and_the_job_goes_on(
    frozen: Unit, world: World, policy: NoticePolicy
) -> None:
    from preservation.services import orders  # noqa: PLC0415
    from preservation.services.notice_reminders import remind_and_escalate  # noqa: PLC0415

    custodians.place_custodian_hold(frozen, world.other_order_id, world.ana.id)
    custodian_notices.issue_notices(frozen, world.other_order_id, policy)
    notice_templates.save_template(
        frozen, "release-notice", "release", "Released", "Was due {{ obligations[0].due_on }}."
    )
    frozen.session.commit()
    with pytest.raises(FieldError) as refused:
        custodian_notices.release_custodian(frozen, world.other_order_id, world.ana.id, "not involved")
    assert "cannot be rendered" in refused.value.message
    frozen.session.rollback()
    # Released with the order instead: the job cannot write the notice, says so, and still does the rest.
    orders.release_order(frozen, world.other_order_id, "settled")
    run = remind_and_escalate(frozen, policy)
    hold_id = frozen.session.scalars(select(HoldNotice.hold_id)).one()
    assert run.release_failures == [hold_id]
    assert run.release_notices == 0
    assert frozen.session.scalars(select(HoldNotice).where(HoldNotice.kind == "release")).all() == []
