"""Attribution's query functions for test_access's inventory (see __init__.py)."""

from tests.factories import NOW, at

CALLS = {
    "attribution.journey_paths": lambda c: dict(conn=c.conn, start=at(48), end=NOW),
}
