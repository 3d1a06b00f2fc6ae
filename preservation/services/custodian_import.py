"""Custodians from a CSV file, all or nothing; and warnings before a held custodian's employment ends.

Every bad row is reported with its line number and reason before anything is written; a file with any
bad row imports nothing. A row whose email is already known updates that custodian, in the columns the
file has: a file of name and email alone leaves titles, managers and end dates as they were, while an
empty cell in a column the file has clears that detail.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select

from preservation.domain import rules
from preservation.domain.errors import DomainError
from preservation.domain.vocabulary import EMPLOYMENT_STATUSES
from preservation.models import Alert, Custodian, CustodianHold, PreservationOrder
from preservation.services import audit
from preservation.services.custodians import CUSTODIAN_FIELDS
from preservation.services.notice_mail import NoticePolicy, counsel_addresses, queue_email
from preservation.services.unit import Unit, apply_changes, snapshot

MAX_ROWS = 10_000
REQUIRED_COLUMNS = ("name", "email")
OPTIONAL_COLUMNS = ("title", "department", "manager_email", "employment_status", "end_date")
# Lengths of the columns they land in.
LIMITS = {"name": 300, "email": 320, "title": 300, "department": 300, "manager_email": 320}


class ImportRefused(DomainError):
    """The file has bad rows; nothing was imported. `problems` lists (line, reason)."""

    status = 422
    code = "import_refused"

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        fields: dict[str, list[str]] = {}
        for line, reason in problems:
            fields.setdefault(f"line {line}", []).append(reason)
        super().__init__(f"{len(problems)} problem(s) in the file; nothing was imported", fields)
        self.problems = problems


@dataclass
class ImportRow:
    """One good row of the file."""

    line: int
    email_key: str
    # Only the columns the file has: the others are left as they are on a custodian already known.
    values: dict[str, Any]
    manager_key: str | None
    sets_manager: bool = True


@dataclass
class ImportResult:
    """What an import did."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportRefused(
            [(line, f"not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8")]
        ) from None


def _check_header(columns: Sequence[str] | None) -> list[str]:
    names = [c.strip().lower() for c in columns or []]
    problems = [f"missing column {c!r}" for c in REQUIRED_COLUMNS if c not in names]
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    problems += [f"unknown column {c!r}" for c in names if c not in known]
    if problems:
        raise ImportRefused([(1, p) for p in problems])
    return names


def _row(line: int, raw: dict[str, str], columns: Sequence[str], problems: list[tuple[int, str]]) -> ImportRow | None:
    found = len(problems)
    cells = {k: (v or "").strip() for k, v in raw.items() if k is not None}
    if None in raw:
        problems.append((line, "more cells than columns"))
    for column, limit in LIMITS.items():
        if len(cells.get(column, "")) > limit:
            problems.append((line, f"{column} is longer than {limit} characters"))
    if any(ord(ch) < 32 for value in cells.values() for ch in value):
        problems.append((line, "control characters in a cell"))
    if not cells.get("name"):
        problems.append((line, "name is empty"))
    key = ""
    try:
        key = rules.check_email(cells.get("email", ""))
    except DomainError:
        problems.append((line, f"email {cells.get('email', '')!r} is not an email address"))
    manager_key = None
    if cells.get("manager_email"):
        try:
            manager_key = rules.check_email(cells["manager_email"])
        except DomainError:
            problems.append((line, f"manager_email {cells['manager_email']!r} is not an email address"))
    status = cells.get("employment_status") or "active"
    if status not in EMPLOYMENT_STATUSES:
        problems.append((line, f"employment_status must be one of {', '.join(EMPLOYMENT_STATUSES)}"))
    end_date = None
    if cells.get("end_date"):
        try:
            end_date = dt.date.fromisoformat(cells["end_date"])
        except ValueError:
            problems.append((line, f"end_date {cells['end_date']!r} is not a date like 2027-01-31"))
    if len(problems) > found:
        return None
    given = {
        "title": cells.get("title") or None,
        "department": cells.get("department") or None,
        # An empty cell clears to the default, as for a new custodian.
        "employment_status": status,
        "end_date": end_date,
    }
    values = {"name": cells["name"], "email": cells["email"]} | {k: v for k, v in given.items() if k in columns}
    return ImportRow(line, key, values, manager_key, sets_manager="manager_email" in columns)


def parse(data: bytes, max_rows: int = MAX_ROWS) -> tuple[list[ImportRow], list[tuple[int, str]]]:
    """The good rows of a custodian CSV and the problems of the bad ones; ImportRefused if it is no such file."""
    text = _decode(data)
    if "\x00" in text:
        raise ImportRefused([(1, "the file contains NUL characters; is it a spreadsheet, not CSV?")])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        reader.fieldnames = _check_header(reader.fieldnames)
        problems: list[tuple[int, str]] = []
        rows: list[ImportRow] = []
        for count, raw in enumerate(reader, start=1):
            if count > max_rows:
                raise ImportRefused([(reader.line_num, f"more than {max_rows} rows; split the file")])
            row = _row(reader.line_num, raw, reader.fieldnames, problems)
            if row is not None:
                rows.append(row)
    except csv.Error as error:
        raise ImportRefused([(reader.line_num, f"not valid CSV: {error}")]) from None
    if not rows and not problems:
        raise ImportRefused([(1, "the file has no rows")])
    _check_duplicates(rows, problems)
    return rows, problems


def _check_duplicates(rows: list[ImportRow], problems: list[tuple[int, str]]) -> None:
    first: dict[str, int] = {}
    for row in rows:
        if row.email_key in first:
            problems.append((row.line, f"email {row.values['email']} repeats line {first[row.email_key]}"))
        else:
            first[row.email_key] = row.line


def _check_managers(unit: Unit, rows: list[ImportRow]) -> list[tuple[int, str]]:
    """Every manager exists (in the file or already), and no chain of managers loops."""
    problems: list[tuple[int, str]] = []
    managers = {row.email_key: row.manager_key for row in rows if row.sets_manager}
    known = {
        c.email_normalized: (c.manager.email_normalized if c.manager else None)
        for c in unit.session.scalars(select(Custodian))
    }
    chart = known | managers
    lines = {row.email_key: row.line for row in rows}
    reported: set[str] = set()
    for row in rows:
        if row.manager_key is None:
            continue
        if row.manager_key not in chart:
            problems.append((row.line, f"manager_email {row.manager_key} is neither in the file nor a custodian"))
            continue
        seen = [row.email_key]
        walker: str | None = row.manager_key
        while walker is not None and walker not in seen:
            seen.append(walker)
            walker = chart.get(walker)
        if walker == row.email_key and row.email_key not in reported:
            loop = " -> ".join([*seen, row.email_key])
            reported.update(seen)
            in_file = sorted(lines[e] for e in seen if e in lines)
            problems.append((row.line, f"managers form a cycle: {loop} (lines {', '.join(map(str, in_file))})"))
    return problems


def import_custodians(unit: Unit, data: bytes, max_rows: int = MAX_ROWS) -> ImportResult:
    """Create or update (by email) every custodian in the file, or none; flushes."""
    rows, problems = parse(data, max_rows)
    problems += _check_managers(unit, rows)
    if problems:
        raise ImportRefused(sorted(problems))
    existing = {
        c.email_normalized: c
        for c in unit.session.scalars(
            select(Custodian).where(Custodian.email_normalized.in_([r.email_key for r in rows]))
        )
    }
    result = ImportResult()
    by_key: dict[str, Custodian] = {}
    for row in rows:
        custodian = existing.get(row.email_key)
        if custodian is None:
            custodian = Custodian(email_normalized=row.email_key, **row.values)
            unit.session.add(custodian)
            unit.session.flush()
            audit.record(
                unit,
                "custodian.created",
                "custodian",
                custodian.id,
                matter_id=None,
                details=snapshot(custodian, CUSTODIAN_FIELDS) | {"import_line": row.line},
            )
            result.created.append(custodian.id)
        else:
            diff = apply_changes(custodian, row.values)
            if diff:
                audit.record(
                    unit,
                    "custodian.updated",
                    "custodian",
                    custodian.id,
                    matter_id=None,
                    details={"changes": diff, "import_line": row.line},
                )
                result.updated.append(custodian.id)
            else:
                result.unchanged.append(custodian.id)
        by_key[row.email_key] = custodian
    _link_managers(unit, rows, by_key, result)
    audit.record(
        unit,
        "custodian.imported",
        "custodian",
        "import",
        matter_id=None,
        details={"rows": len(rows), "created": result.created, "updated": result.updated},
    )
    unit.session.flush()
    return result


def _link_managers(unit: Unit, rows: list[ImportRow], by_key: dict[str, Custodian], result: ImportResult) -> None:
    for row in rows:
        if not row.sets_manager:
            continue
        custodian = by_key[row.email_key]
        manager_id = None
        if row.manager_key is not None:
            manager = by_key.get(row.manager_key) or unit.session.scalar(
                select(Custodian).where(Custodian.email_normalized == row.manager_key)
            )
            manager_id = manager.id if manager is not None else None
        if custodian.manager_id != manager_id:
            old = custodian.manager_id
            custodian.manager_id = manager_id
            if custodian.id not in result.created:
                audit.record(
                    unit,
                    "custodian.updated",
                    "custodian",
                    custodian.id,
                    matter_id=None,
                    details={"changes": {"manager_id": {"from": old, "to": manager_id}}, "import_line": row.line},
                )
                if custodian.id in result.unchanged:
                    result.unchanged.remove(custodian.id)
                    result.updated.append(custodian.id)


def _leaving(policy: NoticePolicy, today: dt.date) -> Select[Custodian]:
    """Held custodians whose employment ends within the warning window."""
    horizon = today + dt.timedelta(days=policy.departure_warning_days)
    held = (
        select(CustodianHold.custodian_id)
        .join(PreservationOrder, CustodianHold.order_id == PreservationOrder.id)
        .where(CustodianHold.status != "released", PreservationOrder.status == "active")
    )
    return (
        select(Custodian)
        .where(Custodian.end_date.is_not(None), Custodian.end_date <= horizon, Custodian.id.in_(held))
        .order_by(Custodian.id)
    )


def custodians_leaving(unit: Unit, policy: NoticePolicy) -> list[int]:
    """The held custodians whose employment ends within the warning window, by id: those departure_alerts looks at."""
    return [custodian.id for custodian in unit.session.scalars(_leaving(policy, unit.clock().date()))]


def departure_alerts(unit: Unit, policy: NoticePolicy, custodian_ids: Sequence[int] | None = None) -> list[Alert]:
    """Warn counsel, once per end date, of each held custodian whose employment ends within the warning window
    (of the given custodians, when given)."""
    query = _leaving(policy, unit.clock().date())
    if custodian_ids is not None:
        query = query.where(Custodian.id.in_(custodian_ids))
    created: list[Alert] = []
    for custodian in unit.session.scalars(query):
        assert custodian.end_date is not None  # noqa: S101  (filtered above)
        holds = [h for h in custodian.holds if h.status != "released" and h.order.status == "active"]
        listing = "\n".join(f"  - {h.order.matter.caption}: {h.order.title}" for h in holds)
        body = (
            f"{custodian.name} <{custodian.email}> leaves on {custodian.end_date.isoformat()} "
            f"and is held by:\n{listing}\n\n"
            "Preserve their mailbox, files and devices before the account is deleted or the laptop reimaged.\n"
        )
        alert = queue_email(
            unit,
            f"departure:{custodian.id}:{custodian.end_date.isoformat()}",
            f"Held custodian leaving on {custodian.end_date.isoformat()}: {custodian.name}",
            body,
            targets=counsel_addresses(unit),
            label="departure",
        )
        if alert is None:
            continue
        created.append(alert)
        audit.record(
            unit,
            "custodian.departure_alerted",
            "custodian",
            custodian.id,
            matter_id=None,
            details={"end_date": custodian.end_date.isoformat(), "hold_ids": [h.id for h in holds]},
        )
    return created
