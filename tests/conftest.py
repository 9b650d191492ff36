"""Shared fixtures: a real SQLite file and a real PostgreSQL server, each with the migrated schema.

``engine`` is parametrised over both back-ends, so every test that takes it runs twice. Each test gets a
fresh database: a new SQLite file, or a new PostgreSQL database cloned from a migrated template.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.db import make_engine, migrate  # noqa: E402
from tests.pg import TempPostgres, skip_without_postgres  # noqa: E402

_counter = itertools.count()

# Tiers (docs/testing.md): `make test-fast` deselects these; `make test` runs everything.
MARKERS = {
    "postgresql": "needs a PostgreSQL server (started by the tests; skipped with the reason where none is installed)",
    "browser": "drives headless Chromium against a running server",
    "slow": "takes more than a few seconds on its own (load clients, large imports, simulations)",
}
PG_FIXTURES = {"pg_server", "pg_template", "pg_url", "outage_pg"}
PG_MODULES = {"test_localpg.py"}
# Modules whose tests take about a second or more each (AppTest runs of whole pages, simulations, servers,
# load clients): the fast tier leaves them to `make test`. Single slow tests elsewhere carry @pytest.mark.slow.
SLOW_MODULES = {
    "test_evaluation_app.py", "test_executive_numbers.py", "test_hostile_text_app.py", "test_no_raw_numbers.py",
    "test_operating_model_app.py", "test_overview_app.py", "test_roles_app.py", "test_routing_app.py",
    "test_same_label_same_number.py", "test_scenarios_app.py", "test_scenarios_operating_model_text.py",
    "test_spoke_action_failure_app.py", "test_spoke_app.py", "test_upload_hostile_app.py", "test_upload_page.py",
    "test_demo.py", "test_faults.py", "test_load_client.py", "test_serve_production.py", "test_simulate.py",
    "test_whatif_cli.py", "test_whatif_reproduces.py",
}


def pytest_configure(config):
    for name, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")


def pytest_collection_modifyitems(config, items):
    """Mark each test by what it needs, so tiers select by marker: PostgreSQL when it asks for a server (as a
    fixture or as the ``postgresql`` side of a back-end parameter), browser for everything in tests/browser,
    slow for the modules in SLOW_MODULES."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_pg = any(isinstance(v, str) and v == "postgresql" for v in params.values())
        if on_pg or PG_FIXTURES & set(getattr(item, "fixturenames", ())) or item.path.name in PG_MODULES:
            item.add_marker(pytest.mark.postgresql)
        if "browser" in item.path.parts:
            item.add_marker(pytest.mark.browser)
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def pg_server():
    url = os.environ.get("DASHBOARD_TEST_POSTGRES_URL")
    if url:
        yield url.rsplit("/", 1)[0]
        return
    skip_without_postgres()
    server = TempPostgres().start()
    try:
        yield server.admin_url.rsplit("/", 1)[0]
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def pg_template(pg_server):
    """A database migrated once; each test clones it (CREATE DATABASE ... TEMPLATE is fast)."""
    admin = create_engine(f"{pg_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS hub_template"))
        conn.execute(text("CREATE DATABASE hub_template"))
    tmpl = make_engine(f"{pg_server}/hub_template")
    migrate(tmpl)
    tmpl.dispose()
    yield admin
    admin.dispose()


def new_pg_database(pg_server: str, admin) -> str:
    name = f"t_{os.getpid()}_{next(_counter)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE hub_template'))
    return f"{pg_server}/{name}"


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    eng = make_engine(url)
    migrate(eng)
    eng.dispose()
    return url


@pytest.fixture
def pg_url(pg_server, pg_template):
    return new_pg_database(pg_server, pg_template)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url):
    eng = make_engine(sqlite_url)
    yield eng
    eng.dispose()


@pytest.fixture
def env(monkeypatch):
    """In-process CLI runs: no DASHBOARD_ variables from the outside, the cached settings re-read before and
    after (so naive imported times are UTC and the database is the one the test passes)."""
    from dashboard.settings import get_settings

    for key in [k for k in os.environ if k.startswith("DASHBOARD_")]:
        monkeypatch.delenv(key)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()
