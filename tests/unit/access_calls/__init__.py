"""Per-feature parts of test_access.py's inventory, one module per feature (routing.py, cycle.py ...).

Each module may define:
- ``CALLS``: function name ("module.function" under dashboard.queries, "services.module.function" under
  dashboard.services) -> lambda ctx: keyword arguments of a call that works for an admin on test_access's tiny
  organisation (ctx.conn, ctx.engine, ctx.scenario_id);
- ``WRITERS``: the names in CALLS that write (each is then run in a transaction of its own);
- ``NO_VIEWER``: name -> why that public function needs no viewer.
"""

from __future__ import annotations

import importlib
import pkgutil


def merged() -> tuple[dict, set, dict]:
    calls, writers, no_viewer = {}, set(), {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name in set(getattr(module, "CALLS", {})) & set(calls):
            raise AssertionError(f"{name} is listed twice in tests/unit/access_calls")
        calls |= getattr(module, "CALLS", {})
        writers |= set(getattr(module, "WRITERS", ()))
        no_viewer |= getattr(module, "NO_VIEWER", {})
    return calls, writers, no_viewer
