"""Overview and spoke pages at 1M work items + 1M KPI observations on SQLite (bench_scale: 10M, PostgreSQL).

Figures (see docs/benchmarks.md):
- overview queries: ``load_overview`` uncached, per window; target <= 250 ms.
- overview / spoke warm rerun: AppTest rerun of the real page (server side, caches warm);
  floor = raw SQL time of the page's queries (7-day window) + an empty page's AppTest rerun;
  target <= 1.5 x floor and <= 250 ms.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from bench.common import Figure, best_of

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("HUBSPOKE_BENCH_DIR", tempfile.gettempdir())) / "hubspoke-bench"
EMPTY_PAGE = """
import streamlit as st
st.set_page_config(page_title="empty", layout="wide")
st.title("Empty")
"""


def _apptest_rerun(script_path: str, query: dict | None = None, page: str | None = None) -> float:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(script_path, default_timeout=120)
    if page:  # run once so switch_page resolves the page registered by st.navigation
        at.run()
        at.switch_page(page)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return best_of(lambda: at.run(), repeat=9, warmup=2)


def page_figures(url: str, label: str) -> list[Figure]:
    """Overview and spoke figures against the database at ``url``; ``label`` names it, e.g. "1M SQLite"."""
    from dashboard.db import make_engine
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.queries.overview import load_overview
    from dashboard.settings import get_settings

    engine = make_engine(url)
    tz = dt.UTC
    figures = []
    sql_time = {}

    def overview(window: str) -> None:
        with engine.connect() as conn:
            load_overview(conn, LOCAL_ADMIN, window, dt.datetime.now(tz), tz)

    try:
        for window in ("1h", "today", "7d", "30d"):
            t = best_of(lambda window=window: overview(window), repeat=5)
            sql_time[window] = t
            figures.append(Figure(f"overview queries {label} ({window})", t * 1000, "ms", None, "<= 250 ms", t <= 0.25))
        spoke_sql = best_of(lambda: _spoke_queries(engine, "sales"), repeat=5)
    finally:
        engine.dispose()

    previous = os.environ.get("DASHBOARD_DATABASE_URL")
    os.environ["DASHBOARD_DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        empty = Path(tempfile.mkdtemp()) / "empty_page.py"
        empty.write_text(EMPTY_PAGE)
        empty_t = _apptest_rerun(str(empty))
        page_t = _apptest_rerun(str(ROOT / "streamlit_app.py"), {"window": "7d"})
        floor = sql_time["7d"] + empty_t
        figures.append(Figure(f"overview warm rerun {label} (AppTest, 7d)", page_t * 1000, "ms", floor * 1000,
                              "<= 1.5 x floor and <= 250 ms", page_t <= 1.5 * floor and page_t <= 0.25))
        figures.append(Figure(f"spoke page queries {label} (sales, 7d)", spoke_sql * 1000, "ms", None, "<= 250 ms",
                              spoke_sql <= 0.25))
        spoke_t = _apptest_rerun(str(ROOT / "streamlit_app.py"), {"unit": "sales", "window": "7d"},
                                 page="pages/spoke_page.py")
        floor = spoke_sql + empty_t
        figures.append(Figure(f"spoke warm rerun {label} (AppTest, sales, 7d)", spoke_t * 1000, "ms", floor * 1000,
                              "<= 1.5 x floor and <= 250 ms", spoke_t <= 1.5 * floor and spoke_t <= 0.25))
    finally:
        if previous is None:
            os.environ.pop("DASHBOARD_DATABASE_URL", None)
        else:
            os.environ["DASHBOARD_DATABASE_URL"] = previous
        get_settings.cache_clear()
    return figures


def run() -> list[Figure]:
    from bench.bench_demo import build_bench_db

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    url = build_bench_db(BENCH_DIR / "bench-1m.db", work_items=1_000_000, kpi_observations=1_000_000)
    return page_figures(url, "1M SQLite")


def _spoke_queries(engine, unit: str) -> None:
    """The spoke page's queries, uncached, in the order the page runs them."""
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.domain.vocabulary import window_bounds
    from dashboard.queries import checks, spoke
    from dashboard.queries.kpis import kpi_trend, kpis_with_change

    now = dt.datetime.now(dt.UTC)
    start, end = window_bounds("7d", now, dt.UTC)
    with engine.connect() as conn:
        k = kpis_with_change(conn, LOCAL_ADMIN, start, end)
        kpi_trend(conn, LOCAL_ADMIN, k[k.unit_id == unit].id.tolist(), start, end, 6)
        spoke.inbox_options(conn, LOCAL_ADMIN, unit, start)
        f = spoke.InboxFilter(start=start, end=end, statuses=("new", "routed", "accepted", "handed_back"))
        spoke.inbox(conn, LOCAL_ADMIN, unit, f, now)
        spoke.inbox(conn, LOCAL_ADMIN, unit, f, now)  # the page counts, then reads the page
        spoke.flow_trend(conn, LOCAL_ADMIN, unit, start, end, 6)
        spoke.cycle_histogram(conn, LOCAL_ADMIN, unit, start, end)
        for panel in checks.unit_panels(conn, LOCAL_ADMIN, unit):
            if panel == "lead_capacity":
                checks.daily_arrivals(conn, LOCAL_ADMIN, unit, ["lead"], now - dt.timedelta(days=28), now)
            elif panel == "routed_topics":
                checks.routed_topics(conn, LOCAL_ADMIN, unit, start, end)
