"""Data health: how fresh each table is, what the file imports did, which rows sit in quarantine and why,
and a few quality checks on the loaded data.

Only viewers with ``can_see_health`` may look (admins, hub leads and executives: the permission that opens the
data health page, ``dashboard.domain.access.PAGE_PERMISSIONS``; deny by default: :func:`require_health_viewer`);
every function checks that before touching the database. Aggregation happens in SQL (Core, bound parameters only),
and whatever goes to a table on the page is bounded by a LIMIT: quarantine can hold 100,000 rows, the
browser gets a page of them. Everything here runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection, and_, false, func, or_, select

from dashboard.db import campaigns, imports, journeys, kpi_observations, kpis, quarantine, units, work_items
from dashboard.domain.access import NotPermitted, Viewer, require_viewer, who_may_open
from dashboard.domain.export import to_safe_csv
from dashboard.domain.kpi_ranges import NATURAL_RANGES, value_range
from dashboard.domain.vocabulary import Status

UTC = dt.UTC
DUE_AHEAD = dt.timedelta(days=365)  # work due later than this after now was probably typed wrong (as imports warn)

TABLES = {"work_items": work_items, "kpi_observations": kpi_observations, "kpis": kpis, "units": units,
          "campaigns": campaigns, "journeys": journeys}
# the column whose maximum is the table's newest row; tables without one are counted, not judged
NEWEST = {"work_items": work_items.c.created_at, "kpi_observations": kpi_observations.c.ts,
          "campaigns": campaigns.c.period_end, "journeys": journeys.c.started_at}
DATE_TABLES = frozenset({"campaigns"})  # newest is a date (the last period's end), counted from its midnight UTC

IMPORT_COLUMNS = ["id", "source", "file_name", "kind", "status", "started_at", "finished_at", "rows_read",
                  "inserted", "updated", "unchanged", "quarantined", "message", "imported_by"]
COUNT_COLUMNS = ["rows_read", "inserted", "updated", "unchanged", "quarantined"]
QUARANTINE_COLUMNS = ["id", "import_id", "source", "file_name", "kind", "row_number", "row_key", "reasons", "raw"]
REASON_GROUPS_CAP = 5_000  # distinct reason combinations read for the reasons table (most frequent first)
EXPORT_CAP = 200_000  # open rows of one import in one CSV

# optional columns of work_items whose missing values are counted (text columns: NULL or blank)
ITEM_OPTIONAL_TEXT = ("topic", "text")
ITEM_OPTIONAL = ("routed_at", "accepted_at", "value")
# the units of measure whose observations are range-checked, each with its natural range; a KPI is held to it
# only when its definition says so (dashboard.domain.kpi_ranges: a % KPI aiming above 100 is a ratio, not a share)
KPI_RANGES = {uom: NATURAL_RANGES[uom] for uom in ("%", "EUR", "count", "hours")}


def require_health_viewer(viewer: object) -> Viewer:
    """The viewer, when their role may see data health (``Viewer.can_see_health``); else NotPermitted."""
    v = require_viewer(viewer)
    if not v.can_see_health:
        raise NotPermitted(f"{v.user} may not see data health ({who_may_open('data-health')} only)")
    return v


def _count(cond):
    """COUNT(*) FILTER (WHERE cond): one pass counts every check (SQLite >= 3.30 and PostgreSQL); on 1M work
    items about a third faster on SQLite than SUM(CASE ...)."""
    return func.count().filter(cond)


def _utc(value) -> dt.datetime | None:
    """A newest-row value as an aware UTC datetime (a campaign's period_end date counts from its midnight)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return dt.datetime.combine(value, dt.time(), UTC)


def freshness(conn: Connection, viewer, now: dt.datetime, cadence_hours: Mapping[str, float]) -> pd.DataFrame:
    """Per table: rows, newest row time, its age in hours, the expected cadence and a stale flag.

    ``stale`` is True when the newest row is older than the cadence, False when not, and None when the table
    has no time column, no cadence is configured, or it is empty (nothing to judge). One round trip: every
    count and maximum is a scalar subquery of a single SELECT.
    """
    require_health_viewer(viewer)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cols = []
    for name, table in TABLES.items():
        cols.append(select(func.count()).select_from(table).scalar_subquery().label(f"{name}__rows"))
        if name in NEWEST:
            cols.append(select(func.max(NEWEST[name])).scalar_subquery().label(f"{name}__newest"))
    row = conn.execute(select(*cols)).mappings().one()
    out = []
    for name in TABLES:
        newest = _utc(row.get(f"{name}__newest"))
        age = (now - newest).total_seconds() / 3600 if newest else None
        cadence = cadence_hours.get(name) if name in NEWEST else None
        stale = None if age is None or cadence is None else bool(age > cadence)
        out.append(dict(table=name, rows=int(row[f"{name}__rows"]), newest=newest, age_h=age,
                        cadence_h=cadence, stale=stale))
    frame = pd.DataFrame(out)
    frame["newest"] = pd.to_datetime(frame.newest, utc=True)
    return frame.astype({"age_h": float, "cadence_h": float})


def _import_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=IMPORT_COLUMNS)
    for col in ("started_at", "finished_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame.astype({c: "int64" for c in COUNT_COLUMNS})


def recent_imports(conn: Connection, viewer, limit: int = 50) -> pd.DataFrame:
    """The latest ``limit`` imports, newest first."""
    require_health_viewer(viewer)
    if not 1 <= limit <= 1000:
        raise ValueError("limit must be 1..1000")
    im = imports.c
    stmt = select(*[im[c] for c in IMPORT_COLUMNS]).order_by(im.started_at.desc(), im.id.desc()).limit(limit)
    return _import_frame(conn.execute(stmt).mappings().all())


def last_imports(conn: Connection, viewer) -> pd.DataFrame:
    """Per source and table (kind): the last import's file, time, status and counts, and how many imports
    the pair has had (``imports``). Sorted by source, then kind."""
    require_health_viewer(viewer)
    im = imports.c
    ranked = select(
        *[im[c] for c in IMPORT_COLUMNS],
        func.row_number().over(partition_by=(im.source, im.kind), order_by=(im.started_at.desc(), im.id.desc())).label("rank"),
        func.count().over(partition_by=(im.source, im.kind)).label("imports"),
    ).subquery()
    stmt = (select(*[ranked.c[c] for c in IMPORT_COLUMNS], ranked.c.imports)
            .where(ranked.c.rank == 1).order_by(ranked.c.source, ranked.c.kind))
    rows = conn.execute(stmt).mappings().all()
    frame = _import_frame([{c: r[c] for c in IMPORT_COLUMNS} for r in rows])
    frame["imports"] = pd.Series([int(r["imports"]) for r in rows], dtype="int64")
    return frame


def quarantine_counts(conn: Connection, viewer) -> pd.DataFrame:
    """Per kind (target table): open and fixed quarantined rows; kinds with none of either are left out."""
    require_health_viewer(viewer)
    q = quarantine.c
    stmt = (select(q.kind,
                   _count(q.status == "open").label("open"), _count(q.status == "fixed").label("fixed"))
            .group_by(q.kind).order_by(q.kind))
    frame = pd.DataFrame(conn.execute(stmt).mappings().all(), columns=["kind", "open", "fixed"])
    return frame.astype({"open": "int64", "fixed": "int64"})


def _quarantine_where(kind: str | None, import_id: int | None, status: str = "open"):
    q = quarantine.c
    conds = [q.status == status]
    if kind:
        conds.append(q.kind == kind)
    if import_id is not None:
        conds.append(q.import_id == import_id)
    return and_(*conds)


def split_reason(reason: str) -> tuple[str, str]:
    """'value: not a number' -> ('value', 'not a number'); a reason naming no column -> ('', reason)."""
    column, sep, problem = reason.partition(": ")
    return (column.strip(), problem.strip()) if sep else ("", reason.strip())


def quarantine_reasons(conn: Connection, viewer, kind: str | None = None, import_id: int | None = None) -> pd.DataFrame:
    """Open quarantined rows per reason: kind, column, problem, rows — most frequent first.

    A row can fail for several reasons ("; "-joined), so the counts can add up to more than the rows. SQL
    groups identical reason strings first; Python only splits the distinct combinations (at most
    ``REASON_GROUPS_CAP``, the most frequent), never the rows themselves.
    """
    require_health_viewer(viewer)
    q = quarantine.c
    n = func.count().label("n")
    stmt = (select(q.kind, q.reasons, n).where(_quarantine_where(kind, import_id))
            .group_by(q.kind, q.reasons).order_by(n.desc(), q.kind, q.reasons).limit(REASON_GROUPS_CAP))
    counts: dict[tuple[str, str, str], int] = {}
    for r in conn.execute(stmt):
        for reason in {part.strip() for part in r.reasons.split("; ") if part.strip()}:
            key = (r.kind, *split_reason(reason))
            counts[key] = counts.get(key, 0) + int(r.n)
    frame = pd.DataFrame([(*k, v) for k, v in counts.items()], columns=["kind", "column", "problem", "rows"])
    frame = frame.astype({"rows": "int64"})
    return frame.sort_values(["rows", "kind", "column", "problem"], ascending=[False, True, True, True],
                             ignore_index=True)


@dataclass
class QuarantinePage:
    rows: pd.DataFrame  # QUARANTINE_COLUMNS plus ``values`` (the raw cells as "column: value · ..." text)
    total: int  # open rows matching the filter (the page holds at most ``limit`` of them)


def _raw_cells(raw: str) -> dict[str, str]:
    try:
        cells = json.loads(raw)
    except ValueError:
        return {"raw": raw}
    if not isinstance(cells, dict):
        return {"raw": raw}
    return {str(k): "" if v is None else str(v) for k, v in cells.items()}


def quarantined_rows(conn: Connection, viewer, kind: str | None = None, import_id: int | None = None,
                     limit: int = 200) -> QuarantinePage:
    """Open quarantined rows (newest import first, then file order), at most ``limit`` of them."""
    require_health_viewer(viewer)
    if not 1 <= limit <= 1000:
        raise ValueError("limit must be 1..1000")
    q, im = quarantine.c, imports.c
    where = _quarantine_where(kind, import_id)
    total = conn.execute(select(func.count()).select_from(quarantine).where(where)).scalar_one()
    stmt = (select(q.id, q.import_id, im.source, im.file_name, q.kind, q.row_number, q.row_key, q.reasons, q.raw)
            .join_from(quarantine, imports, q.import_id == im.id).where(where)
            .order_by(q.import_id.desc(), q.row_number, q.id).limit(limit))
    rows = pd.DataFrame(conn.execute(stmt).mappings().all(), columns=QUARANTINE_COLUMNS)
    rows["values"] = [" · ".join(f"{k}: {v}" for k, v in _raw_cells(raw).items()) for raw in rows.raw]
    return QuarantinePage(rows=rows, total=int(total))


def imports_with_open_rows(conn: Connection, viewer, kind: str | None = None, limit: int = 100) -> pd.DataFrame:
    """Imports that still have open quarantined rows (newest first): id, source, file_name, kind, started_at, open."""
    require_health_viewer(viewer)
    q, im = quarantine.c, imports.c
    n = func.count().label("open")
    stmt = (select(im.id, im.source, im.file_name, im.kind, im.started_at, n)
            .join_from(quarantine, imports, q.import_id == im.id).where(_quarantine_where(kind, None))
            .group_by(im.id, im.source, im.file_name, im.kind, im.started_at)
            .order_by(im.started_at.desc(), im.id.desc()).limit(limit))
    frame = pd.DataFrame(conn.execute(stmt).mappings().all(),
                         columns=["id", "source", "file_name", "kind", "started_at", "open"])
    frame["started_at"] = pd.to_datetime(frame.started_at, utc=True)
    return frame.astype({"id": "int64", "open": "int64"})


def open_rows_as_file(conn: Connection, viewer, import_id: int, cap: int = EXPORT_CAP) -> pd.DataFrame:
    """The open quarantined rows of one import in the file's own columns (in the file's order), ready to fix
    and import again. Columns come from the rows' raw JSON, first seen first; a cell a row lacks is blank."""
    require_health_viewer(viewer)
    q = quarantine.c
    stmt = (select(q.raw).where(_quarantine_where(None, import_id))
            .order_by(q.row_number, q.id).limit(cap))
    records = [_raw_cells(raw) for raw in conn.execute(stmt).scalars()]
    columns = list(dict.fromkeys(c for rec in records for c in rec))
    return pd.DataFrame(records, columns=columns, dtype=object).fillna("")


_NEGATIVE_NUMBER = re.compile(r"-(0|[1-9][0-9]*)(\.[0-9]+)?")


def _keep_negative_numbers(value):
    """'-12.5' -> Decimal('-12.5'): a plain negative number is no formula, and a quote in front of it would
    stop the fixed file from importing. Only when the Decimal prints exactly as the cell did."""
    if isinstance(value, str) and _NEGATIVE_NUMBER.fullmatch(value):
        number = Decimal(value)
        if str(number) == value:
            return number
    return value


def quarantine_csv(conn: Connection, viewer, import_id: int, cap: int = EXPORT_CAP) -> bytes:
    """:func:`open_rows_as_file` as a CSV safe to open in a spreadsheet (formula-like cells neutralised)."""
    frame = open_rows_as_file(conn, viewer, import_id, cap)
    return to_safe_csv(frame.apply(lambda col: col.map(_keep_negative_numbers)) if len(frame) else frame)


def kpis_not_range_checked(conn: Connection, viewer) -> pd.DataFrame:
    """KPIs whose unit of measure has a natural range that their own target lifts (name, unit_of_measure,
    target), by name: a percentage aiming above 100 % is a ratio (ROI, growth), not a share, so the quality
    checks do not flag its values above 100."""
    require_health_viewer(viewer)
    k = kpis.c
    rows = conn.execute(select(k.name, k.unit_of_measure, k.target).where(k.unit_of_measure.in_(list(KPI_RANGES)))
                        .order_by(k.name)).mappings().all()
    frame = pd.DataFrame(rows, columns=["name", "unit_of_measure", "target"])
    lifted = [value_range(u, None if pd.isna(t) else float(t)) is None
              for u, t in zip(frame.unit_of_measure, frame.target)]
    return frame[pd.Series(lifted, index=frame.index, dtype=bool)].reset_index(drop=True)


# --- quality checks ---------------------------------------------------------------------------------------

def _worst(counts: pd.Series, top: int = 5) -> str:
    """'Campaign ROI: 90, Win rate: 2' for the KPIs with failing rows, most first."""
    counts = counts[counts > 0].sort_values(ascending=False, kind="stable")
    text = ", ".join(f"{name}: {int(n):,}" for name, n in counts.head(top).items())
    return text + (f" and {len(counts) - top} more" if len(counts) > top else "")


def quality_checks(conn: Connection, viewer, now: dt.datetime) -> pd.DataFrame:
    """Simple checks, each with the rows that fail it (``problems``), the rows it looked at (``checked``),
    the share and, for KPI checks, which KPIs fail (``detail``). ``kind`` is "missing" (optional values left
    empty: information, not an error) or "invalid" (rows that contradict themselves or their unit of measure).

    Aggregation is in SQL: one pass over work_items, one over kpi_observations grouped by KPI (a row per KPI,
    not per observation), one count over kpis. kpi_observations has no optional column (kpi_id, ts and value
    are required), so its checks are ranges and future timestamps; KPIs are checked for a missing target.
    Each KPI is held to the range its definition allows (:func:`dashboard.domain.kpi_ranges.value_range`): a
    percentage aiming above 100 % (an ROI) is a ratio and may pass 100; :func:`kpis_not_range_checked` lists
    those left out.
    """
    require_health_viewer(viewer)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    wi = work_items.c
    resolved = wi.status == Status.RESOLVED.value
    item_cols = [func.count().label("total")]
    for col in ITEM_OPTIONAL_TEXT:
        item_cols.append(_count(or_(wi[col].is_(None), func.trim(wi[col]) == "")).label(f"missing_{col}"))
    for col in ITEM_OPTIONAL:
        item_cols.append(_count(wi[col].is_(None)).label(f"missing_{col}"))
    item_cols += [
        _count(wi.resolved_at.is_not(None)).label("with_resolved_at"),
        _count(wi.resolved_at < wi.created_at).label("resolved_before_created"),
        _count(resolved).label("status_resolved"),
        _count(and_(resolved, wi.resolved_at.is_(None))).label("resolved_without_time"),
        _count(and_(~resolved, wi.resolved_at.is_not(None))).label("time_without_resolved"),
        _count(wi.created_at > now).label("created_in_future"),
        _count(wi.due_at > now + DUE_AHEAD).label("due_far_ahead"),
        _count(and_(wi.target_unit == wi.source_unit,
                    wi.source_unit.not_in(select(units.c.id).where(units.c.kind == "hub").scalar_subquery())))
        .label("to_itself"),
    ]
    it = conn.execute(select(*item_cols)).mappings().one()
    total = int(it["total"])
    out = []

    def add(kind, table, column, check, problems, checked, detail=""):
        problems, checked = int(problems), int(checked)
        out.append(dict(kind=kind, table=table, column=column, check=check, problems=problems, checked=checked,
                        share=problems / checked if checked else None, detail=detail))

    for col in (*ITEM_OPTIONAL_TEXT, *ITEM_OPTIONAL):
        add("missing", "work_items", col, "no value", it[f"missing_{col}"], total)
    add("invalid", "work_items", "resolved_at", "resolved before created", it["resolved_before_created"],
        it["with_resolved_at"])
    add("invalid", "work_items", "resolved_at", "status resolved but no resolved_at", it["resolved_without_time"],
        it["status_resolved"])
    add("invalid", "work_items", "status", "resolved_at set but status not resolved", it["time_without_resolved"],
        total - int(it["status_resolved"]))
    add("invalid", "work_items", "created_at", "created in the future", it["created_in_future"], total)
    add("invalid", "work_items", "due_at", "due more than a year ahead", it["due_far_ahead"], total)
    add("invalid", "work_items", "target_unit", "sent from a spoke to itself", it["to_itself"], total)
    camp = campaigns.c
    ct = conn.execute(select(func.count(), _count(camp.conversions > camp.leads)).select_from(campaigns)).one()
    add("invalid", "campaigns", "conversions", "more conversions than leads", ct[1], ct[0])

    ob, k = kpi_observations.c, kpis.c
    per_kpi = pd.DataFrame(conn.execute(select(k.id, k.name, k.unit_of_measure, k.target)).mappings().all(),
                           columns=["id", "name", "unit_of_measure", "target"])
    per_kpi["range"] = [value_range(u, None if pd.isna(t) else float(t))
                        for u, t in zip(per_kpi.unit_of_measure, per_kpi.target)]
    outside = []
    for bounds, ids in per_kpi[per_kpi.range.notna()].groupby("range").id:  # one condition per distinct range
        low, high = bounds
        limits = ([ob.value < low] if low is not None else []) + ([ob.value > high] if high is not None else [])
        outside.append(and_(ob.kpi_id.in_(sorted(ids)), or_(*limits)))
    stmt = (select(ob.kpi_id.label("id"), func.count().label("checked"),
                   _count(or_(*outside) if outside else false()).label("outside"), _count(ob.ts > now).label("future"))
            .group_by(ob.kpi_id))
    counted = pd.DataFrame(conn.execute(stmt).mappings().all(), columns=["id", "checked", "outside", "future"])
    per_kpi = per_kpi.merge(counted, on="id", how="inner")
    per_kpi = per_kpi.astype({"checked": "int64", "outside": "int64", "future": "int64"}).set_index("name")
    for uom, (low, high) in KPI_RANGES.items():
        of_uom = per_kpi[(per_kpi.unit_of_measure == uom) & per_kpi.range.notna()]
        span = f"outside {low:g}–{high:g}" if high is not None else f"below {low:g}"
        add("invalid", "kpi_observations", "value", f"{uom} KPI value {span}", of_uom.outside.sum(),
            of_uom.checked.sum(), _worst(of_uom.outside))
    add("invalid", "kpi_observations", "ts", "observed in the future", per_kpi.future.sum(), per_kpi.checked.sum(),
        _worst(per_kpi.future))
    kt = conn.execute(select(func.count(), _count(k.target.is_(None))).select_from(kpis)).one()
    add("missing", "kpis", "target", "no target", kt[1], kt[0])
    frame = pd.DataFrame(out)
    return frame.astype({"share": float})
