"""Try the roles locally: the app with real sign-in against a mock OpenID Connect provider on this machine.

``make run-roles`` (or ``python -m loaders.roles``) starts, on loopback only:

- a mock identity provider (oidc-provider-mock, a test dependency in requirements-dev.txt) that knows the people in
  :data:`PEOPLE` — an admin, an executive, a hub lead and two spoke leads — and signs in whoever is picked on its
  page, with the ``role`` and ``unit`` claims the app reads;
- the app, with a generated ``secrets.toml`` (under ``data/roles/``, git-ignored; a fresh cookie secret and client
  secret each start) that points Streamlit's ``st.login`` at that provider;
- optionally the live simulator (``--simulate-rate``), as ``make run`` does.

Ctrl-C stops all of them. docs/roles.md says who to sign in as and what each one sees.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only: nothing here is meant to be reachable from another machine


@dataclass(frozen=True)
class Person:
    sub: str  # what the provider's page lists: the sign-in identity, an e-mail address
    name: str
    role: str  # the ID-token claim the app reads (DASHBOARD_AUTH_ROLE_CLAIM, default "role")
    unit: str | None = None  # a spoke lead's spoke (DASHBOARD_AUTH_UNIT_CLAIM, default "unit")

    def claims(self) -> dict:
        out = {"sub": self.sub, "email": self.sub, "name": self.name, "role": self.role}
        if self.unit:
            out["unit"] = self.unit
        return out


PEOPLE = (  # spoke ids of the demo organisation (python -m loaders demo)
    Person("ada.admin@example.com", "Ada (admin)", "admin"),
    Person("erin.executive@example.com", "Erin (executive)", "executive"),
    Person("hana.hublead@example.com", "Hana (hub lead)", "hub_lead"),
    Person("sam.sales@example.com", "Sam (Sales lead)", "spoke_lead", "sales"),
    Person("cara.care@example.com", "Cara (Customer service lead)", "spoke_lead", "customer_service"),
)


def provider_command(port: int, people=PEOPLE) -> list[str]:
    """The mock provider as a process on HOST:port, every person predefined (a button each on its sign-in page)."""
    cmd = [sys.executable, "-m", "oidc_provider_mock", "--host", HOST, "--port", str(port)]
    for person in people:
        cmd += ["--user-claims", json.dumps(person.claims())]
    return cmd


def write_secrets(directory: Path, app_port: int, provider_port: int) -> Path:
    """A secrets.toml whose [auth] section points st.login at the mock provider (fresh secrets every start)."""
    directory.mkdir(parents=True, exist_ok=True)
    auth = {
        "redirect_uri": f"http://{HOST}:{app_port}/oauth2callback",
        "cookie_secret": secrets.token_urlsafe(32),
        "client_id": "hub-and-spoke-local",
        "client_secret": secrets.token_urlsafe(16),
        "server_metadata_url": f"http://{HOST}:{provider_port}/.well-known/openid-configuration",
        # show the provider's page on every sign-in, so switching people needs no private window
        "client_kwargs": {"prompt": "login"},
    }
    lines = ["# Written by python -m loaders.roles for a local mock identity provider; not for production.", "[auth]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in auth.items() if not isinstance(value, dict)]
    lines += [f"client_kwargs = {{ {', '.join(f'{k} = {json.dumps(v)}' for k, v in auth['client_kwargs'].items())} }}"]
    path = directory / "secrets.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def wait_for(url: str, proc: subprocess.Popen, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before answering on {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer on {url} within {timeout:.0f} s")


def stop(procs: list[subprocess.Popen]) -> None:
    """Stop the children this launcher started, newest first (terminate, then kill after 10 s)."""
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.terminate()
    for proc in reversed(procs):
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def start(app_port: int, provider_port: int, secrets_dir: Path, *, simulate_rate: float | None = None,
          log_dir: Path | None = None, env: dict | None = None) -> list[subprocess.Popen]:
    """Start the provider, the app (and the simulator); returns the processes once the provider and the app answer."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    procs: list[subprocess.Popen] = []

    def spawn(cmd: list[str], name: str) -> subprocess.Popen:
        out = (log_dir / f"{name}.log").open("w") if log_dir else None
        proc = subprocess.Popen(cmd, cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT if out else None)
        procs.append(proc)
        return proc

    try:
        provider = spawn(provider_command(provider_port), "provider")
        wait_for(f"http://{HOST}:{provider_port}/.well-known/openid-configuration", provider, "the identity provider")
        path = write_secrets(secrets_dir, app_port, provider_port)
        app = spawn([sys.executable, "-m", "dashboard.ui.serve", "--server.port", str(app_port),
                     "--server.address", HOST, "--server.headless", "true", "--browser.gatherUsageStats", "false",
                     "--secrets.files", str(path)], "app")
        wait_for(f"http://{HOST}:{app_port}/_stcore/health", app, "the app")
        if simulate_rate:
            spawn([sys.executable, "-m", "loaders", "simulate", "--rate", f"{simulate_rate:g}"], "simulator")
    except BaseException:
        stop(procs)
        raise
    return procs


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loaders.roles", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8501, help="the app's port (default 8501)")
    parser.add_argument("--idp-port", type=int, default=9400, help="the mock identity provider's port (default 9400)")
    parser.add_argument("--secrets-dir", type=Path, default=ROOT / "data" / "roles",
                        help="where the generated secrets.toml goes (default data/roles, git-ignored)")
    parser.add_argument("--simulate-rate", type=float, default=None,
                        help="also run the live simulator at this many new items a minute (as make run does)")
    args = parser.parse_args(argv)
    try:
        import oidc_provider_mock  # noqa: F401  (a test dependency: make dev installs it)
    except ImportError:
        print("oidc-provider-mock is not installed: run `make dev` (it installs requirements-dev.txt).",
              file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops everything as Ctrl-C does
    try:
        procs = start(args.port, args.idp_port, args.secrets_dir, simulate_rate=args.simulate_rate)
    except RuntimeError as exc:
        print(f"Could not start: {exc}", file=sys.stderr)
        return 2
    app = f"http://{HOST}:{args.port}"
    print(f"\nHub & Spoke with sign-in: open {app} (the identity provider runs on http://{HOST}:{args.idp_port}).")
    print("Click Sign in, then pick a person on the provider's page:")
    for p in PEOPLE:
        print(f"  {p.sub:<30} {p.role.replace('_', ' ')}{f' of {p.unit}' if p.unit else ''}")
    print("Sign out in the sidebar to switch. See docs/roles.md. Ctrl-C stops everything.\n", flush=True)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        gone = next(p for p in procs if p.poll() is not None)
        print(f"A process stopped (exit code {gone.returncode}); stopping the others.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop(procs)


if __name__ == "__main__":
    sys.exit(main())
