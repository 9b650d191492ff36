"""The demo's KPIs: their tree and targets, and a series of observations per KPI shaped by its spec (the leads KPI
is counted from the lead flow).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from dashboard.domain.kpi_ranges import is_share
from dashboard.domain.vocabulary import Aggregation, Direction, ItemKind
from loaders.demo.clock import DAY_US, HOUR_US, US, to_timestamps
from loaders.demo.organisation import PROFILES, hour_weights
from loaders.spec import DERIVED_KPIS, const


@dataclass(frozen=True)
class KpiSpec:
    """A KPI and how its demo series behaves: ``ratio`` is level / target at the start and end of the period.

    For ``sum`` KPIs the target is per day (see dashboard.queries.kpis). Whether a KPI ends on target follows
    from ``ratio[1]`` and ``direction``; margins are wide enough that noise does not flip a 7-day window.
    """

    id: str
    unit_id: str
    name: str
    unit_of_measure: str
    target: float
    direction: Direction
    aggregation: Aggregation
    parent_id: str | None
    is_goal: bool
    cadence: Literal["fast", "daily"]
    ratio: tuple[float, float]
    noise: float
    description: str = ""


H, L = Direction.HIGHER, Direction.LOWER
SUM, MEAN, LAST = Aggregation.SUM, Aggregation.MEAN, Aggregation.LAST
KPIS: tuple[KpiSpec, ...] = (
    KpiSpec("revenue", "sales", "Revenue", "EUR", 120_000, H, SUM, None, True, "fast", (0.97, 1.07), 0.25,
            "The shared goal every unit contributes to."),
    KpiSpec("conversion_rate", "sales", "Conversion rate", "%", 3.5, H, MEAN, "revenue", True, "fast", (0.86, 0.93), 0.06,
            "Share of qualified leads that buy."),
    KpiSpec("leads", "sales", "Qualified leads", "count", 0, H, SUM, "revenue", True, "fast", (1.0, 1.0), 0.0,
            "Leads the hub hands to Sales (counted from the lead flow)."),
    KpiSpec("marketing_cost", "hub", "Marketing cost", "EUR", 9_000, L, SUM, "revenue", True, "fast", (0.99, 0.9), 0.2,
            "Media spend and agency fees; lower is better."),
    KpiSpec("average_order_value", "sales", "Average order value", "EUR", 240, H, MEAN, "revenue", False, "fast", (1.0, 1.06), 0.05),
    KpiSpec("win_rate", "sales", "Opportunity win rate", "%", 25, H, MEAN, "conversion_rate", False, "daily", (0.92, 0.86), 0.04),
    KpiSpec("lead_response_hours", "sales", "Lead response time", "hours", 4, L, MEAN, "conversion_rate", False, "fast", (0.9, 0.75), 0.1),
    KpiSpec("content_output", "hub", "Content pieces published", "count", 14, H, SUM, "leads", False, "fast", (1.0, 1.12), 0.3),
    KpiSpec("campaign_roi", "hub", "Campaign ROI", "%", 250, H, MEAN, "marketing_cost", False, "daily", (1.05, 1.12), 0.05),
    KpiSpec("data_freshness_hours", "hub", "Data freshness", "hours", 2, L, MEAN, "conversion_rate", False, "fast", (0.8, 0.7), 0.1),
    KpiSpec("social_engagement_rate", "hub", "Social engagement rate", "%", 4, H, MEAN, "leads", False, "fast", (0.95, 0.88), 0.06),
    KpiSpec("cs_first_response_hours", "customer_service", "First response time", "hours", 2, L, MEAN, "csat", False, "fast",
            (1.1, 1.7), 0.1),
    KpiSpec("complaint_resolution_pct", "customer_service", "Complaints resolved within SLA", "%", 90, H, MEAN, "csat", False,
            "daily", (0.95, 0.82), 0.02),
    KpiSpec("csat", "customer_service", "Customer satisfaction", "%", 85, H, MEAN, "revenue", False, "daily", (0.99, 0.93), 0.015),
    KpiSpec("tickets_closed", "customer_service", "Tickets closed", "count", 180, H, SUM, "csat", False, "fast", (1.05, 1.1), 0.2),
    KpiSpec("report_on_time_pct", "finance", "Reports delivered on time", "%", 95, H, MEAN, "marketing_cost", False, "daily",
            (1.03, 1.04), 0.01),
    KpiSpec("budget_variance_pct", "finance", "Budget variance", "%", 5, L, LAST, "marketing_cost", False, "daily", (0.8, 0.6), 0.05),
    KpiSpec("invoice_processing_hours", "finance", "Invoice processing time", "hours", 48, L, MEAN, "revenue", False, "daily",
            (0.95, 0.85), 0.04),
    KpiSpec("feature_adoption_pct", "product", "Feature adoption", "%", 40, H, MEAN, "conversion_rate", False, "daily", (0.85, 0.9), 0.03),
    KpiSpec("insights_actioned_pct", "product", "Insights actioned", "%", 60, H, MEAN, "conversion_rate", False, "daily", (1.0, 1.1), 0.04),
    KpiSpec("releases_shipped", "product", "Releases shipped", "count", 1.5, H, SUM, "feature_adoption_pct", False, "daily", (1.2, 1.25), 0.05),
    KpiSpec("time_to_hire_hours", "hr", "Time to hire", "hours", 35 * 24, L, MEAN, "revenue", False, "daily", (1.05, 1.15), 0.04),
    KpiSpec("applications_per_role", "hr", "Applications per open role", "count", 40, H, MEAN, "time_to_hire_hours", False, "daily",
            (1.05, 1.15), 0.05),
    KpiSpec("employee_turnover_pct", "hr", "Employee turnover (annualised)", "%", 12, L, LAST, "revenue", False, "daily", (0.95, 0.88), 0.02),
)
LEADS_TARGET_SHARE = 0.92  # the leads target sits a little below the generated lead flow (on target)


def _observation_counts(n_total: int, days: int) -> dict[str, int]:
    """Observations per KPI: daily KPIs get one a day; fast ones share the rest of the budget evenly."""
    daily = [k.id for k in KPIS if k.cadence == "daily"]
    fast = [k.id for k in KPIS if k.cadence == "fast"]
    rest = n_total - days * len(daily)
    if rest < days * len(fast):  # too small a budget for daily + finer: spread it evenly (never above it)
        each = n_total // len(KPIS)
        return {k.id: min(each, days * 24 * 60) for k in KPIS}
    per_fast = min(rest // len(fast), days * 24 * 60)  # at most one a minute
    return {k: days for k in daily} | {k: per_fast for k in fast}


def _observation_times(count: int, now_us: int, days: int, daily: bool) -> tuple[np.ndarray, int]:
    """Evenly spaced times ending at ``now`` (daily ones at 06:00 UTC) and the spacing in µs."""
    if daily:
        last_day = now_us - (now_us - 6 * HOUR_US) % DAY_US
        return last_day - np.arange(count, dtype=np.int64)[::-1] * DAY_US, DAY_US
    step = max(1, (days * 86_400) // count) * US
    return now_us - np.arange(count, dtype=np.int64)[::-1] * step, step


def _season(times: np.ndarray) -> np.ndarray:
    """Consumer seasonality normalised to a weekly mean of 1 (sum KPIs follow it, their daily total doesn't)."""
    by_hour, by_dow = (np.asarray(p) for p in PROFILES["consumer"])
    week_mean = by_hour.mean() * by_dow.mean()
    return hour_weights("consumer", times) / week_mean


def _kpi_series(rng: np.random.Generator, spec: KpiSpec, target: float, times: np.ndarray, step_us: int,
                now_us: int, days: int) -> np.ndarray:
    progress = 1 - (now_us - times) / (days * DAY_US)
    level = target * (spec.ratio[0] + (spec.ratio[1] - spec.ratio[0]) * np.clip(progress, 0, 1))
    if spec.aggregation is Aggregation.SUM:
        season = _season(times) if spec.cadence == "fast" else 1.0
        values = level * (step_us / DAY_US) * season * rng.lognormal(-0.5 * spec.noise**2, spec.noise, len(times))
    else:
        values = level * (1 + spec.noise * rng.standard_normal(len(times)))
    values = np.maximum(values, 0)
    if is_share(spec.unit_of_measure, target):  # shares cannot exceed 100 % (ROI can)
        values = np.minimum(values, 100)
    return values.round(4)


def _kind_counts(items: pd.DataFrame, kind: ItemKind, times: np.ndarray, step_us: int) -> np.ndarray:
    """Items of ``kind`` created in each observation's interval (ts - step, ts] (e.g. the leads KPI)."""
    leads = items.loc[items.kind == kind.value, "created_at"]
    created = leads.dt.tz_localize(None).to_numpy(dtype="datetime64[us]").view(np.int64)
    edges = np.concatenate([[times[0] - step_us], times])
    return np.histogram(created, bins=edges)[0].astype(float)


def generate_kpis(items: pd.DataFrame, days: int) -> list[dict]:
    """KPI rows; the leads target follows the generated lead flow so it sits just on target."""
    leads_per_day = (items.kind == ItemKind.LEAD.value).sum() / days
    rows = []
    for order, k in enumerate(KPIS):
        target = round(leads_per_day * LEADS_TARGET_SHARE, 1) if k.id == "leads" else k.target
        rows.append(dict(id=k.id, unit_id=k.unit_id, name=k.name, unit_of_measure=k.unit_of_measure, target=float(target),
                         direction=k.direction.value, aggregation=k.aggregation.value, parent_id=k.parent_id,
                         is_goal=k.is_goal, description=k.description or None, sort_order=order))
    return rows


def generate_observations(rng: np.random.Generator, kpi_rows: list[dict], items: pd.DataFrame, n_total: int,
                          now_us: int, days: int) -> pd.DataFrame:
    """Up to ``n_total`` observations over the last ``days``: one series per KPI, shaped by its spec."""
    counts = _observation_counts(n_total, days)
    targets = {r["id"]: r["target"] for r in kpi_rows}
    parts = [pd.DataFrame({"kpi_id": pd.Series([], dtype=object), "ts": np.array([], dtype=np.int64),
                           "value": np.array([], dtype=float)})]
    for spec in KPIS:
        if counts[spec.id] == 0:
            continue
        times, step = _observation_times(counts[spec.id], now_us, days, spec.cadence == "daily")
        if spec.id in DERIVED_KPIS:
            values = _kind_counts(items, DERIVED_KPIS[spec.id], times, step)
        else:
            values = _kpi_series(rng, spec, targets[spec.id], times, step, now_us, days)
        parts.append(pd.DataFrame({"kpi_id": const(spec.id, len(times)), "ts": times, "value": values}))
    df = pd.concat(parts, ignore_index=True)
    df["ts"] = to_timestamps(df["ts"].to_numpy())
    return df
