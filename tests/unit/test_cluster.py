"""Several replicas behind HAProxy (loaders/cluster.py, deploy/haproxy.cfg.template): the configuration HAProxy
accepts, and a real cluster — two app processes on one PostgreSQL behind a real HAProxy on loopback — that answers
its health check through the balancer, spreads sessions over both replicas, keeps a browser on its replica, and
takes a stopped replica out. Skipped, with the reason, only where HAProxy is not installed (`make sysdeps`)."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from pathlib import Path

import pytest

from bench import st_client
from dashboard.db import make_engine
from loaders import cluster, demo
from loaders.cluster import COOKIE, REPLICA_HEADER, Cluster, HaproxyUnavailable, Replica, render
from tests.conftest import new_pg_database


def _need_haproxy() -> None:
    try:
        cluster.haproxy_binary()
    except HaproxyUnavailable as exc:
        pytest.skip(str(exc))


# --- the configuration ----------------------------------------------------------------------------------------


def test_the_rendered_configuration_is_one_haproxy_accepts(tmp_path):
    _need_haproxy()
    replicas = [Replica("r1", 18601), Replica("r2", 18602), Replica("r3", 18603)]
    text = render(replicas, "127.0.0.1:18501", "127.0.0.1:18502")
    body = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    assert not [ln for ln in body if "{{" in ln], "a placeholder left unfilled"
    servers = [ln.split() for ln in body if ln.strip().startswith("server ")]
    assert servers == [["server", r.name, f"127.0.0.1:{r.port}", "check", "cookie", r.name] for r in replicas]
    settings = " ".join(" ".join(ln.split()) for ln in body)
    for needed in (f"cookie {COOKIE} insert", "timeout tunnel 1h", "http-check send meth GET uri /_stcore/health",
                   "bind 127.0.0.1:18501", "option redispatch"):
        assert needed in settings
    path = tmp_path / "haproxy.cfg"
    path.write_text(text)
    cluster.check_config(path)  # raises with HAProxy's words when it refuses
    path.write_text(text.replace("balance leastconn", "balance nonsense"))
    with pytest.raises(RuntimeError, match="HAProxy refuses"):
        cluster.check_config(path)


def test_an_unknown_placeholder_is_refused(tmp_path):
    template = tmp_path / "t.cfg"
    template.write_text("# {{anything}} in a comment stays\nfrontend x\n    bind {{bind}}\n    {{port}}\n")
    with pytest.raises(ValueError, match="unknown placeholder"):
        render([Replica("r1", 1)], "127.0.0.1:1", "127.0.0.1:2", template)
    template.write_text("# {{anything}} in a comment stays\nfrontend x\n    bind {{bind}}\n")
    assert render([], "127.0.0.1:1", "127.0.0.1:2", template).splitlines() == [
        "# {{anything}} in a comment stays", "frontend x", "    bind 127.0.0.1:1"]


def test_the_command_line_refuses_a_database_replicas_cannot_share(env, capsys):
    env.setenv("DASHBOARD_DATABASE_URL", "sqlite:///x.db")
    assert cluster.main(["--replicas", "2"]) == 2
    assert "PostgreSQL" in capsys.readouterr().err


# --- a real cluster ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def running(pg_server, pg_template, tmp_path_factory):
    _need_haproxy()
    url = new_pg_database(pg_server, pg_template)
    engine = make_engine(url)
    try:
        demo.load_demo(engine, work_items=2_000, kpi_observations=2_000, days=14)
    finally:
        engine.dispose()
    with Cluster(url, replicas=2, run_dir=tmp_path_factory.mktemp("cluster"),
                 env={"refresh_seconds": 1, "cache_ttl_seconds": 1}) as c:
        yield c


def _get(url: str, cookie: str | None = None):
    req = urllib.request.Request(url, headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.read().decode(errors="replace"), r.headers


def _pinned_to(headers) -> str | None:
    """The replica HAProxy's Set-Cookie pins the browser to (None: it sets no such cookie)."""
    for value in headers.get_all("Set-Cookie") or []:
        if m := re.match(rf"{COOKIE}=(\w+)", value):
            return m.group(1)
    return None


def _established_to(port: int) -> int:
    """Open TCP connections into 127.0.0.1:``port`` as the kernel counts them (/proc/net/tcp), i.e. what the replica
    serves, counted without asking HAProxy."""
    n = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, _remote, state = line.split()[1:4]
        if state == "01" and int(local.split(":")[1], 16) == port:
            n += 1
    return n


@pytest.mark.slow
def test_health_answers_through_the_balancer_and_haproxy_checks_every_replica(running):
    status, body, headers = _get(f"{running.url}/_stcore/health")
    assert (status, body) == (200, "ok")
    assert headers[REPLICA_HEADER] in {"r1", "r2"}
    stats = running.stats()
    assert sorted(stats) == ["r1", "r2"]
    for name, row in stats.items():
        assert row["status"] == "UP", (name, row)
        assert row["check_status"] == "L7OK", (name, row)  # an HTTP check that got its 200


@pytest.mark.slow
def test_sessions_are_spread_over_both_replicas(running):
    async def scenario():
        tabs = await st_client.open_sessions(running.url, 4, prefix="spread")
        try:
            took = {t.response_headers.get(REPLICA_HEADER) for t in tabs}
            current = {name: int(row["scur"]) for name, row in running.stats().items()}
            open_tcp = {r.name: _established_to(r.port) for r in running.members}
            return tabs, took, current, open_tcp
        finally:
            await st_client.close_all(tabs)

    tabs, took, current, open_tcp = st_client.run_sync(scenario())
    assert [t.stats.errors for t in tabs] == [[]] * 4
    assert all(t.stats.first_run_s is not None for t in tabs), "every session ran the overview once"
    assert took == {"r1", "r2"}
    assert all(current[name] >= 1 for name in ("r1", "r2")), current
    assert all(n >= 1 for n in open_tcp.values()), open_tcp  # each process really holds a websocket


@pytest.mark.slow
def test_a_browser_sticks_to_its_replica(running):
    # the first page load pins the browser; every later request carries the cookie back
    _, _, headers = _get(f"{running.url}/")
    home = _pinned_to(headers)
    assert home in {"r1", "r2"}
    other = ({"r1", "r2"} - {home}).pop()
    for _ in range(6):  # plain requests of that browser: all to its replica, no new cookie
        _, _, h = _get(f"{running.url}/_stcore/health", home)
        assert (h[REPLICA_HEADER], _pinned_to(h)) == (home, None)
    served_before = int(running.stats()[other]["stot"])

    async def scenario():
        tabs = [st_client.StreamlitSession(running.url, name=f"sticky{i}", headers={"Cookie": f"{COOKIE}={home}"})
                for i in range(3)]
        try:
            await asyncio.gather(*(t.open() for t in tabs))
            by_replica = {r.name: _established_to(r.port) for r in running.members}
            # the live fragment reruns need the session's state, which only the process that opened it holds
            await asyncio.gather(*(t.follow_live(time.monotonic() + 3.5) for t in tabs))
            return tabs, by_replica
        finally:
            await st_client.close_all(tabs)

    tabs, by_replica = st_client.run_sync(scenario())
    assert [t.stats.errors for t in tabs] == [[]] * 3
    assert [t.response_headers.get(REPLICA_HEADER) for t in tabs] == [home] * 3
    assert by_replica[home] >= 3, by_replica
    assert all(len(t.stats.fragment_runs_s) >= 2 for t in tabs), [t.stats.fragment_runs_s for t in tabs]
    assert all(t.stats.full_runs_for_fragment == 0 for t in tabs)  # answered as fragment runs: same session
    assert int(running.stats()[other]["stot"]) == served_before, "a pinned browser reached the other replica"


@pytest.mark.slow
def test_a_stopped_replica_is_taken_out_and_its_browsers_move(running):
    # last in this module: it stops r1 for good
    victim = running.procs["r1"]
    victim.terminate()
    victim.wait(20)
    _, body, headers = _get(f"{running.url}/_stcore/health", "r1")  # a browser pinned to r1
    assert body == "ok"
    assert (headers[REPLICA_HEADER], _pinned_to(headers)) == ("r2", "r2")  # served elsewhere and pinned anew
    deadline = time.monotonic() + 30
    while running.stats()["r1"]["status"] != "DOWN" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert running.stats()["r1"]["status"] == "DOWN"
    tabs = st_client.run_sessions(running.url, 2, 0)
    assert tabs.errors == [] and len(tabs.first_runs_s) == 2
