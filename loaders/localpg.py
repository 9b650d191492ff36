"""A PostgreSQL server of your own on this machine, from Debian's ``postgresql`` package (no docker).

``make run-postgres`` uses it: ``python -m loaders postgres start`` creates a cluster in a data directory
(``initdb``, trust authentication, listening on 127.0.0.1 only), starts it on a port, creates the database
and prints its URL; ``stop`` stops it; ``status`` says whether it runs. The data directory survives restarts,
so the second ``make run-postgres`` reuses the loaded data.

``initdb`` refuses to run as root: as root the server runs as the ``postgres`` user, which must be able to
reach the data directory; a directory inside a private home (``/root/...``) is not reachable, so
:func:`default_directory` then falls back to one under ``/var/lib/postgresql``.

The tests' throwaway servers (``tests/pg.py``) are the same class on a temporary directory.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 5433  # not 5432: leave a system server alone
DEFAULT_DATABASE = "hubspoke"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed or would not start; the message says what to do."""


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise PostgresUnavailable("PostgreSQL is not installed: `make run-postgres` installs Debian's postgresql "
                                  "package, or run `apt-get install postgresql`")
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _root() -> bool:
    return os.geteuid() == 0


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if _root() else args


def _reachable_by_postgres(path: Path) -> bool:
    """Whether the ``postgres`` user can enter every parent of ``path`` (it must own the directory itself)."""
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    return subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(parent)],
                          capture_output=True).returncode == 0


def default_directory() -> Path:
    """``data/postgres`` in the repository, or (as root, when the postgres user cannot reach it) a directory
    under /var/lib/postgresql named after the repository's path."""
    here = ROOT / "data" / "postgres"
    if not _root() or _reachable_by_postgres(here):
        return here
    tag = hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
    return Path("/var/lib/postgresql/hubspoke") / tag


class LocalPostgres:
    """One cluster in ``directory`` (its data in ``directory/data``, its socket and log beside it)."""

    def __init__(self, directory: Path | str, port: int = DEFAULT_PORT, *, durable: bool = True) -> None:
        self.dir = Path(directory)
        self.port = port
        self.durable = durable  # False: fsync off (throwaway test servers)
        self.bin = pg_bin()

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def log(self) -> Path:
        return self.dir / "log"

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(_as_server_user([str(self.bin / tool), *args]), capture_output=True, text=True)
        if check and done.returncode != 0:
            raise PostgresUnavailable(f"{tool} failed: {(done.stderr or done.stdout).strip()[-800:]}"
                                      f" (log: {self.log})")
        return done

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def running(self) -> bool:
        return self.initialised() and self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def init(self) -> None:
        if _root() and not _reachable_by_postgres(self.dir):
            raise PostgresUnavailable(f"the postgres user cannot reach {self.dir} (a parent folder is private to "
                                      "root); choose a directory it can enter, e.g. under /var/lib/postgresql")
        self.dir.mkdir(parents=True, exist_ok=True)
        if _root():
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")

    def start(self) -> LocalPostgres:
        """Create the cluster if needed, start it if it is not running, and wait until it accepts connections."""
        if not self.initialised():
            self.init()
        if not self.running():
            opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
            if not self.durable:
                opts += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
            self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w", "-t", "60", "start")
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise PostgresUnavailable(f"PostgreSQL did not start on port {self.port}; see {self.log}")

    def stop(self, mode: str = "fast") -> None:
        if self.initialised():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def create_database(self, name: str = DEFAULT_DATABASE) -> str:
        """Create ``name`` unless it exists; returns its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"database name {name!r}: use lower-case letters, digits and _")
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                    conn.execute(text(f'CREATE DATABASE "{name}"'))  # identifiers cannot be bound; checked above
        finally:
            admin.dispose()
        return self.url(name)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m loaders.localpg {start,stop,status} [--dir D] [--port P] [--database NAME]``; ``start`` prints
    the database URL on stdout (and nothing else), so a shell can ``export DASHBOARD_DATABASE_URL=$(...)``."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m loaders.localpg",
                                     description="Run a local PostgreSQL server for Hub & Spoke (make run-postgres).")
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--dir", type=Path, default=None, help="cluster directory (default: data/postgres)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1 (default %(default)s)")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="database to create (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        server = LocalPostgres(args.dir or default_directory(), args.port)
        if args.action == "start":
            print(server.start().create_database(args.database))
            print(f"PostgreSQL {server.bin.parent.name} runs on 127.0.0.1:{args.port}, data in {server.data}",
                  file=sys.stderr)
        elif args.action == "stop":
            server.stop()
            print(f"PostgreSQL in {server.data} stopped", file=sys.stderr)
        else:
            running = server.running()
            print(f"PostgreSQL in {server.data}: {'running on port ' + str(args.port) if running else 'not running'}")
            return 0 if running else 3
    except (PostgresUnavailable, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
