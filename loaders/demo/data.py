"""The whole demo organisation as data (:class:`DemoData`), generated from one seed and anchored at ``now``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dashboard.domain.vocabulary import ItemKind
from loaders.demo.campaigns import generate_campaigns, generate_promotions
from loaders.demo.clock import DAY_US, US, UTC, anchor_us
from loaders.demo.cycle import generate_cycle, generate_maturity
from loaders.demo.items import generate_work_items
from loaders.demo.journeys import generate_journeys
from loaders.demo.kpis import generate_kpis, generate_observations
from loaders.demo.organisation import UNITS, UnitSpec
from loaders.demo.rules import rule_set_rows
from loaders.spec import DATASET

DEFAULT_SEED = 7
DEFAULT_WORK_ITEMS = 150_000
DEFAULT_KPI_OBSERVATIONS = 60_000
DEFAULT_DAYS = 90


@dataclass
class DemoData:
    """Everything the demo writes, as plain rows and frames (no I/O), so tests can compare two runs."""

    seed: int
    now: dt.datetime
    days: int
    units: list[dict]
    kpis: list[dict]
    campaigns: list[dict]
    work_items: pd.DataFrame
    kpi_observations: pd.DataFrame
    meta: dict[str, str] = field(default_factory=dict)
    promotions: list[dict] = field(default_factory=list)
    journeys: pd.DataFrame | None = None  # id, started_at, converted_at, revenue (work_items.journey_id refers to it)
    rule_sets: list[dict] = field(default_factory=list)  # routing_rule_sets rows, the archived one first
    maturity: list[dict] = field(default_factory=list)  # maturity_assessments rows
    target_model: dict | None = None  # the current target_models row
    planned_changes: list[dict] = field(default_factory=list)  # its planned_changes (target_model_id set on write)


def generate(*, seed: int = DEFAULT_SEED, now: dt.datetime | None = None, work_items: int = DEFAULT_WORK_ITEMS,
             kpi_observations: int = DEFAULT_KPI_OBSERVATIONS, days: int = DEFAULT_DAYS) -> DemoData:
    """The whole demo organisation as data; deterministic in (seed, now, sizes)."""
    if work_items < 0 or kpi_observations < 0 or days < 1:
        raise ValueError("sizes must be non-negative and days at least 1")
    now_us = anchor_us(now)
    rng = np.random.default_rng(seed)
    items = generate_work_items(rng, work_items, now_us, days)
    kpi_rows = generate_kpis(items, days)
    observations = generate_observations(rng, kpi_rows, items, kpi_observations, now_us, days)
    journey_rows, items["journey_id"] = generate_journeys(np.random.default_rng([seed, 9]), items, now_us)
    unit_rows = [dict(id=u.id, name=u.name, kind=u.kind.value, headcount=float(u.headcount), cost_per_fte=float(u.cost_per_fte),
                      description=u.description, sort_order=i, panels=u.panels,
                      capacity_per_fte_day=_sales_capacity(items, u, now_us)) for i, u in enumerate(UNITS)]
    anchored = dt.datetime.fromtimestamp(now_us / US, tz=UTC)
    meta = {"dataset": DATASET, "demo_seed": str(seed), "demo_now": anchored.isoformat(), "demo_days": str(days),
            "demo_work_items": str(len(items)), "demo_kpi_observations": str(len(observations))}
    target_model, planned_changes = generate_cycle(now_us)
    return DemoData(seed=seed, now=anchored, days=days, units=unit_rows, kpis=kpi_rows,
                    campaigns=generate_campaigns(rng, now_us, days), work_items=items,
                    kpi_observations=observations, meta=meta, promotions=generate_promotions(items, now_us),
                    journeys=journey_rows, rule_sets=rule_set_rows(now_us), maturity=generate_maturity(now_us),
                    target_model=target_model, planned_changes=planned_changes)


def _sales_capacity(items: pd.DataFrame, unit: UnitSpec, now_us: int) -> float | None:
    """Leads one sales rep can work per day, set so the last week's leads use ~85 % of the team: the lead
    capacity check then shows a team close to its limit whose growing lead flow crosses it within weeks."""
    if unit.id != "sales" or items.empty:
        return None
    created = pd.to_datetime(items.created_at, utc=True)
    recent = (items.kind == ItemKind.LEAD.value) & (items.target_unit == "sales") & (
        created >= pd.Timestamp(now_us - 7 * DAY_US, unit="us", tz=UTC))
    per_day = max(float(recent.sum()) / 7.0, 1.0)
    return round(per_day / (unit.headcount * 0.85), 2)
