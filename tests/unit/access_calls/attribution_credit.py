"""Attribution's per-team credit for test_access's inventory (see __init__.py)."""

from tests.factories import NOW, at

CALLS = {
    "attribution.team_credit": lambda c: dict(conn=c.conn, start=at(48), end=NOW),
}
