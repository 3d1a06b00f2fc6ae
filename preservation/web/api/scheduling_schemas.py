"""Schemas of court days, deadlines, alerts, the scheduler's state and calendar feeds."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import marshmallow as ma
from marshmallow import validate

from preservation.domain.court_days import DIRECTIONS, MAX_PERIOD_DAYS
from preservation.domain.rules import EARLIEST_DAY, LATEST_DAY
from preservation.domain.vocabulary import DEADLINE_KINDS, DEADLINE_STATUSES
from preservation.web.api.fields import MAX_ID
from preservation.web.api.schemas import DUMP, PageArgsSchema, PageSchema


def query_id(**kwargs: Any) -> ma.fields.Integer:
    """A record id given in the query string."""
    return ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class CourtDaysArgsSchema(ma.Schema):
    """A period to count: N days after (or before) a date."""

    from_ = ma.fields.Date(
        required=True,
        data_key="from",
        validate=validate.Range(min=EARLIEST_DAY, max=LATEST_DAY),
        metadata={"example": "2026-12-11"},
    )
    days = ma.fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_PERIOD_DAYS))
    direction = ma.fields.String(load_default="after", validate=validate.OneOf(DIRECTIONS))


class CourtDayStepSchema(ma.Schema):
    """One step of the count: the rule applied, the day, what it found."""

    rule = ma.fields.String(metadata={"example": "6(a)(1)(C)"})
    date = ma.fields.String()
    note = ma.fields.String()


class CourtDaysSchema(ma.Schema):
    """The due date of a period under FRCP 6(a)(1), and how it was reached."""

    rule = ma.fields.String()
    from_ = ma.fields.String(data_key="from")
    days = ma.fields.Integer()
    direction = ma.fields.String()
    plain_count = ma.fields.String(metadata={"description": "the last day before weekends and holidays are applied"})
    due_on = ma.fields.String()
    steps = ma.fields.List(ma.fields.Nested(CourtDayStepSchema))


class DeadlineArgsSchema(PageArgsSchema):
    """Which deadlines to list."""

    matter_id = query_id()
    within_days = ma.fields.Integer(
        validate=validate.Range(min=0, max=3650), metadata={"description": "due within this many days of today"}
    )
    overdue = ma.fields.Boolean(metadata={"description": "true: only past due; false: only not yet due"})
    status = ma.fields.String(
        load_default="open",
        validate=validate.OneOf((*DEADLINE_STATUSES, "any")),
        metadata={"description": "open (default), met, cancelled, or any"},
    )
    kind = ma.fields.String(validate=validate.OneOf(DEADLINE_KINDS))


class DeadlineSchema(ma.Schema):
    """A due date found in an obligation, an order or a data source's destruction clock."""

    id = ma.fields.Integer(**DUMP)
    kind = ma.fields.String(**DUMP)
    subject_type = ma.fields.String(**DUMP)
    subject_id = ma.fields.Integer(**DUMP)
    matter_id = ma.fields.Integer(allow_none=True, **DUMP)
    title = ma.fields.String(**DUMP)
    due_on = ma.fields.Date(**DUMP)
    due_at = ma.fields.AwareDateTime(allow_none=True, **DUMP)
    status = ma.fields.String(**DUMP)
    computation = ma.fields.Dict(**DUMP, metadata={"description": "the rule, its inputs and every step"})
    known_since = ma.fields.AwareDateTime(**DUMP)
    sequence = ma.fields.Integer(**DUMP, metadata={"description": "bumped on every change (iCalendar SEQUENCE)"})
    created_at = ma.fields.AwareDateTime(**DUMP)
    updated_at = ma.fields.AwareDateTime(**DUMP)


class DeadlinePageSchema(PageSchema):
    """A page of deadlines, soonest first."""

    items = ma.fields.List(ma.fields.Nested(DeadlineSchema))


def _shown_target(channel: str, target: str) -> str:
    """A webhook URL is a secret (anyone holding it can post); show only where it points."""
    if channel == "webhook":
        parts = urlsplit(target)
        return f"{parts.scheme}://{parts.hostname}/…"
    return target


class DeliverySchema(ma.Schema):
    """One alert to one recipient on one channel."""

    id = ma.fields.Integer(**DUMP)
    channel = ma.fields.String(**DUMP)
    target = ma.fields.Method("_target", **DUMP)
    purpose = ma.fields.String(**DUMP)
    status = ma.fields.String(**DUMP)
    attempts = ma.fields.Integer(**DUMP)
    next_attempt_at = ma.fields.AwareDateTime(**DUMP)
    sent_at = ma.fields.AwareDateTime(allow_none=True, **DUMP)
    last_error = ma.fields.String(allow_none=True, **DUMP)

    def _target(self, delivery: Any) -> str:
        return _shown_target(delivery.channel, delivery.target)


class AlertArgsSchema(PageArgsSchema):
    """Which alerts to list."""

    deadline_id = query_id()
    matter_id = query_id()
    acknowledged = ma.fields.Boolean()


class AlertSchema(ma.Schema):
    """An alert owed once, its deliveries, and who acknowledged it."""

    id = ma.fields.Integer(**DUMP)
    dedupe_key = ma.fields.String(**DUMP, metadata={"example": "deadline:42:2027-01-19:7d"})
    deadline_id = ma.fields.Integer(allow_none=True, **DUMP)
    threshold = ma.fields.String(**DUMP, metadata={"example": "7d"})
    days_left = ma.fields.Integer(**DUMP)
    due_on = ma.fields.Date(**DUMP)
    subject = ma.fields.String(**DUMP)
    body = ma.fields.String(**DUMP)
    created_at = ma.fields.AwareDateTime(**DUMP)
    acknowledged_at = ma.fields.AwareDateTime(allow_none=True, **DUMP)
    acknowledged_by = ma.fields.String(allow_none=True, **DUMP)
    deliveries = ma.fields.List(ma.fields.Nested(DeliverySchema), **DUMP)


class AlertPageSchema(PageSchema):
    """A page of alerts, newest first."""

    items = ma.fields.List(ma.fields.Nested(AlertSchema))


class LastRunSchema(ma.Schema):
    """A job's latest run."""

    started_at = ma.fields.AwareDateTime()
    finished_at = ma.fields.AwareDateTime(allow_none=True)
    outcome = ma.fields.String()
    error = ma.fields.String(allow_none=True)
    holder = ma.fields.String()
    trigger = ma.fields.String()
    details = ma.fields.Dict()


class ScheduledJobSchema(ma.Schema):
    """A job of the registry and its latest run."""

    job_id = ma.fields.String()
    every_seconds = ma.fields.Integer()
    description = ma.fields.String()
    last_run = ma.fields.Nested(LastRunSchema, allow_none=True)


class LeaderSchema(ma.Schema):
    """Who holds the scheduler lease."""

    holder = ma.fields.String(allow_none=True)
    fencing_token = ma.fields.Integer()
    acquired_at = ma.fields.AwareDateTime(allow_none=True)
    expires_at = ma.fields.AwareDateTime(allow_none=True)
    active = ma.fields.Boolean()


class HeartbeatSchema(ma.Schema):
    """The scheduler's last tick."""

    beat_at = ma.fields.AwareDateTime(allow_none=True)
    holder = ma.fields.String(allow_none=True)
    age_seconds = ma.fields.Float(allow_none=True)
    stale = ma.fields.Boolean()


class SchedulerSchema(ma.Schema):
    """The scheduler: leader, heartbeat, and each job's latest run."""

    leader = ma.fields.Nested(LeaderSchema, allow_none=True)
    heartbeat = ma.fields.Nested(HeartbeatSchema)
    jobs = ma.fields.List(ma.fields.Nested(ScheduledJobSchema))


class CalendarFeedSchema(ma.Schema):
    """A calendar feed; `url` (with its secret) is shown once, when the feed is made."""

    id = ma.fields.Integer(**DUMP)
    created_at = ma.fields.AwareDateTime(**DUMP)
    revoked_at = ma.fields.AwareDateTime(allow_none=True, **DUMP)
    url = ma.fields.String(**DUMP)


class CalendarFeedListSchema(ma.Schema):
    """The signed-in user's calendar feeds."""

    items = ma.fields.List(ma.fields.Nested(CalendarFeedSchema))
