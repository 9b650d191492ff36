"""Emptying tables whole: what the demo loader does before it writes a new demo (``loaders/demo/load.py``).

Only for a load that replaces everything in the tables it owns, inside the caller's transaction: nothing here
moves the rollups (the caller empties ``flow_hourly`` and ``kpi_hourly`` with their base tables) and nothing is
audited.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, delete


def _referenced_from_outside(tables: Sequence[Table]) -> set[Table]:
    """The tables of ``tables`` that a foreign key of a table not in ``tables`` refers to (``units``: ``users``
    refers to them, an admin's spoke leads)."""
    inside = set(tables)
    return {fk.column.table for t in tables[0].metadata.sorted_tables if t not in inside
            for fk in t.foreign_keys if fk.column.table in inside}


def clear_tables(conn: Connection, tables: Sequence[Table]) -> None:
    """Every row of ``tables`` (given children first) deleted.

    On PostgreSQL the tables go in one ``TRUNCATE`` (a DELETE of ten million rows takes minutes and leaves them as
    bloat), except those a table outside ``tables`` refers to, which TRUNCATE refuses whatever the rows: they are
    DELETEd after it. SQLite empties a table by a DELETE without a WHERE in one step."""
    if not tables:
        return
    if conn.dialect.name == "postgresql":
        kept = _referenced_from_outside(tables)
        truncated = [t.name for t in tables if t not in kept]
        if truncated:
            conn.exec_driver_sql(f"TRUNCATE {', '.join(truncated)}")
        for table in tables:
            if table in kept:
                conn.execute(delete(table))
    else:
        for table in tables:
            conn.execute(delete(table))
