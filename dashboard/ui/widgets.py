"""Shared widgets: window picker, KPI tiles, the live status line."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.domain import format as fmt
from dashboard.domain.vocabulary import DEFAULT_WINDOW, WINDOWS
from dashboard.settings import get_settings
from dashboard.ui import urlstate


def window_picker(key: str = "window") -> str:
    """Time window, kept in the URL (?window=7d) so a link reproduces the view."""
    urlstate.seed_one(key, list(WINDOWS), DEFAULT_WINDOW)
    choice = st.segmented_control("Window", list(WINDOWS), format_func=lambda k: WINDOWS[k][0], key=key, required=True)
    choice = choice or DEFAULT_WINDOW
    urlstate.write(key, choice, DEFAULT_WINDOW)
    return choice


def spoke_filter(spokes: list[str], names: dict[str, str], key: str = "units") -> list[str]:
    """Which spokes to show (empty = all), kept in the URL as ?units=sales,finance."""
    urlstate.seed_many(key, spokes)
    chosen = st.multiselect("Spokes", spokes, format_func=lambda u: names.get(u, u), key=key, placeholder="All spokes")
    urlstate.write(key, chosen)
    return chosen


def kpi_tile(row, trend: pd.DataFrame) -> None:
    """One KPI as a metric: value, change vs the previous period (direction-aware colour), sparkline, target."""
    values = trend.loc[trend.kpi_id == row.id].sort_values("ts")["value"].tolist()
    status = {True: "on target", False: "off target", None: "no target data"}[row.on_target]
    st.metric(
        row.name,
        fmt.measure(row.value, row.unit_of_measure),
        delta=fmt.signed_percent(row.change),
        delta_color="normal" if row.direction == "higher" else "inverse",
        delta_description="vs previous period" if pd.notna(row.change) else None,
        chart_data=values if len(values) > 1 else None,
        border=True,
        help=row.description or None,
    )
    target = fmt.measure(row.window_target, row.unit_of_measure) if pd.notna(row.window_target) else "none set"
    icon = {True: ":green[●]", False: ":red[●]", None: ":gray[●]"}[row.on_target]
    st.caption(f"{icon} Target {target} · {status}")


def updated_caption(paused: bool) -> None:
    s = get_settings()
    now = dt.datetime.now(s.tz).strftime("%H:%M:%S")
    if paused:
        st.caption(f":material/pause_circle: Live updates paused · data as of {now} ({s.timezone})")
    else:
        st.caption(f":material/sync: Updated {now} ({s.timezone}) · refreshes every {s.refresh_seconds:g} s")
