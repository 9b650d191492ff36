"""Idempotent upserts of work items (file imports): new items inserted, changed ones updated,
identical ones left alone, and the rollups moved by the difference in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from dashboard.db import work_items
from dashboard.store.bulk import DEFAULT_BATCH, bulk_cache, bulk_write
from dashboard.store.inserts import item_driver_columns
from dashboard.store.items import ITEM_COLUMNS, ItemFrame, check_units_exist, item_frame, update_at_version
from dashboard.store.results import StoreError, UpsertCounts
from dashboard.store.rollups import (
    FLOW_KEY,
    FLOW_SUMS,
    apply_flow_deltas,
    flow_deltas,
    net_flow_deltas,
    upsert_flow_rows,
)
from dashboard.store.rows import Rows
from dashboard.store.sql import where_key_in
from dashboard.store.timestamps import UTC, aware


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
                      at: dt.datetime | None = None) -> UpsertCounts:
    """Insert new work items, update changed ones, leave identical ones alone; rollups follow in the same
    transaction (an update subtracts the old version's contributions and adds the new one's).

    Only the columns given are compared and written, so a file without ``text`` or ``value`` does not blank the
    stored one, and the rollups keep the stored ``value`` too (the new version takes the stored values of the
    columns the rows lack). ``resolved_at`` is always written: without it an item is not resolved. ``due_at`` defaults to ``created_at + sla_hours``. A changed item gets ``version + 1`` (an app user
    holding the old version is told someone changed it) and ``written_by``/``at`` as its last editor; new
    items carry them too. Ids must be unique within ``items``. ``items`` may come from
    :func:`prepare_work_items` (then ``written_by``/``at`` were given there).
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
    stored = pd.DataFrame(conn.execute(read).mappings().all())
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
            counts.updated = int(changed.sum())
    fresh = prepared if is_new.all() else prepared.take(is_new)
    counts.inserted = len(fresh)
    if len(fresh):
        with bulk_cache(conn, len(fresh)):
            for start in range(0, len(fresh), DEFAULT_BATCH):
                bulk_write(conn, work_items, ITEM_COLUMNS, [c[start:start + DEFAULT_BATCH] for c in fresh.driver])
            apply_flow_deltas(conn, fresh.deltas)
    return counts


