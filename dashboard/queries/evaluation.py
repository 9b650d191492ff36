"""What the Evaluate step reads: the changes marked done, and daily flow and KPI figures around a change.

- **Flow metrics** come from the hourly rollup ``flow_hourly`` (never the items), summed per UTC day and spoke in
  SQL over the window (``dashboard.domain.evaluation.window``: 28 days before the change, up to 28 after,
  capped at the start of today). A spoke's flow is the work routed *to* it (``target_unit`` = the spoke): the
  items it handles, whose lead time and SLA a change of where work is done moves.
- **Groups**: ``treated`` = the spokes the change touches (``planned_changes.units``; empty = every spoke),
  ``control`` = the other spokes. Rows come back summed per group and day, so nobody sees another spoke's
  figures on their own.
- **KPIs** of the touched spokes from the hourly KPI rollup, one value per day by the KPI's aggregation.

Access: executives, hub leads and admins evaluate every done change. A spoke lead sees the changes that touch
their spoke (or every spoke) and their aggregated result — treated vs control group totals, never another spoke's
own series — and only their own spoke's KPIs; asking for a change that does not touch them is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, func, select

from dashboard.db import flow_hourly, kpi_hourly, kpis, planned_changes, to_hour, units
from dashboard.domain.access import NotPermitted, Viewer, require_viewer
from dashboard.domain.evaluation import DEFAULT_WINDOW_DAYS, FLOW_COLUMNS, Window, window

CHANGE_COLUMNS = ["id", "label", "function", "from_placement", "to_placement", "from_share", "to_share", "units",
                  "done_on", "owner", "predicted"]
FLOW_FRAME_COLUMNS = ["day", "group", *FLOW_COLUMNS]
KPI_FRAME_COLUMNS = ["kpi_id", "name", "unit_id", "unit_of_measure", "direction", "aggregation", "day", "value"]


def _units_of(text: str | None) -> tuple[str, ...]:
    return tuple(u.strip() for u in (text or "").split(",") if u.strip())


def _touches(viewer: Viewer, change_units: tuple[str, ...]) -> bool:
    return viewer.sees_everything or not change_units or viewer.unit in change_units


def done_changes(conn: Connection, viewer) -> pd.DataFrame:
    """Changes marked done, newest first: CHANGE_COLUMNS (units: tuple of spoke ids, empty = every spoke;
    predicted: dict or None). A spoke lead gets the ones touching their spoke."""
    v = require_viewer(viewer)
    pc = planned_changes.c
    rows = conn.execute(
        select(pc.id, pc.label, pc.function, pc.from_placement, pc.to_placement, pc.from_share, pc.to_share,
               pc.units, pc.done_on, pc.owner, pc.predicted)
        .where(pc.status == "done", pc.done_on.isnot(None))
        .order_by(pc.done_on.desc(), pc.id.desc())
    ).mappings().all()
    frame = pd.DataFrame([{**r, "units": _units_of(r["units"]),
                           "predicted": r["predicted"] if isinstance(r["predicted"], dict) else None} for r in rows],
                         columns=CHANGE_COLUMNS)
    keep = [_touches(v, u) for u in frame.units]
    return frame[keep].reset_index(drop=True) if len(frame) else frame


@dataclass(frozen=True)
class EvaluationData:
    change: dict  # one row of done_changes
    treated: list[str]  # spoke ids the change touches
    control: list[str]  # spoke ids it does not touch (empty: DiD impossible)
    window: Window
    flow: pd.DataFrame  # FLOW_FRAME_COLUMNS: one row per day and group (days without items: zeros)
    kpis: pd.DataFrame  # KPI_FRAME_COLUMNS: one row per KPI of the touched spokes and day with observations
    names: dict[str, str]  # unit id -> name


def evaluation_data(conn: Connection, viewer, change_id: int, now: dt.datetime,
                    days: int = DEFAULT_WINDOW_DAYS) -> EvaluationData | None:
    """Everything the evaluation of one done change needs; None when no done change has that id."""
    v = require_viewer(viewer)
    if not 1 <= days <= 366:
        raise ValueError("the window must be 1 to 366 days on each side of the change")
    found = done_changes(conn, v)
    match = found[found.id == change_id] if len(found) else found
    if match.empty:
        pc = planned_changes.c
        exists = conn.execute(select(pc.units).where(pc.id == change_id, pc.status == "done")).first()
        if exists is not None:  # it exists but this viewer's spoke is not touched by it
            raise NotPermitted(f"{v.user} may only evaluate changes that touch their spoke")
        return None
    change = match.iloc[0].to_dict()
    spoke_rows = conn.execute(select(units.c.id, units.c.name, units.c.kind).order_by(units.c.sort_order, units.c.id)).all()
    names = {r.id: r.name for r in spoke_rows}
    spokes = [r.id for r in spoke_rows if r.kind == "spoke"]
    touched = set(change["units"]) & set(spokes) if change["units"] else set(spokes)
    treated = [s for s in spokes if s in touched]
    control = [s for s in spokes if s not in touched]
    win = window(change["done_on"], now, days)
    flow = _daily_flow(conn, treated, control, win)
    kpi_units = treated if v.sees_everything else [u for u in treated if u == v.unit]
    return EvaluationData(change, treated, control, win, flow, _daily_kpis(conn, kpi_units, win), names)


def _day_start(day: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(day * 86400, tz=dt.UTC)


def _days(win: Window) -> list[int]:
    first, last = to_hour(win.start) // 24, to_hour(win.end) // 24
    return list(range(first, last))


def _daily_flow(conn: Connection, treated: list[str], control: list[str], win: Window) -> pd.DataFrame:
    fh = flow_hourly.c
    group_of = {u: "treated" for u in treated} | {u: "control" for u in control}
    if not group_of or win.end <= win.start:
        return pd.DataFrame(columns=FLOW_FRAME_COLUMNS)
    day = (fh.hour // 24).label("day")  # floor division: an integer on both engines
    rows = pd.DataFrame(
        conn.execute(
            select(day, fh.target_unit, *[func.sum(fh[c]).label(c) for c in FLOW_COLUMNS])
            .where(fh.target_unit.in_(list(group_of)), fh.hour >= to_hour(win.start), fh.hour < to_hour(win.end))
            .group_by(day, fh.target_unit)
        ).all(),
        columns=["day", "unit", *FLOW_COLUMNS],
    )
    rows["group"] = rows.unit.map(group_of)
    rows = rows.astype({c: float for c in FLOW_COLUMNS} | {"day": int})
    summed = rows.groupby(["day", "group"])[FLOW_COLUMNS].sum()
    groups = ["treated"] + (["control"] if control else [])
    full = pd.MultiIndex.from_product([_days(win), groups], names=["day", "group"])
    out = summed.reindex(full, fill_value=0.0).reset_index()
    out["day"] = [_day_start(d) for d in out.day]
    out["day"] = pd.to_datetime(out.day, utc=True)
    return out[FLOW_FRAME_COLUMNS]


def _daily_kpis(conn: Connection, unit_ids: list[str], win: Window) -> pd.DataFrame:
    if not unit_ids or win.end <= win.start:
        return pd.DataFrame(columns=KPI_FRAME_COLUMNS)
    k = kpis.c
    cat = pd.DataFrame(
        conn.execute(select(k.id, k.name, k.unit_id, k.unit_of_measure, k.direction, k.aggregation)
                     .where(k.unit_id.in_(unit_ids)).order_by(k.unit_id, k.sort_order, k.id)).all(),
        columns=["kpi_id", "name", "unit_id", "unit_of_measure", "direction", "aggregation"],
    )
    if cat.empty:
        return pd.DataFrame(columns=KPI_FRAME_COLUMNS)
    kh = kpi_hourly.c
    day = (kh.hour // 24).label("day")
    lo, hi = to_hour(win.start), to_hour(win.end)
    sums = pd.DataFrame(
        conn.execute(select(kh.kpi_id, day, func.sum(kh.n).label("n"), func.sum(kh.sum).label("sum"))
                     .where(kh.kpi_id.in_(cat.kpi_id.tolist()), kh.hour >= lo, kh.hour < hi)
                     .group_by(kh.kpi_id, day)).all(),
        columns=["kpi_id", "day", "n", "sum"],
    )
    agg = cat.set_index("kpi_id").aggregation
    sums = sums.astype({"n": float, "sum": float, "day": int})
    sums["value"] = [s if agg[kid] == "sum" else (s / n if n else None)
                     for kid, n, s in zip(sums.kpi_id, sums.n, sums["sum"])]
    lasts = cat.kpi_id[cat.aggregation == "last"].tolist()
    if lasts:  # the day's last observation
        hourly = pd.DataFrame(
            conn.execute(select(kh.kpi_id, kh.hour, kh.last_ts, kh.last_value)
                         .where(kh.kpi_id.in_(lasts), kh.hour >= lo, kh.hour < hi)).all(),
            columns=["kpi_id", "hour", "last_ts", "last_value"],
        )
        if len(hourly):
            hourly["day"] = hourly.hour.astype(int) // 24
            last = hourly.sort_values("last_ts").groupby(["kpi_id", "day"]).last_value.last()
            is_last = sums.kpi_id.isin(lasts)
            sums.loc[is_last, "value"] = [last.get((kid, d)) for kid, d in zip(sums.kpi_id[is_last], sums.day[is_last])]
    sums = sums.dropna(subset=["value"])
    out = sums.merge(cat, on="kpi_id")
    out["day"] = pd.to_datetime([_day_start(d) for d in out.day], utc=True)
    out["value"] = out.value.astype(float)
    order = {kid: i for i, kid in enumerate(cat.kpi_id)}
    out = out.sort_values(["kpi_id", "day"], key=lambda s: s.map(order) if s.name == "kpi_id" else s)
    return out[KPI_FRAME_COLUMNS].reset_index(drop=True)
