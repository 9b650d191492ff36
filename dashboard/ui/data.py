"""Cached accessors and the database guard: the only place pages get data from.

The engine is a cached resource per database URL; query results are cached through :mod:`dashboard.ui.cache`
(named by what they read, refreshed at once by a write of it, else after their lifetime) so reruns from widget
clicks cost nothing while live data stays fresh.
"""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

import streamlit as st
from sqlalchemy import Engine

from dashboard import errors
from dashboard.charts.hub_map import hub_spoke_map
from dashboard.db import make_engine, ping, schema_ready
from dashboard.domain.access import Viewer
from dashboard.domain.vocabulary import window_bounds
from dashboard.queries.kpis import list_units
from dashboard.queries.meta import DEMO, dataset
from dashboard.queries.overview import OverviewData, load_overview
from dashboard.settings import get_settings
from dashboard.ui import cache


# Not data, so not in dashboard.ui.cache: the connection pool, one per URL and pool size for the process's life
# (no write makes it stale, and clearing it would drop connections other sessions are using).
@st.cache_resource(show_spinner=False)
def engine_for(url: str, pool_size: int) -> Engine:
    return make_engine(url, pool_size=pool_size)


def engine() -> Engine:
    s = get_settings()
    return engine_for(s.database_url, s.pool_size)


safe_url = errors.safe_url  # the URL without its password, for messages

RETRY_SECONDS = 3.0  # while the database is away, the banner tries it this often and reruns the app when it answers
_RECOVERABLE = {"unreachable", "cannot_open", "locked", "busy"}  # faults that end by themselves
_WAITING = "_db_waiting_first_run"


def _check() -> tuple[str | None, BaseException | None]:
    """(message, exception): (None, None) when the database is reachable and set up."""
    url = get_settings().database_url
    try:
        eng = engine()
        ping(eng)
        if not schema_ready(eng):
            return (
                f"The database at `{safe_url(url)}` has no tables yet. Create them and load the demo "
                "organisation with `make run`, or run `python -m loaders init` then `python -m loaders demo`.",
                None,
            )
    except errors.DATABASE_ERRORS as exc:
        return errors.explain(exc, url=url), exc
    return None, None


def database_problem() -> str | None:
    """None when the database is reachable and set up, else a message saying what to do."""
    return _check()[0]


def require_database() -> None:
    """Show a banner and stop the page when the database is missing, unreachable or empty of schema."""
    problem, exc = _check()
    if exc is not None:
        database_unavailable(exc)
    if problem:
        st.error(problem, icon=":material/database_off:")
        st.stop()


NO_ORGANISATION = ("No organisation loaded yet. Load the demo organisation with `make run` (or "
                   "`python -m loaders demo`), or import your own units, KPIs and work items.")


def no_organisation() -> NoReturn:
    """The one empty state of every page that needs units, then stop the page."""
    st.info(NO_ORGANISATION, icon=":material/inbox:")
    st.stop()


def database_unavailable(exc: BaseException, where=None) -> NoReturn:
    """The banner for a database that failed while the page read it (never a traceback), then stop the page.

    When the fault can end by itself (the server restarting, a lock, a file system coming back) a small
    fragment tries the database every :data:`RETRY_SECONDS` and reruns the whole app once it answers, so the
    page comes back without a reload. ``where`` is a placeholder to put the banner in (the page's top)."""
    recoverable = errors.kind(exc) in _RECOVERABLE
    message = errors.explain(exc, url=get_settings().database_url)
    message += (f" This page tries again every {RETRY_SECONDS:g} s and comes back by itself."
                if recoverable else " Reload the page to try again.")
    with (where.container() if where is not None else st.container()):
        st.error(message, icon=":material/database_off:")
        if recoverable:
            st.session_state[_WAITING] = True
            _wait_for_database()
    st.stop()


@st.fragment(run_every=RETRY_SECONDS)
def _wait_for_database() -> None:
    if st.session_state.pop(_WAITING, False):  # the run that just failed: try again on the next tick
        return
    if database_problem() is None:
        st.rerun(scope="app")
    st.caption(f"Still waiting for the database · last try {dt.datetime.now(get_settings().tz):%H:%M:%S}")


def write_failed(exc: BaseException, kept: str = errors.KEPT_INPUT) -> None:
    """A write the database refused or lost: say why and what was kept (the form keeps its contents)."""
    st.error(errors.explain(exc, url=get_settings().database_url, kept=kept), icon=":material/database_off:")


def current_bounds(window: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a window ending now, in the viewer's zone for "today"."""
    return window_bounds(window, dt.datetime.now(dt.UTC), get_settings().tz)


@cache.reads("items", "units", "kpis", max_entries=64)
def overview(viewer: Viewer, window: str) -> OverviewData:
    s = get_settings()
    with engine().connect() as conn:
        return load_overview(conn, viewer, window, dt.datetime.now(dt.UTC), s.tz)


@cache.reads("items", "units", "kpis", shared=True, max_entries=64)
def overview_map(viewer: Viewer, window: str, focus: tuple[str, ...]):
    """The map figure for a window and spoke filter (building a plotly figure costs more than reading the
    rollups, so it is cached with the data it shows). A shared resource, not a per-call copy: unpickling a
    plotly Figure re-validates it (~30 ms a run, for every live tab); st.plotly_chart only reads it."""
    s = get_settings()
    ov = overview(viewer, window)
    return hub_spoke_map(ov.units, ov.flows, ov.health, sla_green=s.sla_green, sla_amber=s.sla_amber,
                         kpi_green=s.kpi_green, kpi_amber=s.kpi_amber, focus=list(focus) or None)


@cache.reads("units", max_entries=16)
def units(viewer: Viewer):
    with engine().connect() as conn:
        return list_units(conn, viewer)


@cache.reads("units", lifetime="slow", max_entries=16)
def is_demo(viewer: Viewer) -> bool:
    """Whether the generated demo organisation is loaded (its marker in ``app_meta``, written with the demo's
    units). A database that cannot answer is not called a demo: the page's own guard reports the fault."""
    try:
        with engine().connect() as conn:
            return dataset(conn, viewer) == DEMO
    except errors.DATABASE_ERRORS:
        return False
