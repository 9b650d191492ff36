"""The operating-model cycle's query functions (dashboard/queries/cycle.py) for test_access's inventory."""

from __future__ import annotations

from tests.factories import NOW, at

CALLS = {
    "cycle.save_assessment": lambda c: dict(conn=c.conn, scores=dict(
        function="content_production", structure=2, processes=3, data_management=1, technology=4), now=NOW),
    "cycle.assessments": lambda c: dict(conn=c.conn, function="content_production"),
    "cycle.target_model": lambda c: dict(conn=c.conn),
    "cycle.target_history": lambda c: dict(conn=c.conn),
    # a scenario that does not exist: promotion returns None (tests/unit/test_cycle.py promotes real ones)
    "cycle.promote_scenario": lambda c: dict(conn=c.conn, scenario_id=-1, now=NOW),
    "cycle.update_change": lambda c: dict(conn=c.conn, change_id=-1, version=1, status="done", now=NOW),
    "cycle.annotations": lambda c: dict(conn=c.conn, start=at(24 * 30), end=NOW, unit="sales"),
}
WRITERS = {"cycle.save_assessment", "cycle.promote_scenario", "cycle.update_change"}
CALLS["cycle.preview_promotion"] = lambda c: dict(conn=c.conn, scenario_id=-1, now=NOW)
