"""Who receives a deadline's alerts: the matter's subscriptions and the all-matter ones, else the default routes;
roles expanded to their active users when the alert is created."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from jobs.context import JobContext
from preservation.models import Alert, AlertDelivery, Deadline, User
from preservation.services import alerts, matters, orders, sources, users
from preservation.services.unit import Unit
from tests.jobs.conftest import FrozenClock
from tests.jobs.test_sweep_and_dispatch import run

DEFAULTS = ("email:role:counsel", "email:role:admin")


def matter_with_obligation(unit: Unit, caption: str, due_on: dt.date) -> tuple[int, int]:
    """(matter id, obligation id) of a matter whose active order owes something on a day."""
    matter = matters.create_matter(unit, {"caption": caption})
    order = orders.create_order(unit, matter.id, {"kind": "court_order", "title": "Preservation order"})
    obligation = orders.create_obligation(unit, order.id, {"description": f"Produce {caption}", "due_on": due_on})
    return matter.id, obligation.id


def deadline_of(unit: Unit, subject_id: int, kind: str = "obligation_due") -> Deadline:
    return unit.session.scalars(select(Deadline).where(Deadline.kind == kind, Deadline.subject_id == subject_id)).one()


def targets_of(ctx: JobContext, deadline_id: int) -> set[tuple[str, str]]:
    """(channel, target) of every delivery of a deadline's alerts."""
    with ctx.unit(fenced=False) as unit:
        rows = unit.session.execute(
            select(AlertDelivery.channel, AlertDelivery.target)
            .join(Alert, AlertDelivery.alert_id == Alert.id)
            .where(Alert.deadline_id == deadline_id)
        )
        return {(channel, target) for channel, target in rows}


def test_each_matter_goes_to_its_own_subscribers_and_the_others_to_the_default_roles(
    ctx: JobContext, clock: FrozenClock
) -> None:
    today = clock.now.date()
    with ctx.unit(fenced=False) as unit:
        users.create_user(unit, "counsel@example.org", "counsel")
        users.create_user(unit, "admin@example.org", "admin")
        users.create_user(unit, "viewer@example.org", "viewer")
        users.create_user(unit, "auditor@example.org", "auditor")
        gone = users.create_user(unit, "former-counsel@example.org", "counsel")
        gone.is_active = False
        subscribed, first = matter_with_obligation(unit, "Al Otro Lado, Inc. v. Nielsen", today)
        _plain, second = matter_with_obligation(unit, "Jane Doe v. Port Authority", today)
        alerts.subscribe(unit, "email", "role:viewer", subscribed)
        alerts.subscribe(unit, "email", "paralegal@example.org", subscribed)
        alerts.subscribe(unit, "webhook", "https://hooks.example.org/al-otro-lado", subscribed)
    run(ctx, "deadline-sweep")
    with ctx.unit(fenced=False) as unit:
        with_subscriptions, without = deadline_of(unit, first).id, deadline_of(unit, second).id

    # The subscribed matter: its subscribers only, the role expanded to its active users.
    assert targets_of(ctx, with_subscriptions) == {
        ("email", "viewer@example.org"),
        ("email", "paralegal@example.org"),
        ("webhook", "https://hooks.example.org/al-otro-lado"),
    }
    # The other matter: the default routes, active counsel and admins; never an inactive user or another role.
    assert targets_of(ctx, without) == {("email", "counsel@example.org"), ("email", "admin@example.org")}


def test_an_all_matter_subscription_reaches_every_matter_and_replaces_the_defaults(
    ctx: JobContext, clock: FrozenClock
) -> None:
    today = clock.now.date()
    with ctx.unit(fenced=False) as unit:
        users.create_user(unit, "counsel@example.org", "counsel")
        users.create_user(unit, "admin@example.org", "admin")
        subscribed, first = matter_with_obligation(unit, "Al Otro Lado, Inc. v. Nielsen", today)
        _plain, second = matter_with_obligation(unit, "Jane Doe v. Port Authority", today)
        alerts.subscribe(unit, "email", "role:admin")
        alerts.subscribe(unit, "email", "counsel@example.org", subscribed)
        # The same address by role and by name gets one delivery.
        alerts.subscribe(unit, "email", "admin@example.org", subscribed)
    run(ctx, "deadline-sweep")
    with ctx.unit(fenced=False) as unit:
        first_id, second_id = deadline_of(unit, first).id, deadline_of(unit, second).id
        assert len(unit.session.scalars(select(AlertDelivery)).all()) == 3

    assert targets_of(ctx, first_id) == {("email", "admin@example.org"), ("email", "counsel@example.org")}
    assert targets_of(ctx, second_id) == {("email", "admin@example.org")}


def test_a_source_serving_two_matters_alerts_the_subscribers_of_both(ctx: JobContext) -> None:
    with ctx.unit(fenced=False) as unit:
        source = sources.create_data_source(
            unit, {"name": "San Ysidro recordings", "kind": "s3", "location": "s3://poe-video/recordings/"}
        )
        for caption, address in (
            ("Al Otro Lado, Inc. v. Nielsen", "one@example.org"),
            ("Jane Doe v. Port Authority", "two@example.org"),
        ):
            matter = matters.create_matter(unit, {"caption": caption})
            order = orders.create_order(unit, matter.id, {"kind": "court_order", "title": "Preservation order"})
            obligation = orders.create_obligation(unit, order.id, {"description": "Preserve POE video"})
            orders.link_data_source(unit, obligation.id, source.id)
            alerts.subscribe(unit, "email", address, matter.id)
        alerts.subscribe(
            unit, "email", "third@example.org", matters.create_matter(unit, {"caption": "Unrelated v. Matter"}).id
        )
        unit.session.flush()
        deadline = Deadline(
            kind="data_destruction",
            subject_type="data_source",
            subject_id=source.id,
            matter_id=None,
            title="San Ysidro recordings are destroyed",
            due_on=dt.date(2027, 1, 10),
            computation={},
            status="open",
            known_since=unit.clock(),
        )
        unit.session.add(deadline)
        unit.session.flush()
        routes = alerts.recipients(unit.session, deadline, DEFAULTS)
    assert routes == [("email", "one@example.org"), ("email", "two@example.org")]


def test_a_role_is_expanded_when_the_alert_is_created_and_nobody_means_the_console(
    ctx: JobContext, clock: FrozenClock
) -> None:
    today = clock.now.date()
    with ctx.unit(fenced=False) as unit:
        _matter, early = matter_with_obligation(unit, "Al Otro Lado, Inc. v. Nielsen", today)
    # No counsel or admin exists yet: the alert is not lost, it goes to the console.
    run(ctx, "deadline-sweep")
    with ctx.unit(fenced=False) as unit:
        early_id = deadline_of(unit, early).id
        users.create_user(unit, "counsel@example.org", "counsel")
        _matter, late = matter_with_obligation(unit, "Jane Doe v. Port Authority", today)
    run(ctx, "deadline-sweep")
    with ctx.unit(fenced=False) as unit:
        late_id = deadline_of(unit, late).id
        # A counsel who leaves afterwards is no longer a recipient of what is created later.
        counsel = unit.session.scalars(select(User).where(User.email == "counsel@example.org")).one()
        counsel.is_active = False
        assert alerts.recipients(unit.session, deadline_of(unit, late), DEFAULTS) == []

    assert targets_of(ctx, early_id) == {alerts.NOBODY}
    assert targets_of(ctx, late_id) == {("email", "counsel@example.org")}
