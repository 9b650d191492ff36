"""Loading the demo: replace an earlier demo (or, forced, any data) by the generated one in one transaction.

Every write goes through :mod:`dashboard.store` (rollups move with the rows): clearing the tables the demo owns,
units, KPIs, campaigns, promotions, routing rule sets, maturity assessments, the target model and its planned
changes, work items, journeys, observations and app_meta. Only VACUUM ANALYZE (maintenance) is issued here.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection, Engine, exists, select

from dashboard import store
from dashboard.db import (
    campaigns,
    flow_hourly,
    journeys,
    kpi_hourly,
    kpi_observations,
    kpis,
    maturity_assessments,
    mix_hourly,
    planned_changes,
    promotions,
    routing_rule_sets,
    target_models,
    text_hourly,
    units,
    work_items,
)
from loaders.demo.data import (
    DEFAULT_DAYS,
    DEFAULT_KPI_OBSERVATIONS,
    DEFAULT_SEED,
    DEFAULT_WORK_ITEMS,
    DemoData,
    generate,
)
from loaders.spec import DATASET


class DemoRefused(RuntimeError):
    """The database holds data that is not the demo; replacing it needs ``force``."""


@dataclass(frozen=True)
class DemoSummary:
    units: int
    kpis: int
    work_items: int
    kpi_observations: int
    campaigns: int
    replaced: str | None  # what was there before: "demo", "other data" or None for an empty database
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step, for benchmarks
    journeys: int = 0
    rule_sets: int = 0
    assessments: int = 0
    planned_changes: int = 0

    def line(self) -> str:
        what = {None: "loaded", "demo": "replaced the earlier demo with",
                "other data": "replaced existing data with"}[self.replaced]
        rate = f", {self.work_items / self.seconds:,.0f} items/s" if self.seconds > 0 else ""
        return (f"demo: {what} {self.units} units, {self.kpis} KPIs, {self.work_items:,} work items, "
                f"{self.kpi_observations:,} KPI observations, {self.campaigns} campaign weeks, "
                f"{self.journeys:,} customer journeys, {self.rule_sets} routing rule sets, "
                f"{self.assessments} maturity assessments, {self.planned_changes} planned changes "
                f"in {self.seconds:.1f} s{rate}")


class _Stopwatch:
    """Seconds per named step (generation, items, observations, commit), so a benchmark can split a load."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + now - self._last
        self._last = now


OWNED_TABLES = (planned_changes, target_models, maturity_assessments, routing_rule_sets, journeys, promotions,
                kpi_hourly, flow_hourly, mix_hourly, text_hourly, kpi_observations, work_items, campaigns, kpis, units)  # children first


def existing_dataset(conn: Connection) -> str | None:
    """'demo' if the demo owns the data, 'other data' if anything else is loaded, None when empty."""
    has_rows = any(conn.execute(select(exists().select_from(t))).scalar() for t in OWNED_TABLES)
    if not has_rows:
        return None
    return DATASET if store.get_meta(conn, "dataset") == DATASET else "other data"


def _clear(conn: Connection) -> None:
    """The owned tables emptied (TRUNCATE on PostgreSQL, but units: the users table refers to them) and the
    demo's own app_meta keys deleted."""
    store.clear_tables(conn, OWNED_TABLES)
    store.delete_meta_like(conn, "demo_%")


def write_demo(conn: Connection, data: DemoData, *, force: bool = False,
               stopwatch: _Stopwatch | None = None) -> DemoSummary:
    """Replace the demo (or, with ``force``, any data) by ``data`` inside the caller's transaction."""
    watch = stopwatch or _Stopwatch()
    before = existing_dataset(conn)
    if before == "other data" and not force:
        raise DemoRefused(
            "the database already holds data that is not the demo; "
            "re-run with --force to replace it with the demo (this deletes units, KPIs, work items and observations)"
        )
    _clear(conn)
    store.upsert_units(conn, data.units)
    store.upsert_kpis(conn, data.kpis)
    store.upsert_campaigns(conn, data.campaigns)
    store.insert_promotions(conn, data.promotions)
    _write_cycle(conn, data)
    watch.lap("clear_and_reference")
    n_items = store.insert_work_items(conn, data.work_items, batch_size=200_000)
    n_journeys = store.insert_journeys(conn, data.journeys) if data.journeys is not None else 0
    watch.lap("work_items")
    n_obs = store.insert_kpi_observations(conn, data.kpi_observations, batch_size=200_000, check_existing=False)
    for key, value in data.meta.items():
        store.set_meta(conn, key, value)
    watch.lap("kpi_observations")
    return DemoSummary(units=len(data.units), kpis=len(data.kpis), work_items=n_items, kpi_observations=n_obs,
                       campaigns=len(data.campaigns), replaced=before, phases=watch.phases, journeys=n_journeys,
                       rule_sets=len(data.rule_sets), assessments=len(data.maturity),
                       planned_changes=len(data.planned_changes))


def _write_cycle(conn: Connection, data: DemoData) -> None:
    """Routing rule sets (a draft or a later one is based on the one before), assessments, the target model and
    its planned changes."""
    store.insert_rule_sets(conn, data.rule_sets)
    store.insert_assessments(conn, data.maturity)
    if data.target_model is not None:
        model_id = store.insert_target_model(conn, **data.target_model)
        store.insert_planned_change_rows(conn, model_id, data.planned_changes)


def load_demo(engine: Engine, *, seed: int = DEFAULT_SEED, now: dt.datetime | None = None,
              work_items: int = DEFAULT_WORK_ITEMS, kpi_observations: int = DEFAULT_KPI_OBSERVATIONS,
              days: int = DEFAULT_DAYS, force: bool = False) -> DemoSummary:
    """Generate and load the demo in ONE transaction: readers see the old data or the new, never a mix."""
    started = time.perf_counter()
    watch = _Stopwatch()
    data = generate(seed=seed, now=now, work_items=work_items, kpi_observations=kpi_observations, days=days)
    watch.lap("generate")
    with engine.begin() as conn:
        summary = write_demo(conn, data, force=force, stopwatch=watch)
    watch.lap("commit")
    if engine.dialect.name == "postgresql":  # statistics and the visibility map now, not when autovacuum
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # gets round to it:
            for table in ("work_items", "kpi_observations", "flow_hourly", "kpi_hourly", "mix_hourly", "text_hourly"):  # 3 s at 10M items;
                conn.exec_driver_sql(f"VACUUM ANALYZE {table}")  # the backlog query is 5x faster after it
        watch.lap("vacuum_analyze")
    return replace(summary, seconds=time.perf_counter() - started, phases=watch.phases)
