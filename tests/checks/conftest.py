"""Fixtures of the retention-check tests: moto in-process, inspectors, and sources bound to obligations.

moto's clock is the machine's: objects get today's LastModified, so the unit of work here runs on the
real clock too, and expected dates are computed from what the listing says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sqlalchemy.orm import Session

from preservation.adapters.inspectors import AwsInspectors, build_inspectors
from preservation.services import matters, orders, sources
from preservation.services.unit import Unit, system_clock


@pytest.fixture
def aws() -> Iterator[None]:
    """Every AWS call in the test goes to moto's in-process backend."""
    with mock_aws():
        yield


@pytest.fixture
def boto_session(aws: None) -> boto3.session.Session:
    """The boto3 session the inspectors use; tests hang before-send hooks on its events."""
    return boto3.session.Session()


@pytest.fixture
def inspectors(boto_session: boto3.session.Session) -> AwsInspectors:
    """Inspectors on moto, with few retries so injected faults end quickly."""
    return build_inspectors(max_workers=4, session=boto_session, max_attempts=3)


@pytest.fixture
def s3(aws: None) -> Any:
    """A plain S3 client on moto for seeding buckets."""
    return boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def logs(aws: None) -> Any:
    """A plain CloudWatch Logs client on moto."""
    return boto3.client("logs", region_name="us-east-1")


@pytest.fixture
def live_unit(session: Session) -> Unit:
    """A unit of work on the real clock (moto stamps objects with it)."""
    return Unit(session=session, actor="user:tester@example.org", clock=system_clock)


SourceFactory = Callable[..., int]


@pytest.fixture
def bound_source(live_unit: Unit) -> SourceFactory:
    """Create a data source linked to an obligation of an active order; returns its id (committed)."""

    def create(
        kind: str = "s3",
        location: str = "s3://poe-video/recordings/",
        preserve_from: dt.date | None = dt.date(2018, 1, 1),
        preserve_until: dt.date | None = None,
    ) -> int:
        unit = live_unit
        matter = matters.create_matter(unit, {"caption": "Al Otro Lado, Inc. v. Nielsen"})
        order = orders.create_order(unit, matter.id, {"kind": "court_order", "title": "Preservation order"})
        obligation = orders.create_obligation(
            unit,
            order.id,
            {"description": "Preserve POE video", "preserve_from": preserve_from, "preserve_until": preserve_until},
        )
        source = sources.create_data_source(unit, {"name": "San Ysidro recordings", "kind": kind, "location": location})
        orders.link_data_source(unit, obligation.id, source.id)
        source_id: int = source.id
        unit.session.commit()
        # Reload everything from the next transaction on; nothing is read now, so no lock is held.
        unit.session.expire_all()
        return source_id

    return create
