"""Browser tier: a real `streamlit run` server and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dashboard.ui.serve import Server, free_port, start_background  # noqa: F401 (free_port: tests import it from here)
from tests.factories import sample_database

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def start_server(db_url: str, tmp: Path, script: str = "streamlit_app.py", *, port: int | None = None,
                 args: tuple[str, ...] = (), **env) -> Server:
    """Serve the app (see :func:`dashboard.ui.serve.start_background`) with its log in ``tmp``."""
    return start_background(db_url, tmp, script, port=port, args=args, **env)


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


@contextmanager
def sized_page(browser, width: int, height: int, *, touch: bool = False) -> Iterator:
    """A page in a browser context of its own at ``width`` × ``height`` (``touch``: a mobile phone with a touch
    screen), with the suite's generous timeout; the context is closed afterwards."""
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=touch, has_touch=touch)
    page = context.new_page()
    page.set_default_timeout(60_000)  # generous: CI machines are shared and slow
    try:
        yield page
    finally:
        context.close()


def sideways(page) -> int:
    """How many pixels the page is wider than the window (0: nothing scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")

