"""The load benchmark's websocket client (bench/st_client.py) against the real app: it sees the first run,
follows the live fragment's auto-reruns, and reports a broken page as an error (so the benchmark can fail)."""

from __future__ import annotations

import pytest

from bench import st_client
from dashboard.ui.serve import start_background
from tests.factories import sample_database

pytestmark = pytest.mark.timeout(120)


def test_refuses_other_hosts():
    assert st_client.ws_url("http://127.0.0.1:8501/") == "ws://127.0.0.1:8501/_stcore/stream"
    with pytest.raises(ValueError):
        st_client.ws_url("http://example.com:8501")


def test_p95_is_nearest_rank():
    assert st_client.p95([float(i) for i in range(1, 101)]) == 95.0
    assert st_client.p95([3.0]) == 3.0


def test_sessions_follow_the_live_fragment_and_errors_are_seen(tmp_path):
    url = sample_database(tmp_path / "x.db")
    server = start_background(url, tmp_path, refresh_seconds=1, cache_ttl_seconds=1)
    try:
        async def scenario():
            live = await st_client.load(server.url, 3, 5, ramp=0.5, run_timeout=30,
                                        error_warnings=["database stopped answering"])
            broken = await st_client.load(server.url, 1, 0, page="spoke", query="unit=nonexistent", run_timeout=30)
            return live, broken

        live, broken = st_client.run_sync(scenario())  # a thread of its own: Playwright may run a loop here
    finally:
        server.stop()

    assert len(live.sessions) == 3
    for s in live.sessions:
        assert s.errors == [], s.errors
        assert s.first_run_s is not None and s.first_run_s > 0
        assert len(s.fragment_runs_s) >= 2, s
        assert s.full_runs_for_fragment == 0  # the server ran the fragment, not the whole page
        assert s.session_id
    assert live.errors == []

    (bad,) = broken.sessions
    assert bad.first_run_s is not None  # the page ran and finished ...
    assert bad.errors and "nonexistent" in bad.errors[0]  # ... and its st.error counts as an error
    assert broken.errors
