"""Reference data: units, KPIs and campaigns upserted by natural key, promotions, and the ``app_meta`` keys.

Small tables: the rows are written as given (:func:`upsert_units`, :func:`upsert_kpis`, :func:`upsert_campaigns`,
:func:`insert_promotions`) or compared whole with what is stored first (:func:`upsert_reference`, for file imports).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, delete, insert, select

from dashboard.db import app_meta, campaigns, kpis, promotions, units
from dashboard.store.results import InvalidRowsError, UpsertCounts
from dashboard.store.rows import Rows
from dashboard.store.sql import dialect_insert


def _as_records(rows: Rows) -> list[dict[str, Any]]:
    if isinstance(rows, pd.DataFrame):
        return [{k: (None if _is_missing(v) else v) for k, v in r.items()} for r in rows.to_dict("records")]
    return [dict(r) for r in rows]


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _upsert(conn: Connection, table: Table, rows: Rows, key: Sequence[str]) -> int:
    """Insert rows, or update the given columns of rows whose ``key`` exists (columns not given stay)."""
    records = _as_records(rows)
    known = set(table.c.keys())
    for r in records:
        unknown = set(r) - known
        if unknown:
            raise InvalidRowsError(f"{table.name}: unknown column(s) {', '.join(sorted(unknown))}")
        missing = [k for k in key if _is_missing(r.get(k))]
        if missing:
            raise InvalidRowsError(f"{table.name}: row without {', '.join(missing)}: {r}")
    # executemany needs one column set per statement: consecutive rows giving the same columns go together
    # (runs, not a sort, so the input order - parents before children - is kept)
    for columns, group in itertools.groupby(records, key=lambda r: tuple(sorted(r))):
        stmt = dialect_insert(conn, table)
        updates = {c: stmt.excluded[c] for c in columns if c not in key}
        if updates:
            stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=updates)
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
        conn.execute(stmt, list(group))
    return len(records)


def upsert_units(conn: Connection, rows: Rows) -> int:
    """Insert or update units by id (hub and spokes). Returns the number of rows given."""
    return _upsert(conn, units, rows, ("id",))


def _parents_first(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """KPIs ordered so a parent is written before its children (the parent_id foreign key is immediate)."""
    by_id = {r["id"]: r for r in records}
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(rid: str, path: tuple[str, ...]) -> None:
        if rid in seen:
            return
        if rid in path:
            raise InvalidRowsError(f"kpis: the KPI tree has a cycle through {' -> '.join(path + (rid,))}")
        parent = by_id[rid].get("parent_id")
        if parent in by_id:
            visit(parent, path + (rid,))
        seen.add(rid)
        ordered.append(by_id[rid])

    for rid in by_id:
        visit(rid, ())
    return ordered


def upsert_kpis(conn: Connection, rows: Rows) -> int:
    """Insert or update KPIs by id; parents are written before children whatever the input order."""
    records = _as_records(rows)
    if any(_is_missing(r.get("id")) for r in records):
        raise InvalidRowsError("kpis: every row needs an id")
    return _upsert(conn, kpis, _parents_first(records), ("id",))


def upsert_campaigns(conn: Connection, rows: Rows) -> int:
    """Insert or update campaign periods keyed by (channel, period_start)."""
    return _upsert(conn, campaigns, rows, ("channel", "period_start"))


def insert_promotions(conn: Connection, rows: Rows) -> int:
    """Insert promotions (the columns of ``promotions`` by name) as given; an id already stored is an error.
    Returns the number of rows given."""
    records = _as_records(rows)
    if records:
        conn.execute(insert(promotions), records)
    return len(records)


def set_meta(conn: Connection, key: str, value: str) -> None:
    """Set an ``app_meta`` key (e.g. ``dataset`` = ``demo`` marks who owns the data)."""
    _upsert(conn, app_meta, [{"key": key, "value": str(value)}], ("key",))


def get_meta(conn: Connection, key: str, default: str | None = None) -> str | None:
    value = conn.execute(select(app_meta.c.value).where(app_meta.c.key == key)).scalar_one_or_none()
    return default if value is None else value


def delete_meta(conn: Connection, key: str) -> None:
    conn.execute(delete(app_meta).where(app_meta.c.key == key))


def delete_meta_like(conn: Connection, pattern: str) -> None:
    """Delete the ``app_meta`` keys matching a SQL ``LIKE`` pattern (``demo_%``: the demo's own keys)."""
    conn.execute(delete(app_meta).where(app_meta.c.key.like(pattern)))


REFERENCE_TABLES: dict[str, tuple[Table, tuple[str, ...], Callable[[Connection, Rows], int]]] = {
    "units": (units, ("id",), upsert_units),
    "kpis": (kpis, ("id",), upsert_kpis),
    "campaigns": (campaigns, ("channel", "period_start"), upsert_campaigns),
}


def _plain(value: Any) -> Any:
    """A value as comparable Python: missing -> None, numpy scalars -> Python, whole floats stay floats."""
    if _is_missing(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def upsert_reference(conn: Connection, kind: str, rows: Rows) -> UpsertCounts:
    """Units, KPIs or campaigns by natural key: new rows inserted, changed ones updated (only the columns
    given), identical ones left alone. These tables are small, so they are compared whole."""
    table, key, write = REFERENCE_TABLES[kind]
    records = _as_records(rows)
    if not records:
        return UpsertCounts()
    columns = list(records[0])
    stored = {tuple(_plain(r[k]) for k in key): r
              for r in conn.execute(select(*[table.c[c] for c in columns])).mappings()}
    counts = UpsertCounts()
    todo = []
    for r in records:
        old = stored.get(tuple(_plain(r[k]) for k in key))
        if old is None:
            counts.inserted += 1
        elif all(_plain(r[c]) == _plain(old[c]) for c in columns):
            counts.unchanged += 1
            continue
        else:
            counts.updated += 1
        todo.append(r)
    if todo:
        write(conn, todo)
    return counts
