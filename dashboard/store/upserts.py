"""Idempotent upserts of work items (file imports): new items inserted, changed ones updated,
identical ones left alone, and the rollups moved by the difference in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, select, tuple_

from dashboard.db import flow_hourly, work_items
from dashboard.domain.stats import CYCLE_BIN_COLUMNS, CYCLE_BIN_EDGES_H
from dashboard.store.bulk import DEFAULT_BATCH, bulk_cache, bulk_write
from dashboard.store.inserts import item_driver_columns
from dashboard.store.items import (
    ITEM_COLUMNS,
    ITEM_FLOATS,
    ITEM_TIMES,
    ItemFrame,
    check_units_exist,
    item_frame,
    update_at_version,
)
from dashboard.store.results import StoreError, UpsertCounts
from dashboard.store.rollups import (
    FLOW_KEY,
    FLOW_SUMS,
    apply_flow_deltas,
    apply_item_counts,
    flow_deltas,
    move_item_counts,
    move_staged_item_counts,
    net_flow_deltas,
    upsert_flow_rows,
)
from dashboard.store.rows import Rows
from dashboard.store.sql import IN_CHUNK, where_key_in
from dashboard.store.timestamps import NAT, US_PER_HOUR, UTC, aware


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise equality where two missing values (None / NaN / NaT) count as equal."""
    if a.dtype.kind == "f":
        return (a == b) | (np.isnan(a) & np.isnan(b))
    if a.dtype.kind == "i":
        return a == b
    return np.asarray(pd.Series(a, dtype=object).eq(pd.Series(b, dtype=object))
                      | (pd.isna(pd.Series(a, dtype=object)) & pd.isna(pd.Series(b, dtype=object))), dtype=bool)


@dataclass
class PreparedItems:
    """Work items converted, validated and turned into driver rows and rollup deltas without a connection,
    so a loader can prepare the next batch in another thread while this one is written."""

    frame: ItemFrame
    given: list[str]  # the columns the caller supplied (only these are compared and written on update)
    dialect: str
    driver: list[np.ndarray]  # ITEM_COLUMNS in driver form, every row
    deltas: pd.DataFrame  # flow_hourly contributions if every row is new

    def __len__(self) -> int:
        return len(self.frame)

    def take(self, mask: np.ndarray) -> PreparedItems:
        frame = self.frame.take(mask)
        return PreparedItems(frame, self.given, self.dialect, [c[mask] for c in self.driver], flow_deltas(frame))


def prepare_work_items(items: Rows, *, written_by: str | None = None, at: dt.datetime | None = None,
                       dialect: str = "sqlite") -> PreparedItems:
    """The CPU part of :func:`upsert_work_items` (no database): thread-safe, one batch at a time."""
    df = items if isinstance(items, pd.DataFrame) else pd.DataFrame(list(items))
    given = [c for c in ITEM_COLUMNS if c in df.columns and c not in ("version", "updated_by", "updated_at", "note")]
    at = aware(at or dt.datetime.now(UTC))
    frame = item_frame(df[given].assign(updated_by=written_by, updated_at=at))
    driver = item_driver_columns(dialect, frame)
    deltas = flow_deltas(frame) if len(frame) else pd.DataFrame(columns=[*FLOW_KEY, *FLOW_SUMS])
    return PreparedItems(frame, given, dialect, driver, deltas)


# columns an update leaves as stored when the rows lack them (the rest are always given or always written)
_KEPT_WHEN_MISSING = tuple(c for c in ITEM_COLUMNS if c not in ("id", "version", "updated_by", "updated_at", "note"))


def upsert_work_items(conn: Connection, items: Rows | PreparedItems, *, written_by: str | None = None,
                      at: dt.datetime | None = None, none_stored: bool = False) -> UpsertCounts:
    """Insert new work items, update changed ones, leave identical ones alone; rollups follow in the same
    transaction (an update subtracts the old version's contributions and adds the new one's).

    Only the columns given are compared and written, so a file without ``text`` or ``value`` does not blank the
    stored one, and the rollups keep the stored ``value`` too (the new version takes the stored values of the
    columns the rows lack). ``resolved_at`` is always written: without it an item is not resolved. ``due_at`` defaults to ``created_at + sla_hours``. A changed item gets ``version + 1`` (an app user
    holding the old version is told someone changed it) and ``written_by``/``at`` as its last editor; new
    items carry them too. Ids must be unique within ``items``. ``items`` may come from
    :func:`prepare_work_items` (then ``written_by``/``at`` were given there). ``none_stored``: the caller knows
    that none of the ids is stored (SQLite: it holds the write lock and the table was empty when it took it), so
    the stored rows are not looked up; a stored one would still be refused by the primary key.
    """
    prepared = items if isinstance(items, PreparedItems) else prepare_work_items(
        items, written_by=written_by, at=at, dialect=conn.dialect.name)
    if prepared.dialect != conn.dialect.name:
        raise StoreError(f"items prepared for {prepared.dialect}, written to {conn.dialect.name}")
    frame = prepared.frame
    if len(frame) == 0:
        return UpsertCounts()
    check_units_exist(conn, frame)
    # due_at follows created_at + sla_hours when not given; resolved_at follows the status (required): a file
    # without it says "not resolved", and validation refused a resolved status without it
    compare = list(dict.fromkeys(c for c in (*prepared.given, "due_at", "resolved_at") if c != "id"))
    # the stored rows are read as locked (PostgreSQL: FOR UPDATE, in id order like every writer), so the rollup
    # delta is taken from the row this update replaces, never from one a concurrent writer has since changed
    read = (select(*[work_items.c[c] for c in ITEM_COLUMNS if c != "version"], work_items.c.version)
            .where(where_key_in(conn, work_items.c.id, frame.cols["id"].tolist())))
    if conn.dialect.name == "postgresql":
        read = read.order_by(work_items.c.id).with_for_update()
    stored = pd.DataFrame() if none_stored else pd.DataFrame(conn.execute(read).mappings().all())
    counts = UpsertCounts()
    is_new = np.ones(len(frame), dtype=bool)
    if len(stored):
        position = pd.Series(np.arange(len(frame)), index=frame.cols["id"])
        at_new = position.loc[stored["id"]].to_numpy()
        versions = stored["version"].to_numpy()
        old = item_frame(stored.drop(columns=["note", "version"]))
        new = frame.take(at_new)
        for c in _KEPT_WHEN_MISSING:  # a column the rows lack means "unchanged": the new version keeps the
            if c not in compare:  # stored value, so the rollup delta does not take e.g. the value out
                new.cols[c] = old.cols[c]
        same = np.ones(len(at_new), dtype=bool)
        for c in compare:
            same &= _same(new.cols[c], old.cols[c])
        is_new[at_new] = False
        counts.unchanged = int(same.sum())
        changed = ~same
        if changed.any():
            update_at_version(conn, new.take(changed), compare, versions[changed], "being imported")
            upsert_flow_rows(conn, list(net_flow_deltas(new.take(changed), old.take(changed))
                                         .itertuples(index=False, name=None)), cleanup=True)
            move_item_counts(conn, new.take(changed), old.take(changed))
            counts.updated = int(changed.sum())
    fresh = prepared if is_new.all() else prepared.take(is_new)
    counts.inserted = len(fresh)
    if len(fresh):
        with bulk_cache(conn, len(fresh)):
            for start in range(0, len(fresh), DEFAULT_BATCH):
                bulk_write(conn, work_items, ITEM_COLUMNS, [c[start:start + DEFAULT_BATCH] for c in fresh.driver])
            apply_flow_deltas(conn, fresh.deltas)
            apply_item_counts(conn, fresh.frame)
    return counts




# --- the staged upsert (PostgreSQL): COPY into a temporary table, then set-based statements -----------------

STAGE = "stage_work_items"
_OLD = ("source_unit", "target_unit", "kind", "created_at", "resolved_at", "due_at", "value",  # what rollups need
        "channel", "topic", "text")


@dataclass
class StagedItems:
    """Work items converted and validated like :func:`prepare_work_items` does, as an Arrow table of
    ITEM_COLUMNS in stored form, for :func:`upsert_staged_work_items`. Built without a connection."""

    table: Any  # pyarrow.Table
    given: list[str]
    frame: ItemFrame  # the same rows, for the rollups of the new ones
    deltas: pd.DataFrame  # flow_hourly contributions if every row is new
    csv: Any = None  # the table as COPY's CSV (rendered in the preparing thread), or None

    def __len__(self) -> int:
        return self.table.num_rows

    def take(self, mask: np.ndarray) -> StagedItems:
        import pyarrow as pa

        frame = self.frame.take(mask)
        return StagedItems(self.table.filter(pa.array(mask)), self.given, frame, flow_deltas(frame))


def stage_work_items(items: Rows, *, written_by: str | None = None, at: dt.datetime | None = None) -> StagedItems:
    """The CPU part of :func:`upsert_staged_work_items` (no database): the same conversion, defaults and checks
    as :func:`prepare_work_items`, to Arrow arrays instead of driver rows and rollup deltas."""
    import pyarrow as pa

    df = items if isinstance(items, pd.DataFrame) else pd.DataFrame(list(items))
    given = [c for c in ITEM_COLUMNS if c in df.columns and c not in ("version", "updated_by", "updated_at", "note")]
    at = aware(at or dt.datetime.now(UTC))
    frame = item_frame(df[given].assign(updated_by=written_by, updated_at=at))
    c = frame.cols
    arrays = {}
    for name in ITEM_COLUMNS:
        if name == "version":
            arrays[name] = pa.array(np.ones(len(c["id"]), dtype=np.int32))
        elif name in ITEM_TIMES:
            arrays[name] = pa.array(c[name], type=pa.timestamp("us"), mask=c[name] == NAT)
        elif name in ITEM_FLOATS:
            arrays[name] = pa.array(c[name], mask=np.isnan(c[name]))
        else:
            arrays[name] = pa.array(c[name], type=pa.string(), from_pandas=True)
    from dashboard.store.bulk import arrow_csv

    data = pa.table(arrays)
    deltas = flow_deltas(frame) if len(frame) else pd.DataFrame(columns=[*FLOW_KEY, *FLOW_SUMS])
    return StagedItems(data, given, frame, deltas, arrow_csv(data))


def upsert_staged_work_items(conn: Connection, staged: StagedItems, *, none_stored: bool = False) -> UpsertCounts:
    """What :func:`upsert_work_items` does, set-based on PostgreSQL: the rows are copied into a temporary table
    (COPY), and a few statements compare, update, insert and move the rollups for all of them at once.

    The same rules as the row by row path: the stored rows these ids name are locked first (FOR UPDATE, in id
    order like every writer) and compared on the columns given (plus ``due_at`` and ``resolved_at``); identical
    ones are left alone; changed ones are updated only at the version that was locked (``version + 1``; a miss is
    refused with :class:`StoreError`), keeping the stored value of a column the rows lack; new ones are inserted
    in id order with a plain INSERT, so an id another writer inserted meanwhile fails with a unique violation and
    the caller's transaction runs again (:func:`dashboard.db.write_transaction`). The new rows' rollups are added
    as the row by row path adds them (their deltas were computed beside the Arrow table, off the connection); the
    changed rows' move set-based: ``flow_hourly`` by the difference in one INSERT ... ON CONFLICT computed from
    their new versions and the old ones saved beside them in the stage, its rows written in key order, rows a
    change leaves all zero deleted; ``mix_hourly`` and ``text_hourly`` by :func:`move_staged_item_counts`.

    ``none_stored``: the table held no row when the caller's import began and its ids are unique across the
    import, so there is nothing to compare: the rows are copied straight into ``work_items`` (an id another writer
    inserted meanwhile still fails with a unique violation, and the transaction runs again).
    """
    if conn.dialect.name != "postgresql":
        raise StoreError("the staged upsert is PostgreSQL's (SQLite uses upsert_work_items)")
    if len(staged) == 0:
        return UpsertCounts()
    from dashboard.store.bulk import copy_arrow

    if none_stored:
        copy_arrow(conn, "work_items", staged.table, staged.csv)
        apply_flow_deltas(conn, staged.deltas)
        apply_item_counts(conn, staged.frame)
        return UpsertCounts(inserted=len(staged))
    compare = list(dict.fromkeys(c for c in (*staged.given, "due_at", "resolved_at") if c != "id"))
    kept = [c for c in _KEPT_WHEN_MISSING if c not in compare]
    run = conn.exec_driver_sql
    run(f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} ON COMMIT DROP AS SELECT w.*, NULL::integer AS old_version, "
        f"false AS same, {', '.join(f'w.{c} AS old_{c}' for c in _OLD)} FROM work_items w WITH NO DATA")
    run(f"TRUNCATE {STAGE}")
    copy_arrow(conn, STAGE, staged.table, staged.csv)
    # lock the stored rows in id order, save their version and what the rollups need, compare
    same = " AND ".join(f"s.{c} IS NOT DISTINCT FROM w.{c}" for c in compare) or "true"
    sets = ", ".join(["old_version = w.version", f"same = ({same})", *(f"old_{c} = w.{c}" for c in _OLD),
                      *(f"{c} = w.{c}" for c in kept)])
    run(f"UPDATE {STAGE} s SET {sets} FROM (SELECT * FROM work_items WHERE id IN (SELECT id FROM {STAGE}) "
        f"ORDER BY id FOR UPDATE) w WHERE s.id = w.id")
    new, unchanged, changed = run(
        f"SELECT count(*) FILTER (WHERE old_version IS NULL), count(*) FILTER (WHERE same), "
        f"count(*) FILTER (WHERE old_version IS NOT NULL AND same IS NOT TRUE) FROM {STAGE}").one()
    if changed:
        writes = ", ".join(f"{c} = s.{c}" for c in (*compare, "updated_by", "updated_at"))
        done = run(f"UPDATE work_items w SET {writes}, version = w.version + 1 FROM {STAGE} s WHERE w.id = s.id "
                   f"AND s.old_version IS NOT NULL AND s.same IS NOT TRUE AND w.version = s.old_version").rowcount
        if done != changed:
            raise StoreError(f"work_items: {changed - done} item(s) changed while being imported")
    if new:
        names = ", ".join(ITEM_COLUMNS)
        run(f"INSERT INTO work_items ({names}) SELECT {names} FROM {STAGE} WHERE old_version IS NULL ORDER BY id")
        # the new rows' rollups as the row by row path adds them (their deltas were computed with the rows)
        fresh, deltas = staged.frame, staged.deltas
        if new < len(staged):
            stored = run(f"SELECT id FROM {STAGE} WHERE old_version IS NOT NULL").scalars().all()
            fresh = fresh.take(~np.isin(fresh.cols["id"], stored))
            deltas = flow_deltas(fresh)
        apply_flow_deltas(conn, deltas)
        apply_item_counts(conn, fresh)
    if changed:  # the changed rows' rollups move set-based, from their old and new versions in the stage
        run(f"DELETE FROM {STAGE} WHERE old_version IS NULL")
        move_staged_item_counts(conn, STAGE)  # mix_hourly, text_hourly
        emptied = run(_staged_flow_sql()).all()
        if emptied:
            fh = flow_hourly.c
            for start in range(0, len(emptied), IN_CHUNK):
                keys = [tuple(r) for r in emptied[start:start + IN_CHUNK]]
                conn.execute(delete(flow_hourly).where(
                    tuple_(fh.hour, fh.source_unit, fh.target_unit, fh.kind).in_(keys), fh.created == 0,
                    fh.resolved == 0))
    return UpsertCounts(inserted=int(new), updated=int(changed), unchanged=int(unchanged))


def _staged_flow_sql() -> str:
    """flow_hourly moved by the staged rows: + each new or changed row's new version, - each changed row's old
    one; returns the keys left all zero. Hours from ``date_trunc`` (an exact multiple of 3600 s, so the float
    division is exact); cycle times rounded to whole microseconds (exact for cycles shorter than a century, and
    beyond the histogram's last edge only the sum of hours, a float, could differ in its last digits)."""
    edges = ", ".join(str(int(round(e * US_PER_HOUR))) for e in CYCLE_BIN_EDGES_H)
    key = "hour, source_unit, target_unit, kind"
    bins = ", ".join(f"sum(CASE WHEN bin = {i} THEN bin_sign ELSE 0 END) AS {c}"
                     for i, c in enumerate(CYCLE_BIN_COLUMNS))
    sums = [f"sum({c}) AS {c}" for c in ("created", "created_value", "resolved", "resolved_in_sla", "cycle_sum_h")]
    nonzero = " OR ".join(f"sum({c}) <> 0" for c in ("created", "created_value", "resolved", "resolved_in_sla",
                                                     "cycle_sum_h")) + " OR " + " OR ".join(
        f"sum(CASE WHEN bin = {i} THEN bin_sign ELSE 0 END) <> 0" for i in range(len(CYCLE_BIN_COLUMNS)))
    columns = ", ".join((*FLOW_KEY, *FLOW_SUMS))
    updates = ", ".join(f"{c} = flow_hourly.{c} + excluded.{c}" for c in FLOW_SUMS)
    old = ", ".join(f"old_{c}" for c in _OLD)
    return f"""
WITH v AS (
    SELECT 1 AS sign, {', '.join(_OLD)} FROM {STAGE} WHERE same IS NOT TRUE
    UNION ALL
    SELECT -1, {old} FROM {STAGE} WHERE old_version IS NOT NULL AND same IS NOT TRUE
), r AS (
    SELECT sign, source_unit, target_unit, kind, resolved_at, due_at,
           round(date_part('epoch', resolved_at - created_at) * 1000000)::bigint AS cycle_us
    FROM v WHERE resolved_at IS NOT NULL
), e AS (
    SELECT (date_part('epoch', date_trunc('hour', created_at)) / 3600)::integer AS hour, source_unit, target_unit, kind,
           sign AS created, sign * coalesce(value, 0) AS created_value, 0 AS resolved, 0 AS resolved_in_sla,
           0::float8 AS cycle_sum_h, -1 AS bin, 0 AS bin_sign
    FROM v
    UNION ALL
    SELECT (date_part('epoch', date_trunc('hour', resolved_at)) / 3600)::integer, source_unit, target_unit, kind,
           0, 0::float8,
           sign, sign * (resolved_at <= due_at)::integer, sign * (cycle_us::float8 / {float(US_PER_HOUR)!r}),
           width_bucket(cycle_us, ARRAY[{edges}]::bigint[]), sign
    FROM r
), up AS (
    INSERT INTO flow_hourly ({columns})
    SELECT {key}, {', '.join(sums)}, {bins}
    FROM e GROUP BY {key}
    HAVING {nonzero}
    ORDER BY hour, source_unit COLLATE "C", target_unit COLLATE "C", kind COLLATE "C"
    ON CONFLICT ({key}) DO UPDATE SET {updates}
    RETURNING {key}, created, resolved
)
SELECT {key} FROM up WHERE created = 0 AND resolved = 0"""
