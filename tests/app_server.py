"""`crowdsim viz` served in its own process group for a test, and stopped afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(env: dict[str, str], *args: str) -> Iterator[tuple[int, str]]:
    """`crowdsim viz [args]` running in its own session: (port, the page it serves)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "viz", "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        page = ""
        deadline = time.time() + 90
        while time.time() < deadline and not page:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    page = r.read().decode()
            except OSError:
                time.sleep(0.5)
        assert "solara" in page.lower()
        yield port, page
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()
