"""The live overview is computed once per scope, window and lifetime for the whole process and shared by every
session of that scope: sessions that ask at once wait for one computation; once it expires, readers get the last
one while one recomputation runs in the background; a write clears it at once. Against a real SQLite file, with a
spy counting the real ``load_overview``'s runs."""

from __future__ import annotations

import threading
import time

import pytest

from dashboard.domain.access import Role, Viewer
from dashboard.settings import get_settings
from dashboard.ui import cache, data
from tests.factories import sample_database

ADMIN = Viewer("ada@example.com", Role.ADMIN)
EXEC = Viewer("eve@example.com", Role.EXECUTIVE)
HUB = Viewer("hal@example.com", Role.HUB_LEAD)
SALES = Viewer("sam@example.com", Role.SPOKE_LEAD, unit="sales")
SALES_TOO = Viewer("sue@example.com", Role.SPOKE_LEAD, unit="sales")
FINANCE = Viewer("fay@example.com", Role.SPOKE_LEAD, unit="finance")


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """The app's settings on a sample database; returns the list of (scope, window) each real computation ran for."""
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", sample_database(tmp_path / "live.db"))
    monkeypatch.setenv("DASHBOARD_CACHE_TTL_SECONDS", "3600")
    get_settings.cache_clear()
    cache.invalidate("items")
    seen: list[tuple[Viewer, str]] = []
    real = data.load_overview

    def spy(conn, viewer, window, now, tz):
        seen.append((viewer, window))
        time.sleep(0.2)  # long enough for the other sessions to arrive while it runs
        return real(conn, viewer, window, now, tz)

    monkeypatch.setattr(data, "load_overview", spy)
    yield seen
    cache.invalidate("items")
    get_settings.cache_clear()


def test_everyone_who_sees_every_unit_shares_one_overview_and_each_spoke_lead_their_own(runs):
    shared = {v: data.live_overview(v, "7d") for v in (ADMIN, EXEC, HUB, SALES, SALES_TOO, FINANCE)}
    assert shared[ADMIN] is shared[EXEC] is shared[HUB]
    assert shared[SALES] is shared[SALES_TOO]
    assert len({id(o) for o in shared.values()}) == 3 and len(runs) == 3
    assert {scope.unit for scope, _ in runs} == {None, "sales", "finance"}
    assert data.overview(ADMIN, "30d") is not shared[ADMIN].data and len(runs) == 4  # another window


def test_sessions_asking_at_once_wait_for_one_computation(runs):
    start, got = threading.Barrier(8), []

    def session():
        start.wait()
        got.append(data.live_overview(ADMIN, "7d"))

    threads = [threading.Thread(target=session) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(got) == 8 and len({id(o) for o in got}) == 1
    assert len(runs) == 1


def test_the_map_is_built_once_with_the_data_and_each_filter_on_first_use(runs):
    live = data.live_overview(ADMIN, "7d")
    whole, key = live.map(())
    assert data.overview_map(EXEC, "7d", ()) is whole and key.startswith("map-")
    sales = data.overview_map(HUB, "7d", ("sales",))
    assert sales is not whole and data.overview_map(ADMIN, "7d", ("sales",)) is sales
    assert {t.name for t in sales.data} >= {"units", "flows"} and len(runs) == 1


def test_an_expired_overview_is_served_while_one_recomputation_runs_in_the_background(runs, monkeypatch):
    monkeypatch.setenv("DASHBOARD_CACHE_TTL_SECONDS", "1")
    get_settings.cache_clear()
    first = data.live_overview(ADMIN, "7d")
    time.sleep(1.1)
    t0 = time.perf_counter()
    stale = data.live_overview(ADMIN, "7d")
    assert stale is first and time.perf_counter() - t0 < 0.15  # no wait for the 0.2 s computation
    deadline = time.monotonic() + 10
    while (fresh := data.live_overview(ADMIN, "7d")) is first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fresh is not first and len(runs) == 2


def test_a_write_clears_the_shared_overview_at_once(runs):
    first = data.live_overview(SALES, "7d")
    cache.invalidate("items")
    assert data.live_overview(SALES_TOO, "7d") is not first and len(runs) == 2
