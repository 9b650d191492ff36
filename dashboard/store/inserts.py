"""New work items in bulk (:func:`insert_work_items`): validated, written in batches through the
driver, each batch's ``flow_hourly`` contributions added in the same transaction.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from sqlalchemy import Connection

from dashboard.db import work_items
from dashboard.store.bulk import DEFAULT_BATCH, bulk_cache, bulk_write, deferred_indexes, driver_null, with_null
from dashboard.store.items import (
    ITEM_COLUMNS,
    ITEM_FLOATS,
    ITEM_REQUIRED,
    ITEM_TIMES,
    ItemFrame,
    check_units_exist,
    existing_ids,
    item_frame,
)
from dashboard.store.rollups import apply_flow_deltas, apply_item_counts, flow_deltas
from dashboard.store.rows import Rows
from dashboard.store.timestamps import sqlite_timestamp_text


def item_driver_columns(dialect: str, frame: ItemFrame) -> list[np.ndarray]:
    """Columns in ITEM_COLUMNS order: timestamps as SQLAlchemy's text, missing values as the driver's null."""
    c, null = frame.cols, driver_null(dialect)
    values: list[np.ndarray] = []
    for name in ITEM_COLUMNS:
        if name == "version":
            values.append(np.ones(len(frame), dtype=np.int64))
        elif name in ITEM_TIMES:
            values.append(sqlite_timestamp_text(c[name], null))
        elif name in ITEM_FLOATS:
            values.append(c[name] if null is not None else with_null(c[name], None))
        elif name in ITEM_REQUIRED:  # validated: never missing
            values.append(c[name])
        else:
            values.append(with_null(c[name], null))
    return values


def insert_work_items(
    conn: Connection,
    items: Rows,
    *,
    on_duplicate: Literal["error", "skip"] = "error",
    batch_size: int = DEFAULT_BATCH,
    check_units: bool = True,
) -> int:
    """Add new work items and their rollup contributions; returns how many were inserted.

    ``due_at`` defaults to ``created_at + sla_hours``; ``version`` is always 1. An item counts as created in
    the hour of ``created_at`` and, if it arrives already resolved, as resolved in the hour of
    ``resolved_at``. ``on_duplicate='skip'`` leaves ids that already exist alone (idempotent imports); the
    default raises, which is what a fresh load wants. Rows are written in batches of ``batch_size`` with one
    rollup upsert per batch.
    """
    frame = item_frame(items)
    if len(frame) == 0:
        return 0
    if check_units:
        check_units_exist(conn, frame)
    if on_duplicate == "skip":
        existing = existing_ids(conn, frame.cols["id"])
        if existing:
            frame = frame.take(~np.isin(frame.cols["id"], list(existing)))
    elif on_duplicate != "error":
        raise ValueError("on_duplicate must be 'error' or 'skip'")
    with bulk_cache(conn, len(frame)), deferred_indexes(conn, work_items, len(frame)):
        for start in range(0, len(frame), batch_size):
            batch = frame.take(slice(start, start + batch_size))
            bulk_write(conn, work_items, ITEM_COLUMNS, item_driver_columns(conn.dialect.name, batch))
            apply_flow_deltas(conn, flow_deltas(batch))
            apply_item_counts(conn, batch)
    return len(frame)
