"""Work items: normalised into column arrays (:class:`ItemFrame`) and validated, before any write.

Text stays as object arrays, timestamps become int64 µs (:mod:`dashboard.store.timestamps`), numbers floats;
``due_at`` defaults to ``created_at + sla_hours``. A refused batch raises :class:`InvalidRowsError` naming the
first rows and the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, select, update

from dashboard.db import units, work_items
from dashboard.domain.vocabulary import ItemKind, Status
from dashboard.store.results import InvalidRowsError, StoreError
from dashboard.store.rows import Rows, object_column
from dashboard.store.sql import IN_CHUNK
from dashboard.store.timestamps import NAT, US_PER_HOUR, datetimes, utc_us

ITEM_REQUIRED = ("id", "kind", "source_unit", "target_unit", "channel", "created_at", "status", "sla_hours")
ITEM_TEXT = ("id", "kind", "source_unit", "target_unit", "channel", "topic", "text", "status", "updated_by", "note",
             "segment", "priority", "rule_id", "journey_id")
ITEM_TIMES = ("created_at", "routed_at", "accepted_at", "resolved_at", "due_at", "updated_at")
ITEM_FLOATS = ("sla_hours", "value")
# the order rows are written in; ``version`` is always 1 for a new item
ITEM_COLUMNS = (
    "id", "kind", "source_unit", "target_unit", "channel", "topic", "text", "created_at", "routed_at",
    "accepted_at", "resolved_at", "due_at", "status", "sla_hours", "value", "version", "updated_by",
    "updated_at", "note", "segment", "priority", "rule_id", "journey_id",
)


def _chunks(seq: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


@dataclass
class ItemFrame:
    """Validated work items as column arrays: text as object, times as µs int64, numbers as float."""

    cols: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.cols["id"])

    def take(self, idx: np.ndarray | slice) -> ItemFrame:
        return ItemFrame({k: v[idx] for k, v in self.cols.items()})


def item_frame(items: Rows) -> ItemFrame:
    df = items if isinstance(items, pd.DataFrame) else pd.DataFrame(list(items))
    allowed = set(ITEM_COLUMNS)
    unknown = set(df.columns) - allowed
    if unknown:
        raise InvalidRowsError(f"work_items: unknown column(s) {', '.join(sorted(unknown))}")
    missing = [c for c in ITEM_REQUIRED if c not in df.columns]
    if missing:
        raise InvalidRowsError(f"work_items: missing column(s) {', '.join(missing)}")
    n = len(df)
    cols: dict[str, np.ndarray] = {}
    for c in ITEM_TEXT:
        cols[c] = object_column(df[c]) if c in df.columns else np.full(n, None, dtype=object)
    for c in ITEM_TIMES:
        cols[c] = utc_us(df[c]) if c in df.columns else np.full(n, NAT, dtype=np.int64)
    for c in ITEM_FLOATS:
        cols[c] = pd.to_numeric(df[c]).to_numpy(dtype=float) if c in df.columns else np.full(n, np.nan)
    frame = ItemFrame(cols)
    _validate_items(frame)
    due_missing = cols["due_at"] == NAT  # kept as a column so breach checks need no arithmetic in SQL
    sla_us = np.round(cols["sla_hours"][due_missing] * US_PER_HOUR).astype(np.int64)
    cols["due_at"][due_missing] = cols["created_at"][due_missing] + sla_us
    return frame


def _bad(frame: ItemFrame, mask: np.ndarray, problem: str) -> None:
    if mask.any():
        ids = frame.cols["id"][mask][:5].tolist()
        more = f" and {int(mask.sum()) - 5} more" if mask.sum() > 5 else ""
        raise InvalidRowsError(f"work_items: {problem}: {', '.join(map(str, ids))}{more}")


def _outside(values: np.ndarray, allowed: Iterable[str]) -> np.ndarray:
    """Mask of values not in ``allowed``; checks the few distinct values, not every row."""
    bad = set(pd.unique(values)) - {str(a) for a in allowed}
    return np.isin(values, list(bad)) if bad else np.zeros(len(values), dtype=bool)


def _validate_items(frame: ItemFrame) -> None:
    c = frame.cols
    for name in ("id", "kind", "source_unit", "target_unit", "channel", "status"):
        if pd.isna(pd.Series(c[name], dtype=object)).any():
            raise InvalidRowsError(f"work_items: {name} is missing in some rows")
    _bad(frame, c["created_at"] == NAT, "created_at missing")
    _bad(frame, np.isnan(c["sla_hours"]) | (c["sla_hours"] < 0), "sla_hours missing or negative")
    _bad(frame, _outside(c["kind"], ItemKind), f"kind not one of {', '.join(ItemKind)}")
    _bad(frame, _outside(c["status"], Status), f"status not one of {', '.join(Status)}")
    resolved = c["status"] == Status.RESOLVED.value
    has_resolved_at = c["resolved_at"] != NAT
    _bad(frame, resolved & ~has_resolved_at, "status resolved without resolved_at")
    _bad(frame, ~resolved & has_resolved_at, "resolved_at set but status is not resolved")
    _bad(frame, has_resolved_at & (c["resolved_at"] < c["created_at"]), "resolved before created")
    ids = pd.Series(c["id"], dtype=object)
    _bad(frame, ids.duplicated().to_numpy(), "duplicate id in the input")


def check_units_exist(conn: Connection, frame: ItemFrame) -> None:
    """A clear message instead of a foreign-key error when an item names a unit that does not exist."""
    used = set(pd.unique(np.concatenate([frame.cols["source_unit"], frame.cols["target_unit"]])))
    known = set(conn.execute(select(units.c.id)).scalars())
    unknown = used - known
    if unknown:
        raise InvalidRowsError(f"work_items: unknown unit(s) {', '.join(sorted(map(str, unknown)))}; add them first")


def existing_ids(conn: Connection, ids: np.ndarray) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(ids.tolist(), IN_CHUNK):
        found.update(conn.execute(select(work_items.c.id).where(work_items.c.id.in_(chunk))).scalars())
    return found


def update_at_version(conn: Connection, frame: ItemFrame, columns: Sequence[str], versions: np.ndarray,
                      while_: str) -> None:
    """Write ``columns`` (and ``updated_by`` / ``updated_at``) of the frame's items, each only if it still has the
    version that was read, bumping the version. The caller holds the rows (PostgreSQL row locks, the SQLite write
    lock), so a miss means a bug or a broken lock: refused with :class:`StoreError` ("changed while ``while_``"),
    never written past."""
    c = frame.cols
    names = (*columns, "updated_by", "updated_at")
    values = {n: (datetimes(c[n]) if n in ITEM_TIMES else
                  [None if np.isnan(v) else float(v) for v in c[n]] if n in ITEM_FLOATS else c[n].tolist())
              for n in names}
    stmt = (update(work_items)
            .where(work_items.c.id == bindparam("b_id"), work_items.c.version == bindparam("b_version"))
            .values(**{n: bindparam(f"b_{n}") for n in names}, version=work_items.c.version + 1))
    params = [{"b_id": item_id, "b_version": int(versions[i]), **{f"b_{n}": values[n][i] for n in names}}
              for i, item_id in enumerate(c["id"])]
    result = conn.execute(stmt, params)
    if result.rowcount not in (-1, len(params)):
        raise StoreError(f"work_items: {len(params) - result.rowcount} item(s) changed while {while_}")
