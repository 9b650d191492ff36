"""test_access inventory for routing: rule sets and replay inputs (dashboard/queries/routing.py), drafts, publishing
and unit deletion (dashboard/services/routing.py), and the system side (dashboard/services/autoroute.py).

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
    "services.routing.save_draft": lambda c: dict(conn=c.conn, rule_set=RULES, name="Leads first"),
    "services.routing.publish": lambda c: dict(conn=c.conn, draft_id=1, version=1, note="first rules"),
    "services.routing.discard_draft": lambda c: dict(conn=c.conn, draft_id=2, version=1),
    "routing.waiting_count": lambda c: dict(conn=c.conn),
    "services.routing.route_waiting": lambda c: dict(conn=c.conn, now=NOW),
    "routing.replay_items": lambda c: dict(conn=c.conn, start=at(48), end=NOW),
    "routing.replay_staffing": lambda c: dict(conn=c.conn, start=at(48), end=NOW),
    "routing.find_item": lambda c: dict(conn=c.conn, item_id="s0"),
    "services.routing.delete_unit": lambda c: dict(conn=c.conn, unit_id="nobody"),
    "routing.list_units_for_admin": lambda c: dict(conn=c.conn),
}
WRITERS = {"services.routing.save_draft", "services.routing.discard_draft", "services.routing.publish", "services.routing.delete_unit",
           "services.routing.route_waiting"}
NO_VIEWER = {
    "routing.hub_ids": "the hubs' ids: which units are hubs is not scoped to anyone (every routing read starts there)",
    "services.autoroute.active_rule_set": "the system side (simulator, an import its caller authorised) runs as no one",
    "services.autoroute.apply": "pure: routes a frame of new items the caller holds",
    "services.autoroute.needs_routing": "pure: which rows of a frame the caller holds lack a target",
    "services.autoroute.outcome": "pure: compares two frames the caller holds",
    "services.autoroute.route_waiting": "the system side: routes what waits at the hub after a publish or a batch",
    "services.autoroute.waiting_items": "the system side's read of the hub's triage queue, for route_waiting",
    "flows.unrouted_count": "counts rows of a frame the caller already read through edge_flows (with a viewer)",
}
