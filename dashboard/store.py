"""The write API: every change to units, KPIs, work items, observations and campaigns goes through here.

Why one module: the overview reads hourly rollups (``flow_hourly``, ``kpi_hourly``) instead of scanning
millions of rows, so every write that adds or changes work items or KPI observations must also update the
rollups *in the same transaction*. Callers pass a :class:`~sqlalchemy.Connection` opened with
``engine.begin()``; nothing here commits, so a failure anywhere leaves neither rows nor rollup deltas.

Rollup grain
- ``flow_hourly`` (hour of the event, source_unit, target_unit, kind): an item adds ``created`` and
  ``created_value`` in the hour of ``created_at``; once resolved it adds ``resolved``, ``resolved_in_sla``
  (``resolved_at <= due_at``), ``cycle_sum_h`` and one count in the cycle-time histogram column
  ``b00..b23`` in the hour of ``resolved_at``. Reopening a resolved item takes that resolution back out.
- ``kpi_hourly`` (kpi_id, hour): ``n``, ``sum`` and the latest observation (``last_ts``, ``last_value``).

Speed: bulk inserts are vectorised. Rows are normalised once into numpy arrays (timestamps as int64
microseconds since the epoch), rollup deltas are grouped in pandas, and rows go to the driver directly:
``executemany`` on SQLite, ``COPY`` on PostgreSQL. On SQLite that bypasses SQLAlchemy's per-value
``DateTime`` processing, so the text format SQLAlchemy uses (``YYYY-MM-DD HH:MM:SS.ffffff``) is reproduced
exactly (see :func:`_sqlite_timestamp_text`); tests pin that both paths agree.

:func:`rebuild_rollups` recomputes both rollups from the base tables in SQL. It is deliberately an
independent implementation (integer microsecond arithmetic in the database) so the tests can use it as the
oracle for the incremental path.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Connection,
    Table,
    and_,
    case,
    cast,
    delete,
    extract,
    false,
    func,
    literal,
    select,
    update,
)
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from dashboard.db import (
    app_meta,
    campaigns,
    flow_hourly,
    kpi_hourly,
    kpi_observations,
    kpis,
    units,
    work_items,
)
from dashboard.domain.stats import CYCLE_BIN_COLUMNS, CYCLE_BIN_EDGES_H, N_CYCLE_BINS, cycle_bin_index
from dashboard.domain.vocabulary import ItemKind, Status

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
US_PER_SECOND = 1_000_000
US_PER_HOUR = 3_600 * US_PER_SECOND
DAY_US = 24 * US_PER_HOUR
NAT = np.iinfo(np.int64).min  # numpy's NaT as int64: the "no timestamp" sentinel in microsecond arrays
DEFAULT_BATCH = 50_000  # rows per driver call: big enough to amortise overhead, small enough for memory
BULK_CACHE_ROWS = 20_000  # from this many rows a bulk write gets a big SQLite page cache ...
BULK_CACHE_KIB = -262_144  # ... of 256 MiB (negative = KiB in SQLite's PRAGMA cache_size)
PG_STAGE_ROWS = 200  # from this many rollup rows PostgreSQL upserts go through COPY + INSERT ... SELECT
IN_CHUNK = 500  # values per IN (...) list; far below SQLite's variable limit

FLOW_KEY = ("hour", "source_unit", "target_unit", "kind")
FLOW_SUMS = ("created", "created_value", "resolved", "resolved_in_sla", "cycle_sum_h", *CYCLE_BIN_COLUMNS)
KPI_KEY = ("kpi_id", "hour")

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

# Which status may follow which. Reopening a resolved item (to routed/accepted/handed_back) is allowed and
# takes its resolution back out of the rollup; nothing goes back to "new".
ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.ROUTED, Status.ACCEPTED, Status.RESOLVED}),
    Status.ROUTED: frozenset({Status.ACCEPTED, Status.RESOLVED, Status.HANDED_BACK}),
    Status.ACCEPTED: frozenset({Status.RESOLVED, Status.HANDED_BACK}),
    Status.HANDED_BACK: frozenset({Status.ROUTED, Status.ACCEPTED, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.ROUTED, Status.ACCEPTED, Status.HANDED_BACK}),
}

Rows = pd.DataFrame | Sequence[Mapping[str, Any]]


# --- errors and results --------------------------------------------------------------------------------


class StoreError(Exception):
    """Base class: a write was refused; the message says which rows and why."""


class InvalidRowsError(StoreError, ValueError):
    """Input rows are malformed (missing columns, unknown values, impossible timestamps)."""


class UnknownItemError(StoreError, LookupError):
    """The work item id does not exist."""


class InvalidTransitionError(StoreError, ValueError):
    """The requested status cannot follow the item's current status (or ``at`` precedes its creation)."""


@dataclass(frozen=True)
class TransitionResult:
    """Outcome of :func:`transition_item`.

    ``ok`` is False when another writer changed the item first (its version moved on): nothing was written
    and ``item`` is the current row, so the caller can show it and let the user decide.
    """

    ok: bool
    item: dict[str, Any]

    @property
    def conflict(self) -> bool:
        return not self.ok

    @property
    def version(self) -> int:
        return int(self.item["version"])


# --- small helpers --------------------------------------------------------------------------------------


def _dialect_insert(conn: Connection, table: Table):
    """The dialect's INSERT construct, which (unlike the generic one) supports ON CONFLICT."""
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite_insert(table)
    if name == "postgresql":
        return pg_insert(table)
    raise StoreError(f"unsupported database dialect {name!r}: use SQLite or PostgreSQL")


def _as_records(rows: Rows) -> list[dict[str, Any]]:
    if isinstance(rows, pd.DataFrame):
        return [{k: (None if _is_missing(v) else v) for k, v in r.items()} for r in rows.to_dict("records")]
    return [dict(r) for r in rows]


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _aware(ts: dt.datetime) -> dt.datetime:
    """Aware UTC datetime; naive values are taken to be UTC already (the database convention)."""
    if not isinstance(ts, dt.datetime):
        raise InvalidRowsError(f"expected a datetime, got {ts!r}")
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _chunks(seq: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


# --- reference data: units, KPIs, campaigns, meta ------------------------------------------------------


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
        stmt = _dialect_insert(conn, table)
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


def set_unit_office_hours(conn: Connection, unit_id: str, office_hours: str | None, timezone: str | None) -> bool:
    """Store a unit's office hours and time zone as given (None: not stated, read from the data). The caller
    validates them (``dashboard.services.units.set_office_hours``). Returns whether the unit exists."""
    done = conn.execute(update(units).where(units.c.id == unit_id)
                        .values(office_hours=office_hours, timezone=timezone))
    return done.rowcount == 1


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


def set_meta(conn: Connection, key: str, value: str) -> None:
    """Set an ``app_meta`` key (e.g. ``dataset`` = ``demo`` marks who owns the data)."""
    _upsert(conn, app_meta, [{"key": key, "value": str(value)}], ("key",))


def get_meta(conn: Connection, key: str, default: str | None = None) -> str | None:
    value = conn.execute(select(app_meta.c.value).where(app_meta.c.key == key)).scalar_one_or_none()
    return default if value is None else value


def delete_meta(conn: Connection, key: str) -> None:
    conn.execute(delete(app_meta).where(app_meta.c.key == key))


# --- timestamps as int64 microseconds ------------------------------------------------------------------


def _utc_us(values: Any) -> np.ndarray:
    """Any timestamps (aware, naive = UTC, strings, datetime64) as int64 µs since the epoch; NAT if missing."""
    ts = pd.to_datetime(pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values, utc=True)
    return ts.dt.tz_localize(None).to_numpy(dtype="datetime64[us]").view(np.int64).copy()


MIN_TEXT_US = -30_610_224_000 * US_PER_SECOND  # 1000-01-01: ISO text is exactly 26 characters from here
MAX_TEXT_US = 253_402_300_799 * US_PER_SECOND  # ... to 9999-12-31 23:59:59


def _digits(buf: np.ndarray, at: int, values: np.ndarray, width: int) -> None:
    """Write ``values`` as zero-padded decimal digits into rows at..at+width of a code-point matrix."""
    values = values.astype(np.uint32)  # every field is small and non-negative: 32-bit division is cheaper
    for k in range(width):
        quotient = values // 10
        buf[at + width - 1 - k] = values - quotient * 10 + 48
        values = quotient


def _iso_text(us: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS.ffffff' as a fixed-width unicode array, by integer arithmetic on whole columns.

    The characters are built as a (26, n) matrix of code points and viewed as '<U26' (no per-value
    formatting); about three times faster than ``np.datetime_as_string`` at millions of timestamps.
    """
    days = us // DAY_US
    rest = us - days * DAY_US
    dates = days.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    buf = np.empty((26, len(us)), dtype=np.uint32)
    _digits(buf, 0, dates.astype("datetime64[Y]").astype(np.int64) + 1970, 4)
    _digits(buf, 5, months.astype(np.int64) % 12 + 1, 2)
    _digits(buf, 8, (dates - months).astype(np.int64) + 1, 2)
    _digits(buf, 11, rest // US_PER_HOUR, 2)
    _digits(buf, 14, rest // (60 * US_PER_SECOND) % 60, 2)
    _digits(buf, 17, rest // US_PER_SECOND % 60, 2)
    _digits(buf, 20, rest % US_PER_SECOND, 6)
    for row, char in ((4, "-"), (7, "-"), (10, " "), (13, ":"), (16, ":"), (19, ".")):
        buf[row] = ord(char)
    return np.ascontiguousarray(buf.T).view("<U26").ravel()


def _sqlite_timestamp_text(us: np.ndarray, null: Any = None) -> np.ndarray:
    """SQLAlchemy's SQLite DATETIME text ('YYYY-MM-DD HH:MM:SS.ffffff') for µs values; ``null`` where missing.

    The same text is what SQLAlchemy's ``DateTime`` writes on SQLite, so rows written here compare and
    parse exactly like rows written through SQLAlchemy; PostgreSQL parses it into TIMESTAMP.
    """
    present = us != NAT
    out = np.empty(len(us), dtype=object)
    out[~present] = null
    values = us[present]
    if len(values) == 0:
        return out
    if values.min() < MIN_TEXT_US or values.max() > MAX_TEXT_US:
        raise InvalidRowsError("timestamps must fall between the years 1000 and 9999")
    out[present] = _iso_text(values)
    return out


def _datetimes(us: np.ndarray) -> list[dt.datetime | None]:
    """µs values as aware UTC datetimes (for the few statements that go through SQLAlchemy types)."""
    return [None if v == NAT else dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=int(v)) for v in us]


def _object_column(values: Any) -> np.ndarray:
    """Strings (or None) as an object array, with every kind of missing value turned into None."""
    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    return s.astype(object).to_numpy(dtype=object, na_value=None)


# --- work items: normalisation and validation ----------------------------------------------------------


@dataclass
class _ItemFrame:
    """Validated work items as column arrays: text as object, times as µs int64, numbers as float."""

    cols: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.cols["id"])

    def take(self, idx: np.ndarray | slice) -> _ItemFrame:
        return _ItemFrame({k: v[idx] for k, v in self.cols.items()})


def _item_frame(items: Rows) -> _ItemFrame:
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
        cols[c] = _object_column(df[c]) if c in df.columns else np.full(n, None, dtype=object)
    for c in ITEM_TIMES:
        cols[c] = _utc_us(df[c]) if c in df.columns else np.full(n, NAT, dtype=np.int64)
    for c in ITEM_FLOATS:
        cols[c] = pd.to_numeric(df[c]).to_numpy(dtype=float) if c in df.columns else np.full(n, np.nan)
    frame = _ItemFrame(cols)
    _validate_items(frame)
    due_missing = cols["due_at"] == NAT  # kept as a column so breach checks need no arithmetic in SQL
    sla_us = np.round(cols["sla_hours"][due_missing] * US_PER_HOUR).astype(np.int64)
    cols["due_at"][due_missing] = cols["created_at"][due_missing] + sla_us
    return frame


def _bad(frame: _ItemFrame, mask: np.ndarray, problem: str) -> None:
    if mask.any():
        ids = frame.cols["id"][mask][:5].tolist()
        more = f" and {int(mask.sum()) - 5} more" if mask.sum() > 5 else ""
        raise InvalidRowsError(f"work_items: {problem}: {', '.join(map(str, ids))}{more}")


def _outside(values: np.ndarray, allowed: Iterable[str]) -> np.ndarray:
    """Mask of values not in ``allowed``; checks the few distinct values, not every row."""
    bad = set(pd.unique(values)) - {str(a) for a in allowed}
    return np.isin(values, list(bad)) if bad else np.zeros(len(values), dtype=bool)


def _validate_items(frame: _ItemFrame) -> None:
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


def _check_units_exist(conn: Connection, frame: _ItemFrame) -> None:
    """A clear message instead of a foreign-key error when an item names a unit that does not exist."""
    used = set(pd.unique(np.concatenate([frame.cols["source_unit"], frame.cols["target_unit"]])))
    known = set(conn.execute(select(units.c.id)).scalars())
    unknown = used - known
    if unknown:
        raise InvalidRowsError(f"work_items: unknown unit(s) {', '.join(sorted(map(str, unknown)))}; add them first")


def _existing_ids(conn: Connection, ids: np.ndarray) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(ids.tolist(), IN_CHUNK):
        found.update(conn.execute(select(work_items.c.id).where(work_items.c.id.in_(chunk))).scalars())
    return found


# --- rollup deltas (vectorised) ------------------------------------------------------------------------


def _creation_deltas(frame: _ItemFrame) -> pd.DataFrame:
    c = frame.cols
    df = pd.DataFrame({
        "hour": c["created_at"] // US_PER_HOUR,
        "source_unit": c["source_unit"], "target_unit": c["target_unit"], "kind": c["kind"],
        "created_value": np.nan_to_num(c["value"], nan=0.0),
    })
    g = df.groupby(list(FLOW_KEY), sort=False)
    return g.agg(created=("created_value", "size"), created_value=("created_value", "sum"))


def _resolution_deltas(frame: _ItemFrame) -> pd.DataFrame:
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


def _flow_deltas(frame: _ItemFrame) -> pd.DataFrame:
    """All flow_hourly columns for new items: one row per touched key, zeros where nothing happened."""
    out = _creation_deltas(frame)
    if (frame.cols["resolved_at"] != NAT).any():  # items that arrive already resolved
        out = out.join(_resolution_deltas(frame), how="outer")
    out = out.reindex(columns=list(FLOW_SUMS)).fillna(0).reset_index()
    ints = [c for c in FLOW_SUMS if c not in ("created_value", "cycle_sum_h")]
    out[ints] = out[ints].astype(np.int64)
    return out


SetClause = Callable[[Any], dict[str, Any]]  # excluded -> {column: new value expression}


def _upsert_many(conn: Connection, table: Table, key: Sequence[str], columns: Sequence[str],
                 rows: Sequence[tuple], set_clause: SetClause) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE for many rows, bypassing SQLAlchemy's per-row processing.

    Rows are tuples in ``columns`` order, already in driver form (timestamps as text, see
    _sqlite_timestamp_text). SQLite gets one compiled statement and ``executemany``; PostgreSQL gets a COPY
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
    stmt = _dialect_insert(conn, table)
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
    _copy_rows(conn, stage, columns, rows)
    stmt = pg_insert(table).from_select(list(columns), select(*[stage.c[c] for c in columns]))
    conn.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=set_clause(stmt.excluded)))


def _upsert_flow_rows(conn: Connection, rows: Sequence[tuple], cleanup: bool = False) -> None:
    """Add delta rows (FLOW_KEY + FLOW_SUMS order) into flow_hourly with one upsert statement.

    ``cleanup`` then drops rows the change left all zero (after a subtraction), so the table stays equal to
    a rebuild, which has no such rows.
    """
    if not rows:
        return
    rows = sorted(rows, key=lambda r: r[:len(FLOW_KEY)])  # one lock order for every writer (no deadlock cycle)
    _upsert_many(conn, flow_hourly, FLOW_KEY, (*FLOW_KEY, *FLOW_SUMS), rows,
                 lambda excluded: {c: flow_hourly.c[c] + excluded[c] for c in FLOW_SUMS})
    if cleanup:
        fh = flow_hourly.c
        for hour, source, target, kind, *_ in rows:
            conn.execute(delete(flow_hourly).where(
                fh.hour == hour, fh.source_unit == source, fh.target_unit == target, fh.kind == kind,
                fh.created == 0, fh.resolved == 0,
            ))


def _apply_flow_deltas(conn: Connection, deltas: pd.DataFrame) -> None:
    """Upsert a frame of deltas (see _flow_deltas); ``tolist`` hands the driver plain Python numbers."""
    columns = (*FLOW_KEY, *FLOW_SUMS)
    _upsert_flow_rows(conn, list(zip(*[deltas[c].to_numpy().tolist() for c in columns])))


# --- driver-level bulk writes --------------------------------------------------------------------------


def _null(dialect: str) -> Any:
    """What a missing value is sent as. SQLite stores a bound NaN as NULL, and binding a float is several
    times cheaper in Python's sqlite3 than binding None (which goes through the adapter protocol); COPY
    into PostgreSQL needs a real None."""
    return float("nan") if dialect == "sqlite" else None


def _with_null(values: np.ndarray, null: Any) -> np.ndarray:
    """A column with every missing entry (None in text columns, NaN in numbers) replaced by ``null``."""
    missing = np.isnan(values) if values.dtype.kind == "f" else np.equal(values, None)
    if not missing.any():
        return values
    out = values.astype(object, copy=True)
    out[missing] = null
    return out


def _driver_rows(cols: Sequence[np.ndarray]) -> Iterable[tuple]:
    """Row tuples streamed from column lists (``tolist`` converts numpy scalars to Python in C)."""
    return zip(*[c.tolist() for c in cols])


@contextmanager
def _bulk_cache(conn: Connection, rows: int) -> Iterator[None]:
    """On SQLite, a large page cache while a big batch is written, then the connection's old setting.

    Every work item updates six indexes; with SQLite's default 2 MB cache a million-row load spends most of
    its time re-reading index pages. The setting is per connection, so it is put back for the pool.
    """
    if conn.dialect.name != "sqlite" or rows < BULK_CACHE_ROWS:
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = {BULK_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


BULK_INDEX_ROWS = 50_000  # from this many rows, a load into an EMPTY table builds its indexes afterwards


@contextmanager
def deferred_indexes(conn: Connection, table: Table, rows: int) -> Iterator[bool]:
    """Load ``rows`` into ``table`` with its secondary indexes (and, on PostgreSQL, its foreign keys) built
    once at the end instead of row by row; yields whether it did.

    Only for a big load into an empty table (a demo or a first import): building an index over sorted
    data once is several times cheaper than maintaining it per row, and re-adding a foreign key checks all
    rows in one join instead of one trigger query per row. Everything happens in the caller's transaction,
    so a failed load leaves the indexes as they were. On PostgreSQL, readers of the table wait for the
    load to commit (DROP INDEX takes an exclusive lock) instead of seeing the emptied table. Primary keys
    and unique constraints stay: the load still refuses duplicates.
    """
    if rows < BULK_INDEX_ROWS or conn.execute(select(literal(1)).select_from(table).limit(1)).first():
        yield False
        return
    if conn.dialect.name == "sqlite" and not conn.connection.driver_connection.in_transaction:
        # Python's sqlite3 opens its transaction at the first INSERT/UPDATE/DELETE: a DROP INDEX before that
        # would commit on its own and survive a rollback. Callers write something first (the demo empties the
        # tables); otherwise the indexes are simply maintained row by row.
        yield False
        return
    from sqlalchemy.schema import AddConstraint, DropConstraint

    indexes = sorted(table.indexes, key=lambda ix: ix.name)
    fks = sorted(table.foreign_key_constraints, key=lambda fk: fk.name) if conn.dialect.name == "postgresql" else []
    for fk in fks:
        conn.execute(DropConstraint(fk))
    for ix in indexes:
        ix.drop(conn)
    yield True
    for ix in indexes:
        ix.create(conn)
    for fk in fks:
        conn.execute(AddConstraint(fk))


def _copy_rows(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """PostgreSQL COPY on the connection's own transaction (far faster than INSERT for bulk loads)."""
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except conn.dialect.dbapi.Error as exc:  # the same exception types as statements through SQLAlchemy
        raise DBAPIError.instance(sql, None, exc, conn.dialect.dbapi.Error) from exc


def _copy_columns(conn: Connection, table: Table, columns: Sequence[str], cols: Sequence[np.ndarray]) -> None:
    """PostgreSQL COPY of column arrays (driver form: text timestamps, None for missing) as CSV written by
    Arrow in C: formatting rows one by one in Python costs as much as the server's whole load. Arrow
    quotes every string and leaves nulls unquoted-empty, which is exactly how COPY's CSV format tells an
    empty string ("") from NULL."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    data = pa.table({name: pa.array(values, from_pandas=True) for name, values in zip(columns, cols)})
    buffer = pa.BufferOutputStream()
    pa_csv.write_csv(data, buffer, pa_csv.WriteOptions(include_header=False, batch_size=65_536))
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN WITH (FORMAT csv)"
    raw = conn.connection.driver_connection
    payload = memoryview(buffer.getvalue())
    try:
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for start in range(0, len(payload), 1 << 20):
                copy.write(payload[start:start + (1 << 20)])
    except conn.dialect.dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, conn.dialect.dbapi.Error) from exc


def _bulk_write(conn: Connection, table: Table, columns: Sequence[str], cols: Sequence[np.ndarray]) -> None:
    """Rows given as column arrays (already in driver form) in one executemany / COPY."""
    if conn.dialect.name == "postgresql":
        _copy_columns(conn, table, columns, cols)
        return
    rows = _driver_rows(cols)
    sql = str(table.insert().compile(dialect=conn.dialect, column_keys=list(columns)))
    conn.exec_driver_sql(sql, list(rows))


def _item_driver_columns(dialect: str, frame: _ItemFrame) -> list[np.ndarray]:
    """Columns in ITEM_COLUMNS order: timestamps as SQLAlchemy's text, missing values as the driver's null."""
    c, null = frame.cols, _null(dialect)
    values: list[np.ndarray] = []
    for name in ITEM_COLUMNS:
        if name == "version":
            values.append(np.ones(len(frame), dtype=np.int64))
        elif name in ITEM_TIMES:
            values.append(_sqlite_timestamp_text(c[name], null))
        elif name in ITEM_FLOATS:
            values.append(c[name] if null is not None else _with_null(c[name], None))
        elif name in ITEM_REQUIRED:  # validated: never missing
            values.append(c[name])
        else:
            values.append(_with_null(c[name], null))
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
    frame = _item_frame(items)
    if len(frame) == 0:
        return 0
    if check_units:
        _check_units_exist(conn, frame)
    if on_duplicate == "skip":
        existing = _existing_ids(conn, frame.cols["id"])
        if existing:
            frame = frame.take(~np.isin(frame.cols["id"], list(existing)))
    elif on_duplicate != "error":
        raise ValueError("on_duplicate must be 'error' or 'skip'")
    with _bulk_cache(conn, len(frame)), deferred_indexes(conn, work_items, len(frame)):
        for start in range(0, len(frame), batch_size):
            batch = frame.take(slice(start, start + batch_size))
            _bulk_write(conn, work_items, ITEM_COLUMNS, _item_driver_columns(conn.dialect.name, batch))
            _apply_flow_deltas(conn, _flow_deltas(batch))
    return len(frame)


# --- customer journeys ---------------------------------------------------------------------------------


def insert_journeys(conn: Connection, rows: Rows, *, batch_size: int = 200_000) -> int:
    """Add customer journeys (id, started_at, converted_at, revenue) in bulk; returns how many. Their items
    name them in ``work_items.journey_id`` (no rollup depends on journeys)."""
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if df.empty:
        return 0
    missing = [c for c in ("id", "started_at") if c not in df.columns]
    if missing:
        raise InvalidRowsError(f"journeys: missing column(s) {', '.join(missing)}")
    null = _null(conn.dialect.name)
    ids = _object_column(df["id"])
    if pd.isna(pd.Series(ids, dtype=object)).any() or pd.Series(ids, dtype=object).duplicated().any():
        raise InvalidRowsError("journeys: every journey needs a unique id")
    started = _utc_us(df["started_at"])
    if (started == NAT).any():
        raise InvalidRowsError("journeys: started_at is missing in some rows")
    converted = _utc_us(df["converted_at"]) if "converted_at" in df.columns else np.full(len(df), NAT, dtype=np.int64)
    revenue = (pd.to_numeric(df["revenue"]).fillna(0.0).to_numpy(dtype=float) if "revenue" in df.columns
               else np.zeros(len(df)))
    from dashboard.db import journeys

    columns = ("id", "started_at", "converted_at", "revenue")
    for start in range(0, len(df), batch_size):
        part = slice(start, start + batch_size)
        _bulk_write(conn, journeys, columns, [ids[part], _sqlite_timestamp_text(started[part], null),
                                              _sqlite_timestamp_text(converted[part], null), revenue[part]])
    return len(df)


# --- re-routing (the routing rules move waiting items to a spoke) ---------------------------------------

REROUTE_COLUMNS = ("target_unit", "priority", "rule_id", "sla_hours", "due_at", "status", "routed_at")


def reroute_work_items(conn: Connection, changes: Rows, *, by: str, at: dt.datetime) -> int:
    """Give stored items a new target (and priority, rule, SLA, due time, status, routed time); returns how many
    were changed. Their ``flow_hourly`` contributions move with them in the caller's transaction: what each
    item added under its old route (created, value and, if resolved, its resolution) is taken out and added
    under the new one, so the rollups stay equal to :func:`rebuild_rollups`.

    ``changes`` holds ``id``, ``version`` (the version the caller read: an item changed since then is left
    alone and not counted, as in :func:`transition_item`) and ``target_unit``; the other columns of
    :data:`REROUTE_COLUMNS` are optional (not given = kept). ``due_at`` follows a changed ``sla_hours`` unless
    given. On PostgreSQL the rows are locked in id order first (several writers lock in the same order); on
    SQLite the file's write lock is taken before they are read.
    """
    df = changes if isinstance(changes, pd.DataFrame) else pd.DataFrame(list(changes))
    if df.empty:
        return 0
    missing = [c for c in ("id", "version", "target_unit") if c not in df.columns]
    if missing:
        raise InvalidRowsError(f"reroute: missing column(s) {', '.join(missing)}")
    unknown = set(df.columns) - {"id", "version", *REROUTE_COLUMNS}
    if unknown:
        raise InvalidRowsError(f"reroute: unknown column(s) {', '.join(sorted(unknown))}")
    if df["id"].duplicated().any():
        raise InvalidRowsError("reroute: an id is repeated")
    at = _aware(at)
    ids = sorted(df["id"].astype(str).tolist())
    stmt = (select(*[work_items.c[c] for c in ITEM_COLUMNS if c != "version"], work_items.c.version)
            .where(where_key_in(conn, work_items.c.id, ids)).order_by(work_items.c.id))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    else:
        _hold_write_lock(conn)
    stored = pd.DataFrame(conn.execute(stmt).mappings().all())
    if stored.empty:
        return 0
    wanted = df.set_index(df["id"].astype(str))
    stored = stored[stored["version"].to_numpy() == wanted.loc[stored["id"], "version"].to_numpy()]
    if stored.empty:
        return 0
    stored = stored.reset_index(drop=True)
    new_rows = stored.drop(columns=["version", "note"]).copy()
    given = wanted.loc[new_rows["id"]]
    for c in REROUTE_COLUMNS:
        if c in given.columns:
            new_rows[c] = given[c].to_numpy()
    if "sla_hours" in given.columns and "due_at" not in given.columns:
        new_rows["due_at"] = None  # recomputed from created_at + sla_hours by _item_frame
    new_rows["updated_by"], new_rows["updated_at"] = by, at
    old = _item_frame(stored.drop(columns=["version", "note"]))
    new = _item_frame(new_rows)
    _check_units_exist(conn, new)
    bad = [f"{i}: {a} -> {b}" for i, a, b in zip(new.cols["id"], old.cols["status"], new.cols["status"])
           if a != b and Status(b) not in ALLOWED_TRANSITIONS[Status(a)]]
    if bad:
        raise InvalidTransitionError(f"work_items: status change not allowed: {', '.join(bad[:5])}")
    _reroute_update(conn, new, stored["version"].to_numpy())
    _upsert_flow_rows(conn, list(_net_flow_deltas(new, old).itertuples(index=False, name=None)), cleanup=True)
    return len(new)


def _hold_write_lock(conn: Connection) -> None:
    """SQLite: take the file's write lock before reading (a statement that writes nothing), so no other writer
    can change the rows between this transaction's read and its update; PostgreSQL locks the rows read instead."""
    conn.execute(update(work_items).where(false()).values(version=work_items.c.version))


def _reroute_update(conn: Connection, frame: _ItemFrame, versions: np.ndarray) -> None:
    from sqlalchemy import bindparam

    c = frame.cols
    names = (*REROUTE_COLUMNS, "updated_by", "updated_at")
    values = {n: (_datetimes(c[n]) if n in ITEM_TIMES else
                  [None if np.isnan(v) else float(v) for v in c[n]] if n in ITEM_FLOATS else c[n].tolist())
              for n in names}
    stmt = (update(work_items)
            .where(work_items.c.id == bindparam("b_id"), work_items.c.version == bindparam("b_version"))
            .values(**{n: bindparam(f"b_{n}") for n in names}, version=work_items.c.version + 1))
    params = [{"b_id": item_id, "b_version": int(versions[i]), **{f"b_{n}": values[n][i] for n in names}}
              for i, item_id in enumerate(c["id"])]
    result = conn.execute(stmt, params)
    if result.rowcount not in (-1, len(params)):  # rows were locked (PostgreSQL) or the write lock held (SQLite)
        raise StoreError(f"work_items: {len(params) - result.rowcount} item(s) changed while being re-routed")


# --- transitions ---------------------------------------------------------------------------------------


def _fetch_item(conn: Connection, item_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    stmt = select(work_items).where(work_items.c.id == item_id)
    if lock:  # PostgreSQL: a concurrent writer waits, then sees the new version (SQLite serialises writes)
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row is not None else None


def _transition_fields(new: Status, at: dt.datetime, row: Mapping[str, Any]) -> dict[str, Any]:
    """Timestamps implied by moving to ``new`` at ``at``."""
    if new is Status.ROUTED:
        return {"routed_at": at, "accepted_at": None, "resolved_at": None}
    if new is Status.ACCEPTED:
        return {"routed_at": row["routed_at"] or at, "accepted_at": at, "resolved_at": None}
    if new is Status.RESOLVED:
        return {"resolved_at": at}
    if new is Status.HANDED_BACK:
        return {"accepted_at": None, "resolved_at": None}
    raise InvalidTransitionError(f"nothing moves back to {new.value!r}")


def _us_since_epoch(ts: dt.datetime) -> int:
    return (_aware(ts) - EPOCH) // dt.timedelta(microseconds=1)


def _resolution_delta(row: Mapping[str, Any], sign: int) -> tuple:
    """One item's resolution as a flow_hourly delta row (plain Python: a transition touches one item, and
    building DataFrames for it would cost more than the database round trips)."""
    created, resolved, due = (_us_since_epoch(row[c]) for c in ("created_at", "resolved_at", "due_at"))
    cycle_h = (resolved - created) / US_PER_HOUR
    bins = [0] * N_CYCLE_BINS
    bins[bisect.bisect_right(CYCLE_BIN_EDGES_H, cycle_h)] = sign  # same rule as cycle_bin_index
    return (resolved // US_PER_HOUR, row["source_unit"], row["target_unit"], row["kind"],
            0, 0.0, sign, sign * int(resolved <= due), sign * cycle_h, *bins)


def _apply_resolution(conn: Connection, row: Mapping[str, Any], sign: int) -> None:
    _upsert_flow_rows(conn, [_resolution_delta(row, sign)], cleanup=sign < 0)


def transition_item(
    conn: Connection,
    item_id: str,
    *,
    expected_version: int,
    status: str | Status,
    at: dt.datetime,
    by: str,
    note: str | None = None,
) -> TransitionResult:
    """Move one item to ``status`` at time ``at`` if nobody changed it since ``expected_version``.

    Optimistic concurrency: the UPDATE only matches ``id = :id AND version = :expected_version`` and bumps
    the version, so of two editors holding the same version exactly one wins; the other gets
    ``ok=False`` with the current row and nothing written. Resolving adds the item's resolution to
    ``flow_hourly`` (hour of ``at``); reopening a resolved item subtracts the earlier resolution.
    Raises :class:`UnknownItemError` for an unknown id and :class:`InvalidTransitionError` for a move the
    workflow does not allow (see ``ALLOWED_TRANSITIONS``) or an ``at`` before the item was created.
    """
    try:
        new = Status(status)
    except ValueError:
        raise InvalidTransitionError(f"unknown status {status!r}; use one of {', '.join(Status)}") from None
    at = _aware(at)
    row = _fetch_item(conn, item_id, lock=True)
    if row is None:
        raise UnknownItemError(f"no work item with id {item_id!r}")
    if row["version"] != expected_version:
        return TransitionResult(ok=False, item=row)
    old = Status(row["status"])
    if new not in ALLOWED_TRANSITIONS[old]:
        raise InvalidTransitionError(f"work item {item_id}: cannot go from {old.value} to {new.value}")
    if at < row["created_at"]:
        raise InvalidTransitionError(f"work item {item_id}: {at.isoformat()} is before it was created")
    changes = _transition_fields(new, at, row) | {
        "status": new.value, "version": expected_version + 1, "updated_by": by, "updated_at": at,
    }
    if note is not None:
        changes["note"] = note
    result = conn.execute(
        update(work_items)
        .where(work_items.c.id == item_id, work_items.c.version == expected_version)
        .values(**changes)
    )
    if result.rowcount != 1:  # lost a race between the read and the write
        return TransitionResult(ok=False, item=_fetch_item(conn, item_id) or row)
    if old is Status.RESOLVED:
        _apply_resolution(conn, row, -1)
    after = row | changes
    if new is Status.RESOLVED:
        _apply_resolution(conn, after, +1)
    return TransitionResult(ok=True, item=after)


# --- KPI observations ----------------------------------------------------------------------------------


def _observation_frame(rows: Rows) -> pd.DataFrame:
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    missing = [c for c in ("kpi_id", "ts", "value") if c not in df.columns]
    if missing:
        raise InvalidRowsError(f"kpi_observations: missing column(s) {', '.join(missing)}")
    out = pd.DataFrame({
        "kpi_id": _object_column(df["kpi_id"]),
        "ts": _utc_us(df["ts"]),
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
        lo, hi = _datetimes(np.array([g.ts.min(), g.ts.max()], dtype=np.int64))
        stored = conn.execute(select(ko.ts).where(ko.kpi_id == kpi_id, ko.ts >= lo, ko.ts <= hi)).scalars().all()
        if stored:
            found.update((kpi_id, int(v)) for v in _utc_us(pd.Series(stored)))
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
    last_ts = _sqlite_timestamp_text(deltas.last_us.to_numpy())
    rows = list(zip(deltas.kpi_id.tolist(), deltas.hour.tolist(), deltas.n.tolist(), deltas["sum"].tolist(),
                    last_ts.tolist(), deltas.last_value.tolist()))
    rows.sort(key=lambda r: r[:2])  # one lock order for every writer
    _upsert_many(conn, kpi_hourly, KPI_KEY, ("kpi_id", "hour", "n", "sum", "last_ts", "last_value"), rows,
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
    with _bulk_cache(conn, len(obs)), deferred_indexes(conn, kpi_observations, len(obs)):
        for start in range(0, len(obs), batch_size):
            batch = obs.iloc[start:start + batch_size]
            _bulk_write(conn, kpi_observations, ("kpi_id", "ts", "value"), [
                batch.kpi_id.to_numpy(dtype=object), _sqlite_timestamp_text(batch.ts.to_numpy()),
                batch.value.to_numpy(),
            ])
            _apply_kpi_deltas(conn, _kpi_deltas(batch))
    return len(obs)


# --- rebuild (the oracle) ------------------------------------------------------------------------------


def _epoch_us(conn: Connection, column):
    """SQL for a stored timestamp as integer µs since the epoch, exact on both engines."""
    if conn.dialect.name == "sqlite":
        # stored text 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds from the first 19 characters, microseconds
        # from the text. (strftime on the full text would round to milliseconds: .9995 s -> the next second.)
        seconds = cast(func.strftime("%s", func.substr(column, 1, 19)), BigInteger)
        return seconds * US_PER_SECOND + cast(func.substr(column, 21, 6), BigInteger)
    return cast(extract("epoch", column) * US_PER_SECOND, BigInteger)


def _rebuild_flow_hourly(conn: Connection) -> None:
    """flow_hourly from work_items in one INSERT ... SELECT: creations and resolutions grouped separately."""
    wi = work_items.c
    route = (wi.source_unit, wi.target_unit, wi.kind)
    created_hour = (_epoch_us(conn, wi.created_at) // US_PER_HOUR).label("hour")
    created = select(
        created_hour, *route, func.count().label("created"),
        func.sum(func.coalesce(wi.value, 0.0)).label("created_value"),
        *[literal(0).label(c) for c in ("resolved", "resolved_in_sla")], literal(0.0).label("cycle_sum_h"),
        *[literal(0).label(c) for c in CYCLE_BIN_COLUMNS],
    ).group_by(created_hour, *route)

    # Materialised so the per-row expressions (epoch µs, histogram bin) are computed once, not per reference.
    resolved_rows = select(
        (_epoch_us(conn, wi.resolved_at) // US_PER_HOUR).label("hour"), *route,
        case((wi.resolved_at <= wi.due_at, 1), else_=0).label("in_sla"),
        (_epoch_us(conn, wi.resolved_at) - _epoch_us(conn, wi.created_at)).label("cycle_us"),
    ).where(wi.resolved_at.is_not(None)).cte("resolved_rows").prefix_with("MATERIALIZED")
    r = resolved_rows.c
    # bin = number of edges <= cycle time; edges are whole microseconds, so integer comparison is exact
    edges_us = [int(round(e * US_PER_HOUR)) for e in CYCLE_BIN_EDGES_H]
    binned = select(
        r.hour, r.source_unit, r.target_unit, r.kind, r.in_sla, r.cycle_us,
        sum((case((r.cycle_us >= e, 1), else_=0) for e in edges_us), literal(0)).label("bin"),
    ).cte("binned_rows").prefix_with("MATERIALIZED")
    b = binned.c
    resolved = select(
        b.hour, b.source_unit, b.target_unit, b.kind, literal(0).label("created"), literal(0.0).label("created_value"),
        func.count().label("resolved"), func.sum(b.in_sla).label("resolved_in_sla"),
        func.sum(b.cycle_us / literal(float(US_PER_HOUR))).label("cycle_sum_h"),
        *[func.sum(case((b.bin == i, 1), else_=0)).label(name) for i, name in enumerate(CYCLE_BIN_COLUMNS)],
    ).group_by(b.hour, b.source_unit, b.target_unit, b.kind)

    both = created.union_all(resolved).subquery("events")
    e = both.c
    total = select(
        e.hour, e.source_unit, e.target_unit, e.kind, *[func.sum(e[c]).label(c) for c in FLOW_SUMS],
    ).group_by(e.hour, e.source_unit, e.target_unit, e.kind)
    conn.execute(flow_hourly.insert().from_select([*FLOW_KEY, *FLOW_SUMS], total))


def _rebuild_kpi_hourly(conn: Connection) -> None:
    """kpi_hourly from kpi_observations; the last value is joined back on the unique (kpi_id, ts)."""
    ko = kpi_observations.c
    hour = (_epoch_us(conn, ko.ts) // US_PER_HOUR).label("hour")
    grouped = select(
        ko.kpi_id, hour, func.count().label("n"), func.sum(ko.value).label("sum"), func.max(ko.ts).label("last_ts"),
    ).group_by(ko.kpi_id, hour).subquery("g")
    g = grouped.c
    last = kpi_observations.alias("latest")
    rows = select(g.kpi_id, g.hour, g.n, g.sum, g.last_ts, last.c.value).select_from(
        grouped.join(last, and_(last.c.kpi_id == g.kpi_id, last.c.ts == g.last_ts))
    )
    conn.execute(kpi_hourly.insert().from_select(["kpi_id", "hour", "n", "sum", "last_ts", "last_value"], rows))


def rebuild_rollups(conn: Connection) -> dict[str, int]:
    """Recompute flow_hourly and kpi_hourly from the base tables; returns the row counts written.

    Used after bulk imports that bypass the incremental path, to repair drift, and as the tests' oracle.
    The work happens in the database (two INSERT ... SELECT ... GROUP BY statements), so millions of rows
    never travel to Python; it runs in the caller's transaction, so readers see old or new, never half.
    """
    conn.execute(delete(flow_hourly))
    conn.execute(delete(kpi_hourly))
    _rebuild_flow_hourly(conn)
    _rebuild_kpi_hourly(conn)
    return {
        "flow_hourly": conn.execute(select(func.count()).select_from(flow_hourly)).scalar_one(),
        "kpi_hourly": conn.execute(select(func.count()).select_from(kpi_hourly)).scalar_one(),
    }


# --- idempotent upserts (file imports) -----------------------------------------------------------------


@dataclass
class UpsertCounts:
    """What an upsert did with the rows it was given."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def where_key_in(conn: Connection, column, values: list[Any]):
    """``column IN (values)`` as one bound parameter, however many values: a JSON array unpacked by
    SQLite's json_each, an array compared with ANY on PostgreSQL (no statement per 500 values)."""
    if conn.dialect.name == "sqlite":
        import json

        inner = select(sa_column("value")).select_from(func.json_each(literal(json.dumps(values))))
        return column.in_(inner)
    from sqlalchemy import ARRAY, String, any_

    return column == any_(literal(values, type_=ARRAY(String)))


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise equality where two missing values (None / NaN / NaT) count as equal."""
    if a.dtype.kind == "f":
        return (a == b) | (np.isnan(a) & np.isnan(b))
    if a.dtype.kind == "i":
        return a == b
    return np.asarray(pd.Series(a, dtype=object).eq(pd.Series(b, dtype=object))
                      | (pd.isna(pd.Series(a, dtype=object)) & pd.isna(pd.Series(b, dtype=object))), dtype=bool)


def _net_flow_deltas(new: _ItemFrame, old: _ItemFrame) -> pd.DataFrame:
    """flow_hourly deltas that turn the old versions of some items into their new versions."""
    plus, minus = _flow_deltas(new), _flow_deltas(old)
    minus[list(FLOW_SUMS)] = -minus[list(FLOW_SUMS)]
    net = pd.concat([plus, minus]).groupby(list(FLOW_KEY), sort=False)[list(FLOW_SUMS)].sum().reset_index()
    return net[(net[list(FLOW_SUMS)] != 0).any(axis=1)]


@dataclass
class PreparedItems:
    """Work items converted, validated and turned into driver rows and rollup deltas without a connection,
    so a loader can prepare the next batch in another thread while this one is written."""

    frame: _ItemFrame
    given: list[str]  # the columns the caller supplied (only these are compared and written on update)
    dialect: str
    driver: list[np.ndarray]  # ITEM_COLUMNS in driver form, every row
    deltas: pd.DataFrame  # flow_hourly contributions if every row is new

    def __len__(self) -> int:
        return len(self.frame)

    def take(self, mask: np.ndarray) -> PreparedItems:
        frame = self.frame.take(mask)
        return PreparedItems(frame, self.given, self.dialect, [c[mask] for c in self.driver], _flow_deltas(frame))


def prepare_work_items(items: Rows, *, written_by: str | None = None, at: dt.datetime | None = None,
                       dialect: str = "sqlite") -> PreparedItems:
    """The CPU part of :func:`upsert_work_items` (no database): thread-safe, one batch at a time."""
    df = items if isinstance(items, pd.DataFrame) else pd.DataFrame(list(items))
    given = [c for c in ITEM_COLUMNS if c in df.columns and c not in ("version", "updated_by", "updated_at", "note")]
    at = _aware(at or dt.datetime.now(UTC))
    frame = _item_frame(df[given].assign(updated_by=written_by, updated_at=at))
    driver = _item_driver_columns(dialect, frame)
    deltas = _flow_deltas(frame) if len(frame) else pd.DataFrame(columns=[*FLOW_KEY, *FLOW_SUMS])
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
    _check_units_exist(conn, frame)
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
        old = _item_frame(stored.drop(columns=["note", "version"]))
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
            _update_items(conn, new.take(changed), compare, versions[changed])
            _upsert_flow_rows(conn, list(_net_flow_deltas(new.take(changed), old.take(changed))
                                         .itertuples(index=False, name=None)), cleanup=True)
            counts.updated = int(changed.sum())
    fresh = prepared if is_new.all() else prepared.take(is_new)
    counts.inserted = len(fresh)
    if len(fresh):
        with _bulk_cache(conn, len(fresh)):
            for start in range(0, len(fresh), DEFAULT_BATCH):
                _bulk_write(conn, work_items, ITEM_COLUMNS, [c[start:start + DEFAULT_BATCH] for c in fresh.driver])
            _apply_flow_deltas(conn, fresh.deltas)
    return counts


def _update_items(conn: Connection, frame: _ItemFrame, columns: Sequence[str], versions: np.ndarray) -> None:
    """Write the changed items, each only if it still has the version that was read (and compared)."""
    from sqlalchemy import bindparam

    c = frame.cols
    values = {}
    for name in (*columns, "updated_by", "updated_at"):
        if name in ITEM_TIMES:
            values[name] = _datetimes(c[name])
        elif name in ITEM_FLOATS:
            values[name] = [None if np.isnan(v) else float(v) for v in c[name]]
        else:
            values[name] = c[name].tolist()
    names = list(values)
    stmt = (update(work_items)
            .where(work_items.c.id == bindparam("b_id"), work_items.c.version == bindparam("b_version"))
            .values(**{n: bindparam(f"b_{n}") for n in names}, version=work_items.c.version + 1))
    params = [{"b_id": item_id, "b_version": int(versions[i]), **{f"b_{n}": values[n][i] for n in names}}
              for i, item_id in enumerate(c["id"])]
    result = conn.execute(stmt, params)
    if result.rowcount not in (-1, len(params)):  # cannot happen while the rows are locked: refuse, never drift
        raise StoreError(f"work_items: {len(params) - result.rowcount} item(s) changed while being imported")


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
        lo, hi = _datetimes(np.array([g.ts.min(), g.ts.max()], dtype=np.int64))
        read = select(ko.ts, ko.value).where(ko.kpi_id == kpi_id, ko.ts >= lo, ko.ts <= hi)
        if conn.dialect.name == "postgresql":
            read = read.order_by(ko.ts).with_for_update()
        found = conn.execute(read).all()
        if found:
            ts, value = zip(*found)
            stored_parts.append(pd.DataFrame({"kpi_id": kpi_id, "ts": _utc_us(pd.Series(ts)), "old": value}))
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

    when = _datetimes(changed.ts.to_numpy())
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
