"""Custodian CSV import: all or nothing, every bad row by line and reason; re-import updates by email;
a held custodian's employment end date raises an alert ahead of the date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from preservation.cli import main
from preservation.models import AuditEvent, Custodian
from preservation.services import custodian_import, custodians
from preservation.services.custodian_import import ImportRefused
from preservation.services.notice_mail import NoticePolicy
from preservation.services.unit import Unit
from tests.conftest import ApiClient
from tests.custodians.conftest import FrozenClock, World, json_of, outbox

HEADER = "name,email,title,department,manager_email,employment_status,end_date\n"
GOOD = (
    HEADER + "Rosa Chief,rosa@example.org,Director,IT,,active,\n"
    "Omar Admin,omar@example.org,CCTV administrator,Facilities,rosa@example.org,active,2027-03-10\n"
)


def _count(unit: Unit) -> int:
    return int(unit.session.scalar(select(func.count()).select_from(Custodian)) or 0)


def _refusal(unit: Unit, data: bytes, **kwargs: int) -> list[tuple[int, str]]:
    before = _count(unit)
    with pytest.raises(ImportRefused) as refused:
        custodian_import.import_custodians(unit, data, **kwargs)
    unit.session.rollback()
    assert _count(unit) == before
    return refused.value.problems


def test_import_then_reimport_updates_by_email(frozen: Unit) -> None:
    result = custodian_import.import_custodians(frozen, GOOD.encode())
    assert len(result.created) == 2
    omar = frozen.session.scalars(select(Custodian).where(Custodian.email_normalized == "omar@example.org")).one()
    assert omar.manager is not None
    assert omar.manager.email == "rosa@example.org"
    changed = GOOD.replace("CCTV administrator", "Video systems lead").replace("Admin,omar@", "Admin,OMAR@")
    again = custodian_import.import_custodians(frozen, changed.encode())
    assert (again.created, again.updated, len(again.unchanged)) == ([], [omar.id], 1)
    assert omar.title == "Video systems lead"
    actions = frozen.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("custodian.%"))).all()
    assert actions.count("custodian.imported") == 2


def test_every_bad_row_is_reported_and_nothing_imported(frozen: Unit) -> None:
    custodians.create_custodian(frozen, {"name": "Known", "email": "known@example.org"})
    frozen.session.commit()
    data = (
        HEADER + "Rosa Chief,rosa@example.org,,,,active,\n"
        ",nobody@example.org,,,,active,\n"
        "Bad Mail,not-an-email,,,,active,\n"
        "Rosa Again,ROSA@example.org,,,,active,\n"
        "Lia,lia@example.org,,,,retired,\n"
        "Tom,tom@example.org,,,,active,31/12/2027\n"
        "Known,known@example.org,,,ghost@example.org,active,\n"
    ).encode()
    problems = _refusal(frozen, data)
    assert [line for line, _reason in problems] == [3, 4, 5, 6, 7, 8]
    reasons = dict(problems)
    assert "name is empty" in reasons[3]
    assert "not an email address" in reasons[4]
    assert "repeats line 2" in reasons[5]
    assert "employment_status" in reasons[6]
    assert "not a date" in reasons[7]
    assert "neither in the file nor a custodian" in reasons[8]


def test_bad_encoding(frozen: Unit) -> None:
    latin = "José,jose@example.org,,,,active,\n".encode("latin-1")
    data = (HEADER + "Rosa,rosa@example.org,,,,active,\n").encode() + latin
    [(line, reason)] = _refusal(frozen, data)
    assert line == 3
    assert "not UTF-8" in reason


def test_missing_and_unknown_columns(frozen: Unit) -> None:
    problems = _refusal(frozen, b"full_name,mail\nRosa,rosa@example.org\n")
    assert problems == [
        (1, "missing column 'name'"),
        (1, "missing column 'email'"),
        (1, "unknown column 'full_name'"),
        (1, "unknown column 'mail'"),
    ]


def test_manager_cycle(frozen: Unit) -> None:
    data = (
        HEADER + "A,a@example.org,,,b@example.org,active,\n"
        "B,b@example.org,,,c@example.org,active,\n"
        "C,c@example.org,,,a@example.org,active,\n"
        "D,d@example.org,,,d@example.org,active,\n"
    ).encode()
    problems = _refusal(frozen, data)
    assert len(problems) == 2
    assert "cycle" in problems[0][1]
    assert "lines 2, 3, 4" in problems[0][1]
    assert problems[1][0] == 5


def test_too_many_rows(frozen: Unit) -> None:
    rows = "".join(f"P{i},p{i}@example.org,,,,active,\n" for i in range(100_000))
    [(line, reason)] = _refusal(frozen, (HEADER + rows).encode())
    assert "more than 10000 rows" in reason
    assert line == 10_002


def test_api_import_reports_lines(api: ApiClient) -> None:
    answer = api.client.post(
        "/api/v1/custodians/import",
        data=(HEADER + ",x@example.org,,,,active,\n").encode(),
        headers={"Authorization": f"Bearer {api.tokens['counsel']}", "Content-Type": "text/csv"},
    )
    assert answer.status_code == 422
    assert json_of(answer)["fields"] == {"line 2": ["name is empty"]}
    done = api.client.post(
        "/api/v1/custodians/import",
        data=GOOD.encode(),
        headers={"Authorization": f"Bearer {api.tokens['counsel']}", "Content-Type": "text/csv"},
    )
    assert done.status_code == 200
    assert len(json_of(done)["created"]) == 2
    viewer = api.client.post(
        "/api/v1/custodians/import", data=GOOD.encode(), headers={"Authorization": f"Bearer {api.tokens['viewer']}"}
    )
    assert viewer.status_code == 403


def test_cli_import(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESERVATION_DATABASE_URL", database_url)
    monkeypatch.setenv("PRESERVATION_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("PRESERVATION_SECRET_KEY", "cli-secret")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Dup,dup@example.org,,,,active,\nDup,dup@example.org,,,,active,\n")
    refused = CliRunner().invoke(main, ["custodians", "import", str(bad)])
    assert refused.exit_code == 1
    assert "line 3: email dup@example.org repeats line 2" in refused.output
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    done = CliRunner().invoke(main, ["custodians", "import", str(good)])
    assert done.exit_code == 0, done.output
    assert "2 created, 0 updated, 0 unchanged" in done.output


def test_departure_of_a_held_custodian_raises_an_alert_ahead(
    frozen: Unit, world: World, policy: NoticePolicy, clock: FrozenClock
) -> None:
    custodian_import.import_custodians(frozen, GOOD.encode())
    omar = frozen.session.scalars(select(Custodian).where(Custodian.email_normalized == "omar@example.org")).one()
    custodians.place_custodian_hold(frozen, world.order_id, omar.id)
    clock.advance(days=-30)
    assert custodian_import.departure_alerts(frozen, policy) == []  # more than 14 days ahead
    clock.advance(days=30)  # 2027-03-01: nine days before 2027-03-10
    [alert] = custodian_import.departure_alerts(frozen, policy)
    assert "leaves on 2027-03-10" in alert.body
    assert "Order to preserve camera footage" in alert.body
    assert outbox(frozen.session, "departure")[0][1] == ["lawyer@example.org"]
    assert custodian_import.departure_alerts(frozen, policy) == []  # once per end date


def _omar(unit: Unit) -> Custodian:
    return unit.session.scalars(select(Custodian).where(Custodian.email_normalized == "omar@example.org")).one()


def test_reimport_with_fewer_columns_changes_only_those_columns(frozen: Unit) -> None:
    custodian_import.import_custodians(frozen, GOOD.replace(",active,2027", ",on_leave,2027").encode())
    omar = _omar(frozen)
    before = (omar.title, omar.department, omar.manager_id, omar.employment_status, omar.end_date)
    assert before[3:] == ("on_leave", dt.date(2027, 3, 10))
    result = custodian_import.import_custodians(frozen, b"name,email\nOmar Admin,omar@example.org\n")
    assert (result.updated, len(result.unchanged)) == ([], 1)
    assert (omar.title, omar.department, omar.manager_id, omar.employment_status, omar.end_date) == before
    # A renamed custodian is updated in the one column given.
    renamed = custodian_import.import_custodians(frozen, b"email,name\nomar@example.org,Omar Q. Admin\n")
    assert renamed.updated == [omar.id]
    assert omar.name == "Omar Q. Admin"
    assert (omar.title, omar.department, omar.manager_id, omar.employment_status, omar.end_date) == before


def test_an_empty_cell_in_a_column_the_file_has_clears_it(frozen: Unit) -> None:
    custodian_import.import_custodians(frozen, GOOD.replace(",active,2027", ",on_leave,2027").encode())
    omar = _omar(frozen)
    data = b"name,email,title,manager_email,employment_status,end_date\nOmar Admin,omar@example.org,,,,\n"
    result = custodian_import.import_custodians(frozen, data)
    assert result.updated == [omar.id]
    # Cleared: title, manager, end date; the employment status goes back to the default. Not in the file: department.
    assert (omar.title, omar.manager_id, omar.employment_status, omar.end_date) == (None, None, "active", None)
    assert omar.department == "Facilities"
    changes = frozen.session.scalars(
        select(AuditEvent.details).where(
            AuditEvent.action == "custodian.updated", AuditEvent.subject_id == str(omar.id)
        )
    ).all()
    assert any("manager_id" in details for details in changes)
    assert any("end_date" in details for details in changes)


def test_a_new_custodian_from_a_short_file_gets_the_defaults(frozen: Unit) -> None:
    custodian_import.import_custodians(frozen, b"email,name\nomar@example.org,Omar Admin\n")
    omar = _omar(frozen)
    assert (omar.title, omar.manager_id, omar.employment_status, omar.end_date) == (None, None, "active", None)
