"""Access to the pages, proved over the whole URL map rather than page by page.

Every rule outside /api/ is walked: anonymous visitors are sent to sign in (the public allowlist aside),
each role gets its page or 403 as the rule says, and a form sent without its CSRF token gets 400 and
changes nothing. A page added later is walked without anyone listing it; its URL parameters are filled
with the ids of rows of a populated database, found by the parameter's name.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule

from preservation.db import Base
from preservation.domain.vocabulary import USER_ROLES
from preservation.models import AuditEvent, HoldNotice, User
from preservation.services import notice_links, users
from preservation.services.unit import Unit
from preservation.web.access import rule_for
from tests.accounts.support import csrf_token, make_person, open_session
from tests.pages.conftest import SignIn
from tests.pages.support import HOSTILE, populate, populate_hostile

READERS = frozenset(USER_ROLES)
WRITERS = frozenset({"admin", "counsel"})
# Adding to this set is a security decision: say why next to the entry.
PUBLIC_PAGES = {
    "health.index",
    "health.livez",
    "health.readyz",
    "static",
    # Signing in cannot require being signed in.
    "auth.sign_in",
    "auth.second_factor",
    # A custodian opens their notice from a signed, expiring, single-purpose link, without an account.
    "notices.show",
    "notices.acknowledge",
    "notices.question",
}
# By default a page that only shows something is for every role, and a page that takes a form is for counsel and
# admins. These differ, and each is a security decision too; the walk checks them against this list, not only
# against what the views declare.
EXPECTED_ROLES: dict[str, frozenset[str]] = {
    # The audit trail and its export are for auditors and admins (the issue's rule).
    "dashboard.audit": frozenset({"admin", "auditor"}),
    "dashboard.audit_export": frozenset({"admin", "auditor"}),
    # Users, their roles and their sign-in are the admin's alone.
    "admin.users": frozenset({"admin"}),
    "admin.disable": frozenset({"admin"}),
    "admin.enable": frozenset({"admin"}),
    "admin.set_role": frozenset({"admin"}),
    # The preservation plan shows what would be written to the storage itself, as a step before doing it.
    "source_pages.preservation_plan": WRITERS,
    # The outbox holds custodians' personal notice links.
    "outbox_pages.outbox": WRITERS,
    # Everyone manages their own account, second factor, tokens and sessions, and signs themselves out.
    "account.mfa": READERS,
    "account.replace_recovery_codes": READERS,
    "account.change_password": READERS,
    "account.end_other_sessions": READERS,
    "account.issue_token": READERS,
    "account.revoke_token": READERS,
    "auth.sign_out": READERS,
    # Acknowledging an alert records who read it; viewers read alerts too (auditors only look).
    "dashboard.acknowledge_alert": frozenset({"admin", "counsel", "viewer"}),
}
# Pages that let the role in but answer otherwise than 200 on the populated database.
OTHER_ANSWERS = {"dashboard.audit_export": 409}  # no signed checkpoint yet
# Sending this form ends the session the walk signs in with; signing out is tested on its own.
ENDS_THE_WALK = {"auth.sign_out"}
# Values of URL parameters that do not name a row.
TEXT_VALUES = {"filename": "style.css", "token": "not-a-notice-link"}
MISSING_ID = 987_654
# What the page refusing a form without its CSRF token says (forms refusing their input answer 400 too).
CSRF_REFUSAL = "did not come from this site"


def _page_routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    """Every (rule, method) outside the API, leaving out the HEAD and OPTIONS Flask adds itself."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def _signed_in_routes(app: Flask, method: str) -> list[tuple[Rule, str]]:
    return [(rule, m) for rule, m in _page_routes(app) if m == method and rule.endpoint not in PUBLIC_PAGES]


def _default_roles(app: Flask, endpoint: str) -> frozenset[str]:
    methods = {method for rule in app.url_map.iter_rules(endpoint) for method in rule.methods or set()}
    return WRITERS if "POST" in methods else READERS


def _expected_roles(app: Flask, endpoint: str) -> frozenset[str]:
    """The roles this list says may use the page."""
    return EXPECTED_ROLES.get(endpoint) or _default_roles(app, endpoint)


def _table_of(argument: str) -> str | None:
    """The table whose ids a parameter like `source_id` names: `sources`, else the shortest name ending `_sources`."""
    kind = argument.removesuffix("_id")
    if kind == argument:
        return None
    names = set(Base.metadata.tables)
    if f"{kind}s" in names:
        return f"{kind}s"
    # data_sources rather than obligation_data_sources, which links two of them.
    endings = sorted((name for name in names if name.endswith(f"_{kind}s")), key=len)
    return endings[0] if endings else None


def _row_ids(app: Flask, database_url: str) -> dict[str, int]:
    """For every id parameter of the pages, the smallest id of its table (parameters without rows are left out)."""
    found: dict[str, int] = {}
    with open_session(database_url) as session:
        for rule, _ in _page_routes(app):
            for argument in rule.arguments:
                table_name = _table_of(argument)
                if table_name is None or argument in found:
                    continue
                table = Base.metadata.tables[table_name]
                smallest = session.scalar(select(func.min(table.c.id)))
                if smallest is not None:
                    found[argument] = int(smallest)
    return found


def _url(app: Flask, rule: Rule, ids: dict[str, int]) -> str:
    values = {name: TEXT_VALUES.get(name, ids.get(name, MISSING_ID)) for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def _populate(database_url: str, copies: int) -> dict[str, int]:
    """The page data, and a user with an API token, so the account and admin pages have rows to name too."""
    ids = populate(database_url, copies)
    person = make_person(database_url, "owner@example.com", "viewer")
    with open_session(database_url) as session:
        owner = session.get(User, person.id)
        assert owner is not None
        users.issue_token(Unit(session=session, actor="cli"), owner, "walk")
        session.commit()
    return ids


def _audit_events(database_url: str) -> int:
    with open_session(database_url) as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


# What the views declare ------------------------------------------------------------------------------


def test_the_walk_has_pages_of_every_kind_to_check(app: Flask) -> None:
    """Guards the walks below against passing vacuously."""
    assert len(_signed_in_routes(app, "GET")) >= 25
    assert len(_signed_in_routes(app, "POST")) >= 20
    endpoints = {rule.endpoint for rule, _ in _page_routes(app)}
    assert {"source_pages.preservation_plan", "dashboard.audit_export", "admin.set_role"} <= endpoints


def test_exactly_the_allowlisted_pages_are_public(app: Flask) -> None:
    with app.app_context():
        public = {rule.endpoint for rule, _ in _page_routes(app) if getattr(rule_for(rule.endpoint), "public", False)}
    assert public == PUBLIC_PAGES


def test_every_page_declares_the_roles_this_list_expects(app: Flask) -> None:
    differing = {}
    with app.app_context():
        for rule, _ in _page_routes(app):
            if rule.endpoint in PUBLIC_PAGES:
                continue
            declared = rule_for(rule.endpoint)
            assert declared is not None, rule.endpoint
            if declared.roles != _expected_roles(app, rule.endpoint):
                differing[rule.endpoint] = sorted(declared.roles)
    assert differing == {}, "list the page in EXPECTED_ROLES, with the reason, if the rule is meant"


def test_every_url_parameter_of_a_page_is_filled_from_the_database(app: Flask, database_url: str) -> None:
    _populate(database_url, 1)
    ids = _row_ids(app, database_url)
    for rule, _ in _page_routes(app):
        for argument in rule.arguments:
            assert argument in ids or argument in TEXT_VALUES, (rule.rule, argument)


# The walks -------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in_from_every_page(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client, "/auth/sign-in")
    for rule, method in _signed_in_routes(app, "GET") + _signed_in_routes(app, "POST"):
        path = _url(app, rule, {})
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 303, (method, rule.rule, response.status_code)
        expected = f"/auth/sign-in?next={path}" if method == "GET" else "/auth/sign-in"
        assert response.headers["Location"] == expected, (method, rule.rule)


@pytest.mark.parametrize("role", USER_ROLES)
def test_every_role_gets_exactly_the_pages_its_rule_allows(
    app: Flask, sign_in_as: SignIn, database_url: str, role: str
) -> None:
    _populate(database_url, 2)
    client = sign_in_as(role)
    ids = _row_ids(app, database_url)
    for rule, _ in _signed_in_routes(app, "GET"):
        response = client.get(_url(app, rule, ids))
        if role not in _expected_roles(app, rule.endpoint):
            expected = 403
        elif not all(name in ids for name in rule.arguments):
            expected = 404  # let in, but no row of that kind exists here
        else:
            expected = OTHER_ANSWERS.get(rule.endpoint, 200)
        assert response.status_code == expected, (role, rule.rule, response.status_code)
        assert response.mimetype == "text/html", (role, rule.rule, response.mimetype)


@pytest.mark.parametrize("role", USER_ROLES)
def test_every_form_refuses_the_roles_its_rule_leaves_out_and_changes_nothing(
    app: Flask, sign_in_as: SignIn, database_url: str, role: str
) -> None:
    """With a good CSRF token: a refused role gets 403; an allowed one is let in (to rows that do not exist)."""
    ids = _populate(database_url, 1)
    client = sign_in_as(role)
    real_ids = _row_ids(app, database_url)
    token = csrf_token(client, "/account")
    before = _audit_events(database_url)
    for rule, method in _signed_in_routes(app, "POST"):
        if role in _expected_roles(app, rule.endpoint):
            continue
        response = client.open(_url(app, rule, real_ids), method=method, data={"csrf_token": token, "caption": "X"})
        assert response.status_code == 403, (role, rule.rule, response.status_code)
    assert _audit_events(database_url) == before
    assert "Acme v. Widget 0" in client.get(f"/matters/{ids['matter']}").get_data(as_text=True)
    for rule, method in _signed_in_routes(app, "POST"):
        if role not in _expected_roles(app, rule.endpoint) or rule.endpoint in ENDS_THE_WALK:
            continue
        response = client.open(_url(app, rule, {}), method=method, data={"csrf_token": token})
        assert response.status_code != 403, (role, rule.rule)
        assert CSRF_REFUSAL not in response.get_data(as_text=True), (role, rule.rule)
        location = response.headers.get("Location", "")
        assert not location.startswith(("/auth/sign-in", "/account/mfa")), (role, rule.rule, location)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "admin"])
def test_every_form_sent_without_its_csrf_token_gets_400_and_changes_nothing(
    app: Flask, client: FlaskClient, sign_in_as: SignIn, database_url: str, signed_in: bool
) -> None:
    _populate(database_url, 1)
    browser = sign_in_as("admin") if signed_in else client
    ids = _row_ids(app, database_url)
    before = _audit_events(database_url)
    posts = [(rule, method) for rule, method in _page_routes(app) if method == "POST"]
    for rule, method in posts:
        response = browser.open(_url(app, rule, ids), method=method, data={"caption": "Changed", "reason": "x"})
        assert response.status_code == 400, (rule.rule, response.status_code)
        assert CSRF_REFUSAL in response.get_data(as_text=True), rule.rule
    assert _audit_events(database_url) == before
    if signed_in:
        assert browser.get("/account").status_code == 200  # still signed in: sign-out was refused too


def test_what_people_typed_is_escaped_on_every_page(app: Flask, sign_in_as: SignIn, database_url: str) -> None:
    """HOSTILE in every free-text field, a user's name and a token's name; every page shows it as text."""
    populate_hostile(database_url)
    make_person(database_url, "hostile-user@example.com", "viewer", display_name=HOSTILE)
    client = sign_in_as("admin")
    with open_session(database_url) as session:
        admin = session.scalars(select(User).where(User.email == "admin@example.com")).one()
        users.issue_token(Unit(session=session, actor="cli"), admin, HOSTILE)
        notice = session.scalars(select(HoldNotice)).first()
        assert notice is not None
        notice_path = f"/notices/{notice_links.sign(app.extensions['preservation'].settings.secret_key, notice)}"
        session.commit()
    ids = _row_ids(app, database_url)
    escaped_on = set()
    paths = {rule.endpoint: _url(app, rule, ids) for rule, _ in _signed_in_routes(app, "GET")}
    paths["notices.show"] = notice_path
    for endpoint, path in paths.items():
        response = client.get(path)
        assert response.status_code in {200, 409}, (path, response.status_code)
        page = response.get_data(as_text=True)
        assert "<script>alert" not in page, path
        if "&lt;script&gt;alert" in page:
            escaped_on.add(endpoint)
    shown_on = {
        "dashboard.overview",
        "dashboard.alert_list",
        "dashboard.audit",
        "matter_pages.matter",
        "matter_pages.matter_list",
        "matter_pages.edit_matter",
        "matter_pages.edit_order",
        "matter_pages.edit_obligation",
        "matter_pages.order_acknowledgements",
        "matter_pages.place_hold",
        "source_pages.source",
        "source_pages.preservation_plan",
        "source_pages.source_list",
        "source_pages.edit_source",
        "custodian_pages.custodian",
        "custodian_pages.custodian_list",
        "custodian_pages.edit_custodian",
        "admin.users",
        "account.index",
        "notices.show",
    }
    assert shown_on - escaped_on == set()
