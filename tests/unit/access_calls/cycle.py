"""The operating-model cycle's reads (dashboard/queries/cycle.py) and use cases (dashboard/services/cycle.py) for
test_access's inventory."""

from __future__ import annotations

from tests.factories import NOW, at

CALLS = {
    "services.cycle.save_assessment": lambda c: dict(conn=c.conn, scores=dict(
        function="content_production", structure=2, processes=3, data_management=1, technology=4), now=NOW),
    "cycle.assessments": lambda c: dict(conn=c.conn, function="content_production"),
    "cycle.target_model": lambda c: dict(conn=c.conn),
    "cycle.target_history": lambda c: dict(conn=c.conn),
    # a scenario that does not exist: promotion returns None (tests/unit/test_cycle.py promotes real ones)
    "services.cycle.promote_scenario": lambda c: dict(conn=c.conn, scenario_id=-1, now=NOW),
    "services.cycle.update_change": lambda c: dict(conn=c.conn, change_id=-1, version=1, status="done", now=NOW),
    "cycle.annotations": lambda c: dict(conn=c.conn, start=at(24 * 30), end=NOW, unit="sales"),
}
WRITERS = {"services.cycle.save_assessment", "services.cycle.promote_scenario", "services.cycle.update_change"}
CALLS["services.cycle.as_is"] = lambda c: dict(conn=c.conn, now=NOW)
CALLS["services.cycle.preview_promotion"] = lambda c: dict(conn=c.conn, scenario_id=-1, now=NOW)
