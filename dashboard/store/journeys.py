"""Customer journeys: inserted in bulk, or upserted by id from a file (no rollup depends on them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, String, bindparam, select, type_coerce, update

from dashboard.store.bulk import bulk_write, driver_null
from dashboard.store.results import InvalidRowsError, UpsertCounts
from dashboard.store.rows import Rows, object_column
from dashboard.store.sql import where_key_in
from dashboard.store.timestamps import NAT, sqlite_timestamp_text, utc_us


def insert_journeys(conn: Connection, rows: Rows, *, batch_size: int = 200_000) -> int:
    """Add customer journeys (id, started_at, converted_at, revenue) in bulk; returns how many. Their items
    name them in ``work_items.journey_id`` (no rollup depends on journeys)."""
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if df.empty:
        return 0
    missing = [c for c in ("id", "started_at") if c not in df.columns]
    if missing:
        raise InvalidRowsError(f"journeys: missing column(s) {', '.join(missing)}")
    null = driver_null(conn.dialect.name)
    ids = object_column(df["id"])
    if pd.isna(pd.Series(ids, dtype=object)).any() or pd.Series(ids, dtype=object).duplicated().any():
        raise InvalidRowsError("journeys: every journey needs a unique id")
    started = utc_us(df["started_at"])
    if (started == NAT).any():
        raise InvalidRowsError("journeys: started_at is missing in some rows")
    converted = utc_us(df["converted_at"]) if "converted_at" in df.columns else np.full(len(df), NAT, dtype=np.int64)
    revenue = (pd.to_numeric(df["revenue"]).fillna(0.0).to_numpy(dtype=float) if "revenue" in df.columns
               else np.zeros(len(df)))
    from dashboard.db import journeys

    columns = ("id", "started_at", "converted_at", "revenue")
    for start in range(0, len(df), batch_size):
        part = slice(start, start + batch_size)
        bulk_write(conn, journeys, columns, [ids[part], sqlite_timestamp_text(started[part], null),
                                              sqlite_timestamp_text(converted[part], null), revenue[part]])
    return len(df)


def upsert_journeys(conn: Connection, rows: pd.DataFrame, *, batch_size: int = 5_000) -> UpsertCounts:
    """Customer journeys by id: new ones inserted, changed ones updated (only the columns given: a file
    without ``revenue`` keeps the stored revenue), identical ones counted unchanged and left alone.

    ``rows`` is validated contract output (``id`` and ``started_at`` always; ``converted_at`` and ``revenue``
    when the file has them), ids unique. Compared in batches of ``batch_size`` ids; every statement binds its
    values (new journeys go in through :func:`insert_journeys`). No rollup depends on journeys, and their work
    items may be imported before or after.
    """
    from dashboard.db import journeys

    counts = UpsertCounts()
    if rows.empty:
        return counts
    columns = [c for c in ("started_at", "converted_at", "revenue") if c in rows.columns]
    j = journeys.c
    for start in range(0, len(rows), batch_size):
        part = rows.iloc[start:start + batch_size]
        ids = part["id"].tolist()
        stored = _stored_journeys(conn, ids, columns)
        at = pd.Index(stored["id"].to_numpy(dtype=object)).get_indexer(ids)  # -1: not stored yet
        known = at >= 0
        same = known.copy()
        for c in columns:
            now = part[c].to_numpy(dtype=float) if c == "revenue" else _instants(part[c])
            old = np.where(known, stored[c].to_numpy(dtype=float)[at.clip(0)] if len(stored) else np.nan, np.nan)
            same &= (now == old) | (np.isnan(now) & np.isnan(old))
        changed = known & ~same
        counts.inserted += int((~known).sum())
        counts.updated += int(changed.sum())
        counts.unchanged += int(same.sum())
        if (~known).any():  # the bulk path: COPY on PostgreSQL, pre-rendered text on SQLite
            insert_journeys(conn, part[~known], batch_size=batch_size)
        if changed.any():
            conn.execute(
                update(journeys).where(j.id == bindparam("b_id")).values({c: bindparam(f"b_{c}") for c in columns}),
                [{f"b_{k}": v for k, v in r.items()} for r in _journey_records(part[changed], columns)])
    return counts


def _instants(values: pd.Series) -> np.ndarray:
    """Timestamps (aware datetimes, naive-UTC ISO text or a datetime64 column) as µs since the epoch in UTC,
    NaN where missing (exact as floats: µs stay below 2**53 until the year 2255)."""
    if values.dtype == object:
        values = pd.to_datetime(values, utc=True, format="ISO8601")
    naive = values.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    return np.where(np.isnat(naive), np.nan, naive.view(np.int64).astype(float))


def _stored_journeys(conn: Connection, ids: list[str], columns: list[str]) -> pd.DataFrame:
    """The stored values of ``columns`` for those of ``ids`` that exist; times as µs (float, NaN = none)."""
    from dashboard.db import journeys

    j = journeys.c
    text = conn.dialect.name == "sqlite"  # SQLite keeps ISO text: parse it in one vectorised call
    wanted = [type_coerce(j[c], String).label(c) if text and c != "revenue" else j[c] for c in columns]
    rows = conn.execute(select(j.id, *wanted).where(where_key_in(conn, j.id, ids))).all()
    stored = pd.DataFrame({c: pd.Series(list(v), dtype=object)
                           for c, v in zip(["id", *columns], zip(*rows) if rows else [()] * (len(columns) + 1))})
    for c in columns:
        if c == "revenue":
            stored[c] = pd.to_numeric(stored[c], errors="coerce").fillna(0.0).astype(float)
        else:
            stored[c] = _instants(stored[c]) if len(stored) else np.empty(0)
    return stored


def _journey_records(part: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Driver rows: aware UTC datetimes (None when missing) and plain floats."""
    out = {"id": part["id"].tolist()}
    for c in columns:
        if c == "revenue":
            out[c] = part[c].astype(float).tolist()
        else:
            values = part[c].dt.to_pydatetime()
            out[c] = [None if v is pd.NaT or v is None else v for v in values]
    return [dict(zip(out, values)) for values in zip(*out.values())]
