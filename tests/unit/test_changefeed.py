"""The cross-process change signal (dashboard/ui/changefeed.py) on a real PostgreSQL: what one process announces
reaches another process's listener, a process ignores its own announcements, a listener that lost its connection
reports every name once it is back, and on SQLite both sides do nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dashboard.services.changes import NAMES
from dashboard.ui import changefeed

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def feed_url(pg_url):
    yield pg_url
    changefeed.close_all()


def _collect(url: str, want: set[str], seconds: float = 10.0) -> set[str]:
    got: set[str] = set()
    deadline = time.monotonic() + seconds
    while not want <= got and time.monotonic() < deadline:
        got |= changefeed.received(url)
        time.sleep(0.05)
    return got


def test_payloads_carry_the_origin_and_known_names_only():
    assert changefeed.payload(["routing", "audit", "nonsense"], origin="o1") == "o1 audit,routing"
    assert changefeed.parse("o1 audit,routing,nonsense") == ("o1", frozenset({"audit", "routing"}))
    assert changefeed.parse("o2 ") == ("o2", frozenset())


def test_another_process_announcement_reaches_this_process(feed_url):
    assert changefeed.wait_connected(feed_url)
    assert changefeed.received(feed_url) == frozenset()
    code = ("import sys; from dashboard.ui import changefeed; "
            "sys.exit(0 if changefeed.announce(sys.argv[1], ['routing', 'items', 'audit']) else 3)")
    done = subprocess.run([sys.executable, "-c", code, feed_url], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert _collect(feed_url, {"routing", "items", "audit"}) == {"routing", "items", "audit"}
    assert changefeed.received(feed_url) == frozenset()  # handed over once


def test_a_process_ignores_its_own_announcements_but_not_another_origin(feed_url):
    assert changefeed.wait_connected(feed_url)
    assert changefeed.announce(feed_url, ["scenarios", "audit"])  # this process: its cache is cleared already
    assert changefeed.announce(feed_url, ["users", "audit"], origin="another-replica")
    assert _collect(feed_url, {"users", "audit"}) == {"users", "audit"}
    time.sleep(0.3)
    assert "scenarios" not in changefeed.received(feed_url)


def test_a_listener_that_lost_its_connection_reports_every_name_when_back(feed_url, pg_server):
    assert changefeed.wait_connected(feed_url)
    listener = changefeed.listener(feed_url)
    assert listener is not None and listener.connections == 1
    admin = create_engine(f"{pg_server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:  # as a database restart would: the listening backend goes away
            killed = conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db "
                                       "AND query LIKE 'LISTEN hubspoke_changes%'"),
                                  {"db": feed_url.rsplit("/", 1)[1]}).scalars().all()
    finally:
        admin.dispose()
    assert killed and all(killed)
    deadline = time.monotonic() + 20
    while listener.connections < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert listener.connections == 2
    assert _collect(feed_url, set(NAMES)) == set(NAMES)


def test_sqlite_has_no_feed(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert changefeed.announce(url, ["items", "audit"]) is False
    assert changefeed.received(url) == frozenset()
    assert changefeed.listener(url) is None
