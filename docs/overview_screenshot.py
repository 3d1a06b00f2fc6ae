"""Remake docs/overview.png: the overview page of `preservation demo`, full page, 1280 pixels wide.

Starts the demo on a free port in its own folder, signs in through the sign-in page with the credentials
it prints, waits until the Otay Mesa bucket shows "at risk" with its date, takes the screenshot with
Playwright in the installed Chromium (no browser is downloaded), and stops the demo with Ctrl-C (SIGINT).

    python docs/overview_screenshot.py [--output docs/overview.png] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
AT_RISK_SOURCE = "Otay Mesa POE video archive"
DEMO_TIMEOUT_SECONDS = 120
WIDTH = 1280
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(lines: list[str], pattern: str, process: subprocess.Popen[str]) -> re.Match[str]:
    """The first printed line matching pattern, waiting while the demo starts."""
    deadline = time.monotonic() + DEMO_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for line in list(lines):
            found = re.search(pattern, line)
            if found:
                return found
        if process.poll() is not None:
            raise SystemExit("the demo stopped:\n" + "".join(lines))
        time.sleep(0.5)
    raise SystemExit(f"the demo printed nothing matching {pattern!r}:\n" + "".join(lines))


def _overview_with_bucket_at_risk(page: Page, base: str) -> None:
    """Reload the overview until the at-risk bucket's row shows its status and destruction date."""
    deadline = time.monotonic() + DEMO_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        page.goto(f"{base}/overview")
        row = page.locator("tr", has_text=AT_RISK_SOURCE).first
        if row.count() and re.search(r"at risk.*\d{4}-\d{2}-\d{2}", row.inner_text(), re.DOTALL):
            return
        time.sleep(1)
    raise SystemExit(f"{AT_RISK_SOURCE} did not show at risk with its date on /overview")


def take(output: Path, chromium: str) -> None:
    """Run the demo, sign in, and save the full overview page to output."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="preservation-demo-") as folder:
        process = subprocess.Popen(  # noqa: S603 (our own entry point, fixed arguments)
            [sys.executable, "-m", "preservation.cli", "demo", "--port", str(port), "--folder", folder],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
        reader.start()
        try:
            sign_in = _wait_for(lines, r"sign in as (\S+@\S+) with the password (\S+)", process)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(viewport={"width": WIDTH, "height": 900})
                    page.goto(f"{base}/auth/sign-in")
                    page.get_by_label("Email").fill(sign_in.group(1))
                    page.get_by_label("Password").fill(sign_in.group(2))
                    page.get_by_role("button", name=re.compile("Sign in", re.IGNORECASE)).click()
                    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
                    _overview_with_bucket_at_risk(page, base)
                    page.screenshot(path=str(output), full_page=True)
                finally:
                    browser.close()
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
            reader.join(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
    if process.returncode != 0:
        raise SystemExit(f"the demo did not stop cleanly ({process.returncode}):\n" + "".join(lines))


def main() -> None:
    """Parse the options and take the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "overview.png")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    options = parser.parse_args()
    take(options.output, options.chromium)


if __name__ == "__main__":
    main()
