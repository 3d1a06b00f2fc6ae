"""The dashboard in a real browser: Debian's Chromium, a live server, and S3 on a moto server.

Sign in, record a matter, an order and an obligation, catalogue an S3 source on a bucket whose lifecycle
rule expires the evidence in 30 days, check it (at risk, with its date), preserve it after reading the
plan, check again (preserved); record a custodian and place them under the order. Screenshots of every
page, the forms, the acknowledgements, a custodian's holds and (for an admin) the audit page land in
test-artifacts/.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from config.settings import Settings
from preservation.app import create_app
from tests.accounts.support import PASSWORD, Person, make_person

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("PRESERVATION_TEST_REQUIRE_BROWSER") == "1"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
BUCKET = "camera-footage"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not REQUIRE_BROWSER,
        reason="Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium; CI requires it)",
    ),
]


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on a free port; AWS_ENDPOINT_URL points the app's boto3 clients at it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    yield url
    server.stop()


@pytest.fixture
def live_server(sqlite_template: Path, tmp_path: Path, moto_endpoint: str) -> Iterator[tuple[str, str]]:
    """The app served by werkzeug on a free port, on its own SQLite database: (base URL, database URL)."""
    del moto_endpoint  # the server's clients must be built after AWS_ENDPOINT_URL is set
    database = tmp_path / "browser.db"
    shutil.copyfile(sqlite_template, database)
    database_url = f"sqlite:///{database}"
    app = create_app(Settings(database_url=database_url, secret_key="browser-test", instance_path=tmp_path / "i"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", database_url
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["preservation"].engine.dispose()


def _seed_bucket() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    # In a versioned bucket expiry only hides the current version; the noncurrent rule then destroys it.
    rule = {
        "ID": "thirty-days",
        "Status": "Enabled",
        "Filter": {"Prefix": "lobby/"},
        "Expiration": {"Days": 30},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
    }
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [rule]})
    for number in range(3):
        s3.put_object(Bucket=BUCKET, Key=f"lobby/cam-{number}.mp4", Body=b"footage")


def test_sign_in_check_preserve_and_see_it_preserved(live_server: tuple[str, str]) -> None:
    from playwright.sync_api import Page, expect, sync_playwright  # noqa: PLC0415 - only when Chromium is there

    base, database_url = live_server
    _seed_bucket()
    counsel: Person = make_person(database_url, "counsel@example.com", "counsel", with_mfa=True)
    ARTIFACTS.mkdir(exist_ok=True)

    def shot(page: Page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def sign_in(page: Page, person: Person, screenshot: str | None = None) -> None:
        page.goto(f"{base}/")
        expect(page).to_have_url(re.compile(r"/auth/sign-in"))
        if screenshot:
            shot(page, screenshot)
        page.get_by_label("Email").fill(person.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name=re.compile("Sign in", re.IGNORECASE)).click()
        page.get_by_label("Code").fill(person.totp_code())
        page.get_by_role("button").filter(has_text=re.compile("Continue|Sign in|Verify", re.IGNORECASE)).click()
        page.goto(f"{base}/")
        expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()

    def fill_form(page: Page, values: dict[str, str]) -> None:
        for name, value in values.items():
            field = page.locator(f"[name={name}]")
            if field.evaluate("element => element.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
        page.get_by_role("button", name="Save").click()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            sign_in(page, counsel, screenshot="01-sign-in")

            page.get_by_role("link", name="Matters", exact=True).click()
            page.get_by_role("link", name="New matter").click()
            fill_form(page, {"caption": "Lobby incident v. Example Corp", "docket_number": "1:26-cv-0042"})
            shot(page, "02-matter-form-result")
            page.get_by_role("link", name="Record an order").click()
            shot(page, "03-order-form")
            fill_form(
                page,
                {
                    "kind": "court_order",
                    "title": "Order to preserve lobby footage",
                    "signed_on": "2026-01-05",
                    "entered_on": "2026-01-06",
                    "compliance_due_on": "2026-02-01",
                },
            )
            page.get_by_role("link", name="Add an obligation").click()
            expect(page.locator("h1")).to_be_visible()
            shot(page, "03b-obligation-form")
            fill_form(page, {"description": "Keep every lobby camera recording", "preserve_from": "2020-01-01"})
            matter_url = page.url

            page.get_by_role("link", name="Data sources", exact=True).click()
            page.get_by_role("link", name="New data source").click()
            expect(page.locator("h1")).to_be_visible()
            shot(page, "03c-source-form")
            fill_form(page, {"name": "Lobby cameras", "kind": "s3", "location": f"s3://{BUCKET}/lobby/"})
            source_url = page.url
            source_id = source_url.rstrip("/").rsplit("/", 1)[-1]
            page.goto(matter_url)
            page.get_by_role("link", name="Link a data source").click()
            fill_form(page, {"data_source_id": source_id})
            shot(page, "04-matter")

            page.goto(source_url)
            page.get_by_role("button", name="Run check now").click()
            status = page.locator("#source-status")
            expect(status).to_have_text("at risk")
            # Thirty days to expiry, a day as a noncurrent version, rounded up to midnight by S3's rules.
            today = dt.datetime.now(dt.UTC).date()
            days = "|".join((today + dt.timedelta(days=offset)).isoformat() for offset in (30, 31, 32))
            destruction = page.locator("#destruction")
            expect(destruction).to_contain_text(re.compile(days))
            expect(destruction).to_contain_text(re.compile(r"in (30|31|32) days"))
            shot(page, "05-source-at-risk")

            page.goto(f"{base}/overview")
            expect(page.get_by_role("link", name="Lobby cameras")).to_be_visible()
            expect(page.locator("strong.countdown").first).to_contain_text(re.compile(r"in (30|31|32) days"))
            shot(page, "06-overview-at-risk")
            page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=False)

            page.goto(source_url)
            page.get_by_role("link", name="Preserve now…").click()
            expect(page.get_by_text("This is a dry run")).to_be_visible()
            expect(page.get_by_role("cell", name="put legal hold")).to_be_visible()
            shot(page, "07-preserve-plan")
            page.get_by_role("button", name=re.compile("Confirm")).click()
            expect(page.get_by_role("status")).to_contain_text("Preservation carried out")
            page.get_by_role("button", name="Run check now").click()
            expect(page.locator("#source-status")).to_have_text("preserved")
            shot(page, "08-source-preserved")

            for name, path in (
                ("09-sources", "/sources"),
                ("10-custodians", "/custodians"),
                ("11-alerts", "/alerts"),
                ("12-scheduler", "/scheduler"),
                ("13-overview-after", "/overview"),
                ("14-matters", "/matters"),
            ):
                page.goto(f"{base}{path}")
                expect(page.locator("h1")).to_be_visible()
                shot(page, name)

            # A custodian placed under the order: the custodian form, the order's acknowledgements, their holds.
            page.goto(f"{base}/custodians")
            page.get_by_role("link", name="New custodian").click()
            expect(page.locator("h1")).to_be_visible()
            shot(page, "15-custodian-form")
            fill_form(page, {"name": "Dana Guard", "email": "dana.guard@example.com", "department": "Security"})
            page.get_by_role("link", name="Dana Guard").click()
            custodian_url = page.url
            page.goto(matter_url)
            page.get_by_role("link", name="Place a custodian").click()
            fill_form(page, {"custodian_id": custodian_url.rstrip("/").rsplit("/", 1)[-1], "role": "custodian"})
            page.get_by_role("link", name="Acknowledgements and notices").click()
            expect(page.locator("h1")).to_be_visible()
            shot(page, "16-acknowledgements")
            page.goto(custodian_url)
            expect(page.get_by_role("heading", name="Dana Guard")).to_be_visible()
            shot(page, "17-custodian")

            # The audit page is for auditors and admins: a second person, in a browser context of their own.
            admin: Person = make_person(database_url, "admin@example.com", "admin", with_mfa=True)
            auditing = browser.new_page(viewport={"width": 1280, "height": 900})
            sign_in(auditing, admin)
            auditing.goto(f"{base}/audit")
            expect(auditing.get_by_role("heading", name="Audit trail")).to_be_visible()
            shot(auditing, "18-audit")
        finally:
            browser.close()
