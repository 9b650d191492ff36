"""Start the app: ``python -m dashboard.ui.serve [streamlit run options]`` (what ``make run`` uses).

Streamlit decides once per process whether a ``pages/`` folder beside the entry script means its legacy
file-based routing (``PagesManager.uses_pages_directory``), and only switches away after the first
``st.navigation`` call. Until then, the first request of a fresh server that deep-links to ``/spoke?unit=…``
gets a "Page not found" dialog before our navigation takes over. The app always routes with
``st.navigation``, so we say so before the server starts. (If a Streamlit upgrade drops the attribute, the
app still works: pages guard themselves, see ``dashboard.ui.shell``; the browser test of a fresh server's
first deep link then fails and says why.)

In production the launcher refuses to start unsafe (:func:`startup_problems`): Streamlit's effective options
(config.toml, ``STREAMLIT_*`` variables and the flags given here, resolved the way ``streamlit run`` resolves
them) and the ``[auth]`` section of the secrets files go through :func:`dashboard.settings.production_problems`;
each problem is one line on stderr and the exit code is 2.

:func:`start_background` runs the same launcher as a child process and waits until it answers its health
check: the browser tests, the load benchmark and ``make run-postgres`` use it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "streamlit_app.py"


REFUSED = 2  # exit code when production settings are unsafe


def streamlit_options(argv: list[str]) -> dict[str, object]:
    """Streamlit's effective config options for ``streamlit run ENTRY *argv``: defaults, config.toml files,
    ``STREAMLIT_*`` environment variables, then the flags in ``argv`` (parsed by Streamlit's own CLI)."""
    from streamlit import config
    from streamlit.web import cli

    ctx = cli.main_run.make_context("run", [str(ENTRY), *argv])
    flags = {name.replace("_", "."): value for name, value in ctx.params.items()
             if name not in ("target", "args") and value is not None and value != ()}
    config._main_script_path = str(ENTRY)
    options = config.get_config_options(force_reparse=True, options_from_flags=flags)
    return {name: option.value for name, option in options.items()}


def read_auth(secrets_files) -> dict | None:
    """The ``[auth]`` section of Streamlit's secrets files (later files win, as in ``st.secrets``), or None."""
    auth: dict | None = None
    for entry in secrets_files or ():
        path = Path(entry)
        section = None
        if path.is_file():
            try:
                section = tomllib.loads(path.read_text(encoding="utf-8")).get("auth")
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
        elif (path / "auth").is_dir():  # Kubernetes-style secrets: one file per key
            section = {f.name: f.read_text(encoding="utf-8").strip() for f in (path / "auth").iterdir() if f.is_file()}
        if isinstance(section, dict):
            auth = {**(auth or {}), **section}
    return auth


def startup_problems(argv: list[str]) -> list[str]:
    """Why this server must not start, one line each (empty: it may start)."""
    from dashboard.settings import SettingsError, load_settings, production_problems

    try:
        settings, first = load_settings(), []
    except SettingsError as exc:
        try:  # the other settings can still be checked when only local mode in production is wrong
            settings, first = load_settings(local_mode=False), [str(exc)]
        except SettingsError:
            return [str(exc)]
    options = streamlit_options(argv)
    problems = production_problems(settings, options, read_auth(options.get("secrets.files")))
    return first + problems


def main(argv: list[str]) -> int:
    import click
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    try:
        problems = startup_problems(argv)
    except click.ClickException:  # a mistyped flag: Streamlit's own CLI below says what is wrong
        problems = []
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        print("Not started: fix the settings above.", file=sys.stderr)
        return REFUSED
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
