"""The Al Otro Lado v. Nielsen demo matter: verified facts kept exact, invented details labelled."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from preservation.models import Matter
from preservation.services import custodians, matters, orders, sources
from preservation.services.unit import Unit

DOCKET_NUMBER = "3:17-cv-02366-BAS-KSC"
ILLUSTRATIVE = "(illustrative: invented for the demo, not from the court record)"


@dataclass(frozen=True)
class DemoStorage:
    """One invented system holding a port's recordings, in the state the demo shows."""

    port: str
    name: str
    kind: str
    location: str
    retention_days: int
    description: str


# `preservation demo` builds these on a local S3 and Logs endpoint in exactly the states described.
DEMO_STORAGE = (
    DemoStorage(
        "San Ysidro",
        "San Ysidro POE video archive",
        "s3",
        "s3://poe-video-san-ysidro/recordings/",
        30,
        "Object Lock on, a legal hold on every recording: preserved.",
    ),
    DemoStorage(
        "Otay Mesa",
        "Otay Mesa POE video archive",
        "s3",
        "s3://poe-video-otay-mesa/recordings/",
        30,
        "A 30-day expiration rule and no Object Lock: the overwrite loop still runs.",
    ),
    DemoStorage(
        "Calexico",
        "Calexico POE video archive",
        "s3",
        "s3://poe-video-calexico/recordings/",
        30,
        "Protected only by GOVERNANCE-mode retention, which an administrator can lift.",
    ),
    DemoStorage(
        "Calexico",
        "Calexico POE audio gateway logs",
        "cloudwatch_logs",
        "/poe/calexico/audio-gateway",
        14,
        "A log group kept for 14 days.",
    ),
)


def seed_demo(unit: Unit) -> Matter:
    """Record the demo matter once; a second call returns the existing one unchanged."""
    existing = unit.session.scalar(select(Matter).where(Matter.docket_number == DOCKET_NUMBER))
    if existing is not None:
        return existing

    matter = matters.create_matter(
        unit,
        {
            "caption": "Al Otro Lado, Inc. v. Nielsen",
            "docket_number": DOCKET_NUMBER,
            "court": "U.S. District Court for the Southern District of California",
            "judge": "Magistrate Judge Karen S. Crawford (preservation order)",
            "status": "open",
            "trigger_date": dt.date(2017, 7, 12),
            "trigger_description": f"Complaint filed; duty to preserve assumed to arise then {ILLUSTRATIVE}",
            "trigger_decided_by": f"Litigation counsel {ILLUSTRATIVE}",
            "description": "Asylum seekers sued U.S. Customs and Border Protection over turnbacks at ports of entry.",
        },
    )
    order = orders.create_order(
        unit,
        matter.id,
        {
            "kind": "court_order",
            "title": "Order Granting in Part and Denying in Part Defendants' Motion for Protective Order",
            "docket_entry": "170",
            "issued_by": "Magistrate Judge Karen S. Crawford",
            # The clerk's stamp and the docket text disagree; both are kept.
            "filed_on": dt.date(2018, 9, 17),
            "signed_on": dt.date(2018, 9, 27),
            "scope": (
                "Preservation obligations of video and audio data collected at multiple Ports of Entry along "
                "the Southwest border by U.S. Customs and Border Protection. Ruling on Defendants' motion "
                "(ECF No. 148); reported at 328 F.R.D. 408. The duty has the scope of discovery under "
                "Rule 26(b), judged by reasonableness and proportionality."
            ),
        },
    )
    stewards = {}
    for port in ("San Ysidro", "Otay Mesa", "Calexico"):
        slug = port.lower().replace(" ", "-")
        stewards[port] = custodians.create_custodian(
            unit,
            {
                "name": f"CCTV administrator, {port} POE {ILLUSTRATIVE}",
                "email": f"cctv-admin.{slug}@example.org",
                "title": "Surveillance systems administrator",
                "department": "Office of Field Operations",
            },
        )
        custodians.place_custodian_hold(unit, order.id, stewards[port].id, role="data_steward")

    obligations = {
        port: orders.create_obligation(
            unit,
            order.id,
            {
                "description": f"Preserve video and audio from POE cameras at {port} {ILLUSTRATIVE}",
                "preserve_from": dt.date(2016, 1, 1),
                "status": "open",
            },
        )
        for port in ("San Ysidro", "Otay Mesa", "Calexico")
    }
    for storage in DEMO_STORAGE:
        source = sources.create_data_source(
            unit,
            {
                "name": f"{storage.name} {ILLUSTRATIVE}",
                "kind": storage.kind,
                "location": storage.location,
                "region": "us-west-2",
                "description": storage.description,
                "steward_id": stewards[storage.port].id,
                "natural_retention_days": storage.retention_days,
                "check_interval_hours": 6,
            },
        )
        orders.link_data_source(unit, obligations[storage.port].id, source.id)

    legacy = sources.create_data_source(
        unit,
        {
            "name": f"San Ysidro legacy DVR archive, checked by hand {ILLUSTRATIVE}",
            "kind": "manual",
            "location": "San Ysidro POE equipment room, DVR rack 2",
            "steward_id": stewards["San Ysidro"].id,
            "natural_retention_days": 30,
        },
    )
    orders.link_data_source(unit, obligations["San Ysidro"].id, legacy.id)
    orders.create_obligation(
        unit,
        order.id,
        {
            "description": f"File a declaration of compliance with the preservation order {ILLUSTRATIVE}",
            "due_on": dt.date(2018, 10, 11),
            "status": "open",
        },
    )
    return matter
