"""The UI cache follows the other replicas' writes on PostgreSQL: a write announced by another app process clears
this process's readers of those names before their next read, and a write made here is announced to the others."""

from __future__ import annotations

import time

import pytest

from dashboard.settings import get_settings
from dashboard.ui import cache, changefeed


@pytest.fixture
def feed_db(pg_url, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", pg_url)
    get_settings.cache_clear()
    yield pg_url
    changefeed.close_all()
    get_settings.cache_clear()


def test_another_replicas_write_clears_this_replicas_readers_of_what_it_changed(feed_db):
    calls = []

    @cache.reads("routing")
    def rules(viewer: str) -> int:
        calls.append("rules")
        return len(calls)

    @cache.reads("items")
    def inbox(viewer: str) -> int:
        calls.append("inbox")
        return len(calls)

    first_rules, first_inbox = rules("ada"), inbox("ada")  # the first read starts listening
    assert changefeed.wait_connected(feed_db)
    assert changefeed.announce(feed_db, ["routing"], origin="another-replica")
    deadline = time.monotonic() + 10
    while rules("ada") == first_rules:  # cleared once the notification has arrived
        assert time.monotonic() < deadline, "the other replica's write never cleared the routing readers"
        time.sleep(0.05)
    assert inbox("ada") == first_inbox  # a name nobody announced stays cached


def test_a_write_here_is_announced_to_the_other_replicas(feed_db):
    other = changefeed.Listener(feed_db, origin="another-replica")  # plays the other replica's listener
    try:
        assert other.connected.wait(10)
        cache.invalidate("scenarios", "audit")
        deadline, got = time.monotonic() + 10, set()
        while got != {"scenarios", "audit"}:
            assert time.monotonic() < deadline, f"the other replica heard {got}"
            got |= other.take()
            time.sleep(0.05)
    finally:
        other.stop()
