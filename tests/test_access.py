"""Access control, proved over the whole URL map rather than route by route.

Every endpoint must declare a rule; only an explicit allowlist may be public; the API answers 401
to anyone without a valid token (unknown, expired, revoked, or of a disabled user), 403 to readers
who try to write, and lets counsel and admins write. Security headers are on every answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from preservation.models import ApiToken, AuditEvent, User
from preservation.services import users
from preservation.services.unit import Unit
from preservation.web.access import rule_for
from tests.conftest import ApiClient

# Adding to this set is a security decision: say why next to the entry.
PUBLIC_ENDPOINTS = {
    "health.index",
    "health.livez",
    "health.readyz",
    "static",
    "api-docs.openapi_json",
    # Signing in cannot require being signed in; the pages answer only the sign-in forms.
    "auth.sign_in",
    "auth.second_factor",
    # A custodian opens their notice from a signed, expiring, single-purpose link, without an account.
    "notices.show",
    "notices.acknowledge",
    "notices.question",
    # Calendar apps cannot sign in: the feed is opened by a revocable secret in its URL.
    "calendar.calendar_feed",
}
# API routes whose roles differ from the rule of the issue (any role reads; counsel and admin write).
# Adding to either set is a security decision too.
RESTRICTED_READS = {
    # Verifying and exporting the whole trail is for auditors and admins.
    "audit.verify_audit_trail",
    "audit.export_audit_trail",
}
RESTRICTED_WRITES: set[str] = set()
# Writes that touch only what belongs to the caller, or record that they read something: open to readers.
PERSONAL_WRITES = {
    # Everyone may subscribe their own calendar to the deadlines, and revoke their own feed.
    "calendar.issue_calendar_feed",
    "calendar.revoke_calendar_feed",
    # Acknowledging an alert records who read it; viewers read alerts too (auditors only look).
    "scheduling.acknowledge_alert",
}
# Reads that let the caller in but answer otherwise than 200 on a database with just the `records`.
OTHER_ANSWERS = {
    "audit.export_audit_trail": 409,  # no signed checkpoint yet
    "scheduling.court_days": 422,  # `from` and `days` are required query arguments
}
READ_METHODS = {"GET"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ROLES = ("admin", "counsel", "viewer", "auditor")
# Which record each path parameter of the API names; the `records` fixture creates one of each.
ID_KINDS = {
    "matter_id": "matter",
    "order_id": "order",
    "obligation_id": "obligation",
    "source_id": "source",
    "custodian_id": "custodian",
}
MISSING_ID = 987_654


def _routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    """Every (rule, method) the app answers, leaving out the HEAD and OPTIONS Flask adds itself."""
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def _api_routes(app: Flask, methods: set[str]) -> list[tuple[Rule, str]]:
    """API routes behind a token (the public ones are covered by the allowlist test)."""
    return [
        (rule, method)
        for rule, method in _routes(app)
        if rule.rule.startswith("/api/v1/") and method in methods and rule.endpoint not in PUBLIC_ENDPOINTS
    ]


def _endpoints_without_rule(app: Flask) -> set[str]:
    with app.app_context():
        return {rule.endpoint for rule in app.url_map.iter_rules() if rule_for(rule.endpoint) is None}


def _url(app: Flask, rule: Rule, ids: dict[str, int]) -> str:
    """The rule's path with each id taken from `ids` by the kind of record it names (MISSING_ID if none)."""
    values = {name: ids.get(ID_KINDS.get(name, ""), MISSING_ID) for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def _roles_of(app: Flask, rule: Rule) -> frozenset[str]:
    with app.app_context():
        declared = rule_for(rule.endpoint)
    assert declared is not None
    return declared.roles


def _ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


@pytest.fixture
def records(api: ApiClient) -> dict[str, int]:
    """One record of each kind, so every read route with an id has something to return."""
    matter = _ok(api.post("/api/v1/matters", {"caption": "Al Otro Lado, Inc. v. Nielsen"}))["id"]
    order = _ok(api.post(f"/api/v1/matters/{matter}/orders", {"kind": "court_order", "title": "POE video"}))["id"]
    obligation = _ok(api.post(f"/api/v1/orders/{order}/obligations", {"description": "Keep San Ysidro video"}))["id"]
    custodian = _ok(api.post("/api/v1/custodians", {"name": "CCTV administrator", "email": "cctv@example.org"}))["id"]
    source = _ok(api.post("/api/v1/data-sources", {"name": "Video", "kind": "s3", "location": "s3://poe-video/"}))["id"]
    return {"matter": matter, "order": order, "obligation": obligation, "custodian": custodian, "source": source}


def _bearer(api: ApiClient, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.tokens[role]}"}


def _audit_events(session: Session) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(AuditEvent))
    session.commit()  # end the read transaction, so no lock is held while the app writes
    return int(count or 0)


# The URL map -----------------------------------------------------------------------------------------


def test_every_endpoint_declares_an_access_rule(app: Flask) -> None:
    assert _endpoints_without_rule(app) == set()


def test_exactly_the_allowlisted_endpoints_are_public(app: Flask) -> None:
    with app.app_context():
        public = {rule.endpoint for rule in app.url_map.iter_rules() if rule_for(rule.endpoint).public}  # type: ignore[union-attr]
    assert public == PUBLIC_ENDPOINTS


def test_a_route_without_a_rule_is_caught_and_refused_to_everyone(app: Flask, tokens: dict[str, str]) -> None:
    app.add_url_rule("/api/v1/forgotten", "forgotten", lambda: {"secret": "data"})

    assert _endpoints_without_rule(app) == {"forgotten"}
    response = app.test_client().get("/api/v1/forgotten", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


def test_the_api_has_read_and_write_routes_to_check(app: Flask) -> None:
    """Guards the walks below against an empty URL map passing them vacuously."""
    assert len(_api_routes(app, READ_METHODS)) >= 12
    assert len(_api_routes(app, WRITE_METHODS)) >= 14


# Anonymous and bad credentials -----------------------------------------------------------------------


def test_anonymous_gets_401_with_a_challenge_on_every_api_route(app: Flask, api: ApiClient) -> None:
    for rule, method in _api_routes(app, READ_METHODS | WRITE_METHODS):
        response = api.client.open(_url(app, rule, {}), method=method, json={})
        assert response.status_code == 401, (method, rule.rule)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, rule.rule)
        assert response.get_json()["code"] == "unauthenticated"


@pytest.mark.parametrize(
    "header",
    [
        "Basic YWRtaW46YWRtaW4=",
        "Bearer",
        "Bearer ",
        "Bearer pt_not-a-token-anyone-was-given",
        "Bearer " + "x" * 500,
        "pt_a-token-without-a-scheme",
    ],
)
def test_malformed_or_unknown_credentials_get_401(client: Any, header: str) -> None:
    response = client.get("/api/v1/matters", headers={"Authorization": header})
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_an_expired_token_gets_401(client: Any, session: Session, tokens: dict[str, str]) -> None:
    user = session.scalars(select(User).where(User.email == "admin@example.org")).one()
    now = dt.datetime.now(dt.UTC)
    issued_long_ago = Unit(session=session, actor="cli", clock=lambda: now - dt.timedelta(days=2))
    _, expired = users.issue_token(issued_long_ago, user, "old", dt.timedelta(days=1))
    _, current = users.issue_token(Unit(session=session, actor="cli"), user, "new", dt.timedelta(days=1))
    session.commit()

    assert client.get("/api/v1/matters", headers={"Authorization": f"Bearer {current}"}).status_code == 200
    response = client.get("/api/v1/matters", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_a_revoked_token_gets_401(client: Any, session: Session, tokens: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {tokens['counsel']}"}
    assert client.get("/api/v1/matters", headers=headers).status_code == 200

    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == users.hash_token(tokens["counsel"]))).one()
    token.revoked_at = dt.datetime.now(dt.UTC)
    session.commit()

    response = client.get("/api/v1/matters", headers=headers)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    # Other users' tokens are untouched.
    assert client.get("/api/v1/matters", headers={"Authorization": f"Bearer {tokens['viewer']}"}).status_code == 200


def test_the_token_of_a_disabled_user_gets_401(client: Any, session: Session, tokens: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    assert client.get("/api/v1/matters", headers=headers).status_code == 200

    session.scalars(select(User).where(User.email == "admin@example.org")).one().is_active = False
    session.commit()

    for path in ("/api/v1/matters", "/api/v1/audit/events"):
        response = client.get(path, headers=headers)
        assert response.status_code == 401
        assert "WWW-Authenticate" in response.headers
    assert client.post("/api/v1/matters", json={"caption": "X v. Y"}, headers=headers).status_code == 401


# Roles -----------------------------------------------------------------------------------------------


def test_the_declared_rules_let_every_role_read_and_only_counsel_and_admin_write(app: Flask) -> None:
    for rule, _ in _api_routes(app, WRITE_METHODS):
        roles = _roles_of(app, rule)
        if rule.endpoint in PERSONAL_WRITES:
            assert {"admin", "counsel"} <= roles, rule.endpoint
            continue
        assert not roles & {"viewer", "auditor"}, rule.endpoint
        if rule.endpoint not in RESTRICTED_WRITES:
            assert roles == {"admin", "counsel"}, rule.endpoint
    for rule, _ in _api_routes(app, READ_METHODS):
        if rule.endpoint not in RESTRICTED_READS:
            assert _roles_of(app, rule) == set(ROLES), rule.endpoint


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_exactly_the_reads_its_rule_allows(
    app: Flask, api: ApiClient, records: dict[str, int], role: str
) -> None:
    for rule, method in _api_routes(app, READ_METHODS):
        response = api.client.open(_url(app, rule, records), method=method, headers=_bearer(api, role))
        if role not in _roles_of(app, rule):
            expected = 403
        elif not all(name in ID_KINDS for name in rule.arguments):
            expected = 404  # let in, but no record of that kind exists here
        else:
            expected = OTHER_ANSWERS.get(rule.endpoint, 200)
        assert response.status_code == expected, (role, rule.rule, response.get_json())


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_readers_get_403_on_every_write_route_and_change_nothing(
    app: Flask, api: ApiClient, records: dict[str, int], session: Session, role: str
) -> None:
    before = _audit_events(session)
    for rule, method in _api_routes(app, WRITE_METHODS):
        if rule.endpoint in PERSONAL_WRITES:
            continue
        # The role is checked before the body is read: even an incomplete body gets 403, not 422.
        response = api.client.open(
            _url(app, rule, records), method=method, json={"caption": "Changed"}, headers=_bearer(api, role)
        )
        assert response.status_code == 403, (role, method, rule.rule)
        assert response.get_json()["code"] == "forbidden"
    assert _audit_events(session) == before
    matter = api.get(f"/api/v1/matters/{records['matter']}", role=role).get_json()
    assert matter["caption"] == "Al Otro Lado, Inc. v. Nielsen"


@pytest.mark.parametrize("role", ["counsel", "admin"])
def test_counsel_and_admin_pass_the_access_check_of_every_write_route(app: Flask, api: ApiClient, role: str) -> None:
    """An empty body aimed at records that do not exist: let in, each route refuses the request itself (404 or 422)."""
    for rule, method in _api_routes(app, WRITE_METHODS):
        response = api.client.open(_url(app, rule, {}), method=method, json={}, headers=_bearer(api, role))
        if role in _roles_of(app, rule):
            # Issuing one's own calendar feed needs no body at all, so it succeeds.
            allowed = {201} if rule.endpoint == "calendar.issue_calendar_feed" else {404, 422}
            assert response.status_code in allowed, (role, method, rule.rule, response.get_json())
        else:
            assert response.status_code == 403, (role, method, rule.rule)


CORE_WRITES = {
    "matters.create_matter",
    "matters.update_matter",
    "matters.create_order",
    "orders.update_order",
    "orders.release_order",
    "orders.create_obligation",
    "orders.update_obligation",
    "orders.link_data_source",
    "orders.place_custodian_hold",
    "data_sources.create_data_source",
    "data_sources.update_data_source",
    "data_sources.retire_data_source",
    "custodians.create_custodian",
    "custodians.update_custodian",
}


@pytest.mark.parametrize("role", ["counsel", "admin"])
def test_counsel_and_admin_write_matters_orders_obligations_sources_and_custodians(
    app: Flask, api: ApiClient, session: Session, role: str
) -> None:
    used: set[str] = set()

    def write(method: str, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        response = api.client.open(path, method=method, json=body, headers=_bearer(api, role))
        assert response.status_code == status, (method, path, response.get_json())
        used.add(app.url_map.bind("localhost").match(path, method=method)[0])
        return response.get_json()  # type: ignore[no-any-return]

    matter = write("POST", "/api/v1/matters", {"caption": "Al Otro Lado, Inc. v. Nielsen"})["id"]
    write("PATCH", f"/api/v1/matters/{matter}", {"docket_number": "3:17-cv-02366-BAS-KSC"}, 200)
    order = write("POST", f"/api/v1/matters/{matter}/orders", {"kind": "court_order", "title": "POE video"})["id"]
    write("PATCH", f"/api/v1/orders/{order}", {"docket_entry": "170"}, 200)
    obligation = write("POST", f"/api/v1/orders/{order}/obligations", {"description": "Keep video"})["id"]
    write("PATCH", f"/api/v1/obligations/{obligation}", {"status": "in_progress"}, 200)
    custodian = write("POST", "/api/v1/custodians", {"name": "Steward", "email": f"steward-{role}@example.org"})["id"]
    write("PATCH", f"/api/v1/custodians/{custodian}", {"title": "Administrator"}, 200)
    source = write("POST", "/api/v1/data-sources", {"name": "Video", "kind": "s3", "location": "s3://poe-video/"})["id"]
    write("PATCH", f"/api/v1/data-sources/{source}", {"region": "us-west-2"}, 200)
    write("POST", f"/api/v1/obligations/{obligation}/data-sources", {"data_source_id": source})
    write("POST", f"/api/v1/orders/{order}/custodians", {"custodian_id": custodian})
    write("POST", f"/api/v1/orders/{order}/release", {"reason": "settled"}, 200)
    write("POST", f"/api/v1/data-sources/{source}/retire", {"reason": "decommissioned"}, 200)

    assert used == CORE_WRITES
    actors = set(session.scalars(select(AuditEvent.actor).where(AuditEvent.action != "user.created")))
    assert f"user:{role}@example.org" in actors


# Security headers ------------------------------------------------------------------------------------


def test_security_headers_are_on_every_kind_of_answer(api: ApiClient) -> None:
    answers = {
        "api 200": api.get("/api/v1/matters"),
        "api 201": api.post("/api/v1/matters", {"caption": "X v. Y"}),
        "api 422": api.post("/api/v1/matters", {"caption": ""}),
        "api 401": api.get("/api/v1/matters", role=None),
        "api 403": api.post("/api/v1/matters", {"caption": "X v. Y"}, role="viewer"),
        "api 404": api.get("/api/v1/matters/999999"),
        "unknown path 404": api.get("/no/such/page", role=None),
        "spec": api.get("/api/openapi.json", role=None),
        "livez": api.get("/livez", role=None),
        "readyz": api.get("/readyz", role=None),
    }
    for name, response in answers.items():
        headers = response.headers
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert "object-src 'none'" in headers.get("Content-Security-Policy", ""), name
        assert headers.get("Referrer-Policy") == "no-referrer", name
    assert [r.status_code for r in answers.values()] == [200, 201, 422, 401, 403, 404, 404, 200, 200, 200]
