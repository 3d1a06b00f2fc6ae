"""The forms that create and edit the records: matters, orders, obligations, data sources, custodians.

Fields check only their shape (required, length, a known choice, a date); the rules between fields
(dates in order, a location that fits its kind) are the services', and their errors land beside the
field they name.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from preservation.domain.errors import DomainError
from preservation.domain.rules import EARLIEST_DAY, LATEST_DAY
from preservation.domain.vocabulary import (
    CUSTODIAN_HOLD_ROLES,
    DATA_SOURCE_KINDS,
    EMPLOYMENT_STATUSES,
    MATTER_STATUSES,
    OBLIGATION_STATUSES,
    ORDER_KINDS,
    REAFFIRM_MAX_DAYS,
    REAFFIRM_MIN_DAYS,
)


def _day_in_range(_form: Any, item: Any) -> None:
    """Dates stay within the years every record takes (see the domain rules)."""
    if item.data is not None and not EARLIEST_DAY <= item.data <= LATEST_DAY:
        raise ValidationError(f"must be from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}")


def _choices(values: tuple[str, ...]) -> list[SelectChoice]:
    return [SelectChoice(value, value.replace("_", " ")) for value in values]


class RecordForm(FlaskForm):
    """A form whose data becomes the fields a service takes; empty text becomes None."""

    def values(self) -> dict[str, Any]:
        """The submitted fields, by the names the services use."""
        found: dict[str, Any] = {}
        for item in self:
            if item.name == "csrf_token":
                continue
            value = item.data
            if isinstance(value, str):
                value = value.strip() or None
            found[item.name] = value
        return found

    def show_domain_error(self, error: DomainError) -> bool:
        """Put a service's refusal beside the fields it names; False when it names none of this form's."""
        placed = False
        for name, reasons in error.fields.items():
            item = self._fields.get(name)
            if item is not None:
                item.errors = [*item.errors, *reasons]
                placed = True
        return placed


class MatterForm(RecordForm):
    """A matter and the trigger of its duty to preserve."""

    caption = StringField("Caption", validators=[DataRequired(), Length(max=500)])
    docket_number = StringField("Docket number", validators=[Optional(), Length(max=100)])
    court = StringField("Court", validators=[Optional(), Length(max=200)])
    judge = StringField("Judge", validators=[Optional(), Length(max=200)])
    status = SelectField("Status", choices=_choices(MATTER_STATUSES), default="open")
    trigger_date = DateField("Trigger date", validators=[Optional(), _day_in_range])
    trigger_description = TextAreaField("What triggered the duty", validators=[Optional(), Length(max=10_000)])
    trigger_decided_by = StringField("Decided by", validators=[Optional(), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])


class OrderForm(RecordForm):
    """An order with every date it carries."""

    kind = SelectField("Kind", choices=_choices(ORDER_KINDS))
    title = StringField("Title", validators=[DataRequired(), Length(max=500)])
    docket_entry = StringField("Docket entry", validators=[Optional(), Length(max=100)])
    issued_by = StringField("Issued by", validators=[Optional(), Length(max=200)])
    signed_on = DateField("Signed on", validators=[Optional(), _day_in_range])
    filed_on = DateField("Filed on", validators=[Optional(), _day_in_range])
    entered_on = DateField("Entered on", validators=[Optional(), _day_in_range])
    effective_on = DateField("Effective on", validators=[Optional(), _day_in_range])
    compliance_due_on = DateField("Compliance due on", validators=[Optional(), _day_in_range])
    scope = TextAreaField("Scope", validators=[Optional(), Length(max=10_000)])
    reaffirm_every_days = IntegerField(
        "Ask custodians to re-affirm every (days; empty: never)",
        validators=[Optional(), NumberRange(REAFFIRM_MIN_DAYS, REAFFIRM_MAX_DAYS)],
    )


class ObligationForm(RecordForm):
    """One duty carved out of an order: a due date (or a period in court days) and a data range."""

    description = TextAreaField("Description", validators=[DataRequired(), Length(max=10_000)])
    due_on = DateField("Due on", validators=[Optional(), _day_in_range])
    preserve_from = DateField("Preserve data from", validators=[Optional(), _day_in_range])
    preserve_until = DateField("Preserve data until (empty: until released)", validators=[Optional(), _day_in_range])
    status = SelectField("Status", choices=_choices(OBLIGATION_STATUSES[:-1]), default="open")


class DataSourceForm(RecordForm):
    """Where the evidence lives and how long the system keeps it."""

    name = StringField("Name", validators=[DataRequired(), Length(max=300)])
    kind = SelectField("Kind", choices=_choices(DATA_SOURCE_KINDS))
    location = StringField("Location (s3://bucket/prefix, log group ARN, ...)", validators=[DataRequired()])
    region = StringField("Region", validators=[Optional(), Length(max=30)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])
    natural_retention_days = IntegerField("Natural retention (days)", validators=[Optional(), NumberRange(0, 36500)])
    check_interval_hours = IntegerField("Check every (hours)", default=24, validators=[NumberRange(1, 24 * 30)])


class CustodianForm(RecordForm):
    """A person who holds relevant data."""

    name = StringField("Name", validators=[DataRequired(), Length(max=300)])
    email = StringField("Email", validators=[DataRequired(), Length(max=320)])
    title = StringField("Title", validators=[Optional(), Length(max=300)])
    department = StringField("Department", validators=[Optional(), Length(max=300)])
    employment_status = SelectField("Employment", choices=_choices(EMPLOYMENT_STATUSES), default="active")
    end_date = DateField("End date", validators=[Optional(), _day_in_range])


class HoldForm(RecordForm):
    """Bind a custodian to an order."""

    custodian_id = IntegerField("Custodian number", validators=[DataRequired(), NumberRange(1, 2**31 - 1)])
    role = SelectField("Role", choices=_choices(CUSTODIAN_HOLD_ROLES), default="custodian")


class LinkSourceForm(RecordForm):
    """Say that a data source holds what an obligation covers."""

    data_source_id = IntegerField("Data source number", validators=[DataRequired(), NumberRange(1, 2**31 - 1)])
