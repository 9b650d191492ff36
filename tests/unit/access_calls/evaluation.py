"""Evaluation's query functions for test_access's inventory (see __init__.py)."""

from tests.factories import NOW

CALLS = {
    "evaluation.done_changes": lambda c: dict(conn=c.conn),
    "evaluation.evaluation_data": lambda c: dict(conn=c.conn, change_id=1, now=NOW),
}
