"""A throwaway PostgreSQL server for tests and benchmarks (Debian's postgresql package, no docker).

``TempPostgres().start()`` is :class:`loaders.localpg.LocalPostgres` (what ``make run-postgres`` runs) in a
temporary directory, on a free loopback port, without fsync; ``stop()`` stops it the hard way (an outage),
``restart()`` brings it back, ``cleanup()`` removes it. Set ``DASHBOARD_TEST_POSTGRES_URL`` to use an
existing server instead (see tests/conftest.py).
"""

from __future__ import annotations

import os
import tempfile

from loaders.localpg import LocalPostgres, PostgresUnavailable, free_port, pg_bin


def skip_without_postgres() -> None:
    """Skip the calling test (with the reason) on a machine without PostgreSQL's server binaries and without
    ``DASHBOARD_TEST_POSTGRES_URL``; ``make sysdeps`` installs them."""
    import pytest

    if os.environ.get("DASHBOARD_TEST_POSTGRES_URL"):
        return
    try:
        pg_bin()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL is not installed here ({exc}); `make sysdeps` installs it")


class TempPostgres(LocalPostgres):
    def __init__(self) -> None:
        super().__init__(tempfile.mkdtemp(prefix="hubspoke-pg-"), free_port(), durable=False)

    def stop(self, mode: str = "immediate") -> None:
        super().stop(mode)

    def restart(self) -> TempPostgres:
        return self.start()

    def cleanup(self) -> None:
        self.remove()

    def checkpoint(self) -> None:
        """Make what was committed survive a hard stop (this server runs with synchronous_commit off)."""
        from sqlalchemy import create_engine, text

        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text("CHECKPOINT"))
        finally:
            admin.dispose()


def postgres_with_demo(database: str, work_items: int, kpi_observations: int) -> TempPostgres:
    """A throwaway server of its own holding the demo in ``database`` (migrated, checkpointed): for tests that
    stop and restart the server under the app."""
    from dashboard.db import make_engine, migrate
    from loaders import demo

    skip_without_postgres()
    server = TempPostgres().start()
    engine = make_engine(server.create_database(database))
    try:
        migrate(engine)
        demo.load_demo(engine, work_items=work_items, kpi_observations=kpi_observations)
    finally:
        engine.dispose()
    server.checkpoint()
    return server
