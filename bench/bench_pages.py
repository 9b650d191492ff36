"""Overview and spoke pages at 1M work items + 1M KPI observations on SQLite (bench_scale: 10M, PostgreSQL).

Figures (see docs/benchmarks.md):
- overview queries: ``load_overview`` uncached, per window; target <= 250 ms.
- spoke page queries: every query a cold spoke page (sales) runs, uncached, in its order and with its arguments,
  per window; target <= 250 ms.
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
        spoke_sql = {}
        for window in ("1h", "today", "7d", "30d"):
            spoke_sql[window] = best_of(lambda window=window: _spoke_queries(engine, "sales", window), repeat=5)
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
        for window, t in spoke_sql.items():
            figures.append(Figure(f"spoke page queries {label} (sales, {window})", t * 1000, "ms", None, "<= 250 ms",
                                  t <= 0.25))
        spoke_t = _apptest_rerun(str(ROOT / "streamlit_app.py"), {"unit": "sales", "window": "7d"},
                                 page="pages/spoke_page.py")
        floor = spoke_sql["7d"] + empty_t
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


def _spoke_queries(engine, unit: str, window: str) -> None:
    """The spoke page's queries, uncached, in the order the page runs them and with its arguments
    (pages/spoke_page.py, dashboard/ui/spoke_view.py, dashboard/ui/panels.py)."""
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.domain.vocabulary import OPEN_STATUSES, window_bounds
    from dashboard.queries import checks, spoke
    from dashboard.queries.kpis import kpi_trend, kpis_with_change
    from dashboard.queries.overview import TREND_BUCKET_HOURS

    now = dt.datetime.now(dt.UTC)
    start, end = window_bounds(window, now, dt.UTC)
    with engine.connect() as conn:
        k = kpis_with_change(conn, LOCAL_ADMIN, start, end)
        kpi_trend(conn, LOCAL_ADMIN, k[k.unit_id == unit].id.tolist(), start, end, 24 if window == "30d" else 6)
        spoke.inbox_options(conn, LOCAL_ADMIN, unit, dt.datetime.combine(start.date(), dt.time(), dt.UTC))
        f = spoke.InboxFilter(start=start, end=end, statuses=tuple(s.value for s in OPEN_STATUSES))
        spoke.inbox_count(conn, LOCAL_ADMIN, unit, f)  # the page counts, then reads the page
        spoke.inbox(conn, LOCAL_ADMIN, unit, f, now)
        spoke.flow_trend(conn, LOCAL_ADMIN, unit, start, end, TREND_BUCKET_HOURS[window])
        spoke.cycle_histogram(conn, LOCAL_ADMIN, unit, start, end)
        for panel in checks.unit_panels(conn, LOCAL_ADMIN, unit):
            if panel == "lead_capacity":
                checks.unit_row(conn, LOCAL_ADMIN, unit)
                checks.daily_arrivals(conn, LOCAL_ADMIN, unit, ["lead"], now - dt.timedelta(days=28), now)
            elif panel == "routed_topics":
                checks.routed_topics(conn, LOCAL_ADMIN, unit, start, end)
            elif panel == "promotions":
                checks.promotions_with_volume(conn, LOCAL_ADMIN, unit, now)
