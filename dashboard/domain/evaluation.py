"""Evaluate an implemented change: before/after, difference-in-differences, and the model's prediction beside it.

Pure (pandas/numpy, no I/O). The input is a *daily* series per group — ``treated`` (the spokes the change touched)
and ``control`` (the spokes it did not touch) — of flow figures read from the hourly rollup: items created,
items resolved, resolved within SLA and the sum of their cycle times. From it, per day and group:

- ``lead_time_h`` = cycle_sum_h / resolved (mean hours from created to resolved of the items resolved that day);
- ``sla_share`` = resolved_in_sla / resolved;
- ``items_per_day`` = created.

Estimates (per metric):

- before / after means are means of the *daily* values (each day weighs the same; days without a value, e.g. no
  item resolved, are left out), with the standard error ``sd / √n`` of those daily values;
- ``change`` = after − before for the treated spokes; ``relative`` = change / before;
- ``did`` = (after − before)_treated − (after − before)_control: what changed at the touched spokes beyond what
  changed everywhere else at the same time (seasonality, a campaign, the simulator's load);
  ``se(did) = √(se²_Ta + se²_Tb + se²_Ca + se²_Cb)``, treating days as independent (daily values are somewhat
  autocorrelated, so this is a lower bound on the uncertainty: the verdict uses ± 2 se);
- no untouched spoke (the change touched them all): DiD is impossible, the plain before/after change is shown
  and said to be one;
- fewer than :data:`MIN_DAYS_AFTER` days after the change: no estimate, and the number of days is said.

The model's prediction (``planned_changes.predicted``, see dashboard.whatif.changes) is per *function*, the
observed figures are per *spoke*: their levels differ, so lead times are compared as relative changes (−27 %
predicted vs −18 % observed) and the SLA share in percentage points. Handoffs and cost have a prediction but no
observed counterpart in the flow data (handoffs per item and yearly cost are not recorded day by day): they are
listed with the prediction alone.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace

import pandas as pd

from dashboard.domain import format as fmt

MIN_DAYS_AFTER = 3  # fewer days after the change: no estimate
ENOUGH_DAYS = 7  # fewer: an estimate with a warning
DEFAULT_WINDOW_DAYS = 28
GROUPS = ("treated", "control")
NEGLIGIBLE = {"relative": 0.01, "points": 0.005}  # a predicted effect smaller than 1 % (0.5 pts) is "none"
FLOW_COLUMNS = ["created", "resolved", "resolved_in_sla", "cycle_sum_h"]


@dataclass(frozen=True)
class MetricSpec:
    key: str
    label: str
    unit: str  # hours | share | count
    better: str | None  # "lower" | "higher" | None (neither)
    predicted_key: str | None  # key in planned_changes.predicted
    compare_as: str = "relative"  # relative (%) | points (share points)


METRICS: dict[str, MetricSpec] = {
    "lead_time_h": MetricSpec("lead_time_h", "Lead time (mean)", "hours", "lower", "lead_time_h", "relative"),
    "sla_share": MetricSpec("sla_share", "Resolved within SLA", "share", "higher", "sla_share", "points"),
    "items_per_day": MetricSpec("items_per_day", "Items per day", "count", None, None),
}
UNOBSERVED: dict[str, tuple[str, str]] = {  # predicted key -> (label, why there is no observed figure)
    "handoffs": ("Handoffs per item", "not recorded per item in the flow data"),
    "cost_per_year": ("Cost per year", "costs are not recorded day by day"),
}


# --- windows and daily series --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: dt.datetime  # first day before the change (00:00 UTC)
    change_at: dt.datetime  # the change's day, 00:00 UTC: the first day "after"
    end: dt.datetime  # exclusive: the change + ``days``, capped at the start of today (full days only)

    @property
    def days_before(self) -> int:
        return (self.change_at - self.start).days

    @property
    def days_after(self) -> int:
        return max(0, (self.end - self.change_at).days)


def window(done_on: dt.date, now: dt.datetime, days: int = DEFAULT_WINDOW_DAYS) -> Window:
    """``days`` full UTC days before the change and up to ``days`` after it, the latter capped at today's start."""
    if days < 1:
        raise ValueError("the window needs at least one day on each side")
    change_at = dt.datetime(done_on.year, done_on.month, done_on.day, tzinfo=dt.UTC)
    today = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = max(change_at, min(change_at + dt.timedelta(days=days), today))
    return Window(change_at - dt.timedelta(days=days), change_at, end)


def daily_metrics(flow: pd.DataFrame) -> pd.DataFrame:
    """Add lead_time_h, sla_share and items_per_day to a frame of day, group and FLOW_COLUMNS (NaN where
    nothing was resolved that day)."""
    out = flow.copy()
    for c in FLOW_COLUMNS:
        out[c] = pd.to_numeric(out[c], errors="coerce").fillna(0.0).astype(float)
    resolved = out.resolved.where(out.resolved > 0)
    out["lead_time_h"] = out.cycle_sum_h / resolved
    out["sla_share"] = out.resolved_in_sla / resolved
    out["items_per_day"] = out.created
    return out


# --- estimates ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    mean: float | None
    se: float | None
    days: int


def _segment(values: pd.Series) -> Segment:
    v = pd.to_numeric(values, errors="coerce").dropna().astype(float)
    n = len(v)
    if n == 0:
        return Segment(None, None, 0)
    se = float(v.std(ddof=1) / math.sqrt(n)) if n >= 2 else None
    return Segment(float(v.mean()), se, n)


def _combine(*ses: float | None) -> float | None:
    known = [s for s in ses if s is not None]
    return None if len(known) < len(ses) else math.sqrt(sum(s * s for s in known))


@dataclass(frozen=True)
class Estimate:
    metric: str
    label: str
    unit: str
    treated_before: Segment
    treated_after: Segment
    control_before: Segment | None
    control_after: Segment | None
    change: float | None  # treated after − before
    change_se: float | None
    relative: float | None  # change / treated before
    did: float | None
    did_se: float | None
    predicted_before: float | None = None
    predicted_after: float | None = None
    verdict: str = ""  # the whole sentence: "the model predicted −27 % (…), observed … (DiD): smaller than predicted"
    judgement: str = ""  # its last part alone: "smaller than predicted", "in line with the prediction", …

    @property
    def observed(self) -> float | None:
        """The observed effect: DiD when there is a control group, else the plain change."""
        return self.did if self.did is not None else self.change

    @property
    def observed_se(self) -> float | None:
        return self.did_se if self.did is not None else self.change_se

    @property
    def predicted_change(self) -> float | None:
        if self.predicted_before is None or self.predicted_after is None:
            return None
        return self.predicted_after - self.predicted_before


def _diff(a: Segment, b: Segment) -> float | None:
    return None if a.mean is None or b.mean is None else a.mean - b.mean


def estimate(daily: pd.DataFrame, metric: str, change_at: dt.datetime, predicted: dict | None = None) -> Estimate:
    """One metric's before/after and DiD from a daily frame (day, group, metric columns; see daily_metrics)."""
    spec = METRICS[metric]
    day: pd.Series = pd.to_datetime(daily["day"], utc=True) if len(daily) else pd.Series([], dtype="datetime64[ns, UTC]")
    after = day >= pd.Timestamp(change_at)
    seg = {}
    for group in GROUPS:
        in_group = (daily["group"] == group) if len(daily) else pd.Series([], dtype=bool)
        values = daily[metric] if len(daily) else pd.Series([], dtype=float)
        seg[(group, "before")] = _segment(values[in_group & ~after])
        seg[(group, "after")] = _segment(values[in_group & after])
    tb, ta = seg[("treated", "before")], seg[("treated", "after")]
    has_control = seg[("control", "before")].days > 0 or seg[("control", "after")].days > 0
    cb, ca = (seg[("control", "before")], seg[("control", "after")]) if has_control else (None, None)
    change = _diff(ta, tb)
    relative = change / tb.mean if change is not None and tb.mean else None
    did = did_se = None
    if ca is not None and cb is not None:  # there is a control group
        control_change = _diff(ca, cb)
        if change is not None and control_change is not None:
            did = change - control_change
            did_se = _combine(ta.se, tb.se, ca.se, cb.se)
    pair = (predicted or {}).get(spec.predicted_key) if spec.predicted_key else None
    pair = pair if isinstance(pair, dict) else {}
    est = Estimate(metric, spec.label, spec.unit, tb, ta, cb, ca, change, _combine(ta.se, tb.se), relative, did,
                   did_se, _number(pair.get("before")), _number(pair.get("after")))
    return _with_verdict(est, spec, has_prediction=bool(predicted))


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --- the verdict --------------------------------------------------------------------------------------------


def _as_compared(spec: MetricSpec, value: float | None, base: float | None) -> float | None:
    """An effect on the scale predictions and observations are compared on: relative change, or share points."""
    if value is None:
        return None
    if spec.compare_as == "points":
        return value
    if not base:
        return None
    return value / base


def _show(spec: MetricSpec, value: float | None, signed: bool = False) -> str:
    """A value in the metric's unit: '3.4 h', '92.0 %', '41' (items whole); signed deltas with their sign."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    sign = ("+" if value > 0 else "−" if value < 0 else "±") if signed else ("−" if value < 0 else "")
    v = abs(value)
    if spec.unit == "hours":
        return f"{sign}{fmt.hours(v)}"
    if spec.unit == "share":
        return f"{sign}{v * 100:.1f} {'pts' if signed else '%'}"
    if round(v) == 0 and signed:
        sign = "±"
    return f"{sign}{fmt.count(v)}"


def _show_spread(spec: MetricSpec, value: float) -> str:
    """A ± spread in the metric's unit (share points for shares)."""
    return f"{value * 100:.1f} pts" if spec.unit == "share" else _show(spec, value)


def _show_compared(spec: MetricSpec, value: float) -> str:
    """'−27 %' (relative) or '+4.5 pts' (share points); '±0 %' for what rounds to nothing."""
    scaled, digits, unit = (value * 100, 1, "pts") if spec.compare_as == "points" else (value * 100, 0, "%")
    if round(scaled, digits) == 0:
        return f"±0 {unit}"
    return f"{scaled:+.{digits}f} {unit}".replace("-", "−")


def _observed_text(spec: MetricSpec, observed: float | None, compared: float | None, se: float | None) -> str:
    """'−0.9 h (−18 % ± 6 %)': the observed effect, on the compared scale with ± 2 standard errors."""
    text = _show(spec, observed, signed=True)
    if compared is None:
        return text
    inner = _show_compared(spec, compared)
    if se is not None:
        inner += f" ± {abs(se) * 200:.0f} %" if spec.compare_as == "relative" else f" ± {abs(se) * 200:.1f} pts"
    return f"{text} ({inner})"


def _with_verdict(est: Estimate, spec: MetricSpec, *, has_prediction: bool) -> Estimate:
    how = "difference-in-differences" if est.did is not None else "before/after, no untouched spoke to compare with"
    observed, se = est.observed, est.observed_se
    base = est.treated_before.mean
    obs_c, se_c = _as_compared(spec, observed, base), _as_compared(spec, se, base)
    obs_text = _observed_text(spec, observed, obs_c, se_c)
    if spec.predicted_key is None:
        verdict = f"observed {obs_text} ({how}); the model makes no prediction for this" if observed is not None else "not enough data"
        return _replace(est, verdict, "no prediction" if observed is not None else "not enough data")
    pred = est.predicted_change
    pred_c = _as_compared(spec, pred, est.predicted_before)
    if pred is None:
        why = "no prediction stored for this change" if not has_prediction else "the model gave no figure for this"
        verdict = f"observed {obs_text} ({how}); {why}" if observed is not None else f"not enough data; {why}"
        return _replace(est, verdict, "no prediction" if observed is not None else "not enough data")
    pred_text = (f"{_show_compared(spec, pred_c)} ({_show(spec, est.predicted_before)} → {_show(spec, est.predicted_after)})"
                 if pred_c is not None else f"{_show(spec, est.predicted_before)} → {_show(spec, est.predicted_after)}")
    if observed is None or obs_c is None:
        return _replace(est, f"the model predicted {pred_text}; not enough data to compare", "not enough data")
    if pred_c is None:  # compared as relative changes, and the prediction starts from zero: it has no relative size
        return _replace(est, f"the model predicted {pred_text}, observed {obs_text} ({how}): a prediction from zero "
                             "has no relative size to compare with", "not comparable")
    band = 2 * abs(se_c) if se_c is not None else None
    if band is not None and abs(obs_c - pred_c) <= band:
        judgement = "in line with the prediction"
    elif band is not None and abs(obs_c) <= band:
        judgement = "no clear change yet (within the day-to-day noise)"
    elif abs(pred_c) < NEGLIGIBLE[spec.compare_as]:
        judgement = "a change the model did not predict"
    elif obs_c * pred_c < 0:
        judgement = "the opposite of the prediction"
    elif abs(obs_c) < abs(pred_c):
        judgement = "smaller than predicted"
    else:
        judgement = "larger than predicted"
    return _replace(est, f"the model predicted {pred_text}, observed {obs_text} ({how}): {judgement}", judgement)


def _replace(est: Estimate, verdict: str, judgement: str) -> Estimate:
    return replace(est, verdict=verdict, judgement=judgement)


# --- the whole evaluation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    estimates: list[Estimate]
    unobserved: list[dict]  # predicted-only metrics: metric, label, predicted_before, predicted_after, why
    notes: list[str] = field(default_factory=list)
    has_control: bool = True
    days_before: int = 0
    days_after: int = 0

    def table(self) -> pd.DataFrame:
        """One readable row per metric: Metric, Before, After, Change, DiD, Predicted, Verdict (strings; the
        verdict in a word or three: :meth:`sentences` has the whole of each)."""
        rows = []
        for e in self.estimates:
            spec = METRICS[e.metric]
            compared = _as_compared(spec, e.change, e.treated_before.mean)
            rows.append({
                "Metric": e.label,
                "Before": _show(spec, e.treated_before.mean),
                "After": _show(spec, e.treated_after.mean),
                "Change": (_show(spec, e.change, signed=True)
                           + (f" ({_show_compared(spec, compared)})" if compared is not None else "")),
                "DiD": (_show(spec, e.did, signed=True) + (f" ± {_show_spread(spec, 2 * e.did_se)}" if e.did_se is not None else "")
                        if e.did is not None else ("no control" if not self.has_control else "no data")),
                "Predicted": (f"{_show(spec, e.predicted_before)} → {_show(spec, e.predicted_after)}"
                              if e.predicted_change is not None else "—"),
                "Verdict": e.judgement,
            })
        for u in self.unobserved:
            key = u["metric"]
            rows.append({"Metric": u["label"], "Before": "not measured", "After": "not measured", "Change": "—",
                         "DiD": "—", "Predicted": f"{_fmt_predicted(key, u['predicted_before'])} → "
                                                 f"{_fmt_predicted(key, u['predicted_after'])}",
                         "Verdict": "prediction only"})
        return pd.DataFrame(rows, columns=["Metric", "Before", "After", "Change", "DiD", "Predicted", "Verdict"])

    def sentences(self) -> list[str]:
        """One sentence per metric: "Lead time (mean): the model predicted −27 % (…), observed …: smaller than
        predicted"; predicted-only metrics say why nothing was observed."""
        out = [f"{e.label}: {e.verdict}" for e in self.estimates]
        out += [f"{u['label']}: predicted {_fmt_predicted(u['metric'], u['predicted_before'])} → "
                f"{_fmt_predicted(u['metric'], u['predicted_after'])}; {u['why']}" for u in self.unobserved]
        return out


def _fmt_predicted(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    if key == "cost_per_year":
        return fmt.money(value, compact_form=True)
    return f"{value:,.2f}"


def evaluate(daily: pd.DataFrame, win: Window, predicted: dict | None) -> Evaluation:
    """Every metric's estimate for one change (``daily``: day, group and FLOW_COLUMNS)."""
    frame = daily_metrics(daily) if len(daily) else daily.assign(**{m: pd.Series(dtype=float) for m in METRICS})
    has_control = bool(len(frame)) and bool((frame["group"] == "control").any())
    notes = []
    if not has_control:
        notes.append("Every spoke was touched by this change, so there is no untouched spoke to compare with: "
                     "difference-in-differences is impossible. The figures are a plain before/after comparison, "
                     "which also picks up anything else that changed at the same time.")
    if not predicted:
        notes.append("No prediction was stored with this change, so there is nothing to check the model against.")
    days_after = win.days_after
    if days_after < MIN_DAYS_AFTER:
        notes.insert(0, f"Only {days_after} full day{'s' if days_after != 1 else ''} of data after the change "
                        f"(on {win.change_at:%d %b %Y}): at least {MIN_DAYS_AFTER} are needed for an estimate. "
                        f"Come back on {win.change_at + dt.timedelta(days=MIN_DAYS_AFTER):%d %b}.")
        frame = frame.iloc[0:0]
    elif days_after < ENOUGH_DAYS:
        notes.insert(0, f"Only {days_after} full days after the change: a first reading, still noisy "
                        f"({ENOUGH_DAYS} days or more make a steadier one).")
    estimates = [estimate(frame, m, win.change_at, predicted) for m in METRICS]
    unobserved = []
    for key, (label, why) in UNOBSERVED.items():
        pair = (predicted or {}).get(key)
        if isinstance(pair, dict) and (pair.get("before") is not None or pair.get("after") is not None):
            unobserved.append(dict(metric=key, label=label, predicted_before=_number(pair.get("before")),
                                   predicted_after=_number(pair.get("after")), why=why))
    return Evaluation(estimates, unobserved, notes, has_control, win.days_before, days_after)


# --- KPIs of the touched spokes (before/after only: each KPI belongs to one unit, there is no control) ---------


KPI_COLUMNS = ["kpi_id", "name", "unit_id", "unit_of_measure", "direction", "before", "after", "change",
               "relative", "se", "assessment"]


def kpi_before_after(kpi_daily: pd.DataFrame, change_at: dt.datetime) -> pd.DataFrame:
    """Per KPI: mean daily value before and after the change, the change, its relative size, its standard
    error, and whether it moved the good way ('better' / 'worse' / 'no clear change' / 'not enough data').

    ``kpi_daily``: kpi_id, name, unit_id, unit_of_measure, direction, day, value."""
    if kpi_daily is None or kpi_daily.empty:
        return pd.DataFrame(columns=KPI_COLUMNS)
    day = pd.to_datetime(kpi_daily.day, utc=True)
    after = day >= pd.Timestamp(change_at)
    rows = []
    for kid, g in kpi_daily.groupby("kpi_id", sort=False):
        b, a = _segment(g.value[~after[g.index]]), _segment(g.value[after[g.index]])
        change = _diff(a, b)
        se = _combine(a.se, b.se)
        first = g.iloc[0]
        if change is None:
            assessment = "not enough data"
        elif se is not None and abs(change) <= 2 * se:
            assessment = "no clear change"
        else:
            good = change < 0 if first.direction == "lower" else change > 0
            assessment = "better" if good else "worse"
        rows.append(dict(kpi_id=kid, name=first["name"], unit_id=first.unit_id, unit_of_measure=first.unit_of_measure,
                         direction=first.direction, before=b.mean, after=a.mean, change=change,
                         relative=change / b.mean if change is not None and b.mean else None, se=se,
                         assessment=assessment))
    return pd.DataFrame(rows, columns=KPI_COLUMNS)


def verdict_counts(ev: Evaluation) -> dict[str, int]:
    """How many metrics came out in line / different / unclear (for a one-line summary)."""
    out = {"in line": 0, "different": 0, "unclear": 0}
    for e in ev.estimates:
        if e.predicted_change is None:
            continue
        if e.judgement.startswith("in line"):
            out["in line"] += 1
        elif e.judgement in ("not enough data", "no clear change yet (within the day-to-day noise)"):
            out["unclear"] += 1
        else:
            out["different"] += 1
    return out


__all__ = ["METRICS", "Window", "window", "daily_metrics", "estimate", "evaluate", "Evaluation", "Estimate",
           "kpi_before_after", "MIN_DAYS_AFTER", "ENOUGH_DAYS"]
