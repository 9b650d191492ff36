"""test_access inventory for dashboard/queries/meta.py (which dataset owns the data)."""

from __future__ import annotations

CALLS = {
    "meta.dataset": lambda c: dict(conn=c.conn),
}
