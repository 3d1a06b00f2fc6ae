"""The domain's field rules, without a database."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from preservation.domain import rules
from preservation.domain.errors import FieldError


def refused_field(error: pytest.ExceptionInfo[FieldError]) -> str:
    """The one field a FieldError names."""
    assert error.value.status == 422
    (field,) = error.value.fields
    assert error.value.fields[field][0]
    return field


# S3 ------------------------------------------------------------------------------------------------


def bucket_name_is_valid(name: str) -> bool:
    """S3's naming rules for general purpose buckets, written out step by step."""
    if not 3 <= len(name) <= 63:
        return False
    if any(char not in "abcdefghijklmnopqrstuvwxyz0123456789.-" for char in name):
        return False
    if not (name[0].isalnum() and name[-1].isalnum()):
        return False
    if ".." in name:
        return False
    parts = name.split(".")
    looks_like_ip = len(parts) == 4 and all(part.isdigit() and 1 <= len(part) <= 3 for part in parts)
    return not looks_like_ip


@given(st.text(alphabet="ab09.-A_ ", max_size=70))
@example("a.b")
@example("a" * 63)
@example("a" * 64)
@example("1.2.3.4")
@example("1.2.3.4.5")
@example("a..b")
@example("a.-b")
def test_bucket_names_follow_s3_rules(name: str) -> None:
    location = f"s3://{name}"
    if bucket_name_is_valid(name):
        assert rules.parse_s3_location(location) == rules.S3Location(bucket=name, prefix="")
    else:
        with pytest.raises(FieldError) as error:
            rules.parse_s3_location(location)
        assert refused_field(error) == "location"


BUCKETS = st.from_regex(re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII), fullmatch=True).filter(
    bucket_name_is_valid
)


@given(BUCKETS, st.text(max_size=300).filter(lambda prefix: len(prefix.encode()) <= 1024))
def test_bucket_and_prefix_are_split_at_the_first_slash(bucket: str, prefix: str) -> None:
    parsed = rules.parse_s3_location(f"s3://{bucket}/{prefix}")
    assert parsed == rules.S3Location(bucket=bucket, prefix=prefix)


def test_prefix_is_limited_to_1024_bytes_not_characters() -> None:
    assert rules.parse_s3_location("s3://poe-video/" + "é" * 512).prefix == "é" * 512
    for prefix in ("é" * 513, "k" * 1025):
        with pytest.raises(FieldError) as error:
            rules.parse_s3_location("s3://poe-video/" + prefix)
        assert refused_field(error) == "location"


@given(st.text(max_size=40).filter(lambda location: not location.startswith("s3://")))
@example("S3://poe-video")
@example("s3:/poe-video")
@example("https://poe-video.s3.amazonaws.com/")
@example("arn:aws:s3:::poe-video")
def test_anything_without_the_s3_scheme_is_refused(location: str) -> None:
    with pytest.raises(FieldError) as error:
        rules.check_location("s3", location)
    assert refused_field(error) == "location"


# Other kinds of location ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "/poe/calexico/audio-gateway",
        "poe_audio#1",
        "a",
        "l" * 512,
        "arn:aws:logs:us-west-2:123456789012:log-group:/poe/calexico",
        "arn:aws:logs:us-west-2:123456789012:log-group:/poe/calexico:*",
        "arn:aws-cn:logs:cn-north-1:123456789012:log-group:poe",
    ],
)
def test_log_group_names_and_arns_are_accepted(location: str) -> None:
    rules.check_location("cloudwatch_logs", location)


@pytest.mark.parametrize(
    "location",
    [
        "",
        "l" * 513,
        "log group",
        "poe/ünicode",
        "s3://poe-video",
        "arn:aws:logs:us-west-2:12345678901:log-group:poe",
        "arn:aws:logs:us-west-2:123456789012:log-group:",
        "arn:aws:logs:us-west-2:123456789012:log-stream:poe",
        "arn:aws:logs:us-west-2:123456789012:log-group:poe:stream",
    ],
)
def test_other_log_locations_are_refused(location: str) -> None:
    with pytest.raises(FieldError) as error:
        rules.check_location("cloudwatch_logs", location)
    assert refused_field(error) == "location"


@pytest.mark.parametrize(
    "location",
    ["ab", "v" * 50, "poe-vault_2", "arn:aws:backup:us-west-2:123456789012:backup-vault:poe-vault"],
)
def test_backup_vault_names_and_arns_are_accepted(location: str) -> None:
    rules.check_location("aws_backup", location)


@pytest.mark.parametrize(
    "location",
    [
        "a",
        "v" * 51,
        "poe.vault",
        "poe vault",
        "arn:aws:backup:us-west-2:123456789012:backup-plan:poe",
        "arn:aws:backup:us-west-2:123456789012:backup-vault:a",
        "arn:aws:backup:us-west-2:1234:backup-vault:poe-vault",
    ],
)
def test_other_backup_locations_are_refused(location: str) -> None:
    with pytest.raises(FieldError) as error:
        rules.check_location("aws_backup", location)
    assert refused_field(error) == "location"


@given(st.text(min_size=1).filter(str.strip))
def test_manual_location_is_any_text_with_content(location: str) -> None:
    rules.check_location("manual", location)


@pytest.mark.parametrize("location", ["", " ", "\t\n"])
def test_manual_location_must_say_something(location: str) -> None:
    with pytest.raises(FieldError) as error:
        rules.check_location("manual", location)
    assert refused_field(error) == "location"


# Regions and emails ----------------------------------------------------------------------------------


@pytest.mark.parametrize("region", [None, "us-west-2", "eu-central-1", "us-gov-east-1", "ap-southeast-12"])
def test_region_codes_are_accepted(region: str | None) -> None:
    rules.check_region(region)


@pytest.mark.parametrize("region", ["", "us", "us-west", "US-WEST-2", "us_west_2", "us-west-2 ", "u-west-2", "us-1"])
def test_malformed_regions_are_refused(region: str) -> None:
    with pytest.raises(FieldError) as error:
        rules.check_region(region)
    assert refused_field(error) == "region"


EMAILS = st.emails().filter(lambda email: len(email.split("@")[0]) <= 64)


@given(EMAILS)
def test_email_key_is_the_lower_cased_address(email: str) -> None:
    key = rules.check_email(email)
    assert key == email.lower()
    assert rules.check_email(email.upper()) == key
    assert rules.check_email(key) == key


@pytest.mark.parametrize(
    "email",
    ["", "name", "name@", "@example.org", "name@example", "a b@example.org", "a@b@example.org", "x" * 65 + "@a.org"],
)
def test_malformed_emails_are_refused(email: str) -> None:
    with pytest.raises(FieldError) as error:
        rules.check_email(email)
    assert refused_field(error) == "email"


# Dates -----------------------------------------------------------------------------------------------

MAYBE_DATES = st.none() | st.dates()


@given(MAYBE_DATES, MAYBE_DATES)
def test_order_cannot_be_entered_before_it_was_signed(signed_on: dt.date | None, entered_on: dt.date | None) -> None:
    if signed_on is not None and entered_on is not None and entered_on < signed_on:
        with pytest.raises(FieldError) as error:
            rules.check_order_dates(signed_on, entered_on)
        assert refused_field(error) == "entered_on"
        assert signed_on.isoformat() in error.value.message
    else:
        rules.check_order_dates(signed_on, entered_on)


@given(MAYBE_DATES, MAYBE_DATES)
def test_preservation_range_cannot_end_before_it_starts(
    preserve_from: dt.date | None, preserve_until: dt.date | None
) -> None:
    if preserve_from is not None and preserve_until is not None and preserve_until < preserve_from:
        with pytest.raises(FieldError) as error:
            rules.check_preservation_range(preserve_from, preserve_until)
        assert refused_field(error) == "preserve_until"
    else:
        rules.check_preservation_range(preserve_from, preserve_until)


def test_one_day_range_and_same_day_entry_are_allowed() -> None:
    day = dt.date(2018, 9, 27)
    rules.check_order_dates(day, day)
    rules.check_preservation_range(day, day)
    with pytest.raises(FieldError):
        rules.check_order_dates(day, day - dt.timedelta(days=1))
    with pytest.raises(FieldError):
        rules.check_preservation_range(day, day - dt.timedelta(days=1))
