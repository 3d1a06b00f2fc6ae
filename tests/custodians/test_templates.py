"""Notice templates: sandboxed, checked when saved, versioned; a notice keeps the version it was issued with.
Names with HTML in them are escaped on the page and sent as plain text in the email."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from preservation.domain.errors import FieldError
from preservation.models import Alert, HoldNotice
from preservation.services import custodian_notices, custodians, notice_links, notice_templates
from preservation.services.notice_mail import NoticePolicy
from preservation.services.unit import Unit
from tests.conftest import ApiClient
from tests.custodians.conftest import SECRET, World, json_of

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
