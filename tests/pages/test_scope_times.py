"""A data source's page gives each obligation it satisfies its own destruction time, read from the latest check."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from preservation.services import checks, matters, orders, sources
from preservation.services.unit import Unit, system_clock
from tests.accounts.support import open_session
from tests.pages.conftest import SignIn
from tests.pages.support import grow_matter, populate

NOT_FOUND = {"error": {"code": "NoSuchLifecycleConfiguration", "message": "", "http_status": 404}}
LOCK_OFF = {"error": {"code": "ObjectLockConfigurationNotFoundError", "message": "", "http_status": 404}}


def _version(key: str, written: dt.datetime) -> dict[str, Any]:
    return {"Key": key, "VersionId": "null", "IsLatest": True, "LastModified": written.isoformat(), "Size": 5}


def _bucket(written: dict[str, dt.datetime], *, rules: list[dict[str, Any]] | None) -> dict[str, Any]:
    """An unversioned bucket without Object Lock (no HEAD needed): what the S3 inspector would record."""
    return {
        "kind": "s3",
        "bucket": "claims",
        "prefix": "",
        "region": None,
        "versioning": {"response": {}},
        "object_lock": LOCK_OFF,
        "lifecycle": {"response": {"Rules": rules}} if rules is not None else NOT_FOUND,
        "listing": {"pages": 1, "versions": [_version(k, w) for k, w in written.items()], "delete_markers": []},
        "heads": [],
        "tags": [],
    }


def _record(database_url: str, snapshot_of: Any) -> dict[str, int]:
    """A source satisfying two obligations of different ranges, and a third linked only after the check."""
    now = system_clock()
    today = now.date()
    with open_session(database_url) as session:
        unit = Unit(session=session, actor="user:setup@example.com")
        matter = matters.create_matter(unit, {"caption": "Claims v. Insurer"})
        order = orders.create_order(unit, matter.id, {"kind": "court_order", "title": "Preserve claim files"})
        early = orders.create_obligation(
            unit,
            order.id,
            {
                "description": "Claims of last year",
                "preserve_from": today - dt.timedelta(days=400),
                "preserve_until": today - dt.timedelta(days=200),
            },
        )
        recent = orders.create_obligation(
            unit, order.id, {"description": "Claims since the suit", "preserve_from": today - dt.timedelta(days=60)}
        )
        source = sources.create_data_source(unit, {"name": "Claim files", "kind": "s3", "location": "s3://claims/"})
        orders.link_data_source(unit, early.id, source.id)
        orders.link_data_source(unit, recent.id, source.id)
        request = checks.prepare_check(unit, source.id)
        session.commit()
        checks.record_check(unit, request, snapshot_of(now))
        session.commit()
        later = orders.create_obligation(unit, order.id, {"description": "Added after the check"})
        orders.link_data_source(unit, later.id, source.id)
        session.commit()
        return {"source": source.id, "early": early.id, "recent": recent.id, "later": later.id}


def _times(html: str) -> dict[str, str]:
    return {
        match.group(1): re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(2))).strip()
        for match in re.finditer(r'id="scope-time-(\d+)">(.*?)</span></li>', html, re.DOTALL)
    }


def test_each_obligation_shows_the_earliest_destruction_of_its_own_range(sign_in_as: SignIn, database_url: str) -> None:
    expiry = [{"ID": "expire-400", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 400}}]

    def bucket(now: dt.datetime) -> dict[str, Any]:
        # Written 300 days ago (the first range) and 10 days ago (the second): expired 400 days after writing.
        return _bucket(
            {"old-claim.pdf": now - dt.timedelta(days=300), "new-claim.pdf": now - dt.timedelta(days=10)},
            rules=expiry,
        )

    ids = _record(database_url, bucket)
    page = sign_in_as("viewer").get(f"/sources/{ids['source']}").get_data(as_text=True)
    times = _times(page)
    today = system_clock().date()
    early = (today + dt.timedelta(days=101)).isoformat()
    recent = (today + dt.timedelta(days=391)).isoformat()
    assert early in times[str(ids["early"])], times
    assert recent not in times[str(ids["early"])]
    assert recent in times[str(ids["recent"])], times
    assert early not in times[str(ids["recent"])]
    assert "cannot tell" in times[str(ids["later"])]
    assert "linked or changed after the latest check" in times[str(ids["later"])]
    # The source as a whole is destroyed from the earlier of the two.
    assert early in page.split('id="destruction"')[1].split("</dd>")[0]


def test_none_found_needs_proof_and_an_unreadable_lifecycle_cannot_tell(sign_in_as: SignIn, database_url: str) -> None:
    def kept(now: dt.datetime) -> dict[str, Any]:
        return _bucket({"old.pdf": now - dt.timedelta(days=300), "new.pdf": now - dt.timedelta(days=10)}, rules=None)

    ids = _record(database_url, kept)
    times = _times(sign_in_as("viewer").get(f"/sources/{ids['source']}").get_data(as_text=True))
    assert times[str(ids["early"])].startswith("Destroyed from: none found"), times
    assert times[str(ids["recent"])].startswith("Destroyed from: none found")

    def denied(now: dt.datetime) -> dict[str, Any]:
        snapshot = kept(now)
        snapshot["lifecycle"] = {"error": {"code": "AccessDenied", "message": "denied", "http_status": 403}}
        return snapshot

    ids = _record(database_url, denied)
    times = _times(sign_in_as("viewer").get(f"/sources/{ids['source']}").get_data(as_text=True))
    assert "cannot tell" in times[str(ids["early"])], times
    assert "access denied reading lifecycle" in times[str(ids["early"])]

    def nothing_in_the_early_range(now: dt.datetime) -> dict[str, Any]:
        return _bucket({"new.pdf": now - dt.timedelta(days=10)}, rules=None)

    ids = _record(database_url, nothing_in_the_early_range)
    times = _times(sign_in_as("viewer").get(f"/sources/{ids['source']}").get_data(as_text=True))
    assert "cannot tell" in times[str(ids["early"])], times  # nothing written there was seen: no proof
    assert times[str(ids["recent"])].startswith("Destroyed from: none found")


def test_sources_whose_evidence_cannot_be_split_say_so(sign_in_as: SignIn, database_url: str) -> None:
    with open_session(database_url) as session:
        unit = Unit(session=session, actor="user:setup@example.com")
        matter = matters.create_matter(unit, {"caption": "Paper v. Boxes"})
        order = orders.create_order(unit, matter.id, {"kind": "litigation_hold", "title": "Keep the boxes"})
        obligation = orders.create_obligation(unit, order.id, {"description": "Boxes"})
        source = sources.create_data_source(unit, {"name": "Archive room", "kind": "manual", "location": "room 4"})
        orders.link_data_source(unit, obligation.id, source.id)
        session.commit()
        unchecked = sign_in_as("viewer").get(f"/sources/{source.id}").get_data(as_text=True)
        assert "no check has looked at the source yet" in _times(unchecked)[str(obligation.id)]
        request = checks.prepare_check(unit, source.id)
        session.commit()
        checks.record_check(unit, request, checks.collect(request, None))  # type: ignore[arg-type]
        session.commit()
    times = _times(sign_in_as("viewer").get(f"/sources/{source.id}").get_data(as_text=True))
    assert times[str(obligation.id)].startswith("Destroyed from: not computed per scope"), times


def test_a_check_that_kept_no_evidence_cannot_tell(sign_in_as: SignIn, database_url: str) -> None:
    ids = populate(database_url, 1)
    grow_matter(database_url, ids, 1)  # its checks keep findings but no evidence
    times = _times(sign_in_as("viewer").get(f"/sources/{ids['source']}").get_data(as_text=True))
    assert "cannot tell the latest check kept no evidence" in times[str(ids["obligation"])], times
