"""The daily roll-up of source statuses stays right across days, whether or not the heartbeat ran on them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from jobs.context import JobContext
from jobs.registry import find
from jobs.runner import JobRunner
from preservation.models import SourceStatusDay
from preservation.services import attestations, checks, matters, orders, sources, status_history
from preservation.services.unit import Unit
from tests.clock import FrozenClock

DAY = dt.timedelta(days=1)


def heartbeat(ctx: JobContext) -> dict[str, object]:
    """Run the heartbeat once, as the scheduler would."""
    record = JobRunner(ctx, "test-runner", trigger="manual").run(find("heartbeat"))
    assert record.outcome == "succeeded", record.error
    return record.details


def kept(ctx: JobContext) -> dict[dt.date, dict[str, int]]:
    """The roll-up's rows, by day, leaving out the statuses nobody was in."""
    with ctx.unit(fenced=False) as unit:
        rows = unit.session.scalars(select(SourceStatusDay).order_by(SourceStatusDay.day)).all()
        found: dict[dt.date, dict[str, int]] = {}
        for row in rows:
            found.setdefault(row.day, {})
            if row.sources:
                found[row.day][row.status] = row.sources
        return found


def shown(ctx: JobContext, days: int) -> list[tuple[dt.date, dict[str, int] | None, dt.date | None]]:
    """What the overview would chart: each day's figures (none before any record) and where they came from."""
    with ctx.unit(fenced=False) as unit:
        return [
            (day.day, {s: n for s, n in day.counts.items() if n} if day.counts is not None else None, day.carried_from)
            for day in status_history.history(unit, days)
        ]


def check_manual_source(ctx: JobContext, source_id: int) -> str:
    """A retention check of a source kept by hand, through the same calls the scheduler makes."""
    with ctx.unit() as unit:
        request = checks.prepare_check(unit, source_id)
    snapshot = checks.collect(request, None)
    with ctx.unit() as unit:
        return checks.record_check(unit, request, snapshot).status


def test_history_is_right_across_days_with_missed_heartbeats(ctx: JobContext, clock: FrozenClock) -> None:
    day1 = clock.now.date()
    # Day 1: three sources catalogued, one linked to an obligation so it can be checked; the heartbeat runs.
    with ctx.unit() as unit:
        matter = matters.create_matter(unit, {"caption": "History v. Days"})
        order = orders.create_order(unit, matter.id, {"kind": "litigation_hold", "title": "Hold"})
        duty = orders.create_obligation(unit, order.id, {"description": "Keep the ledgers"})
        made = [
            sources.create_data_source(unit, {"name": f"Ledger {n}", "kind": "manual", "location": f"cabinet {n}"})
            for n in range(3)
        ]
        orders.link_data_source(unit, duty.id, made[0].id)
        ids = [source.id for source in made]
    assert heartbeat(ctx)["status_days_carried_forward"] == 0
    # Day 2: the scheduler is down and nothing changes.
    # Day 3, still down: a check of the first source (no steward has attested yet) gives it a status.
    clock.advance(days=2, hours=-5)
    first_status = check_manual_source(ctx, ids[0])
    assert first_status != "unchecked"
    # Days 4 and 5: down again. The overview still shows every day, carrying the last record forward.
    clock.advance(days=2)
    assert shown(ctx, 5) == [
        (day1, {"unchecked": 3}, None),
        (day1 + DAY, {"unchecked": 3}, day1),
        (day1 + 2 * DAY, {"unchecked": 2, first_status: 1}, None),
        (day1 + 3 * DAY, {"unchecked": 2, first_status: 1}, day1 + 2 * DAY),
        (day1 + 4 * DAY, {"unchecked": 2, first_status: 1}, day1 + 2 * DAY),
    ]
    # Day 6: the heartbeat runs again and fills days 4 and 5 (day 2 was filled by the check on day 3);
    # then a steward attests, the source is checked again, and another source is retired.
    clock.advance(days=1)
    assert heartbeat(ctx)["status_days_carried_forward"] == 2
    with ctx.unit() as unit:
        attestations.attest(unit, ids[0], "the ledgers are in the locked cabinet")
    check_manual_source(ctx, ids[0])
    with ctx.unit() as unit:
        sources.retire_data_source(unit, ids[2], "the cabinet was emptied into cabinet 1")
    assert kept(ctx) == {
        day1: {"unchecked": 3},
        day1 + DAY: {"unchecked": 3},
        day1 + 2 * DAY: {"unchecked": 2, first_status: 1},
        day1 + 3 * DAY: {"unchecked": 2, first_status: 1},
        day1 + 4 * DAY: {"unchecked": 2, first_status: 1},
        day1 + 5 * DAY: {"unchecked": 1, "preserved": 1},
    }
    # A second run the same day carries nothing and changes nothing.
    assert heartbeat(ctx)["status_days_carried_forward"] == 0
    assert kept(ctx)[day1 + 5 * DAY] == {"unchecked": 1, "preserved": 1}
    assert [day for day, _counts, _carried in shown(ctx, 14)][-1] == day1 + 5 * DAY
    assert shown(ctx, 14)[0] == (day1 + 5 * DAY - 13 * DAY, None, None)


def test_the_heartbeat_corrects_figures_a_change_left_behind(ctx: JobContext, clock: FrozenClock) -> None:
    with ctx.unit() as unit:
        source = sources.create_data_source(unit, {"name": "Mail", "kind": "s3", "location": "s3://mail/"})
        # A status written without going through a check (as a bulk load would) is not in today's figures...
        source.status = "preserved"
    assert kept(ctx) == {clock.now.date(): {"unchecked": 1}}
    # ... until the next heartbeat counts again.
    heartbeat(ctx)
    assert kept(ctx) == {clock.now.date(): {"preserved": 1}}


def test_rebuilding_from_checks_gives_each_day_the_status_it_ended_with(ctx: JobContext, clock: FrozenClock) -> None:
    with ctx.unit() as unit:
        matter = matters.create_matter(unit, {"caption": "Rebuild v. Checks"})
        order = orders.create_order(unit, matter.id, {"kind": "litigation_hold", "title": "Hold"})
        duty = orders.create_obligation(unit, order.id, {"description": "Keep it"})
        source = sources.create_data_source(unit, {"name": "Cabinet", "kind": "manual", "location": "room 4"})
        orders.link_data_source(unit, duty.id, source.id)
        source_id = source.id
    clock.advance(days=1)
    status = check_manual_source(ctx, source_id)
    clock.advance(days=2)
    with ctx.unit() as unit:
        unit.session.execute(SourceStatusDay.__table__.delete())
        assert status_history.rebuild_history(Unit(unit.session, "test", clock), days=4) == 4
    today = clock.now.date()
    assert kept(ctx) == {
        today - 3 * DAY: {"unchecked": 1},
        today - 2 * DAY: {status: 1},
        today - DAY: {status: 1},
        today: {status: 1},
    }
