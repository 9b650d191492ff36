"""Shared widgets: window picker, KPI tiles, the live status line."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.charts.palette import GREEN, GREY, RED
from dashboard.charts.sparkline import CONFIG as SPARK_CONFIG
from dashboard.charts.sparkline import sparkline
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
    """One KPI in a bordered tile: value and change vs the previous period (direction-aware colour), a plotly
    sparkline of the window's trend, and the target."""
    values = trend.loc[trend.kpi_id == row.id].sort_values("ts")["value"].tolist()
    status = {True: "on target", False: "off target", None: "no target data"}[row.on_target]
    with st.container(border=True):
        st.metric(
            row.name,
            fmt.measure(row.value, row.unit_of_measure),
            delta=fmt.signed_percent(row.change),
            delta_color="normal" if row.direction == "higher" else "inverse",
            help=row.description or None,
        )
        if len(values) > 1:
            st.plotly_chart(_sparkline(tuple(values), _trend_colour(row)), config=SPARK_CONFIG,
                            key=f"spark-{row.id}", alt=f"{row.name}: trend over the window")
        target = fmt.measure(row.window_target, row.unit_of_measure) if pd.notna(row.window_target) else "none set"
        icon = {True: ":green[●]", False: ":red[●]", None: ":gray[●]"}[row.on_target]
        # what the delta compares with, here rather than as the metric's delta description (cut off in a narrow tile)
        change = " · change vs the previous period" if pd.notna(row.change) else ""
        st.caption(f"{icon} Target {target} · {status}{change}")


@st.cache_resource(ttl=600, max_entries=512, show_spinner=False)
def _sparkline(values: tuple[float, ...], colour: str):
    """Shared per (values, colour): building a plotly figure costs ~10 ms, and a live tab redraws its tiles at
    every refresh; st.plotly_chart only reads the figure."""
    return sparkline(values, colour)


def _trend_colour(row) -> str:
    """The delta's colour: green when the change goes the KPI's good way, red when not, grey without a change."""
    if pd.isna(row.change) or row.change == 0:
        return GREY
    good = (row.change > 0) == (row.direction == "higher")
    return GREEN if good else RED


def updated_caption(paused: bool) -> None:
    s = get_settings()
    now = dt.datetime.now(s.tz).strftime("%H:%M:%S")
    if paused:
        st.caption(f":material/pause_circle: Live updates paused · data as of {now} ({s.timezone})")
    else:
        st.caption(f":material/sync: Updated {now} ({s.timezone}) · refreshes every {s.refresh_seconds:g} s")
