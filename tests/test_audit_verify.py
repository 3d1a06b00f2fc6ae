"""`preservation audit verify` passes after a mixed workload and names the exact seq a hostile DBA broke.

The workload goes through the API; the tampering goes straight to the database, the way someone with
the database password would do it: silence the append-only triggers first, then UPDATE or DELETE. Every
column but seq, hash and canonical is generated from canonical, so an UPDATE rewrites the stored bytes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from preservation.cli import main
from preservation.db import make_engine
from preservation.domain.audit_chain import canonical_json, format_timestamp
from preservation.models import AuditEvent
from preservation.services import audit
from tests.conftest import ApiClient

BROKEN = re.compile(r"BROKEN at seq (\d+)")


def _ok(response: Any, status: int = 200) -> None:
    assert response.status_code == status, response.get_json()


def _create(api: ApiClient, path: str, body: dict[str, Any]) -> int:
    response = api.post(path, body)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def _mixed_workload(api: ApiClient) -> None:
    """Two matters, orders, obligations, sources of every kind, links, custodians, holds, edits, a release."""
    first = _create(api, "/api/v1/matters", {"caption": "Al Otro Lado, Inc. v. Nielsen"})
    second = _create(api, "/api/v1/matters", {"caption": "In re Port Wait Times", "status": "open"})
    _ok(api.patch(f"/api/v1/matters/{first}", {"docket_number": "3:17-cv-02366-BAS-KSC"}))
    order = _create(
        api,
        f"/api/v1/matters/{first}/orders",
        {"kind": "court_order", "title": "POE video", "filed_on": "2018-09-17", "signed_on": "2018-09-27"},
    )
    hold = _create(api, f"/api/v1/matters/{second}/orders", {"kind": "litigation_hold", "title": "Hold notice"})
    _ok(api.patch(f"/api/v1/orders/{order}", {"docket_entry": "170"}))
    steward = _create(api, "/api/v1/custodians", {"name": "CCTV administrator", "email": "cctv@example.org"})
    analyst = _create(
        api, "/api/v1/custodians", {"name": "Analyst", "email": "analyst@example.org", "manager_id": steward}
    )
    _ok(api.patch(f"/api/v1/custodians/{analyst}", {"title": "Records analyst"}))
    sources = [
        _create(api, "/api/v1/data-sources", {"name": name, "kind": kind, "location": location})
        for name, kind, location in (
            ("San Ysidro video", "s3", "s3://poe-video-san-ysidro/recordings/"),
            ("Calexico audio", "cloudwatch_logs", "/poe/calexico/audio-gateway"),
            ("Nightly backups", "aws_backup", "poe-vault"),
            ("DVR archive", "manual", "Equipment room, rack 2"),
        )
    ]
    _ok(api.patch(f"/api/v1/data-sources/{sources[0]}", {"steward_id": steward, "natural_retention_days": 30}))
    for port in ("San Ysidro", "Otay Mesa", "Calexico"):
        body = {"description": f"Preserve {port} video", "preserve_from": "2016-01-01"}
        obligation = _create(api, f"/api/v1/orders/{order}/obligations", body)
        for source in sources[:2]:
            _ok(api.post(f"/api/v1/obligations/{obligation}/data-sources", {"data_source_id": source}), 201)
    _ok(api.patch(f"/api/v1/obligations/{obligation}", {"status": "in_progress"}))
    _ok(api.post(f"/api/v1/orders/{order}/custodians", {"custodian_id": steward, "role": "data_steward"}), 201)
    _ok(api.post(f"/api/v1/orders/{hold}/custodians", {"custodian_id": analyst}), 201)
    hold_obligation = _create(api, f"/api/v1/orders/{hold}/obligations", {"description": "Keep e-mail"})
    _ok(api.post(f"/api/v1/obligations/{hold_obligation}/data-sources", {"data_source_id": sources[3]}), 201)
    _ok(api.post(f"/api/v1/data-sources/{sources[2]}/retire", {"reason": "vault decommissioned"}))
    _ok(api.post(f"/api/v1/orders/{hold}/release", {"reason": "matter settled"}))


def _verify(database_url: str, tmp_path: Path) -> Result:
    env = {"PRESERVATION_DATABASE_URL": database_url, "PRESERVATION_INSTANCE_PATH": str(tmp_path / "cli-instance")}
    return CliRunner().invoke(main, ["audit", "verify"], env=env)


def _events(database_url: str) -> list[AuditEvent]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    engine.dispose()
    return events


@pytest.fixture
def workload(api: ApiClient, database_url: str) -> list[AuditEvent]:
    """The events of a mixed workload; the chain spans several matters and events outside any."""
    _mixed_workload(api)
    events = _events(database_url)
    assert len(events) > 30
    assert {e.matter_id for e in events} >= {None, 1, 2}
    return events


@pytest.fixture
def hostile_dba(database_url: str, db_kind: str) -> Iterator[Callable[[Executable], None]]:
    """Runs one change to one audit event with the append-only triggers silenced, as an owner of the database can.

    PostgreSQL keeps one database for the whole test process, so its triggers are switched back on afterwards.
    """
    engine: Engine = create_engine(database_url)

    def tamper(statement: Executable) -> None:
        with engine.begin() as connection:
            if db_kind == "postgresql":
                connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            else:
                connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
                connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
            assert connection.execute(statement).rowcount == 1  # type: ignore[attr-defined]

    yield tamper
    if db_kind == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    engine.dispose()


def test_verify_passes_after_a_mixed_workload(workload: list[AuditEvent], database_url: str, tmp_path: Path) -> None:
    result = _verify(database_url, tmp_path)
    assert result.exit_code == 0, result.output
    assert f"audit chain intact: {len(workload)} events, head {workload[-1].hash}" in result.stdout
    assert "BROKEN" not in result.output


def _reported_seq(result: Result) -> int:
    assert result.exit_code != 0, result.output
    assert "intact" not in result.output
    match = BROKEN.search(result.output)
    assert match is not None, result.output
    return int(match.group(1))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda e: {"details": canonical_json({"caption": "a different case"})}, id="details"),
        pytest.param(lambda e: {"actor": "user:someone-else@example.org"}, id="actor"),
        pytest.param(
            lambda e: {"occurred_at": format_timestamp(e.occurred_at + dt.timedelta(seconds=1))}, id="occurred_at"
        ),
        pytest.param(lambda e: {"subject_id": e.subject_id + "0"}, id="subject_id"),
    ],
)
def test_verify_names_the_seq_of_an_altered_event(
    workload: list[AuditEvent],
    hostile_dba: Callable[[Executable], None],
    database_url: str,
    tmp_path: Path,
    change: Callable[[AuditEvent], dict[str, Any]],
) -> None:
    """The stored bytes rewritten (the columns are generated from them), the stored hash left as it was."""
    target = workload[len(workload) // 2]
    forged = replace(audit.chain_entry(target), **change(target))
    hostile_dba(
        update(AuditEvent).where(AuditEvent.seq == target.seq).values(canonical=forged.canonical_bytes().decode())
    )
    assert _events(database_url)[target.seq - 1].canonical == forged.canonical_bytes().decode()

    result = _verify(database_url, tmp_path)

    assert _reported_seq(result) == target.seq
    assert "the event was altered" in result.output


def test_verify_names_the_seq_after_a_deleted_event(
    workload: list[AuditEvent], hostile_dba: Callable[[Executable], None], database_url: str, tmp_path: Path
) -> None:
    target = workload[len(workload) // 2]
    hostile_dba(delete(AuditEvent).where(AuditEvent.seq == target.seq))

    result = _verify(database_url, tmp_path)

    # The first event still there that does not fit is the one after the gap; the message names the gap.
    assert _reported_seq(result) == target.seq + 1
    assert f"expected seq {target.seq}: events are missing" in result.output


def test_verify_catches_an_altered_event_even_with_its_hash_recomputed(
    workload: list[AuditEvent], hostile_dba: Callable[[Executable], None], database_url: str, tmp_path: Path
) -> None:
    """A forger who rewrites the event's stored bytes and recomputes its hash still breaks the next link."""
    target = workload[len(workload) // 2]
    forged = replace(audit.chain_entry(target), actor="user:forger@example.org")
    hostile_dba(
        update(AuditEvent)
        .where(AuditEvent.seq == target.seq)
        .values(hash=forged.compute_hash(), canonical=forged.canonical_bytes().decode())
    )

    result = _verify(database_url, tmp_path)

    assert _reported_seq(result) == target.seq + 1
    assert "prev_hash does not match" in result.output


def test_triggers_refuse_update_and_delete_from_the_application(
    workload: list[AuditEvent], database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    target = workload[len(workload) // 2]
    try:
        for statement, refusal in (
            ("UPDATE audit_events SET canonical = canonical WHERE seq = :seq", "append-only"),
            ("DELETE FROM audit_events WHERE seq = :seq", "append-only"),
            # A generated column is refused by the database itself, before any trigger.
            (
                "UPDATE audit_events SET actor = 'user:mallory@example.org' WHERE seq = :seq",
                "generated column|can only be updated to DEFAULT",
            ),
        ):
            with pytest.raises(DBAPIError, match=refusal), Session(engine) as session, session.begin():
                session.execute(text(statement), {"seq": target.seq})
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(AuditEvent)) == len(workload)
            stored = session.get(AuditEvent, target.seq)
            assert stored is not None
            assert (stored.actor, stored.canonical) == (target.actor, target.canonical)
    finally:
        engine.dispose()
    assert _verify(database_url, tmp_path).exit_code == 0
