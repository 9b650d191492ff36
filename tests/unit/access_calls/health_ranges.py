"""Data health: the KPIs whose own target lifts their unit's range (ROI above 100 %), named on the page."""

from __future__ import annotations

CALLS = {
    "health.kpis_not_range_checked": lambda c: dict(conn=c.conn),
}
