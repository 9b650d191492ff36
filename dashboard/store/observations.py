"""KPI observations: inserted (duplicates skipped) or upserted (changed values updated),
with their ``kpi_hourly`` contributions in the same transaction.

``kpi_hourly`` (kpi_id, hour): ``n``, ``sum`` and the latest observation (``last_ts``, ``last_value``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, case, select, update

from dashboard.db import kpi_hourly, kpi_observations
from dashboard.store.bulk import DEFAULT_BATCH, bulk_cache, bulk_write, deferred_indexes
from dashboard.store.results import InvalidRowsError, UpsertCounts
from dashboard.store.rollups import upsert_many
from dashboard.store.rows import Rows, object_column
from dashboard.store.timestamps import NAT, US_PER_HOUR, datetimes, sqlite_timestamp_text, utc_us

KPI_KEY = ("kpi_id", "hour")


def _observation_frame(rows: Rows) -> pd.DataFrame:
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    missing = [c for c in ("kpi_id", "ts", "value") if c not in df.columns]
    if missing:
        raise InvalidRowsError(f"kpi_observations: missing column(s) {', '.join(missing)}")
    out = pd.DataFrame({
        "kpi_id": object_column(df["kpi_id"]),
        "ts": utc_us(df["ts"]),
        "value": pd.to_numeric(df["value"]).to_numpy(dtype=float),
    })
    if out.kpi_id.isna().any() or (out.ts == NAT).any() or out.value.isna().any():
        raise InvalidRowsError("kpi_observations: kpi_id, ts and value are required in every row")
    return out


def _existing_observations(conn: Connection, obs: pd.DataFrame) -> set[tuple[str, int]]:
    """(kpi_id, ts µs) pairs already stored, looked up per KPI within the batch's time span."""
    ko = kpi_observations.c
    found: set[tuple[str, int]] = set()
    for kpi_id, g in obs.groupby("kpi_id", sort=False):
        lo, hi = datetimes(np.array([g.ts.min(), g.ts.max()], dtype=np.int64))
        stored = conn.execute(select(ko.ts).where(ko.kpi_id == kpi_id, ko.ts >= lo, ko.ts <= hi)).scalars().all()
        if stored:
            found.update((kpi_id, int(v)) for v in utc_us(pd.Series(stored)))
    return found


def _kpi_deltas(obs: pd.DataFrame) -> pd.DataFrame:
    df = obs.assign(hour=obs.ts // US_PER_HOUR).sort_values("ts", kind="stable")
    g = df.groupby(list(KPI_KEY), sort=False)
    out = g.agg(n=("value", "size"), sum=("value", "sum"), last_us=("ts", "last"), last_value=("value", "last"))
    return out.reset_index()


def _kpi_set_clause(excluded) -> dict[str, Any]:
    """Counts and sums add up; the latest observation wins by timestamp (a late arrival does not)."""
    newer = excluded.last_ts > kpi_hourly.c.last_ts
    return {
        "n": kpi_hourly.c.n + excluded.n,
        "sum": kpi_hourly.c.sum + excluded.sum,
        "last_ts": case((newer, excluded.last_ts), else_=kpi_hourly.c.last_ts),
        "last_value": case((newer, excluded.last_value), else_=kpi_hourly.c.last_value),
    }


def _apply_kpi_deltas(conn: Connection, deltas: pd.DataFrame) -> None:
    if deltas.empty:
        return
    last_ts = sqlite_timestamp_text(deltas.last_us.to_numpy())
    rows = list(zip(deltas.kpi_id.tolist(), deltas.hour.tolist(), deltas.n.tolist(), deltas["sum"].tolist(),
                    last_ts.tolist(), deltas.last_value.tolist()))
    rows.sort(key=lambda r: r[:2])  # one lock order for every writer
    upsert_many(conn, kpi_hourly, KPI_KEY, ("kpi_id", "hour", "n", "sum", "last_ts", "last_value"), rows,
                 _kpi_set_clause)


def insert_kpi_observations(conn: Connection, rows: Rows, *, batch_size: int = DEFAULT_BATCH,
                            check_existing: bool = True) -> int:
    """Add KPI observations (kpi_id, ts, value) and their kpi_hourly contributions; returns rows inserted.

    A (kpi_id, ts) that is already stored, or repeated within the input, is skipped (first one wins), so
    re-importing a file neither fails nor double counts. ``check_existing=False`` skips the lookup for a
    caller that has just emptied the table (the demo loader).
    """
    obs = _observation_frame(rows).drop_duplicates(["kpi_id", "ts"], keep="first")
    if check_existing and len(obs):
        existing = _existing_observations(conn, obs)
        if existing:
            keys = pd.Series(list(zip(obs.kpi_id, obs.ts.astype(int))), index=obs.index)
            obs = obs[~keys.isin(existing)]
    return _write_observations(conn, obs, batch_size)


def _write_observations(conn: Connection, obs: pd.DataFrame, batch_size: int = DEFAULT_BATCH) -> int:
    """Normalised observations (kpi_id, ts as µs, value) and their kpi_hourly deltas, in batches."""
    obs = obs.reset_index(drop=True)
    with bulk_cache(conn, len(obs)), deferred_indexes(conn, kpi_observations, len(obs)):
        for start in range(0, len(obs), batch_size):
            batch = obs.iloc[start:start + batch_size]
            bulk_write(conn, kpi_observations, ("kpi_id", "ts", "value"), [
                batch.kpi_id.to_numpy(dtype=object), sqlite_timestamp_text(batch.ts.to_numpy()),
                batch.value.to_numpy(),
            ])
            _apply_kpi_deltas(conn, _kpi_deltas(batch))
    return len(obs)


def upsert_kpi_observations(conn: Connection, rows: Rows) -> UpsertCounts:
    """Insert new (kpi_id, ts) observations, update changed values, leave identical ones alone.

    A changed value moves its hour's ``sum`` by the difference and, when it is the hour's latest
    observation, its ``last_value``. Keys must be unique within ``rows``.
    """
    obs = _observation_frame(rows)
    if obs.duplicated(["kpi_id", "ts"]).any():
        raise InvalidRowsError("kpi_observations: a (kpi_id, ts) pair is repeated in the input")
    ko = kpi_observations.c
    stored_parts = []
    for kpi_id, g in obs.groupby("kpi_id", sort=True):  # read as locked, in one order (see upsert_work_items)
        lo, hi = datetimes(np.array([g.ts.min(), g.ts.max()], dtype=np.int64))
        read = select(ko.ts, ko.value).where(ko.kpi_id == kpi_id, ko.ts >= lo, ko.ts <= hi)
        if conn.dialect.name == "postgresql":
            read = read.order_by(ko.ts).with_for_update()
        found = conn.execute(read).all()
        if found:
            ts, value = zip(*found)
            stored_parts.append(pd.DataFrame({"kpi_id": kpi_id, "ts": utc_us(pd.Series(ts)), "old": value}))
    counts = UpsertCounts()
    if stored_parts:
        merged = obs.merge(pd.concat(stored_parts), on=["kpi_id", "ts"], how="left")
    else:
        merged = obs.assign(old=np.nan)
    known = merged.old.notna().to_numpy()
    changed = known & (merged.value.to_numpy() != merged.old.to_numpy())
    counts.unchanged = int((known & ~changed).sum())
    counts.updated = int(changed.sum())
    if changed.any():
        _update_observations(conn, merged[changed].sort_values(["kpi_id", "ts"]))
    counts.inserted = _write_observations(conn, obs[~known])  # already normalised: ts in µs
    return counts


def _update_observations(conn: Connection, changed: pd.DataFrame) -> None:
    from sqlalchemy import bindparam

    when = datetimes(changed.ts.to_numpy())
    kpi_ids, values, old = changed.kpi_id.tolist(), changed.value.tolist(), changed.old.tolist()
    conn.execute(
        update(kpi_observations).where(kpi_observations.c.kpi_id == bindparam("b_kpi"),
                                       kpi_observations.c.ts == bindparam("b_ts")).values(value=bindparam("b_value")),
        [{"b_kpi": k, "b_ts": t, "b_value": v} for k, t, v in zip(kpi_ids, when, values)],
    )
    kh = kpi_hourly.c
    conn.execute(
        update(kpi_hourly).where(kh.kpi_id == bindparam("b_kpi"), kh.hour == bindparam("b_hour")).values(
            sum=kh.sum + bindparam("b_delta"),
            last_value=case((kh.last_ts == bindparam("b_ts"), bindparam("b_value")), else_=kh.last_value),
        ),
        [{"b_kpi": k, "b_hour": int(us // US_PER_HOUR), "b_delta": v - o, "b_ts": t, "b_value": v}
         for k, us, t, v, o in zip(kpi_ids, changed.ts.tolist(), when, values, old)],
    )
