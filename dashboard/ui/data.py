"""Cached accessors and the database guard: the only place pages get data from.

The engine is a cached resource per database URL; query results are cached through :mod:`dashboard.ui.cache`
(named by what they read, refreshed at once by a write of it, else after their lifetime) so reruns from widget
clicks cost nothing while live data stays fresh.
"""

from __future__ import annotations

import datetime as dt
import threading
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
from dashboard.queries.overview import OverviewData, load_overview, overview_scope
from dashboard.settings import get_settings
from dashboard.ui import cache
from dashboard.ui.map_click import map_key
from dashboard.ui.widgets import trend_series


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


MAPS_PER_OVERVIEW = 32  # spoke filters whose maps one shared overview keeps (the whole map is always kept)


class LiveOverview:
    """One scope's overview of one window with its maps, computed once and shared read-only by every session that
    sees that scope (:func:`dashboard.queries.overview.overview_scope`): the data, the tiles' trend series, the whole map (built with the
    data, so a refresh in the background builds it off the sessions' path) and, on first use, the map of each spoke
    filter, each with its widget key. Nothing here may be changed by a reader."""

    def __init__(self, data: OverviewData, settings) -> None:
        self.data = data
        self.series = trend_series(data.trends)  # each goal tile's sparkline points (kpi_tile takes them as they are)
        self._thresholds = dict(sla_green=settings.sla_green, sla_amber=settings.sla_amber,
                                kpi_green=settings.kpi_green, kpi_amber=settings.kpi_amber)
        self._maps: dict[tuple[str, ...], tuple[object, str]] = {}
        self._lock = threading.Lock()
        self.map(())

    def map(self, focus: tuple[str, ...] = ()) -> tuple[object, str]:
        """(figure, widget key) of the map of the spokes ``focus`` (all: empty), built once (a second session
        asking meanwhile waits for it) from this overview's data, so the map always matches the tiles beside it."""
        focus = tuple(focus)
        with self._lock:
            got = self._maps.get(focus)
            if got is None:
                ov = self.data
                figure = hub_spoke_map(ov.units, ov.flows, ov.health, focus=list(focus) or None, **self._thresholds)
                got = (figure, map_key(figure))
                if len(self._maps) > MAPS_PER_OVERVIEW:  # forget the oldest filter's map, never the whole map
                    del self._maps[next(k for k in self._maps if k)]
                self._maps[focus] = got
            return got


@cache.reads("items", "units", "kpis", shared=True, refresh="background", max_entries=64)
def _live_overview(scope: Viewer, window: str) -> LiveOverview:
    """Computed once per scope, window and lifetime for every session of the process; when it expires, the
    session that notices gets the last one while one recomputation runs in the background (``cache.reads``)."""
    s = get_settings()
    with engine().connect() as conn:
        data = load_overview(conn, scope, window, dt.datetime.now(dt.UTC), s.tz)
    return LiveOverview(data, s)


def live_overview(viewer: Viewer, window: str) -> LiveOverview:
    """The overview ``viewer`` sees for ``window``: their scope's, shared with everyone of that scope."""
    return _live_overview(overview_scope(viewer), window)


def overview(viewer: Viewer, window: str) -> OverviewData:
    return live_overview(viewer, window).data


def overview_map(viewer: Viewer, window: str, focus: tuple[str, ...]):
    """The map figure for a window and spoke filter, built once per shared overview (a shared object, not a copy:
    st.plotly_chart only reads it)."""
    return live_overview(viewer, window).map(focus)[0]


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
