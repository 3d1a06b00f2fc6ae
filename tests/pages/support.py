"""Data for the page tests: a matter with everything under it, repeatable to grow the database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete

from preservation.models import (
    Alert,
    CheckEvidence,
    CheckFinding,
    CustodianHold,
    Deadline,
    JobRun,
    RetentionCheck,
    SchedulerHeartbeat,
    SchedulerLease,
)
from preservation.services import (
    custodian_notices,
    custodians,
    matters,
    notice_templates,
    orders,
    sources,
    status_history,
)
from preservation.services.notice_mail import NoticePolicy
from preservation.services.unit import Unit, system_clock
from tests.accounts.support import open_session

HOSTILE = '<script>alert("x")</script>'


def forget_scheduler(database_url: str) -> None:
    """The scheduler's tables hold no foreign keys, so the per-test cleanup leaves them: empty them here."""
    with open_session(database_url) as session:
        for model in (JobRun, SchedulerHeartbeat, SchedulerLease):
            session.execute(delete(model))
        session.commit()


def populate(database_url: str, copies: int, *, caption: str = "Acme v. Widget") -> dict[str, int]:
    """`copies` matters, each with an order, obligation, linked S3 source, checks, custodian, deadline and alert."""
    now = system_clock()
    ids: dict[str, int] = {}
    with open_session(database_url) as session:
        unit = Unit(session=session, actor="user:setup@example.com")
        for index in range(copies):
            matter = matters.create_matter(unit, {"caption": f"{caption} {index}", "docket_number": f"1:26-cv-{index}"})
            order = orders.create_order(
                unit, matter.id, {"kind": "court_order", "title": f"Order {index}", "signed_on": dt.date(2026, 1, 5)}
            )
            obligation = orders.create_obligation(
                unit, order.id, {"description": f"Keep the logs {index}", "preserve_from": dt.date(2025, 1, 1)}
            )
            source = sources.create_data_source(
                unit, {"name": f"Logs bucket {index}", "kind": "s3", "location": f"s3://bucket-{index}/logs/"}
            )
            orders.link_data_source(unit, obligation.id, source.id)
            person = custodians.create_custodian(
                unit, {"name": f"Pat {index}", "email": f"pat{index}-{caption[:3]}@example.com"}
            )
            hold = custodians.place_custodian_hold(unit, order.id, person.id)
            hold_row = session.get(CustodianHold, hold.id)
            assert hold_row is not None
            hold_row.status = "notified"
            hold_row.notice_sent_at = now - dt.timedelta(days=10)
            destruction = now + dt.timedelta(days=12 + index)
            source.status = "at_risk"
            source.earliest_destruction_at = destruction
            source.last_checked_at = now - dt.timedelta(days=3)
            for status in ("preserved", "at_risk"):
                check = RetentionCheck(
                    data_source_id=source.id,
                    kind="s3",
                    actor="scheduler",
                    started_at=now - dt.timedelta(days=3),
                    finished_at=now - dt.timedelta(days=3),
                    status=status,
                    earliest_destruction_at=destruction if status == "at_risk" else None,
                    summary={"versions_listed": 3},
                )
                check.findings = [
                    CheckFinding(
                        code="lifecycle_expiration",
                        severity="critical",
                        message="objects in scope expire",
                        count=3,
                        examples=[{"key": "logs/a.txt", "version_id": "v1"}],
                        details={},
                        earliest_destruction_at=destruction,
                    )
                ]
                check.evidence = CheckEvidence(
                    document='{"rules": []}', stored_bytes=13, full_bytes=13, full_sha256="0" * 64, truncated=False
                )
                session.add(check)
            deadline = Deadline(
                kind="obligation_due",
                subject_type="obligation",
                subject_id=obligation.id,
                matter_id=matter.id,
                title=f"Obligation {index} due",
                due_on=(now + dt.timedelta(days=5)).date(),
                computation={},
                status="open",
                known_since=now,
            )
            session.add(deadline)
            session.flush()
            session.add(
                Alert(
                    dedupe_key=f"deadline:{deadline.id}:7d",
                    deadline_id=deadline.id,
                    threshold="7d",
                    days_left=5,
                    due_on=deadline.due_on,
                    subject=f"Due soon {index}",
                    body="due",
                )
            )
            session.add(
                JobRun(
                    job_id="sweep",
                    trigger="schedule",
                    holder="host-1",
                    started_at=now - dt.timedelta(minutes=index + 1),
                    finished_at=now,
                    outcome="succeeded",
                    details={"checks": 1},
                )
            )
            ids |= {"matter": matter.id, "order": order.id, "obligation": obligation.id, "source": source.id}
            ids |= {"custodian": person.id}
        if session.get(SchedulerHeartbeat, "scheduler") is None:
            session.add(SchedulerHeartbeat(name="scheduler", holder="host-1", beat_at=now))
        # The statuses were set by hand above; count them as a check that changed them would.
        status_history.record_today(unit)
        session.commit()
    return ids


def grow_matter(database_url: str, ids: dict[str, int], copies: int) -> None:
    """Give one matter more orders, obligations, linked sources and custodians (its first order notifies them),
    its source more checks, and its custodian more holds."""
    now = system_clock()
    newcomers: list[int] = []
    with open_session(database_url) as session:
        unit = Unit(session=session, actor="user:setup@example.com")
        for index in range(copies):
            order = orders.create_order(unit, ids["matter"], {"kind": "litigation_hold", "title": f"Hold {index}"})
            obligation = orders.create_obligation(unit, order.id, {"description": f"Mail {index}"})
            source = sources.create_data_source(
                unit, {"name": f"Mail archive {index}", "kind": "s3", "location": f"s3://mail-{index}/"}
            )
            orders.link_data_source(unit, obligation.id, source.id)
            orders.link_data_source(unit, ids["obligation"], source.id)
            person = custodians.create_custodian(unit, {"name": f"Lee {index}", "email": f"lee{index}@example.com"})
            custodians.place_custodian_hold(unit, order.id, person.id)
            # The first order binds more custodians, and its custodian is held by more orders.
            custodians.place_custodian_hold(unit, ids["order"], person.id)
            custodians.place_custodian_hold(unit, order.id, ids["custodian"])
            newcomers.append(person.id)
            check = RetentionCheck(
                data_source_id=ids["source"],
                kind="s3",
                actor="scheduler",
                started_at=now,
                finished_at=now,
                status="at_risk",
                summary={},
            )
            check.findings = [
                CheckFinding(code="c", severity="high", message="m", examples=[], details={}) for _ in range(3)
            ]
            session.add(check)
        custodian_notices.issue_notices(unit, ids["order"], NoticePolicy(secret="pages"), custodian_ids=newcomers)
        session.commit()


def populate_hostile(database_url: str) -> dict[str, int]:
    """One of everything with HOSTILE in every free-text field a person (or a bucket's object keys) can fill."""
    now = system_clock()
    with open_session(database_url) as session:
        unit = Unit(session=session, actor="user:setup@example.com")
        typed = {"court": HOSTILE, "judge": HOSTILE, "trigger_description": HOSTILE, "trigger_decided_by": HOSTILE}
        matter = matters.create_matter(unit, {"caption": HOSTILE, "description": HOSTILE, **typed})
        order = orders.create_order(
            unit,
            matter.id,
            {"kind": "court_order", "title": HOSTILE, "scope": HOSTILE, "issued_by": HOSTILE, "docket_entry": HOSTILE},
        )
        obligation = orders.create_obligation(unit, order.id, {"description": HOSTILE})
        source = sources.create_data_source(
            unit, {"name": HOSTILE, "kind": "s3", "location": "s3://hostile-bucket/logs/", "description": HOSTILE}
        )
        manual = sources.create_data_source(unit, {"name": HOSTILE, "kind": "manual", "location": HOSTILE})
        for linked in (source, manual):
            orders.link_data_source(unit, obligation.id, linked.id)
        person = custodians.create_custodian(
            unit, {"name": HOSTILE, "email": "hostile@example.com", "title": HOSTILE, "department": HOSTILE}
        )
        custodians.place_custodian_hold(unit, order.id, person.id)
        template = notice_templates.save_template(unit, HOSTILE, "hold", f"Hold: {HOSTILE}", f"Keep it. {HOSTILE}")
        custodian_notices.issue_notices(unit, order.id, NoticePolicy(secret="pages"), template_id=template.id)
        check = RetentionCheck(
            data_source_id=source.id,
            kind="s3",
            actor="scheduler",
            started_at=now,
            finished_at=now,
            status="at_risk",
            earliest_destruction_at=now + dt.timedelta(days=3),
            summary={"note": HOSTILE},
        )
        # Object keys come from the bucket, which anyone with write access to it names.
        check.findings = [
            CheckFinding(
                code="lifecycle_expiration",
                severity="critical",
                message=HOSTILE,
                count=1,
                examples=[{"key": f"logs/{HOSTILE}", "version_id": HOSTILE}],
                details={"rule": HOSTILE},
            )
        ]
        session.add(check)
        deadline = Deadline(
            kind="obligation_due",
            subject_type="obligation",
            subject_id=obligation.id,
            matter_id=matter.id,
            title=HOSTILE,
            due_on=(now + dt.timedelta(days=5)).date(),
            computation={},
            status="open",
            known_since=now,
        )
        session.add(deadline)
        session.flush()
        session.add(
            Alert(
                dedupe_key=f"deadline:{deadline.id}:7d",
                deadline_id=deadline.id,
                threshold="7d",
                days_left=5,
                due_on=deadline.due_on,
                subject=HOSTILE,
                body=HOSTILE,
            )
        )
        session.commit()
        return {"matter": matter.id, "order": order.id, "obligation": obligation.id, "source": source.id}
