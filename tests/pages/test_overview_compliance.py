"""The overview's compliance summary (statuses over time, charted and tabled), its stale rule, and the
page furniture that keyboard and screen reader users rely on (skip link, current page, focus ring)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from preservation.domain.vocabulary import DATA_SOURCE_STATUSES
from preservation.models import SourceStatusDay
from preservation.services import dashboard, sources
from preservation.services.unit import Unit, system_clock
from tests.accounts.support import open_session
from tests.pages.conftest import SignIn
from tests.pages.support import populate

STYLE = Path(__file__).resolve().parents[2] / "preservation" / "static" / "style.css"


def test_the_overview_charts_statuses_over_fourteen_days_with_the_figures_as_a_table(
    sign_in_as: SignIn, database_url: str
) -> None:
    populate(database_url, 2)  # two sources at risk, counted today
    today = system_clock().date()
    three_days_ago = today - dt.timedelta(days=3)
    with open_session(database_url) as session:
        session.execute(
            insert(SourceStatusDay),
            [
                {
                    "day": three_days_ago,
                    "status": status,
                    "sources": 2 if status == "preserved" else 0,
                    "counted_at": system_clock() - dt.timedelta(days=3),
                }
                for status in DATA_SOURCE_STATUSES
            ],
        )
        session.commit()
    page = sign_in_as("viewer").get("/overview").get_data(as_text=True)
    chart = page[page.index('id="history-chart-title"') :]
    assert "Data sources by status at the end of each of the last 14 days" in page
    # Columns stack one band per status, each with its words in a tooltip; days before the history are outlined.
    assert f"<title>{today.isoformat()}: 2 at risk</title>" in chart
    assert f"<title>{three_days_ago.isoformat()}: 2 preserved</title>" in chart
    assert f"<title>{(three_days_ago + dt.timedelta(days=1)).isoformat()}: 2 preserved</title>" in chart
    assert f"<title>{(three_days_ago - dt.timedelta(days=1)).isoformat()}: no record</title>" in chart
    # The legend and the caption name the statuses in words, not colour alone.
    legend = re.findall(r'<li><span class="swatch (\w+)"></span>([\w ]+)</li>', page)
    assert {(cls, word) for cls, word in legend} == {(s, s.replace("_", " ")) for s in DATA_SOURCE_STATUSES}
    assert "Live data sources by status at the end of each day (UTC)" in page
    assert "A day with no change keeps the figures of the day before" in page
    # The same figures as a table: a row a day, newest first, a column a status.
    table = page[page.index('<table class="figures">') : page.index("</table>", page.index('<table class="figures">'))]
    rows = re.findall(r'<th scope="row">([\d-]+)</th>(.*?)</tr>', table, re.S)
    assert [day for day, _ in rows] == [(today - dt.timedelta(days=n)).isoformat() for n in range(14)]
    cells = {day: re.findall(r"<td[^>]*>(.*?)</td>", rest, re.S) for day, rest in rows}
    headers = re.findall(r'<th scope="col">([\w ]+)</th>', table)
    assert headers == ["Day", "preserved", "released", "unchecked", "at risk", "unverifiable", "lost", "All", "Note"]
    assert cells[today.isoformat()] == ["0", "0", "0", "2", "0", "0", "2", "today, as last counted"]
    assert cells[(today - dt.timedelta(days=2)).isoformat()] == [
        "2", "0", "0", "0", "0", "0", "2", f"no change since {three_days_ago.isoformat()}",
    ]  # fmt: skip
    assert cells[three_days_ago.isoformat()] == ["2", "0", "0", "0", "0", "0", "2", ""]
    assert cells[(today - dt.timedelta(days=13)).isoformat()] == ["no record", "before the history began"]
    # Now, as last counted, beside the history.
    assert "Data sources by status now (counted " in page
    assert "at risk 2" in page


def test_a_source_is_stale_after_twice_its_own_check_interval(unit: Unit, session: Session) -> None:
    now = unit.clock()
    cases = {
        "hourly, checked 3 hours ago": (1, dt.timedelta(hours=3), True),
        "hourly, checked 90 minutes ago": (1, dt.timedelta(minutes=90), False),
        "hourly, checked exactly 2 hours ago": (1, dt.timedelta(hours=2), False),
        "daily, checked 47 hours ago": (24, dt.timedelta(hours=47), False),
        "daily, checked 49 hours ago": (24, dt.timedelta(hours=49), True),
        "weekly, checked 8 days ago": (168, dt.timedelta(days=8), False),
        "weekly, checked 15 days ago": (168, dt.timedelta(days=15), True),
        "daily, never checked": (24, None, True),
    }
    for name, (hours, ago, _stale) in cases.items():
        source = sources.create_data_source(
            unit, {"name": name, "kind": "s3", "location": f"s3://{len(name)}-{hours}/", "check_interval_hours": hours}
        )
        source.last_checked_at = None if ago is None else now - ago
    by_hand = sources.create_data_source(unit, {"name": "by hand", "kind": "manual", "location": "cabinet"})
    assert by_hand.last_checked_at is None  # stewards attest instead; never listed as stale
    retired = sources.create_data_source(
        unit, {"name": "retired", "kind": "s3", "location": "s3://gone/", "check_interval_hours": 1}
    )
    sources.retire_data_source(unit, retired.id, "moved")
    session.flush()
    stale = [source.name for source in dashboard.overview(unit).stale_sources]
    # Never checked first, then the longest unchecked.
    assert stale == [
        "daily, never checked",
        "weekly, checked 15 days ago",
        "daily, checked 49 hours ago",
        "hourly, checked 3 hours ago",
    ]
    assert {name for name, (_h, _a, is_stale) in cases.items() if is_stale} == set(stale)


def test_the_overview_states_the_stale_rule(sign_in_as: SignIn, database_url: str) -> None:
    populate(database_url, 1)  # its source was checked three days ago, once a day
    page = sign_in_as("viewer").get("/overview").get_data(as_text=True)
    assert "older than 2 times its own check interval" in page
    assert "checked 3 days ago, due every 24 hours" in page


def test_pages_have_a_skip_link_and_mark_the_current_page_in_the_menu(sign_in_as: SignIn, database_url: str) -> None:
    ids = populate(database_url, 1)
    client = sign_in_as("admin")
    overview = client.get("/overview").get_data(as_text=True)
    body = overview[overview.index("<body>") :]
    assert body.index('<a class="skip-link" href="#content">Skip to content</a>') < body.index("<nav")
    assert '<main id="content" tabindex="-1">' in overview
    assert re.findall(r'<a href="[^"]+" aria-current="(\w+)">([^<]+)</a>', overview) == [("page", "Overview")]
    matters = client.get("/matters").get_data(as_text=True)
    assert re.findall(r'<a href="[^"]+" aria-current="(\w+)">([^<]+)</a>', matters) == [("page", "Matters")]
    # Inside a section the section's link says so, without claiming to be the page itself.
    matter = client.get(f"/matters/{ids['matter']}").get_data(as_text=True)
    assert re.findall(r'<a href="[^"]+" aria-current="(\w+)">([^<]+)</a>', matter) == [("true", "Matters")]


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, other: str) -> float:
    high, low = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_focus_ring_contrasts_at_least_3_to_1_with_every_background_it_sits_on() -> None:
    css = STYLE.read_text(encoding="utf-8")
    variables = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    rule = re.search(r"a:focus-visible[^{]*\{([^}]*)\}", css)
    assert rule is not None
    outline = re.search(r"outline:\s*\d+px solid (#[0-9a-fA-F]{6}|var\(--([\w-]+)\))", rule.group(1))
    assert outline is not None
    ring = outline.group(1) if outline.group(1).startswith("#") else variables[outline.group(2)]
    for background in ("#ffffff", variables["notice-bg"], variables["error-bg"], "#f3f5f7"):
        assert _contrast(ring, background) >= 3, (ring, background)
