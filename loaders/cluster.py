"""Several app replicas behind HAProxy on this machine: ``python -m loaders.cluster`` (``make run-cluster``).

It starts, on loopback only unless told otherwise:

- ``--replicas`` app processes (``python -m dashboard.ui.serve``, one Streamlit server each) on free ports, all
  against the same database (``DASHBOARD_DATABASE_URL``: PostgreSQL; ``make run-cluster`` starts a local one),
  with one shared ``server.cookieSecret``, so a browser that fails over to another replica keeps its cookies, and
  without Streamlit's file watcher, so all of them run the code they started with;
- HAProxy (Debian's ``haproxy`` package, ``make sysdeps``) on ``--port``, configured from
  ``deploy/haproxy.cfg.template`` (rendered into ``--run-dir``, by default ``data/cluster/``): sticky sessions by
  cookie, websockets with a long tunnel timeout, health checks on ``/_stcore/health``, a status page on
  ``--stats-port``;
- the live simulator once (``--simulate-rate``), not once per replica: background writers run beside the
  cluster, never inside a replica.

It returns once every replica answers its health check and HAProxy sees them all up; Ctrl-C (or SIGTERM) stops
everything it started. A replica that exits is reported and the others keep serving (HAProxy takes it out);
when HAProxy, the simulator or the last replica exits, everything stops.

:class:`Cluster` is the same as a context manager, for tests and benchmarks. docs/deployment.md explains the
set-up and what a replica keeps to itself.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from loaders.localpg import free_port
from loaders.roles import stop, wait_for

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "haproxy.cfg.template"
HOST = "127.0.0.1"  # loopback by default: a cluster on a laptop is not meant to be reachable from elsewhere
COOKIE = "HUBSPOKE_REPLICA"  # the stickiness cookie the template sets
REPLICA_HEADER = "X-Hubspoke-Replica"  # the response header naming the replica that answered
MAX_REPLICAS = 16
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


class HaproxyUnavailable(RuntimeError):
    """HAProxy is not installed; the message says how to install it."""


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy")
                                             if os.access(p, os.X_OK)), None)
    if not found:
        raise HaproxyUnavailable("HAProxy is not installed: `make sysdeps` installs Debian's haproxy package "
                                 "(or run `apt-get install haproxy`)")
    return found


@dataclass(frozen=True)
class Replica:
    name: str  # HAProxy's server name and the stickiness cookie's value: r1, r2, ...
    port: int
    host: str = HOST

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def render(replicas: list[Replica], bind: str, stats: str, template: Path = TEMPLATE) -> str:
    """The HAProxy configuration for ``replicas``: the template with ``{{bind}}``, ``{{stats}}`` and ``{{servers}}``
    filled in (comment lines are left as they are). An unknown placeholder is an error, not a silent blank."""
    servers = "\n".join(f"    server {r.name} {r.host}:{r.port} check cookie {r.name}" for r in replicas)
    values = {"bind": bind, "stats": stats, "servers": servers}
    out = []
    for line in template.read_text(encoding="utf-8").splitlines():
        if not line.lstrip().startswith("#"):
            for name in _PLACEHOLDER.findall(line):
                if name not in values:
                    raise ValueError(f"{template}: unknown placeholder {{{{{name}}}}}")
            line = _PLACEHOLDER.sub(lambda m: values[m.group(1)], line)
        out.append(line)
    return "\n".join(out) + "\n"


def check_config(path: Path) -> None:
    """``haproxy -c``: refuse a configuration HAProxy would refuse, with its own words."""
    done = subprocess.run([haproxy_binary(), "-c", "-q", "-f", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"HAProxy refuses {path}: {(done.stderr or done.stdout).strip()[-1500:]}")


def server_stats(stats_url: str) -> dict[str, dict[str, str]]:
    """HAProxy's CSV status of the app's backend: replica name -> its row (``status`` UP/DOWN, ``scur`` current
    sessions, ``stot`` sessions served in all, ``check_status`` …)."""
    with urllib.request.urlopen(f"{stats_url};csv", timeout=5) as r:
        text = r.read().decode()
    rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
    return {row["svname"]: row for row in rows
            if row["pxname"] == "streamlit" and row["svname"] not in ("FRONTEND", "BACKEND")}


@dataclass
class Cluster:
    """``replicas`` app processes behind HAProxy on ``host:port``, against ``db_url``. ``script`` serves another
    Streamlit script instead of the app (the benchmark's floor); ``env`` adds ``DASHBOARD_<NAME>`` settings to
    every replica; ``simulate_rate`` (new items a minute) runs the live simulator once beside them."""

    db_url: str
    replicas: int = 2
    port: int | None = None
    host: str = HOST
    stats_port: int | None = None
    run_dir: Path = ROOT / "data" / "cluster"
    script: str | None = None
    simulate_rate: float | None = None
    env: dict[str, object] = field(default_factory=dict)
    timeout: float = 90.0
    members: list[Replica] = field(default_factory=list, init=False)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict, init=False)  # replica names, "haproxy", "simulator"
    _logs: list = field(default_factory=list, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def stats_url(self) -> str:
        return f"http://{HOST}:{self.stats_port}/stats"

    @property
    def config_path(self) -> Path:
        return self.run_dir / "haproxy.cfg"

    def log(self, name: str) -> Path:
        return self.run_dir / f"{name}.log"

    def stats(self) -> dict[str, dict[str, str]]:
        return server_stats(self.stats_url)

    def _environ(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(ROOT), "DASHBOARD_DATABASE_URL": self.db_url,
                # one secret for every replica: cookies Streamlit signs in one are valid in the others after a failover
                "STREAMLIT_SERVER_COOKIE_SECRET": os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET")
                or secrets.token_urlsafe(32),
                **{f"DASHBOARD_{k.upper()}": str(v) for k, v in self.env.items()}}

    def _spawn(self, name: str, cmd: list[str], environ: dict[str, str]) -> subprocess.Popen:
        out = self.log(name).open("w")
        self._logs.append(out)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def start(self) -> Cluster:
        if not 1 <= self.replicas <= MAX_REPLICAS:
            raise ValueError(f"replicas: 1 to {MAX_REPLICAS}")
        binary = haproxy_binary()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.stats_port = self.stats_port or free_port()
        environ = self._environ()
        launcher = ["-m", "dashboard.ui.serve"] if self.script is None else ["-m", "streamlit", "run", self.script]
        try:
            for i in range(1, self.replicas + 1):
                replica = Replica(f"r{i}", free_port())
                self.members.append(replica)
                # no file watcher: a replica never reloads a module edited under it, so every replica runs the
                # code the cluster started with (restart the cluster after changing the code)
                self._spawn(replica.name, [sys.executable, *launcher, "--server.port", str(replica.port),
                                           "--server.address", replica.host, "--server.headless", "true",
                                           "--server.fileWatcherType", "none",
                                           "--browser.gatherUsageStats", "false"], environ)
            for replica in self.members:  # they start side by side; wait for each in turn
                wait_for(f"{replica.url}/_stcore/health", self.procs[replica.name], f"replica {replica.name}",
                         self.timeout)
            self.config_path.write_text(render(self.members, f"{self.host}:{self.port}", f"{HOST}:{self.stats_port}"))
            check_config(self.config_path)
            haproxy = self._spawn("haproxy", [binary, "-db", "-f", str(self.config_path)], dict(os.environ))
            wait_for(f"{self.url}/_stcore/health", haproxy, "HAProxy", self.timeout)
            self._wait_all_up()
            if self.simulate_rate:
                self._spawn("simulator", [sys.executable, "-m", "loaders", "simulate", "--rate",
                                          f"{self.simulate_rate:g}"], environ)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_all_up(self) -> None:
        deadline = time.monotonic() + self.timeout
        status: dict[str, str] = {}
        while time.monotonic() < deadline:
            try:
                status = {name: row["status"] for name, row in self.stats().items()}
            except OSError:
                status = {}
            if status and all(status.get(r.name) == "UP" for r in self.members):
                return
            time.sleep(0.3)
        raise RuntimeError(f"HAProxy does not see every replica up within {self.timeout:.0f} s: {status}")

    def stop(self) -> None:
        """Stop everything this cluster started: the simulator and HAProxy first, then the replicas."""
        order = [n for n in ("simulator", "haproxy") if n in self.procs] + [r.name for r in self.members
                                                                          if r.name in self.procs]
        stop([self.procs[n] for n in reversed(order)])  # roles.stop stops the last in the list first
        for out in self._logs:
            out.close()
        self._logs.clear()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def watch(self, out=print) -> int:
        """Wait while the cluster serves; report a replica that exits; return 1 when HAProxy, the simulator or the
        last replica has exited (the caller then stops the rest)."""
        gone: set[str] = set()
        while True:
            for name, proc in self.procs.items():
                if name not in gone and proc.poll() is not None:
                    gone.add(name)
                    out(f"{name} exited with code {proc.returncode} (log: {self.log(name)})")
            if gone & {"haproxy", "simulator"} or all(r.name in gone for r in self.members):
                return 1
            time.sleep(0.5)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loaders.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help=f"app processes (1-{MAX_REPLICAS}, default 2)")
    parser.add_argument("--port", type=int, default=8501, help="HAProxy's port: where people connect (default 8501)")
    parser.add_argument("--host", default=HOST, help="HAProxy's address (default 127.0.0.1: this machine only)")
    parser.add_argument("--stats-port", type=int, default=None, help="HAProxy's status page (default: a free port)")
    parser.add_argument("--simulate-rate", type=float, default=None,
                        help="also run the live simulator, once, at this many new items a minute")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "data" / "cluster",
                        help="where the rendered haproxy.cfg and the logs go (default data/cluster, git-ignored)")
    parser.add_argument("--database-url", default=None, help="default: DASHBOARD_DATABASE_URL")
    args = parser.parse_args(argv)
    if not 1 <= args.replicas <= MAX_REPLICAS:
        parser.error(f"--replicas: 1 to {MAX_REPLICAS}")
    url = args.database_url or os.environ.get("DASHBOARD_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("Replicas share one database server: set DASHBOARD_DATABASE_URL to a PostgreSQL URL "
              "(`make run-cluster` starts a local one).", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops everything as Ctrl-C does
    cluster = Cluster(url, args.replicas, args.port, args.host, args.stats_port, args.run_dir,
                      simulate_rate=args.simulate_rate)
    try:
        cluster.start()
    except (HaproxyUnavailable, RuntimeError, ValueError) as exc:
        print(f"Could not start: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    print(f"\nHub & Spoke: {args.replicas} replicas behind HAProxy on {cluster.url}"
          f"{' with the live simulator' if args.simulate_rate else ''}.")
    for r in cluster.members:
        print(f"  {r.name}: {r.url}  (log {cluster.log(r.name)})")
    print(f"  HAProxy status page: {cluster.stats_url}; configuration {cluster.config_path}")
    print("Ctrl-C stops everything.\n", flush=True)
    try:
        return cluster.watch(lambda line: print(line, file=sys.stderr, flush=True))
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
