"""Schemas of notice templates, hold notices and acknowledgement state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import marshmallow as ma
from flask import g
from marshmallow import validate

from preservation.domain.vocabulary import NOTICE_KINDS
from preservation.models import CustodianHold, DataSource
from preservation.services import hold_states, steward_states
from preservation.web.api.fields import ident, text
from preservation.web.notice_pages import notice_policy
from preservation.web.session import unit_of_work

DUMP: dict[str, Any] = {"dump_only": True}


class NoticeTemplateSchema(ma.Schema):
    """One version of a notice template (Jinja, sandboxed; checked when saved)."""

    id = ma.fields.Integer(**DUMP)
    name = text(200, required=True)
    version = ma.fields.Integer(**DUMP)
    kind = ma.fields.String(required=True, validate=validate.OneOf(NOTICE_KINDS))
    subject = text(500, required=True)
    body = text(50_000, required=True)
    created_at = ma.fields.AwareDateTime(**DUMP)
    created_by = ma.fields.String(**DUMP)


class NoticeTemplateListSchema(ma.Schema):
    """Every template version."""

    items = ma.fields.List(ma.fields.Nested(NoticeTemplateSchema))


class IssueNoticesSchema(ma.Schema):
    """Whom to notify, with which template; silent custodians are held without a notice."""

    template_id = ident()
    custodian_ids = ma.fields.List(ident(required=True), validate=validate.Length(max=10_000))
    silent_custodian_ids = ma.fields.List(ident(required=True), load_default=list, validate=validate.Length(max=10_000))


class HoldNoticeSchema(ma.Schema):
    """A notice as sent (or recorded as silent), with its acknowledgement, reminders and escalation."""

    id = ma.fields.Integer()
    hold_id = ma.fields.Integer()
    custodian_id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    kind = ma.fields.String()
    template_id = ma.fields.Integer(allow_none=True)
    template_version = ma.fields.Integer(allow_none=True)
    data_source_id = ma.fields.Integer(allow_none=True)
    silent = ma.fields.Boolean()
    subject = ma.fields.String()
    body = ma.fields.String()
    issued_at = ma.fields.AwareDateTime()
    issued_by = ma.fields.String()
    acknowledged_at = ma.fields.AwareDateTime(allow_none=True)
    reminder_count = ma.fields.Integer()
    last_reminded_at = ma.fields.AwareDateTime(allow_none=True)
    escalated_at = ma.fields.AwareDateTime(allow_none=True)
    escalated_to = ma.fields.String(allow_none=True)
    superseded_at = ma.fields.AwareDateTime(allow_none=True)
    superseded_by_id = ma.fields.Integer(allow_none=True)
    reaffirms_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "for a periodic re-affirmation: the acknowledged notice it follows"}
    )


class HoldNoticeListSchema(ma.Schema):
    """Notices, oldest first."""

    items = ma.fields.List(ma.fields.Nested(HoldNoticeSchema))


class HoldStateSchema(ma.Schema):
    """A hold with where its acknowledgement stands."""

    hold_id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    matter_id = ma.fields.Integer()
    matter_caption = ma.fields.String()
    order_title = ma.fields.String()
    custodian_id = ma.fields.Integer()
    custodian_name = ma.fields.String()
    custodian_email = ma.fields.String()
    role = ma.fields.String()
    status = ma.fields.String()
    acknowledgement = ma.fields.String(
        metadata={
            "description": "not_notified, silent, awaiting, overdue, escalated, acknowledged, released, or "
            "reissue_owed (held through an amendment of the order and told of the earlier version; the new "
            "version is not yet issued to them, so not yet acknowledged)"
        }
    )
    notice_id = ma.fields.Integer(allow_none=True)
    notice_version = ma.fields.Integer(allow_none=True)
    notice_sent_at = ma.fields.AwareDateTime(allow_none=True)
    acknowledged_at = ma.fields.AwareDateTime(allow_none=True)
    escalated_at = ma.fields.AwareDateTime(allow_none=True)
    reminder_count = ma.fields.Integer()
    released_at = ma.fields.AwareDateTime(allow_none=True)


class HoldStateListSchema(ma.Schema):
    """Holds with their acknowledgement state."""

    items = ma.fields.List(ma.fields.Nested(HoldStateSchema))


class ReleaseCustodianSchema(ma.Schema):
    """Why one custodian is released from an order."""

    reason = text(10_000, required=True)


class StewardNoticeSchema(ma.Schema):
    """The order under which a data source's steward must suspend auto-deletion."""

    order_id = ident(required=True)
    template_id = ident()


class ImportResultSchema(ma.Schema):
    """Which custodians an import created, updated or left as they were."""

    created = ma.fields.List(ma.fields.Integer())
    updated = ma.fields.List(ma.fields.Integer())
    unchanged = ma.fields.List(ma.fields.Integer())


def prime_acknowledgements(holds: Sequence[CustodianHold]) -> None:
    """Work out the acknowledgement states of the holds a list is about to show, in one go, so that
    acknowledgement_of finds them rather than asking the database once per hold."""
    g.hold_acknowledgements = hold_states.acknowledgements(unit_of_work(), holds, notice_policy())


def acknowledgement_of(hold: CustodianHold) -> str:
    """Where a hold's acknowledgement stands, for the list of an order's custodians."""
    primed: dict[int, str] = g.get("hold_acknowledgements", {})
    if hold.id in primed:
        return primed[hold.id]
    return hold_states.acknowledgements(unit_of_work(), [hold], notice_policy())[hold.id]


class StewardNoticeStatusSchema(ma.Schema):
    """One live steward notice about a data source, and whether the steward confirmed it."""

    notice_id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    steward_id = ma.fields.Integer()
    state = ma.fields.String(metadata={"description": "confirmed, awaiting, overdue or escalated"})
    issued_at = ma.fields.AwareDateTime()
    confirmed_at = ma.fields.AwareDateTime(allow_none=True)
    escalated_at = ma.fields.AwareDateTime(allow_none=True)


class StewardNoticeStateSchema(ma.Schema):
    """A data source's steward notices: recorded beside its status, which only a check (or attestation) sets."""

    state = ma.fields.String(
        metadata={
            "description": "none (no live steward notice), confirmed (every one), or the worst of awaiting, "
            "overdue (unconfirmed past the reminder period) and escalated"
        }
    )
    confirmed_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "the steward's latest confirmation that auto-deletion is suspended"}
    )
    notices = ma.fields.List(ma.fields.Nested(StewardNoticeStatusSchema))


def prime_steward_notices(sources: Iterable[DataSource]) -> None:
    """Work out the steward notice states of the sources a list is about to show, in one go, so that
    steward_notice_of finds them rather than asking the database once per source."""
    states = steward_states.steward_notice_states(unit_of_work(), [source.id for source in sources], notice_policy())
    g.steward_notice_states = states


def steward_notice_of(source: DataSource) -> dict[str, Any]:
    """The source's steward notice state, serialised, for the data source representation."""
    primed: dict[int, dict[str, Any]] = g.get("steward_notice_states", {})
    state = primed.get(source.id)
    if state is None:
        state = steward_states.steward_notice_state(unit_of_work(), source.id, notice_policy())
    return dict(StewardNoticeStateSchema().dump(state))
