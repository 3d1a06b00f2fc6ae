"""Field types shared by the API schemas."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import marshmallow as ma
from marshmallow import validate

from preservation.domain.rules import EARLIEST_DAY, LATEST_DAY

# Control characters other than tab, newline and carriage return have no place in a record, PostgreSQL
# refuses NUL outright, and a lone surrogate (legal in JSON escapes) cannot be encoded as UTF-8 at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
MAX_ID = 2**31 - 1


def no_control_characters(value: str) -> None:
    """Refuse control characters and unpaired surrogates."""
    if _CONTROL.search(value):
        raise ma.ValidationError("must not contain control characters or unpaired surrogates")


def text(max_length: int, *, required: bool = False, nullable: bool = True, **kwargs: Any) -> ma.fields.String:
    """A string of at most max_length characters; a required or never-null string must not be blank."""
    must_hold_value = required or not nullable
    validators: list[Any] = [validate.Length(min=1 if must_hold_value else 0, max=max_length), no_control_characters]
    if must_hold_value:
        validators.append(_not_blank)
    return ma.fields.String(required=required, allow_none=nullable and not required, validate=validators, **kwargs)


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("must not be blank")


def choice(values: tuple[str, ...], *, required: bool = False, **kwargs: Any) -> ma.fields.String:
    """One word from a fixed vocabulary."""
    return ma.fields.String(required=required, validate=validate.OneOf(values), **kwargs)


def ident(*, required: bool = False, nullable: bool = True, **kwargs: Any) -> ma.fields.Integer:
    """A reference to another record by id."""
    return ma.fields.Integer(
        required=required,
        allow_none=nullable and not required,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        **kwargs,
    )


def date(**kwargs: Any) -> ma.fields.Date:
    """An ISO 8601 calendar date from 1900-01-01 to 2199-12-31, or null."""
    return ma.fields.Date(allow_none=True, validate=validate.Range(min=EARLIEST_DAY, max=LATEST_DAY), **kwargs)


def _representable_in_utc(value: dt.datetime) -> None:
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        raise ma.ValidationError("is out of range once converted to UTC") from None


def timestamp(**kwargs: Any) -> ma.fields.AwareDateTime:
    """An ISO 8601 timestamp with its UTC offset, within the range of dates once converted to UTC."""
    return ma.fields.AwareDateTime(validate=_representable_in_utc, **kwargs)
