"""Routing rules: replay of a draft rule set over 30 days at 1M items (target <= 5 s).

Figures:
- routing replay 30 d at 1M items: ``dashboard.whatif.replay.replay`` (which runs ``route_frame`` over every
  item, then counts volume, backlog, moves and observed SLA and runs the Erlang C estimate per spoke) of a
  realistic 10-rule set over 1,000,000 hub-sourced demo items spread over 30 days. The items are the
  hub-sourced rows of ``loaders.demo.generate(work_items=1_600_000, days=30, kpi_observations=0)`` (about
  1.06M of them; the spoke -> hub requests are not routable), sampled down to exactly 1,000,000 with a fixed
  seed, keeping the 30-day spread; ``due_at`` = created_at + sla_hours, and a ``segment`` column is added
  (80 % consumer, 20 % business) when the demo does not provide one. Target <= 5 s. Floor, same frame,
  same run: the irreducible vectorised work — ``pd.factorize`` of the text column plus ``value_counts`` of
  the target column (one pass over the text and one over the target, which any replay must do).
- routing replay, all-unique texts (worst case): the same with every text made unique by appending the row
  number (missing texts become the row number), so folding and regex matching run once per row instead of
  once per distinct text. Reported for context (no target); floor as above on that frame.

- routing replay end to end from the database: what the Replay tab does on the 1M-item bench database
  (SQLite, ``bench_demo.ensure_bench_db``: 1M demo items over 90 days, about 230k of them hub-sourced in the
  last 30 days) — ``queries.routing.replay_items`` + ``replay_staffing`` for 30 days, then ``replay`` of the
  demo's active rule set. Floor, same run: the raw driver read of the same rows (one ``SELECT`` of the same
  columns and ``fetchall``, no conversion), which any replay from the database must pay. Target <= 5 s.

Median of 3 runs after one warm-up run (the warm-up compiles the rules' regular expressions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.common import Figure, best_of

ITEMS = 1_000_000
DAYS = 30
TARGET_S = 5.0


def rule(id: str, name: str, target: str, **conditions) -> dict:
    return {"id": id, "name": name, "target_unit": target, **conditions}


# The demo's routes as rules: purchase intent -> sales, complaints -> customer service, jobs -> hr (before the
# purchase rule: "Is the customer service role still open?" is a jobs question), reports -> finance,
# insights -> product, promotion notices -> customer service; one regular expression.
RULES = {
    "rules": [
        rule("jobs", "Hiring questions", "hr", kinds=["mention"],
             keywords=["hiring", "internship", "apply", "role", "work on your"], sla_hours=24),
        rule("purchase-intent", "Purchase intent", "sales", kinds=["mention"],
             keywords=["where to buy", "in stock", "worth it", "discount codes", "discount"], priority="high",
             sla_hours=2),
        rule("complaint-mentions", "Complaints on social", "customer_service", kinds=["mention"],
             pattern=r"\b(?:stopped working|refund|late|damaged|disappointed|nobody answers)\b", sla_hours=4),
        rule("business-leads", "Business leads", "sales", kinds=["lead"], segments=["business"], priority="high",
             sla_hours=2),
        rule("leads", "Leads", "sales", kinds=["lead"], sla_hours=4),
        rule("complaints", "Complaints", "customer_service", kinds=["complaint"], sla_hours=8),
        rule("promotions", "Promotion notices", "customer_service", kinds=["promotion_notice"], priority="low",
             sla_hours=24),
        rule("reports", "Finance reports", "finance", kinds=["report"], topics=["budget", "revenue"], sla_hours=48),
        rule("insights", "Product insights", "product", kinds=["insight"], sla_hours=72),
        rule("legacy-web", "Web forms (retired)", "sales", channels=["web"], enabled=False),
    ],
    "default": {"target_unit": None},
}


def build_items(n: int = ITEMS, days: int = DAYS):
    """1M hub-sourced demo items over ``days`` days, the spokes' staffing and ``now``."""
    from loaders import demo

    data = demo.generate(work_items=int(n * 1.6), days=days, kpi_observations=0)
    items = data.work_items
    items = items[items.source_unit == "hub"]
    if len(items) < n:
        raise RuntimeError(f"only {len(items):,} hub-sourced items generated, {n:,} needed")
    rng = np.random.default_rng(9)
    keep = np.sort(rng.choice(len(items), n, replace=False))
    items = items.iloc[keep].reset_index(drop=True)
    items["due_at"] = items.created_at + pd.to_timedelta(items.sla_hours, unit="h")
    if "segment" not in items:
        items["segment"] = np.where(rng.random(n) < 0.8, "consumer", "business").astype(object)
    units = pd.DataFrame(data.units)
    spokes = units[units.kind == "spoke"].rename(columns={"id": "unit"})
    # service rate: the observed items per day at each spoke spread over 85 % of its people (busy but stable)
    per_day = items.target_unit.value_counts() / days
    staffing = pd.DataFrame({
        "unit": spokes.unit.to_numpy(), "name": spokes.name.to_numpy(), "headcount": spokes.headcount.to_numpy(),
        "service_rate_per_fte_day": (spokes.unit.map(per_day).fillna(1.0) / (spokes.headcount * 0.85)).to_numpy(),
    })
    return items, staffing, data.now


def _floor(items: pd.DataFrame) -> None:
    pd.factorize(items["text"])
    items["target_unit"].value_counts(dropna=False)


def _measure(label: str, rule_set, items: pd.DataFrame, staffing: pd.DataFrame, now, target: float | None) -> Figure:
    from dashboard.whatif.replay import replay

    result = replay(rule_set, items, staffing, now=now, days=DAYS)  # warm-up, and a sanity check
    assert result.total == len(items) and result.per_spoke.items_draft.sum() == len(items)
    t = best_of(lambda: replay(rule_set, items, staffing, now=now, days=DAYS), repeat=3, warmup=0)
    floor = best_of(lambda: _floor(items), repeat=3, warmup=1)
    name = (f"{label} ({len(items):,} hub items over {DAYS} d, {len(rule_set.rules)} rules, "
            f"{result.changed:,} moved, {result.unrouted:,} unrouted; "
            "floor = factorize text + value_counts target)")
    if target is None:
        return Figure(name, t, "s", floor, "- (context)", True)
    return Figure(name, t, "s", floor, f"<= {target:g} s", t <= target)


def _from_database() -> Figure:
    import datetime as dt

    from sqlalchemy import select

    from bench.bench_demo import BENCH_DIR, ensure_bench_db
    from dashboard import store
    from dashboard.db import make_engine, work_items
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.queries import routing as q
    from dashboard.services.autoroute import active_rule_set
    from dashboard.whatif.replay import replay

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    url, _ = ensure_bench_db(BENCH_DIR / "bench-1m.db", work_items=1_000_000, kpi_observations=1_000_000)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            now = dt.datetime.fromisoformat(store.get_meta(conn, "demo_now"))
            rule_set = active_rule_set(conn)
        start = now - dt.timedelta(days=DAYS)

        def tab() -> int:
            with engine.connect() as conn:
                items = q.replay_items(conn, LOCAL_ADMIN, start, now)
                staffing = q.replay_staffing(conn, LOCAL_ADMIN, start, now)
            return replay(rule_set, items, staffing, now=now, days=DAYS, hub_id="hub").total

        def raw() -> None:
            wi = work_items.c
            cols = [wi[c] for c in q.REPLAY_COLUMNS if c in wi]
            with engine.connect() as conn:
                conn.execute(select(*cols).where(wi.source_unit == "hub", wi.created_at >= start,
                                                 wi.created_at < now)).fetchall()

        n = tab()
        t = best_of(tab, repeat=3, warmup=0)
        floor = best_of(raw, repeat=3, warmup=1)
    finally:
        engine.dispose()
    name = (f"routing replay end to end from the database (SQLite, 1M items, last {DAYS} d = {n:,} hub items, "
            "read + staffing + replay; floor = raw SELECT of the same rows)")
    return Figure(name, t, "s", floor, f"<= {TARGET_S:g} s", t <= TARGET_S)


def run() -> list[Figure]:
    from dashboard.domain.routing import parse_rule_set

    rule_set = parse_rule_set(RULES)
    items, staffing, now = build_items()
    figures = [_measure("routing replay 30 d at 1M items", rule_set, items, staffing, now, TARGET_S)]
    numbers = pd.Series(np.arange(len(items)).astype(str), index=items.index)
    items["text"] = items["text"].fillna("").astype(object) + " #" + numbers
    figures.append(_measure("routing replay 30 d at 1M items, all-unique texts (worst case)",
                            rule_set, items, staffing, now, None))
    del items
    figures.append(_from_database())
    return figures


if __name__ == "__main__":
    for fig in run():
        print(fig.line())
