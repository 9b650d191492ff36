"""test_access inventory for routing: rule sets, replay inputs, unit deletion (dashboard/queries/routing.py)."""

from __future__ import annotations

NO_VIEWER = {
    "flows.unrouted_count": "counts rows of a frame the caller already read through edge_flows (with a viewer)",
}
