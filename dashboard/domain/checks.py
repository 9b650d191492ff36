"""The cross-team checks the spoke pages show (pure functions, no I/O).

- Sales: marketing leads arriving vs what the sales team can work, and the date capacity runs out if the
  trend continues (least-squares line through daily lead counts).
- Finance: spend, revenue and ROI by channel, and a suggested budget shift by marginal return under
  diminishing returns: revenue_c = a_c · spend_c^b_c, fitted per channel on its weekly periods in log-log
  space (b clamped to [0.2, 0.95]; channels with too little variation use b = 0.7). The marginal return of
  a channel is dRevenue/dSpend = b · revenue / spend; a share of budget moves from the lowest to the highest
  marginal return, and the predicted revenue change comes from the same curves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_ELASTICITY = 0.7


@dataclass(frozen=True)
class CapacityOutlook:
    capacity_per_day: float
    recent_per_day: float  # mean over the last 7 days
    trend_per_day: float  # change in leads/day per day (slope)
    over_capacity_now: bool
    runs_out_on: dt.date | None  # first day the trend line exceeds capacity (None: not within the horizon)


def capacity_outlook(daily: pd.Series, capacity_per_day: float, today: dt.date, horizon_days: int = 180) -> CapacityOutlook:
    """``daily``: leads per day indexed by date (missing days count as zero)."""
    if capacity_per_day <= 0:
        raise ValueError("capacity must be positive: set headcount and leads per rep per day")
    series = daily.copy()
    series.index = pd.to_datetime(series.index)
    series = series[series.index <= pd.Timestamp(today)]
    if series.empty:  # nothing up to ``today`` (e.g. every lead arrived after it): no outlook yet
        return CapacityOutlook(capacity_per_day, 0.0, 0.0, False, None)
    idx = pd.date_range(series.index.min(), pd.Timestamp(today), freq="D")
    series = series.reindex(idx, fill_value=0).astype(float)
    x = np.arange(len(series), dtype=float)
    slope, intercept = np.polyfit(x, series.to_numpy(), 1) if len(series) >= 2 else (0.0, float(series.iloc[-1]))
    recent = float(series.iloc[-7:].mean())
    over = recent > capacity_per_day
    runs_out = None
    if over:
        runs_out = today
    elif slope > 0:
        day = (capacity_per_day - intercept) / slope
        offset = int(np.ceil(day - x[-1] - 1e-9))  # tolerate float noise on whole days
        if 0 <= offset <= horizon_days:
            runs_out = today + dt.timedelta(days=offset)
    return CapacityOutlook(capacity_per_day, recent, float(slope), bool(over), runs_out)


def channel_returns(campaigns: pd.DataFrame) -> pd.DataFrame:
    """Per channel: spend, revenue, leads, conversions, ROI, fitted elasticity b and marginal return."""
    if campaigns.empty:
        return pd.DataFrame(columns=["channel", "spend", "revenue", "leads", "conversions", "roi", "elasticity", "marginal_return"])
    rows = []
    for channel, g in campaigns.groupby("channel"):
        spend, revenue = float(g.spend.sum()), float(g.revenue.sum())
        b = _elasticity(g)
        rows.append(dict(
            channel=channel, spend=spend, revenue=revenue, leads=int(g.leads.sum()), conversions=int(g.conversions.sum()),
            roi=(revenue - spend) / spend if spend > 0 else np.nan, elasticity=b,
            marginal_return=b * revenue / spend if spend > 0 else np.nan,
        ))
    return pd.DataFrame(rows).sort_values("marginal_return", ascending=False).reset_index(drop=True)


def _elasticity(g: pd.DataFrame) -> float:
    ok = g[(g.spend > 0) & (g.revenue > 0)]
    if len(ok) < 4 or np.log(ok.spend).std() < 0.05:
        return DEFAULT_ELASTICITY
    b = float(np.polyfit(np.log(ok.spend), np.log(ok.revenue), 1)[0])
    return float(np.clip(b, 0.2, 0.95))


@dataclass(frozen=True)
class BudgetShift:
    from_channel: str
    to_channel: str
    amount: float
    revenue_change: float
    method: str


def suggest_shift(returns: pd.DataFrame, share: float = 0.10) -> BudgetShift | None:
    """Move ``share`` of the worst channel's spend to the best one (by marginal return)."""
    r = returns.dropna(subset=["marginal_return"])
    r = r[r.spend > 0]
    if len(r) < 2:
        return None
    best, worst = r.iloc[0], r.iloc[-1]
    if best.marginal_return <= worst.marginal_return:
        return None
    amount = share * worst.spend

    def revenue_at(row, spend):  # revenue = a · spend^b with a from the current point
        return row.revenue * (spend / row.spend) ** row.elasticity

    change = (revenue_at(best, best.spend + amount) - best.revenue) + (revenue_at(worst, worst.spend - amount) - worst.revenue)
    return BudgetShift(
        from_channel=str(worst.channel), to_channel=str(best.channel), amount=float(amount), revenue_change=float(change),
        method=(f"Marginal return ranking with diminishing returns (revenue = a·spend^b per channel, b fitted "
                f"log-log on weekly periods): move {share:.0%} of {worst.channel}'s spend to {best.channel}."),
    )
