"""Cached accessors and the database guard: the only place pages get data from.

The engine is a cached resource per database URL; query results are cached with a short ttl
(``DASHBOARD_CACHE_TTL_SECONDS``) so reruns from widget clicks cost nothing while live data stays fresh.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dashboard.charts.hub_map import hub_spoke_map
from dashboard.db import make_engine, ping, schema_ready
from dashboard.domain.access import Viewer
from dashboard.domain.vocabulary import window_bounds
from dashboard.queries.kpis import list_units
from dashboard.queries.overview import OverviewData, load_overview
from dashboard.settings import get_settings


@st.cache_resource(show_spinner=False)
def engine_for(url: str, pool_size: int) -> Engine:
    return make_engine(url, pool_size=pool_size)


def engine() -> Engine:
    s = get_settings()
    return engine_for(s.database_url, s.pool_size)


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL is shown as-is minus anything after '@'
        return url.split("@")[-1]


def database_problem() -> str | None:
    """None when the database is reachable and set up, else a message saying what to do."""
    url = get_settings().database_url
    try:
        eng = engine()
        ping(eng)
        if not schema_ready(eng):
            return (
                f"The database at `{safe_url(url)}` has no tables yet. Create them and load the demo "
                "organisation with `make run`, or run `python -m loaders init` then `python -m loaders demo`."
            )
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        return (
            f"Cannot reach the database at `{safe_url(url)}` ({reason}). Check that it is running and that "
            "`DASHBOARD_DATABASE_URL` points at it; for the built-in SQLite demo run `make run`."
        )
    return None


def require_database() -> None:
    """Show a banner and stop the page when the database is missing, unreachable or empty of schema."""
    problem = database_problem()
    if problem:
        st.error(problem, icon=":material/database_off:")
        st.stop()


def current_bounds(window: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a window ending now, in the viewer's zone for "today"."""
    return window_bounds(window, dt.datetime.now(dt.timezone.utc), get_settings().tz)


def _ttl() -> float:
    return get_settings().cache_ttl_seconds


@st.cache_data(ttl=_ttl(), show_spinner=False, max_entries=64)
def overview(url: str, viewer: Viewer, window: str) -> OverviewData:
    s = get_settings()
    return load_overview(engine(), viewer, window, dt.datetime.now(dt.timezone.utc), s.tz)


@st.cache_data(ttl=_ttl(), show_spinner=False, max_entries=64)
def overview_map(url: str, viewer: Viewer, window: str, focus: tuple[str, ...]):
    """The map figure for a window and spoke filter (building a plotly figure costs more than reading the
    rollups, so it is cached with the data it shows)."""
    s = get_settings()
    ov = overview(url, viewer, window)
    return hub_spoke_map(ov.units, ov.flows, ov.health, sla_green=s.sla_green, sla_amber=s.sla_amber,
                         kpi_green=s.kpi_green, kpi_amber=s.kpi_amber, focus=list(focus) or None)


@st.cache_data(ttl=_ttl(), show_spinner=False, max_entries=16)
def units(url: str, viewer: Viewer):
    with engine().connect() as conn:
        return list_units(conn, viewer)
