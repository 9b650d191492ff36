"""The hourly rollups' deltas, vectorised, and the upserts that add them in the caller's transaction.

``flow_hourly`` (hour of the event, source_unit, target_unit, kind): an item adds ``created`` and ``created_value``
in the hour of ``created_at``; once resolved it adds ``resolved``, ``resolved_in_sla`` (``resolved_at <= due_at``),
``cycle_sum_h`` and one count in the cycle-time histogram column ``b00..b23`` in the hour of ``resolved_at``.
Reopening a resolved item takes that resolution back out. Deltas are grouped in pandas and added with one
INSERT ... ON CONFLICT DO UPDATE per batch (:func:`upsert_many`: ``executemany`` on SQLite; on PostgreSQL, from
``PG_STAGE_ROWS`` rows, a COPY into a stage table first), rows sorted by key so every writer locks in one order.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, delete, select, tuple_
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.dialects.postgresql import insert as pg_insert

from dashboard.db import flow_hourly, mix_hourly, text_hourly
from dashboard.domain.stats import CYCLE_BIN_COLUMNS, N_CYCLE_BINS, cycle_bin_index
from dashboard.store.bulk import copy_rows
from dashboard.store.items import ItemFrame
from dashboard.store.results import StoreError
from dashboard.store.sql import dialect_insert
from dashboard.store.timestamps import NAT, US_PER_HOUR

PG_STAGE_ROWS = 200  # from this many rollup rows PostgreSQL upserts go through COPY + INSERT ... SELECT

FLOW_KEY = ("hour", "source_unit", "target_unit", "kind")
FLOW_SUMS = ("created", "created_value", "resolved", "resolved_in_sla", "cycle_sum_h", *CYCLE_BIN_COLUMNS)


def _creation_deltas(frame: ItemFrame) -> pd.DataFrame:
    c = frame.cols
    df = pd.DataFrame({
        "hour": c["created_at"] // US_PER_HOUR,
        "source_unit": c["source_unit"], "target_unit": c["target_unit"], "kind": c["kind"],
        "created_value": np.nan_to_num(c["value"], nan=0.0),
    })
    g = df.groupby(list(FLOW_KEY), sort=False)
    return g.agg(created=("created_value", "size"), created_value=("created_value", "sum"))


def _resolution_deltas(frame: ItemFrame) -> pd.DataFrame:
    """Resolution counts, SLA hits, cycle sums and histogram counts per (hour of resolved_at, route, kind)."""
    c = frame.cols
    done = c["resolved_at"] != NAT
    resolved_at, created_at, due_at = c["resolved_at"][done], c["created_at"][done], c["due_at"][done]
    cycle_h = (resolved_at - created_at) / US_PER_HOUR
    df = pd.DataFrame({
        "hour": resolved_at // US_PER_HOUR,
        "source_unit": c["source_unit"][done], "target_unit": c["target_unit"][done], "kind": c["kind"][done],
        "in_sla": (resolved_at <= due_at).astype(np.int64), "cycle_h": cycle_h,
        "bin": cycle_bin_index(cycle_h),
    })
    key = list(FLOW_KEY)
    sums = df.groupby(key, sort=False).agg(resolved=("in_sla", "size"), resolved_in_sla=("in_sla", "sum"),
                                           cycle_sum_h=("cycle_h", "sum"))
    hist = df.groupby(key + ["bin"], sort=False).size().unstack("bin", fill_value=0)
    hist = hist.reindex(columns=range(N_CYCLE_BINS), fill_value=0)
    hist.columns = list(CYCLE_BIN_COLUMNS)
    return sums.join(hist)


def flow_deltas(frame: ItemFrame) -> pd.DataFrame:
    """All flow_hourly columns for new items: one row per touched key, zeros where nothing happened."""
    out = _creation_deltas(frame)
    if (frame.cols["resolved_at"] != NAT).any():  # items that arrive already resolved
        out = out.join(_resolution_deltas(frame), how="outer")
    out = out.reindex(columns=list(FLOW_SUMS)).fillna(0).reset_index()
    ints = [c for c in FLOW_SUMS if c not in ("created_value", "cycle_sum_h")]
    out[ints] = out[ints].astype(np.int64)
    return out


SetClause = Callable[[Any], dict[str, Any]]  # excluded -> {column: new value expression}


def upsert_many(conn: Connection, table: Table, key: Sequence[str], columns: Sequence[str],
                 rows: Sequence[tuple], set_clause: SetClause) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE for many rows, bypassing SQLAlchemy's per-row processing.

    Rows are tuples in ``columns`` order, already in driver form (timestamps as text, see
    sqlite_timestamp_text). SQLite gets one compiled statement and ``executemany``; PostgreSQL gets a COPY
    into a temporary stage table and one INSERT ... SELECT (row-by-row round trips cost ~1 ms a row there).
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql" and len(rows) >= PG_STAGE_ROWS:
        _pg_staged_upsert(conn, table, key, columns, rows, set_clause)
        return
    sql, order = _compiled_upsert(conn, table, tuple(key), tuple(columns), set_clause)
    if order is None:
        params: list = [dict(zip(columns, r)) for r in rows]
    else:
        params = list(rows) if order == list(range(len(columns))) else [operator.itemgetter(*order)(r) for r in rows]
    conn.exec_driver_sql(sql, params)


_UPSERT_SQL: dict[tuple, tuple[str, list[int] | None]] = {}


def _compiled_upsert(conn: Connection, table: Table, key: tuple[str, ...], columns: tuple[str, ...],
                     set_clause: SetClause) -> tuple[str, list[int] | None]:
    """The upsert's SQL and parameter order, compiled once per statement shape: compiling an INSERT ... ON
    CONFLICT costs ~10 ms, more than executing it, and a live feed upserts a rollup row per item it moves.
    (The set clause is keyed by its code: both callers pass the same function or lambda every time.)"""
    cache_key = (conn.dialect.name, table.name, key, columns, getattr(set_clause, "__code__", set_clause))
    found = _UPSERT_SQL.get(cache_key)
    if found is not None:
        return found
    stmt = dialect_insert(conn, table)
    stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=set_clause(stmt.excluded))
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(columns))
    order = None
    if compiled.positional:
        names = list(compiled.positiontup)
        if sorted(names) != sorted(columns):
            raise StoreError(f"unexpected parameters {names} for columns {list(columns)}")
        order = [list(columns).index(n) for n in names]
    _UPSERT_SQL[cache_key] = found = (str(compiled), order)
    return found


def _pg_staged_upsert(conn: Connection, table: Table, key: Sequence[str], columns: Sequence[str],
                      rows: Sequence[tuple], set_clause: SetClause) -> None:
    quote = conn.dialect.identifier_preparer.quote
    name = f"stage_{table.name}"
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(name)} "
                         f"(LIKE {quote(table.name)} INCLUDING DEFAULTS) ON COMMIT DROP")
    conn.exec_driver_sql(f"TRUNCATE {quote(name)}")
    stage = sa_table(name, *[sa_column(c) for c in columns])
    copy_rows(conn, stage, columns, rows)
    stmt = pg_insert(table).from_select(list(columns), select(*[stage.c[c] for c in columns]))
    conn.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=set_clause(stmt.excluded)))


def upsert_flow_rows(conn: Connection, rows: Sequence[tuple], cleanup: bool = False) -> None:
    """Add delta rows (FLOW_KEY + FLOW_SUMS order) into flow_hourly with one upsert statement.

    ``cleanup`` then drops rows the change left all zero (after a subtraction), so the table stays equal to
    a rebuild, which has no such rows.
    """
    if not rows:
        return
    rows = sorted(rows, key=lambda r: r[:len(FLOW_KEY)])  # one lock order for every writer (no deadlock cycle)
    upsert_many(conn, flow_hourly, FLOW_KEY, (*FLOW_KEY, *FLOW_SUMS), rows,
                 lambda excluded: {c: flow_hourly.c[c] + excluded[c] for c in FLOW_SUMS})
    if cleanup:
        fh = flow_hourly.c
        for hour, source, target, kind, *_ in rows:
            conn.execute(delete(flow_hourly).where(
                fh.hour == hour, fh.source_unit == source, fh.target_unit == target, fh.kind == kind,
                fh.created == 0, fh.resolved == 0,
            ))


def apply_flow_deltas(conn: Connection, deltas: pd.DataFrame) -> None:
    """Upsert a frame of deltas (see flow_deltas); ``tolist`` hands the driver plain Python numbers."""
    columns = (*FLOW_KEY, *FLOW_SUMS)
    upsert_flow_rows(conn, list(zip(*[deltas[c].to_numpy().tolist() for c in columns])))


def net_flow_deltas(new: ItemFrame, old: ItemFrame) -> pd.DataFrame:
    """flow_hourly deltas that turn the old versions of some items into their new versions."""
    plus, minus = flow_deltas(new), flow_deltas(old)
    minus[list(FLOW_SUMS)] = -minus[list(FLOW_SUMS)]
    net = pd.concat([plus, minus]).groupby(list(FLOW_KEY), sort=False)[list(FLOW_SUMS)].sum().reset_index()
    return net[(net[list(FLOW_SUMS)] != 0).any(axis=1)]


# --- mix_hourly and text_hourly: what items were created, per hour of created_at -------------------------------
#
# ``mix_hourly`` (target_unit, hour, source_unit, kind, channel, topic_key) counts items created in the hour;
# ``text_hourly`` (target_unit, hour, text_key) counts those with a non-empty text, per wording. Both depend only
# on columns a transition never changes, so only inserts, upserts (a changed item moves its count) and re-routing
# move them. Rows whose count drops to zero are deleted: a rebuild has none.

MIX_KEY = ("target_unit", "hour", "source_unit", "kind", "channel", "topic_key")
TEXT_KEY = ("target_unit", "hour", "text_key")


def topic_keys(topics: np.ndarray) -> np.ndarray:
    """The key of each topic: "" for none (a NULL cannot be part of a primary key), else "#" + topic."""
    s = pd.Series(topics, dtype=object)
    return ("#" + s.where(s.notna(), "")).where(s.notna(), "").to_numpy(dtype=object)


def text_key(text: str) -> str:
    """sha256 of the text's UTF-8 bytes, hex: the same as PostgreSQL's encode(sha256(convert_to(t, 'UTF8')), 'hex')."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def mix_counts(frame: ItemFrame) -> pd.DataFrame:
    """mix_hourly counts of these items (columns MIX_KEY + topic + created)."""
    c = frame.cols
    df = pd.DataFrame({
        "target_unit": c["target_unit"], "hour": c["created_at"] // US_PER_HOUR, "source_unit": c["source_unit"],
        "kind": c["kind"], "channel": c["channel"], "topic_key": topic_keys(c["topic"]),
        "topic": pd.Series(c["topic"], dtype=object),
    })
    out = df.groupby(list(MIX_KEY), sort=False, dropna=False).agg(topic=("topic", "first"), created=("hour", "size"))
    return out.reset_index()


def text_counts(frame: ItemFrame) -> pd.DataFrame:
    """text_hourly counts of these items with a non-empty text (columns TEXT_KEY + text + created)."""
    c = frame.cols
    text = pd.Series(c["text"], dtype=object)
    has = (text.notna() & (text != "")).to_numpy()
    df = pd.DataFrame({"target_unit": c["target_unit"][has], "hour": c["created_at"][has] // US_PER_HOUR,
                       "text": text[has].to_numpy(dtype=object)})
    out = df.groupby(["target_unit", "hour", "text"], sort=False).size().rename("created").reset_index()
    keys = {t: text_key(t) for t in pd.unique(out["text"])}
    out["text_key"] = out["text"].map(keys)
    return out[[*TEXT_KEY, "text", "created"]]


def _net(plus: pd.DataFrame, minus: pd.DataFrame, key: Sequence[str], label: str) -> pd.DataFrame:
    minus = minus.assign(created=-minus["created"])
    both = pd.concat([plus, minus], ignore_index=True)
    net = both.groupby(list(key), sort=False).agg(**{label: (label, "first")}, created=("created", "sum")).reset_index()
    return net[net["created"] != 0]


def _driver_values(column: pd.Series) -> list:
    """A column's cells as Python values, missing ones (NaN, None) as None."""
    if column.dtype.kind in "iub":
        return column.to_numpy().tolist()
    return column.astype(object).where(column.notna(), None).tolist()


def _upsert_counts(conn: Connection, table: Table, key: Sequence[str], label: str, counts: pd.DataFrame,
                   cleanup: bool) -> None:
    if counts.empty:
        return
    columns = (*key, label, "created")
    ordered = counts.sort_values(list(key), kind="stable")  # every writer locks rows in key order
    values = [_driver_values(ordered[c]) for c in columns]
    rows = list(zip(*values))
    upsert_many(conn, table, key, columns, rows, lambda excluded: {"created": table.c.created + excluded.created})
    if cleanup:  # counts taken back to zero: the rows go (one statement per target and span of hours)
        for target, hours in counts.groupby("target_unit")["hour"]:
            conn.execute(delete(table).where(table.c.target_unit == target, table.c.hour >= int(hours.min()),
                                             table.c.hour <= int(hours.max()), table.c.created == 0))


def apply_item_counts(conn: Connection, frame: ItemFrame) -> None:
    """Add new items to mix_hourly and text_hourly."""
    if len(frame) == 0:
        return
    _upsert_counts(conn, mix_hourly, MIX_KEY, "topic", mix_counts(frame), cleanup=False)
    _upsert_counts(conn, text_hourly, TEXT_KEY, "text", text_counts(frame), cleanup=False)


def move_item_counts(conn: Connection, new: ItemFrame, old: ItemFrame) -> None:
    """Turn the old versions' counts into the new versions' (items updated or re-routed)."""
    if len(new) == 0:
        return
    _upsert_counts(conn, mix_hourly, MIX_KEY, "topic", _net(mix_counts(new), mix_counts(old), MIX_KEY, "topic"),
                   cleanup=True)
    _upsert_counts(conn, text_hourly, TEXT_KEY, "text", _net(text_counts(new), text_counts(old), TEXT_KEY, "text"),
                   cleanup=True)


ITEM_COUNT_COLUMNS = ("target_unit", "source_unit", "kind", "channel", "topic", "text", "created_at")


def move_staged_item_counts(conn: Connection, stage: str) -> None:
    """mix_hourly and text_hourly moved by a set-based upsert's stage table (PostgreSQL), in two statements each.

    ``stage`` holds each row's new version in the work_items columns, ``old_version`` (NULL for a new item),
    ``same`` (true: unchanged, nothing moves; NULL or false otherwise) and the stored version's ITEM_COUNT_COLUMNS as ``old_<column>``.
    Each new or changed row adds its new version's count, each changed row takes its old version's back out;
    rows left at zero are deleted, rows written in key order."""
    quote = conn.dialect.identifier_preparer.quote
    s = quote(stage)
    hour = "floor(extract(epoch FROM {p}created_at) / 3600)::integer"
    topic = "CASE WHEN {p}topic IS NULL THEN '' ELSE '#' || {p}topic END"
    key = "encode(sha256(convert_to({p}text, 'UTF8')), 'hex')"

    def version(p: str, sign: int, where: str) -> str:
        return (f"SELECT {sign} AS sign, {p}target_unit AS target_unit, {hour.format(p=p)} AS hour, "
                f"{p}source_unit AS source_unit, {p}kind AS kind, {p}channel AS channel, "
                f"{topic.format(p=p)} AS topic_key, {p}topic AS topic, {p}text AS text FROM {s} WHERE {where}")

    both = (version("", 1, "same IS NOT TRUE") + " UNION ALL "  # same: NULL for a new row
            + version("old_", -1, "old_version IS NOT NULL AND same IS NOT TRUE"))
    c = '"C"'
    mix_key = ("target_unit", "hour", "source_unit", "kind", "channel", "topic_key")
    emptied = conn.exec_driver_sql(
        f"WITH v AS ({both}), up AS (INSERT INTO mix_hourly ({', '.join(mix_key)}, topic, created) "
        f"SELECT {', '.join(mix_key)}, min(topic), sum(sign) FROM v GROUP BY {', '.join(mix_key)} HAVING sum(sign) <> 0 "
        f"ORDER BY target_unit COLLATE {c}, hour, source_unit COLLATE {c}, kind COLLATE {c}, channel COLLATE {c}, "
        f"topic_key COLLATE {c} ON CONFLICT ({', '.join(mix_key)}) "
        f"DO UPDATE SET created = mix_hourly.created + excluded.created RETURNING {', '.join(mix_key)}, created) "
        f"SELECT {', '.join(mix_key)} FROM up WHERE created = 0").all()
    _delete_emptied(conn, mix_hourly, mix_key, emptied)
    emptied = conn.exec_driver_sql(
        f"WITH v AS ({both}), up AS (INSERT INTO text_hourly (target_unit, hour, text_key, text, created) "
        f"SELECT target_unit, hour, {key.format(p='')}, text, sum(sign) FROM v WHERE text IS NOT NULL AND text <> '' "
        f"GROUP BY target_unit, hour, text HAVING sum(sign) <> 0 ORDER BY target_unit COLLATE {c}, hour, {key.format(p='')} COLLATE {c} "
        f"ON CONFLICT (target_unit, hour, text_key) DO UPDATE SET created = text_hourly.created + excluded.created "
        f"RETURNING target_unit, hour, text_key, created) SELECT target_unit, hour, text_key FROM up WHERE created = 0").all()
    _delete_emptied(conn, text_hourly, TEXT_KEY, emptied)


def _delete_emptied(conn: Connection, table: Table, key: Sequence[str], rows: Sequence) -> None:
    for start in range(0, len(rows), 500):
        keys = [tuple(r) for r in rows[start:start + 500]]
        conn.execute(delete(table).where(tuple_(*[table.c[k] for k in key]).in_(keys), table.c.created == 0))
