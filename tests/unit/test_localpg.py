"""`python -m loaders.localpg` (what `make run-postgres` runs): a real local PostgreSQL, started, reused, stopped."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from loaders import localpg
from tests.pg import skip_without_postgres


@pytest.fixture
def cluster_dir():
    skip_without_postgres()
    base = Path(tempfile.mkdtemp(prefix="hubspoke-localpg-"))
    base.chmod(0o755)  # the postgres user must be able to enter it
    yield base / "pg"
    localpg.LocalPostgres(base / "pg").remove()
    shutil.rmtree(base, ignore_errors=True)


def test_start_prints_a_working_url_reuses_the_running_server_and_stop_stops_it(cluster_dir, capsys):
    port = str(localpg.free_port())
    args = ["--dir", str(cluster_dir), "--port", port]
    assert localpg.main(["start", *args, "--database", "hub_test"]) == 0
    url = capsys.readouterr().out.strip()
    assert url == f"postgresql+psycopg://postgres@127.0.0.1:{port}/hub_test"
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_database()")).scalar() == "hub_test"
    engine.dispose()
    assert localpg.main(["start", *args, "--database", "hub_test"]) == 0  # already running: same server, same URL
    assert capsys.readouterr().out.strip() == url
    assert localpg.main(["status", *args]) == 0 and "running" in capsys.readouterr().out
    assert localpg.main(["stop", *args]) == 0
    assert localpg.main(["status", *args]) == 3 and "not running" in capsys.readouterr().out
    assert (cluster_dir / "data" / "PG_VERSION").exists()  # the data stays for the next start


def test_a_bad_database_name_or_an_unreachable_folder_is_refused_with_a_reason(cluster_dir, capsys):
    assert localpg.main(["start", "--dir", str(cluster_dir), "--port", str(localpg.free_port()),
                         "--database", "x; DROP DATABASE postgres"]) == 2
    assert "use lower-case letters" in capsys.readouterr().err
    if os.geteuid() != 0:
        pytest.skip("the unreachable-folder check is for root, where the server runs as the postgres user")
    private = Path(tempfile.mkdtemp(prefix="hubspoke-private-"))  # 0700, root's
    try:
        assert localpg.main(["start", "--dir", str(private / "pg"), "--port", str(localpg.free_port())]) == 2
        assert "cannot reach" in capsys.readouterr().err
    finally:
        shutil.rmtree(private, ignore_errors=True)
