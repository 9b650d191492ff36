"""Browser tier: a real `streamlit run` server and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.factories import sample_database

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, db_url: str, proc: subprocess.Popen, log: Path):
        self.url, self.db_url, self.proc, self.log = url, db_url, proc, log

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_server(db_url: str, tmp: Path, script: str = "streamlit_app.py", *, port: int | None = None,
                 args: tuple[str, ...] = (), **env) -> Server:
    """Serve the app on ``port`` (a free one by default); ``args`` are extra `streamlit run` options,
    e.g. ``("--secrets.files", path)``."""
    port = port or free_port()
    log = tmp / f"streamlit-{port}.log"
    environ = {**os.environ, "DASHBOARD_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT),
               **{f"DASHBOARD_{k.upper()}": str(v) for k, v in env.items()}}
    proc = subprocess.Popen(
        [sys.executable, *(["-m", "dashboard.ui.serve"] if script == "streamlit_app.py" else ["-m", "streamlit", "run", script]),
         "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *args],
        cwd=ROOT, env=environ, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return Server(base, db_url, proc, log)
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit did not become healthy: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)  # generous: CI machines are shared and slow
    yield pg
    context.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    server = start_server(sample_database(tmp / "browser.db"), tmp, refresh_seconds=2, cache_ttl_seconds=1)
    yield server
    server.stop()
