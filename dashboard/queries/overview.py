"""Everything the executive overview shows, in one call (used by the page, the tests and the benchmark)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection

from dashboard.domain.access import require_viewer
from dashboard.domain.vocabulary import previous_bounds, window_bounds
from dashboard.queries.flows import edge_flows, unrouted_count
from dashboard.queries.kpis import goals, kpi_trend, kpis_and_unit_health, list_units

# trend granularity per window: hours per bucket
TREND_BUCKET_HOURS = {"1h": 1, "today": 1, "7d": 6, "30d": 24}
TREND_SPAN = {"1h": dt.timedelta(hours=24), "today": dt.timedelta(hours=24)}


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


def load_overview(conn: Connection, viewer, window: str, now: dt.datetime, tz: dt.tzinfo) -> OverviewData:
    require_viewer(viewer)
    start, end = window_bounds(window, now, tz)
    units = list_units(conn, viewer)
    flows = edge_flows(conn, viewer, start, end, now)
    # each tile's change against the window's like-for-like period; node health over every KPI
    kpis, health = kpis_and_unit_health(conn, viewer, start, end, previous_bounds(window, start, end))
    heads = goals(kpis)
    span = TREND_SPAN.get(window, end - start)
    trends = kpi_trend(conn, viewer, heads.id.tolist(), end - span, end, TREND_BUCKET_HOURS[window])
    return OverviewData(
        window=window, start=start, end=end, units=units, flows=flows, kpis=kpis,
        health=health, headline=heads, trends=trends,
    )
