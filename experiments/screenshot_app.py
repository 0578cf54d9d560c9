"""Regenerate the README's screenshot of the app (needs playwright and a local Chromium).

Install with `pip install -e '.[dev]'` and `apt-get install chromium`, then run
`python experiments/screenshot_app.py results/app.png`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from sim.viz.browser import launch

PORT = 8812


def wait_for_server(url: str, seconds: float = 90) -> None:
    """Poll until the app answers."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


def main(out: Path) -> None:
    """Start the app, let it run a few simulated hours, take the picture."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "viz",
            "--scenario",
            "leshan-mayday",
            "--policy",
            "fixed-posts",  # posts at the crowded places; thefts go on elsewhere
            "--port",
            str(PORT),
        ],
        start_new_session=True,  # its own process group: the app server it starts goes too
    )
    try:
        url = f"http://127.0.0.1:{PORT}/"
        wait_for_server(url)
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.goto(url)
            step = page.get_by_role("button", name="step 1 hour")
            page.get_by_text("Day 1 of 5, 00:00").wait_for(timeout=120_000)
            page.get_by_role("button", name="run to midnight").click()  # a day of thefts
            page.get_by_text("Day 2 of 5, 00:00").wait_for(timeout=120_000)
            for hour in range(1, 15):  # step to early afternoon: crowds, police on duty
                step.click()
                page.get_by_text(f"Day 2 of 5, {hour:02d}:00").wait_for(timeout=120_000)
            page.wait_for_timeout(2000)
            page.screenshot(path=str(out))
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "results/app.png"))
