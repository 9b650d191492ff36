"""Shared widgets: window picker, KPI tiles, the live status line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd
import streamlit as st

from dashboard import errors
from dashboard.charts.palette import GREEN, GREY, RED
from dashboard.charts.sparkline import CONFIG as SPARK_CONFIG
from dashboard.charts.sparkline import mark_positions, sparkline
from dashboard.domain import format as fmt
from dashboard.domain.access import Viewer
from dashboard.domain.urlvalues import UrlValueError, one_of
from dashboard.domain.vocabulary import DEFAULT_WINDOW, WINDOWS, comparison_label
from dashboard.settings import get_settings
from dashboard.ui import cache, urlstate
from dashboard.ui.text import md


def window_picker(key: str = "window", width: int | str = "content") -> str:
    """Time window, kept in the URL (?window=7d) so a link reproduces the view, and carried from page to page:
    the overview's window is the spoke page's when one opens the other (by the map or the menu).

    Streamlit keeps a widget's value per page, so the same key on the next page starts a new, empty widget; on
    a page's first run the picker is set from the link's ?window=, else from the window last chosen anywhere."""
    page = st.session_state.get(urlstate.CURRENT_PAGE)
    if key not in st.session_state or st.session_state.get(f"_{key}_page") != page:
        linked = st.query_params.get(key)
        fallback = st.session_state.get(f"_{key}_chosen", DEFAULT_WINDOW)
        try:
            st.session_state[key] = fallback if linked is None else one_of(linked, WINDOWS, key, fallback)
        except UrlValueError as exc:
            urlstate.bad_value(exc)
            st.session_state[key] = fallback
        st.session_state[f"_{key}_page"] = page
    choice = st.segmented_control("Window", list(WINDOWS), format_func=lambda k: WINDOWS[k][0], key=key,
                                  required=True, width=width)
    choice = choice or DEFAULT_WINDOW
    st.session_state[f"_{key}_chosen"] = choice
    urlstate.write(key, choice, DEFAULT_WINDOW)
    return choice


def spoke_filter(spokes: list[str], names: dict[str, str], key: str = "units", width: int | str = "stretch") -> list[str]:
    """Which spokes to show (empty = all), kept in the URL as ?units=sales,finance."""
    urlstate.seed_many(key, spokes)
    chosen = st.multiselect("Spokes", spokes, format_func=lambda u: names.get(u, u), key=key, placeholder="All spokes",
                            width=width)
    urlstate.write(key, chosen)
    return chosen


def tile_value(value, unit_of_measure: str) -> str:
    """A KPI's figure as a tile shows it: money compact with its currency (€1.84M), counts whole with separators
    (3,512), shares with one decimal (3.2 %), durations in the unit a reader expects (3.4 h)."""
    if unit_of_measure in fmt.CURRENCY_SYMBOLS:
        return fmt.money(value, unit_of_measure, compact_form=True)
    if unit_of_measure in ("count", ""):
        return fmt.count(value)
    return fmt.measure(value, unit_of_measure)


def compared_with(row) -> str:
    """What a tile's change is measured against, in words, from the periods its row was computed over."""
    needed = ("period_start", "period_end", "previous_start", "previous_end")
    if not all(pd.notna(getattr(row, c, None)) for c in needed):
        return "the previous period"
    return comparison_label(*(pd.Timestamp(getattr(row, c)).to_pydatetime() for c in needed), get_settings().tz)


def kpi_tile(row, trend: pd.DataFrame | Mapping[str, tuple[tuple, tuple]], changes: tuple = ()) -> None:
    """One KPI in a bordered tile: its name (wrapping rather than cut off), value and change vs the like-for-like
    period (direction-aware colour), a plotly sparkline of the window's trend, and the target with what the
    change compares with. ``changes`` (:func:`recent_changes`): each done operating-model change inside the
    sparkline's span is a thin dotted line on its date. ``trend``: the trend frame, or its :func:`trend_series`
    already split (a caller that keeps them saves hashing the frame by value for every tile of every rerun)."""
    times, values = (trend if isinstance(trend, Mapping) else _series(trend)).get(row.id, ((), ()))
    marks = mark_positions(list(times), [c[0] for c in changes]) if changes and len(values) > 1 else ()
    status = {True: "on target", False: "off target", None: "no target data"}[row.on_target]
    with st.container(border=True):
        # the name as text of its own: a metric's label is cut off ("Median lead ti…") in a narrow tile
        st.markdown(f"**{md(row.name)}**", help=row.description or None)
        st.metric(
            row.name,
            tile_value(row.value, row.unit_of_measure),
            delta=fmt.signed_percent(row.change),
            delta_color="normal" if row.direction == "higher" else "inverse",
            label_visibility="collapsed",
        )
        if len(values) > 1:
            st.plotly_chart(_sparkline(values, _trend_colour(row), marks), config=SPARK_CONFIG,
                            key=f"spark-{row.id}", alt=f"{row.name}: trend over the window")
        target = tile_value(row.window_target, row.unit_of_measure) if pd.notna(row.window_target) else "none set"
        icon = {True: ":green[●]", False: ":red[●]", None: ":gray[●]"}[row.on_target]
        # what the delta compares with, here rather than as the metric's delta description (cut off in a narrow tile)
        change = f" · change vs {compared_with(row)}" if pd.notna(row.change) else ""
        st.caption(f"{icon} Target {target} · {status}{change}")


@cache.computed(lifetime="figures", shared=True, max_entries=64)
def _series(trend: pd.DataFrame) -> dict[str, tuple[tuple, tuple]]:
    """KPI id -> (times, values) in time order, split once per trend frame (hashed by value) rather than filtered
    and sorted once per tile on every rerun."""
    return trend_series(trend)


def trend_series(trend: pd.DataFrame) -> dict[str, tuple[tuple, tuple]]:
    """KPI id -> (times, values) of a trend frame (kpi_id, ts, value), in time order."""
    out = {}
    for kpi_id, g in trend.sort_values("ts").groupby("kpi_id", sort=False):
        out[kpi_id] = (tuple(g["ts"].tolist()), tuple(g["value"].tolist()))
    return out


@cache.computed(lifetime="figures", shared=True, max_entries=512)
def _sparkline(values: tuple[float, ...], colour: str, marks: tuple[float, ...] = ()):
    """Shared per (values, colour, marks): building a plotly figure costs ~10 ms, and a live tab redraws its tiles
    at every refresh; st.plotly_chart only reads the figure."""
    return sparkline(values, colour, marks=marks)


CHANGES_DAYS = 90  # how far back the overview's "since" line and the tiles' marks look


@cache.reads("cycle", max_entries=64)
def recent_changes(viewer: Viewer, unit: str | None = None) -> tuple[tuple[dt.date, str, tuple[str, ...]], ...]:
    """Done operating-model changes of the last CHANGES_DAYS days, oldest first: (date, label, spokes touched —
    empty = all). Cached like every page query (tuples: cheap to copy out of the cache on every rerun); with a
    ``unit``, only the changes touching that spoke or every spoke. A database failure gives none (the page's
    own queries report it)."""
    from dashboard.queries.cycle import annotations
    from dashboard.ui import data

    today = dt.datetime.now(dt.UTC).date()
    try:
        with data.engine().connect() as conn:
            frame = annotations(conn, viewer, today - dt.timedelta(days=CHANGES_DAYS), today, unit)
    except errors.DATABASE_ERRORS:
        return ()
    return tuple((r.date, r.label, tuple(r.units)) for r in frame.itertuples())


def _lower_first(label: str) -> str:
    """"Content production centralised" -> "content production centralised"; "CRM & …" stays as it is."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def changes_caption(changes: tuple) -> None:
    """One line under the tiles naming the latest done change: "Since 2 Nov: content production centralised"."""
    if not changes:
        return
    day, label, _units = changes[-1]
    earlier = len(changes) - 1
    more = f" · {earlier} earlier change{'s' if earlier != 1 else ''} in the last {CHANGES_DAYS} days" if earlier else ""
    st.caption(f":violet[┆] Since {day.day} {day:%b}: {_lower_first(label)}{more} "
               "(dotted lines on the trends)")


def _trend_colour(row) -> str:
    """The delta's colour: green when the change goes the KPI's good way, red when not, grey without a change."""
    if pd.isna(row.change) or row.change == 0:
        return GREY
    good = (row.change > 0) == (row.direction == "higher")
    return GREEN if good else RED


def updated_caption(paused: bool, as_of: dt.datetime) -> None:
    """When the figures shown were read (``as_of``, aware): a shared overview can be a refresh older than the
    page's run."""
    s = get_settings()
    now = as_of.astimezone(s.tz).strftime("%H:%M:%S")
    if paused:
        st.caption(f":material/pause_circle: Live updates paused · data as of {now} ({s.timezone})")
    else:
        st.caption(f":material/sync: Updated {now} ({s.timezone}) · refreshes every {s.refresh_seconds:g} s")
