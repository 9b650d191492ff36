"""Everything the executive overview shows, in one call (used by the page, the tests and the benchmark).

The overview reads a few dozen rollup rows; what it costs is Python around them. So the figures are computed
with plain numbers and numpy over the rows SQL returns (SQL does the sums), and each frame the page receives is
built once, at the end, with the columns and meaning of the general queries it stands for:
:func:`dashboard.queries.kpis.kpis_and_unit_health`, :func:`~dashboard.queries.kpis.goals`,
:func:`~dashboard.queries.kpis.kpi_trend` and :func:`dashboard.queries.flows.edge_flows`
(``tests/unit/test_overview_equivalence.py`` holds them equal, frame for frame).

Who sees what: every query here depends on the viewer only through :func:`overview_scope` (everyone who sees every
unit sees the same overview; a spoke lead sees their own and the shared goals' KPI figures), which is what lets the
page compute an overview once per scope and share it between all the viewers of that scope.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Integer, bindparam, func, literal_column, select, union_all

from dashboard.db import UTCDateTime, hour_start, kpi_hourly, kpi_observations, kpis, to_hour
from dashboard.domain.access import Role, Viewer, require_viewer
from dashboard.domain.stats import on_target, pct_change
from dashboard.domain.vocabulary import Aggregation, previous_bounds, window_bounds
from dashboard.queries.flows import edge_flows, unrouted_count
from dashboard.queries.kpis import KPI_COLUMNS, goals, list_units, scope_kpis, visible_kpis

# trend granularity per window: hours per bucket
TREND_BUCKET_HOURS = {"1h": 1, "today": 1, "7d": 6, "30d": 24}
TREND_SPAN = {"1h": dt.timedelta(hours=24), "today": dt.timedelta(hours=24)}
HEALTH_COLUMNS = ["unit_id", "kpis", "kpis_with_data", "on_target", "kpi_share"]


@dataclass(frozen=True)
class OverviewData:
    window: str
    start: dt.datetime
    end: dt.datetime
    units: pd.DataFrame
    flows: pd.DataFrame
    kpis: pd.DataFrame
    health: pd.DataFrame
    headline: pd.DataFrame
    trends: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.units.empty

    @property
    def unrouted(self) -> int:
        """Items waiting in the hub's triage queue now (no rule routed them), from the flows already read."""
        return unrouted_count(self.flows)


def overview_scope(viewer) -> Viewer:
    """The viewer whose overview ``viewer`` sees: one for everyone who sees every unit (admins, hub leads and
    executives see the same figures: an executive's, the narrowest of them), one per spoke for spoke leads (their
    unit's KPI figures and the shared goals'). The overview's queries read nothing else of the viewer, so
    ``load_overview(conn, v, ...)`` equals ``load_overview(conn, overview_scope(v), ...)``; the page shares one
    computation per scope. Refuses a viewer without access, as every query does."""
    v = require_viewer(viewer)
    if v.sees_everything:
        return Viewer("overview: every unit", Role.EXECUTIVE)
    return Viewer(f"overview: {v.role.value} of {v.unit}", v.role, v.unit)


def load_overview(conn: Connection, viewer, window: str, now: dt.datetime, tz: dt.tzinfo) -> OverviewData:
    v = require_viewer(viewer)
    start, end = window_bounds(window, now, tz)
    units = list_units(conn, v)
    flows = edge_flows(conn, v, start, end, now, kinds=dict(zip(units.id, units.kind)))
    # each tile's change against the window's like-for-like period; node health over every KPI
    every = _kpis_with_change(conn, start, end, previous_bounds(window, start, end))
    kpi_frame = scope_kpis(v, every)
    heads = goals(kpi_frame)
    span = TREND_SPAN.get(window, end - start)
    allowed = set(every.id[visible_kpis(v, every)])
    trends = _trend(conn, every, [k for k in heads.id if k in allowed], end - span, end, TREND_BUCKET_HOURS[window])
    return OverviewData(
        window=window, start=start, end=end, units=units, flows=flows, kpis=kpi_frame,
        health=_unit_health(every), headline=heads, trends=trends,
    )


# --- KPI figures: kpis.kpis_with_change and kpis.unit_kpi_health, on plain numbers ------------------------------


def _kpis_with_change(conn: Connection, start: dt.datetime, end: dt.datetime,
                      previous: tuple[dt.datetime, dt.datetime]) -> pd.DataFrame:
    """Every KPI's figures over [start, end) and its change against ``previous``, unscoped (callers scope it):
    the frame of :func:`dashboard.queries.kpis.kpis_with_change` before scoping."""
    catalogue = conn.execute(_CATALOGUE).all()
    periods = ((start, end), previous)
    sums = _period_sums(conn, periods)
    lasts = _last_values(conn, periods)
    figures = [_figures(catalogue, sums[i], lasts[i], lo, hi) for i, (lo, hi) in enumerate(periods)]
    (ns, values, targets), (_, before, _) = figures
    frame = pd.DataFrame(catalogue, columns=KPI_COLUMNS)  # as kpis.kpi_catalogue reads it
    frame["n"], frame["value"], frame["window_target"] = ns, values, targets
    frame["on_target"] = [
        on_target(None if math.isnan(v) else v, None if math.isnan(t) else t, k.direction)
        for v, t, k in zip(values, targets, catalogue)
    ]
    frame["previous"] = before
    frame["period_start"], frame["period_end"] = start, end
    frame["previous_start"], frame["previous_end"] = previous
    frame["change"] = [pct_change(None if math.isnan(c) else c, None if math.isnan(p) else p)
                       for c, p in zip(values, before)]
    return frame


def _figures(catalogue: Sequence, sums: dict[str, tuple[float, float]], lasts: dict[str, float],
             start: dt.datetime, end: dt.datetime) -> tuple[list[int], list[float], list[float]]:
    """(n, value, window target) of each KPI over [start, end) by its aggregation: a sum's total (its target is per
    day, so times the window's days), a mean's mean, a level's last observation; NaN without observations."""
    days = (end - start).total_seconds() / 86400
    ns, values, targets = [], [], []
    for k in catalogue:
        n, s = sums.get(k.id, (0.0, 0.0))
        ns.append(int(round(n)))
        if k.aggregation == Aggregation.LAST:
            values.append(lasts.get(k.id, math.nan))
        elif n <= 0.5:
            values.append(math.nan)
        else:
            values.append(s if k.aggregation == Aggregation.SUM else s / n)
        target = math.nan if k.target is None else float(k.target)
        targets.append(target * days if k.aggregation == Aggregation.SUM and not math.isnan(target) else target)
    return ns, values, targets


def _part(j: int, stmt):
    """A part of a UNION ALL, its rows tagged with ``j``."""
    return select(literal_column(str(j), Integer).label("part"), *stmt.subquery().c)


def _p(name: str):
    return bindparam(name, type_=UTCDateTime())


_kh, _ko = kpi_hourly.c, kpi_observations.c
# Built once (SQLAlchemy computes a statement's cache key once per object; for these that walk would cost as much
# as SQLite answering them). Per period i: its whole hours from the rollup (part 3i), then the raw observations of
# the partial first and last hours (parts 3i+1, 3i+2), which the whole hours hold too much of; an empty range
# (a period starting or ending on the hour) reads nothing.
_PERIOD_SUMS = union_all(*[
    _part(3 * i + k, stmt)
    for i in range(2)
    for k, stmt in enumerate((
        select(_kh.kpi_id, func.sum(_kh.n), func.sum(_kh.sum))
        .where(_kh.hour >= bindparam(f"first{i}"), _kh.hour <= bindparam(f"last{i}")).group_by(_kh.kpi_id),
        *[select(_ko.kpi_id, func.count(), func.sum(_ko.value))
          .where(_ko.ts >= _p(f"lo{i}{e}"), _ko.ts < _p(f"hi{i}{e}")).group_by(_ko.kpi_id) for e in "ab"],
    ))
])


def _latest(i: int):
    """A level KPI's latest observation in period i (one index seek on kpi_id, ts)."""
    return (select(_ko.value).where(_ko.kpi_id == kpis.c.id, _ko.ts >= _p(f"lo{i}"), _ko.ts < _p(f"hi{i}"))
            .order_by(_ko.ts.desc()).limit(1).scalar_subquery())


_LAST = select(kpis.c.id, _latest(0), _latest(1)).where(kpis.c.aggregation == Aggregation.LAST.value)
_CATALOGUE = select(*[kpis.c[c] for c in KPI_COLUMNS]).order_by(kpis.c.sort_order, kpis.c.id)


def _period_sums(conn: Connection, periods: Sequence[tuple[dt.datetime, dt.datetime]]
                 ) -> list[dict[str, tuple[float, float]]]:
    """Per period (the window and the one it is compared with): KPI id -> (n, sum) of its observations with ts in
    [start, end): the rollup's whole hours less the raw observations of the partial first and last hours outside
    the period, in one statement."""
    params: dict[str, object] = {}
    for i, (lo, hi) in enumerate(periods):
        first, last = to_hour(lo), to_hour(hi - dt.timedelta(microseconds=1))
        params |= {f"first{i}": first, f"last{i}": last}
        for e, (a, b) in zip("ab", ((hour_start(first), lo), (hi, hour_start(last + 1)))):
            params |= {f"lo{i}{e}": a, f"hi{i}{e}": max(a, b)}
    read: list[dict[str, tuple[float, float]]] = [{} for _ in range(3 * len(periods))]
    for part, kpi_id, n, total in conn.execute(_PERIOD_SUMS, params):
        if n is not None:
            read[part][kpi_id] = (float(n), float(total or 0.0))
    out: list[dict[str, tuple[float, float]]] = []
    for i in range(len(periods)):  # the whole hours, less what they hold of the partial hours outside
        sums = {k: list(v) for k, v in read[3 * i].items()}
        for extra in read[3 * i + 1:3 * i + 3]:
            for kpi_id, (n, total) in extra.items():
                got = sums.setdefault(kpi_id, [0.0, 0.0])
                got[0] -= n
                got[1] -= total
        out.append({k: (v[0], v[1]) for k, v in sums.items()})
    return out


def _last_values(conn: Connection, periods: Sequence[tuple[dt.datetime, dt.datetime]]) -> list[dict[str, float]]:
    """Per period: level KPI id -> its latest observation in [start, end) (absent when it has none)."""
    params = {f"{edge}{i}": t for i, (lo, hi) in enumerate(periods) for edge, t in (("lo", lo), ("hi", hi))}
    out: list[dict[str, float]] = [{} for _ in periods]
    for kpi_id, *values in conn.execute(_LAST, params):
        for i, value in enumerate(values):
            if value is not None:
                out[i][kpi_id] = value
    return out


def _unit_health(frame: pd.DataFrame) -> pd.DataFrame:
    """Per unit with KPIs (sorted by id): how many KPIs it has, how many have data, how many of those are on
    target and their share (NaN when none has data): :func:`dashboard.queries.kpis.unit_kpi_health`."""
    every: dict[str, list[int]] = {}
    for unit, state in zip(frame.unit_id, frame.on_target):
        counts = every.setdefault(unit, [0, 0, 0])
        counts[0] += 1
        if state is not None and not (isinstance(state, float) and math.isnan(state)):
            counts[1] += 1
            counts[2] += bool(state)
    ids = sorted(every)
    total = [every[u][0] for u in ids]
    with_data = [every[u][1] if every[u][1] else math.nan for u in ids]
    on = [every[u][2] if every[u][1] else math.nan for u in ids]
    known = not any(math.isnan(x) for x in with_data)  # a unit without data makes its counts NaN: floats
    return pd.DataFrame({
        "unit_id": pd.Series(ids, dtype="str"),
        "kpis": np.array(total, dtype=np.int64),
        "kpis_with_data": np.array(with_data, dtype=np.int64 if known else float),
        "on_target": np.array(on, dtype=np.int64 if known else float),
        "kpi_share": np.array([o / d for o, d in zip(on, with_data)], dtype=float),
    }, columns=HEALTH_COLUMNS)


# --- the goal tiles' trends: kpis.kpi_trend, summed by SQL -------------------------------------------------------


@functools.cache
def _trend_statements(bucket_hours: int):
    """(sums per KPI and bucket, a level KPI's hours) over the hours [first, last] for KPIs ``ids``; built once per
    bucket size. Hours since the epoch are positive: integer division is the bucket on both engines (FLOOR, which
    SQLAlchemy renders for //, is not in every SQLite build)."""
    bucket = literal_column(f"kpi_hourly.hour / {int(bucket_hours)}", Integer).label("bucket")
    where = (_kh.kpi_id.in_(bindparam("ids", expanding=True)), _kh.hour >= bindparam("first"),
             _kh.hour <= bindparam("last"))
    sums = select(_kh.kpi_id, bucket, func.sum(_kh.n), func.sum(_kh.sum)).where(*where).group_by(_kh.kpi_id, bucket)
    levels = select(_kh.kpi_id, _kh.hour, _kh.last_ts, _kh.last_value).where(*where)
    return sums, levels


def _trend(conn: Connection, catalogue: pd.DataFrame, kpi_ids: Iterable[str], start: dt.datetime, end: dt.datetime,
           bucket_hours: int) -> pd.DataFrame:
    """Per KPI and time bucket of ``bucket_hours`` over the hours of [start, end]: the value by its aggregation
    (columns kpi_id, ts, value; sorted by KPI, then time), as :func:`dashboard.queries.kpis.kpi_trend`."""
    aggregation = dict(zip(catalogue.id, catalogue.aggregation))
    ids = [k for k in dict.fromkeys(kpi_ids) if k in aggregation]
    if not ids:
        return pd.DataFrame(columns=["kpi_id", "ts", "value"])
    sums, levels = _trend_statements(bucket_hours)
    params = {"ids": ids, "first": to_hour(start), "last": to_hour(end)}
    rows = conn.execute(sums, params).all()
    latest: dict[tuple[str, int], tuple[dt.datetime, float]] = {}
    level_ids = [k for k in ids if aggregation[k] == Aggregation.LAST]
    if level_ids:  # a level's bucket value: the last observation of its last hour
        for kpi_id, hour, ts, value in conn.execute(levels, params | {"ids": level_ids}):
            key = (kpi_id, int(hour) // bucket_hours)
            if key not in latest or ts > latest[key][0]:
                latest[key] = (ts, value)
    out = []
    for kpi_id, b, n, s in sorted(rows, key=lambda r: (r[0], int(r[1]))):
        agg = aggregation[kpi_id]
        if agg == Aggregation.SUM:
            value = float(s)
        elif agg == Aggregation.MEAN:
            value = float(s) / float(n) if n else math.nan
        else:
            value = float(latest[(kpi_id, int(b))][1])
        out.append((kpi_id, hour_start(int(b) * bucket_hours), value))
    return pd.DataFrame(out, columns=["kpi_id", "ts", "value"])
