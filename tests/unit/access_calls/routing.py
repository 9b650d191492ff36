"""test_access inventory for routing: rule sets, replay inputs, unit deletion (dashboard/queries/routing.py).

The writers run for an admin in this order on a database without rule sets: save_draft creates draft #1
(version 1), publish makes it active, discard_draft of draft #2 (none) is a no-op. Argument makers must not
touch the database (test_access counts statements while it calls them without a viewer)."""

from __future__ import annotations

from tests.factories import NOW, at

RULES = {"rules": [{"id": "leads", "name": "Leads to sales", "kinds": ["lead"], "target_unit": "sales"}],
         "default": {"target_unit": None}}

CALLS = {
    "routing.spokes": lambda c: dict(conn=c.conn),
    "routing.active_rule_set": lambda c: dict(conn=c.conn),
    "routing.current_draft": lambda c: dict(conn=c.conn),
    "routing.get_rule_set": lambda c: dict(conn=c.conn, rule_set_id=1),
    "routing.list_rule_sets": lambda c: dict(conn=c.conn, with_rules=True),
    "routing.save_draft": lambda c: dict(conn=c.conn, rule_set=RULES, name="Leads first"),
    "routing.publish": lambda c: dict(conn=c.conn, draft_id=1, version=1, note="first rules"),
    "routing.discard_draft": lambda c: dict(conn=c.conn, draft_id=2, version=1),
    "routing.waiting_count": lambda c: dict(conn=c.conn),
    "routing.route_waiting": lambda c: dict(conn=c.conn, now=NOW),
    "routing.replay_items": lambda c: dict(conn=c.conn, start=at(48), end=NOW),
    "routing.replay_staffing": lambda c: dict(conn=c.conn, start=at(48), end=NOW),
    "routing.find_item": lambda c: dict(conn=c.conn, item_id="s0"),
    "routing.delete_unit": lambda c: dict(conn=c.conn, unit_id="nobody"),
    "routing.list_units_for_admin": lambda c: dict(conn=c.conn),
}
WRITERS = {"routing.save_draft", "routing.discard_draft", "routing.publish", "routing.delete_unit",
           "routing.route_waiting"}
NO_VIEWER = {
    "flows.unrouted_count": "counts rows of a frame the caller already read through edge_flows (with a viewer)",
}
