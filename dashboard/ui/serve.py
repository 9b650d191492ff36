"""Start the app: ``python -m dashboard.ui.serve [streamlit run options]`` (what ``make run`` uses).

Streamlit decides once per process whether a ``pages/`` folder beside the entry script means its legacy
file-based routing (``PagesManager.uses_pages_directory``), and only switches away after the first
``st.navigation`` call. Until then, the first request of a fresh server that deep-links to ``/spoke?unit=…``
gets a "Page not found" dialog before our navigation takes over. The app always routes with
``st.navigation``, so we say so before the server starts. (If a Streamlit upgrade drops the attribute, the
app still works: pages guard themselves, see ``dashboard.ui.shell``; the browser test of a fresh server's
first deep link then fails and says why.)

:func:`start_background` runs the same launcher as a child process and waits until it answers its health
check: the browser tests, the load benchmark and ``make run-postgres`` use it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "streamlit_app.py"


def main(argv: list[str]) -> int:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(ENTRY), *argv]
    return cli.main()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    db_url: str
    proc: subprocess.Popen
    log: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def start_background(db_url: str, log_dir: Path, script: str = "streamlit_app.py", *, port: int | None = None,
                     args: tuple[str, ...] = (), timeout: float = 60, **env) -> Server:
    """Serve ``script`` (the app by default) on 127.0.0.1:``port`` (a free one by default) against ``db_url``
    and return once ``/_stcore/health`` answers. ``args`` are extra `streamlit run` options, e.g.
    ``("--secrets.files", path)``; keyword arguments become ``DASHBOARD_<NAME>`` settings."""
    port = port or free_port()
    log = Path(log_dir) / f"streamlit-{port}.log"
    environ = {**os.environ, "DASHBOARD_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT),
               **{f"DASHBOARD_{k.upper()}": str(v) for k, v in env.items()}}
    launcher = ["-m", "dashboard.ui.serve"] if script == "streamlit_app.py" else ["-m", "streamlit", "run", script]
    proc = subprocess.Popen(
        [sys.executable, *launcher, "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *args],
        cwd=ROOT, env=environ, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
