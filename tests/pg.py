"""A throwaway PostgreSQL server for tests and benchmarks (Debian's postgresql package, no docker).

``TempPostgres().start()`` is :class:`loaders.localpg.LocalPostgres` (what ``make run-postgres`` runs) in a
temporary directory, on a free loopback port, without fsync; ``stop()`` stops it the hard way (an outage),
``restart()`` brings it back, ``cleanup()`` removes it. Set ``DASHBOARD_TEST_POSTGRES_URL`` to use an
existing server instead (see tests/conftest.py).
"""

from __future__ import annotations

import tempfile

from loaders.localpg import LocalPostgres, free_port


class TempPostgres(LocalPostgres):
    def __init__(self) -> None:
        super().__init__(tempfile.mkdtemp(prefix="hubspoke-pg-"), free_port(), durable=False)

    def stop(self, mode: str = "immediate") -> None:
        super().stop(mode)

    def restart(self) -> "TempPostgres":
        return self.start()

    def cleanup(self) -> None:
        self.remove()
