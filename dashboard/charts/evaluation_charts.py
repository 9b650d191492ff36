"""Evaluation charts: a metric's daily series for touched vs untouched spokes around a change, and the model's
prediction beside the observed effect. Pure functions: frames in, plotly Figure out."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.charts.cycle_charts import short_label
from dashboard.charts.palette import GREY, PRIMARY, SERIES, TEXT
from dashboard.domain.evaluation import METRICS, Evaluation

GROUP_LABELS = {"treated": "Touched spokes", "control": "Untouched spokes"}
GROUP_COLOURS = {"treated": PRIMARY, "control": GREY}
AXIS = {"hours": "hours", "share": "share within SLA", "count": "items per day"}


def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=1.12), **kw)
    return fig


def before_after(daily: pd.DataFrame, metric: str, change_at: dt.datetime, label: str = "") -> go.Figure:
    """``metric`` per day for each group (``daily``: day, group and the metric, see evaluation.daily_metrics),
    the change's date as a vertical line, and each group's before and after means as dotted steps."""
    spec = METRICS[metric]
    share = spec.unit == "share"
    fig = go.Figure()
    for group in ("treated", "control"):
        g = daily[daily.group == group].sort_values("day") if len(daily) else daily
        if g is None or g.empty:
            continue
        y = g[metric] * (100 if share else 1)
        name = GROUP_LABELS[group]
        colour = GROUP_COLOURS[group]
        fig.add_trace(go.Scatter(x=g.day, y=y, mode="lines+markers", name=name, line=dict(color=colour, width=2),
                                 marker=dict(size=4), connectgaps=False,
                                 hovertemplate="%{x|%d %b}: %{y:,.1f}" + (" %" if share else " h" if spec.unit == "hours" else "")
                                               + f"<extra>{name}</extra>"))
        after = g.day >= pd.Timestamp(change_at)
        for part, mask in (("before", ~after), ("after", after)):
            if mask.any() and y[mask].notna().any():
                mean = float(y[mask].mean())
                fig.add_trace(go.Scatter(x=[g.day[mask].min(), g.day[mask].max()], y=[mean, mean], mode="lines",
                                         line=dict(color=colour, dash="dot", width=1.5), showlegend=False,
                                         hovertemplate=f"{name}, mean {part}: {mean:,.1f}<extra></extra>"))
    x = pd.Timestamp(change_at)
    fig.add_vline(x=x, line=dict(color=TEXT, dash="dash", width=1))
    fig.add_annotation(x=x, y=1, yref="paper", text=short_label(label or "the change"), showarrow=False,
                       xanchor="left", yanchor="bottom", font=dict(size=11, color=TEXT), hovertext=label or None)
    unit = " (%)" if share else ""
    _layout(fig, 340, title=f"{spec.label} per day", yaxis_title=AXIS[spec.unit] + unit)
    # the legend under the chart: the change's label and line have the top to themselves
    fig.update_layout(margin=dict(l=10, r=10, t=60, b=10), legend=dict(orientation="h", y=-0.15, yanchor="top"))
    return fig


def prediction_vs_observed(evaluation: Evaluation) -> go.Figure:
    """For each metric with a prediction: the model's predicted change beside the observed one (DiD, or the
    plain change without a control group) with ± 2 standard errors; lead time in %, the SLA share in points."""
    rows = []
    for e in evaluation.estimates:
        spec = METRICS[e.metric]
        if spec.predicted_key is None or e.predicted_change is None:
            continue
        points = spec.compare_as == "points"
        pred = e.predicted_change * 100 if points else (
            e.predicted_change / e.predicted_before * 100 if e.predicted_before else None)
        base = e.treated_before.mean
        obs = obs_err = None
        if e.observed is not None:
            obs = e.observed * 100 if points else (e.observed / base * 100 if base else None)
            if e.observed_se is not None:
                obs_err = 2 * e.observed_se * 100 if points else (2 * e.observed_se / base * 100 if base else None)
        rows.append((spec.label + (" (pts)" if points else " (%)"), pred, obs, obs_err))
    fig = make_subplots(rows=1, cols=max(1, len(rows)), subplot_titles=[r[0] for r in rows] or ["No prediction"])
    observed_name = "Observed (DiD)" if evaluation.has_control else "Observed (before/after)"
    for i, (_label, pred, obs, err) in enumerate(rows, start=1):
        fig.add_trace(go.Bar(x=["Predicted"], y=[pred], name="Predicted by the model", marker_color=SERIES[2],
                             showlegend=i == 1, hovertemplate="predicted: %{y:+.1f}<extra></extra>"), row=1, col=i)
        fig.add_trace(go.Bar(x=["Observed"], y=[obs], name=observed_name, marker_color=PRIMARY, showlegend=i == 1,
                             error_y=dict(type="data", array=[err], visible=err is not None, color=TEXT),
                             hovertemplate="observed: %{y:+.1f}" + (f" ± {err:.1f}" if err is not None else "")
                                           + "<extra></extra>"), row=1, col=i)
        fig.add_hline(y=0, line=dict(color=GREY, width=1), row=1, col=i)
    fig.update_annotations(font=dict(size=12, color=TEXT))  # the subplot titles
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=70, b=10), bargap=0.35,
                      title=dict(text="The model's prediction beside what happened", y=0.97, yanchor="top"),
                      legend=dict(orientation="h", y=-0.12, yanchor="top"))
    return fig
