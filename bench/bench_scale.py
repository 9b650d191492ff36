"""Proof at scale: the overview and spoke pages at 10M work items on SQLite, and at 1M and 10M on
PostgreSQL, with the time each demo takes to load.

The PostgreSQL databases live in one local server kept in the benchmark folder ($TMPDIR/hubspoke-bench/pg,
started on a free port for the run and stopped after it), so a load is reused while it is recent (see
bench.bench_demo: six hours, at the current schema). Figures per database: the overview's uncached queries
per window, the overview and spoke warm reruns (AppTest) against their floor = raw SQL of the page's queries
+ an empty page's rerun (``bench.bench_pages.page_figures``). Loads: items per second for the whole demo
(generate, write, indexes, rollups, commit), against the demo's ≥ 100k items/s target.

``python -m bench.bench_scale [--items N]`` runs it alone (default 10,000,000).
"""

from __future__ import annotations

import argparse

from bench.bench_demo import BENCH_DIR, build_bench_postgres, ensure_bench_db
from bench.bench_pages import page_figures
from bench.common import Figure

TEN_M = 10_000_000
OBSERVATIONS = 1_000_000
TARGET_RATE = 100_000


def _size(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n:,}"


def _load_figure(label: str, items: int, seconds: float | None) -> list[Figure]:
    if seconds is None:
        return []  # reused from an earlier run: nothing was loaded now
    rate = items / seconds
    return [Figure(f"demo load {label} ({seconds:.0f} s)", rate, "items/s", None, f">= {TARGET_RATE:,} items/s",
                   rate >= TARGET_RATE)]


def sqlite_figures(items: int) -> list[Figure]:
    url, summary = ensure_bench_db(BENCH_DIR / f"bench-{_size(items).lower()}.db", items, OBSERVATIONS)
    figures = _load_figure(f"{_size(items)} items SQLite", items, summary and summary.seconds)
    return figures + page_figures(url, f"{_size(items)} SQLite")


def postgres_figures(sizes: list[int]) -> list[Figure]:
    from loaders.localpg import LocalPostgres, free_port

    server = LocalPostgres(BENCH_DIR / "pg", free_port(), durable=False)
    server.start()
    figures: list[Figure] = []
    try:
        for items in sizes:
            url = server.create_database(f"bench_{_size(items).lower().replace(',', '')}")
            summary = build_bench_postgres(url, work_items=items, kpi_observations=OBSERVATIONS)
            figures += _load_figure(f"{_size(items)} items PostgreSQL", items, summary and summary.seconds)
            figures += page_figures(url, f"{_size(items)} PostgreSQL")
    finally:
        server.stop()
    return figures


def run(items: int = TEN_M) -> list[Figure]:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    return sqlite_figures(items) + postgres_figures(sorted({1_000_000, items}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=TEN_M)
    for fig in run(parser.parse_args().items):
        print(fig.line(), flush=True)
