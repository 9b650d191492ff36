"""KPIs: the catalogue, values over a window, trends and each unit's KPI health.

Window semantics, by a KPI's ``aggregation``:
- ``sum`` (revenue, leads, cost): the total over the window; its ``target`` is per day, so the target for a
  window is ``target × window length in days``;
- ``mean`` (conversion rate, response hours): the mean of the observations in the window;
- ``last`` (headcount-like levels): the latest observation in the window.
Sums and means come from the hourly rollup with the partial first/last hour corrected from raw rows.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select

from dashboard.db import hour_start, kpi_hourly, kpi_observations, kpis, to_hour, units
from dashboard.domain.access import Viewer, require_viewer
from dashboard.domain.stats import on_target, pct_change

KPI_COLUMNS = ["id", "unit_id", "name", "unit_of_measure", "target", "direction", "aggregation",
               "parent_id", "is_goal", "description", "sort_order"]


def kpi_catalogue(conn: Connection, viewer) -> pd.DataFrame:
    require_viewer(viewer)
    rows = conn.execute(select(*[kpis.c[c] for c in KPI_COLUMNS]).order_by(kpis.c.sort_order, kpis.c.id)).mappings().all()
    return pd.DataFrame(rows, columns=KPI_COLUMNS)


def list_units(conn: Connection, viewer) -> pd.DataFrame:
    """The hub and its spokes, hub first. ``timezone`` and ``office_hours`` are None where not stated (the
    what-if model then reads the unit's hours from its data)."""
    require_viewer(viewer)
    cols = ["id", "name", "kind", "headcount", "cost_per_fte", "description", "sort_order", "timezone", "office_hours"]
    rows = conn.execute(select(*[units.c[c] for c in cols]).order_by(units.c.kind, units.c.sort_order, units.c.id)).mappings().all()
    return pd.DataFrame(rows, columns=cols)


def _sum_n(conn: Connection, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Per KPI: n and sum of observations with ts in [start, end)."""
    first, last = to_hour(start), to_hour(end - dt.timedelta(microseconds=1))
    kh, ko = kpi_hourly.c, kpi_observations.c
    base = pd.DataFrame(
        conn.execute(
            select(kh.kpi_id, func.sum(kh.n).label("n"), func.sum(kh.sum).label("sum"))
            .where(kh.hour >= first, kh.hour <= last).group_by(kh.kpi_id)
        ).mappings().all(),
        columns=["kpi_id", "n", "sum"],
    ).set_index("kpi_id")
    for lo, hi in ((hour_start(first), start), (end, hour_start(last + 1))):
        if hi > lo:
            extra = pd.DataFrame(
                conn.execute(
                    select(ko.kpi_id, func.count().label("n"), func.sum(ko.value).label("sum"))
                    .where(ko.ts >= lo, ko.ts < hi).group_by(ko.kpi_id)
                ).mappings().all(),
                columns=["kpi_id", "n", "sum"],
            ).set_index("kpi_id")
            base = base.sub(extra, fill_value=0)
    return base


def _last_values(conn: Connection, kpi_ids: list[str], start: dt.datetime, end: dt.datetime) -> dict[str, float]:
    ko = kpi_observations.c
    out = {}
    for kid in kpi_ids:  # one index seek per KPI on (kpi_id, ts)
        row = conn.execute(
            select(ko.value).where(ko.kpi_id == kid, ko.ts >= start, ko.ts < end).order_by(ko.ts.desc()).limit(1)
        ).first()
        if row is not None:
            out[kid] = row[0]
    return out


def kpi_values(conn: Connection, viewer, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Every KPI's value over [start, end), its window target and whether it is on target.

    Columns: KPI_COLUMNS + n, value, window_target, on_target (True/False/None for no data). A spoke lead gets
    figures for their unit's KPIs and the shared goal's only (see :func:`scope_kpis`).
    """
    v = require_viewer(viewer)
    return scope_kpis(v, _kpi_values(conn, v, start, end))


def _kpi_values(conn: Connection, viewer: Viewer, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    cat = kpi_catalogue(conn, viewer)
    sums = _sum_n(conn, start, end)
    days = (end - start).total_seconds() / 86400
    lasts = _last_values(conn, cat.loc[cat.aggregation == "last", "id"].tolist(), start, end)
    values, ns, targets = [], [], []
    for k in cat.itertuples():
        n = float(sums["n"].get(k.id, 0) or 0)
        s = float(sums["sum"].get(k.id, 0) or 0)
        ns.append(int(round(n)))
        if k.aggregation == "last":
            values.append(lasts.get(k.id, np.nan))
        elif n <= 0.5:
            values.append(np.nan)
        else:
            values.append(s if k.aggregation == "sum" else s / n)
        tgt = k.target
        targets.append(tgt * days if (tgt is not None and not pd.isna(tgt) and k.aggregation == "sum") else tgt)
    cat = cat.assign(n=ns, value=values, window_target=targets)
    cat["on_target"] = [
        on_target(None if pd.isna(v) else v, None if pd.isna(t) else t, d)
        for v, t, d in zip(cat.value, cat.window_target, cat.direction)
    ]
    return cat


def unit_kpi_health(kpi_frame: pd.DataFrame) -> pd.DataFrame:
    """Per unit: KPIs with data, how many are on target, and the share (NaN when no KPI has data)."""
    known = kpi_frame[kpi_frame.on_target.notna()]
    g = known.groupby("unit_id").on_target.agg(kpis_with_data="count", on_target=lambda s: int(s.astype(bool).sum()))
    g["kpi_share"] = g.on_target / g.kpis_with_data
    total = kpi_frame.groupby("unit_id").size().rename("kpis")
    return pd.concat([total, g], axis=1).reset_index(names="unit_id")


def kpi_trend(conn: Connection, viewer, kpi_ids: list[str], start: dt.datetime, end: dt.datetime,
              bucket_hours: int) -> pd.DataFrame:
    """Per KPI and time bucket: the value by its aggregation. Columns kpi_id, ts (UTC), value."""
    catalogue = kpi_catalogue(conn, viewer)
    allowed = set(catalogue.id[visible_kpis(require_viewer(viewer), catalogue)])
    kpi_ids = [k for k in kpi_ids if k in allowed]  # a spoke lead's trends: their KPIs and the goal's
    cat = catalogue.set_index("id")
    kh = kpi_hourly.c
    rows = pd.DataFrame(
        conn.execute(
            select(kh.kpi_id, kh.hour, kh.n, kh.sum, kh.last_ts, kh.last_value)
            .where(kh.kpi_id.in_(kpi_ids), kh.hour >= to_hour(start), kh.hour <= to_hour(end))
        ).mappings().all(),
        columns=["kpi_id", "hour", "n", "sum", "last_ts", "last_value"],
    )
    if rows.empty:
        return pd.DataFrame(columns=["kpi_id", "ts", "value"])
    rows["bucket"] = rows.hour // bucket_hours
    out = []
    for (kid, bucket), g in rows.groupby(["kpi_id", "bucket"], sort=True):
        agg = cat.at[kid, "aggregation"]
        if agg == "sum":
            v = g["sum"].sum()
        elif agg == "mean":
            v = g["sum"].sum() / g["n"].sum()
        else:
            v = g.sort_values("last_ts")["last_value"].iloc[-1]
        out.append((kid, hour_start(int(bucket) * bucket_hours), float(v)))
    return pd.DataFrame(out, columns=["kpi_id", "ts", "value"])


DETAIL_COLUMNS = ("n", "value", "window_target", "on_target", "previous", "change")


def visible_kpis(viewer: Viewer, frame: pd.DataFrame) -> pd.Series:
    """Which KPI rows' figures this viewer may see: all, or for a spoke lead their unit's and the shared goal's."""
    viewer = require_viewer(viewer)
    if viewer.sees_everything:
        return pd.Series(True, index=frame.index)
    return (frame.unit_id == viewer.unit) | frame.is_goal.astype(bool)


def scope_kpis(viewer: Viewer, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with other teams' figures blanked for a spoke lead (the tree's shape and names stay)."""
    hidden = ~visible_kpis(require_viewer(viewer), frame)
    if not hidden.any():
        return frame
    out = frame.copy()
    for c in DETAIL_COLUMNS:
        if c in out:
            out[c] = out[c].astype(object)
            out.loc[hidden, c] = None if c == "on_target" else np.nan
    if "n" in out:
        out.loc[hidden, "n"] = 0
    return out


def kpis_with_change(conn: Connection, viewer, start: dt.datetime, end: dt.datetime,
                     previous: tuple[dt.datetime, dt.datetime] | None = None) -> pd.DataFrame:
    """kpi_values plus the value over the ``previous`` period ([start, end) of the period compared with; by
    default the equal-length period just before, see :func:`dashboard.domain.vocabulary.previous_bounds` for a
    window's like-for-like period) and the relative change (scoped to the viewer). The frame says which periods
    were compared: columns period_start, period_end, previous_start, previous_end."""
    v = require_viewer(viewer)
    return scope_kpis(v, _kpis_with_change(conn, v, start, end, previous))


def kpis_and_unit_health(conn: Connection, viewer, start: dt.datetime, end: dt.datetime,
                         previous: tuple[dt.datetime, dt.datetime] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The viewer's KPIs with their change (:func:`kpis_with_change`) and every unit's KPI health
    (:func:`unit_kpi_health`), read in one pass: the health is an aggregate over all KPIs, so the map can colour
    a unit whose KPIs this viewer does not see one by one."""
    v = require_viewer(viewer)
    every = _kpis_with_change(conn, v, start, end, previous)
    return scope_kpis(v, every), unit_kpi_health(every)


def _kpis_with_change(conn: Connection, viewer: Viewer, start: dt.datetime, end: dt.datetime,
                      previous: tuple[dt.datetime, dt.datetime] | None = None) -> pd.DataFrame:
    """Every KPI's figures, unscoped: only for aggregates (unit health) computed before anything is shown."""
    current = _kpi_values(conn, viewer, start, end)
    before_start, before_end = previous or (start - (end - start), start)
    before = _kpi_values(conn, viewer, before_start, before_end).set_index("id")["value"]
    current["previous"] = current.id.map(before)
    current["period_start"], current["period_end"] = start, end
    current["previous_start"], current["previous_end"] = before_start, before_end
    current["change"] = [
        pct_change(None if pd.isna(c) else c, None if pd.isna(p) else p) for c, p in zip(current.value, current.previous)
    ]
    return current


def goals(frame: pd.DataFrame) -> pd.DataFrame:
    """The goal KPIs (the shared-goal tiles) of a ``kpis_with_change`` frame."""
    return frame[frame.is_goal.astype(bool)].reset_index(drop=True)


def headline(conn: Connection, viewer, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """The shared-goal tiles: goal KPIs with value, previous-period value, change and target status."""
    return goals(kpis_with_change(conn, viewer, start, end))
