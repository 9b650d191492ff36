"""Charts of the operating-model cycle: the maturity radar and trend, and change annotations on any trend chart.
Pure functions: data in, plotly Figure out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import GREY, PRIMARY, SERIES, TEXT
from dashboard.domain import format as fmt

ANNOTATION_COLOUR = "#7B61FF"


def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=30, r=30, t=40, b=20),
                      legend=dict(orientation="h", y=-0.2, yanchor="top"), **kw)
    return fig


def radar(latest: Mapping | None, previous: Mapping | None = None, *, latest_label: str = "Latest",
          previous_label: str = "Previous") -> go.Figure:
    """The four components on a 1–5 radar: the latest assessment filled, the previous one dashed."""
    from dashboard.domain.maturity import COMPONENT_LABELS, COMPONENTS  # not at import: spoke charts import this

    theta = [COMPONENT_LABELS[c] for c in COMPONENTS]
    fig = go.Figure()
    for scores, name, colour, dash, fill in ((previous, previous_label, GREY, "dash", None),
                                             (latest, latest_label, PRIMARY, "solid", "toself")):
        if scores is None:
            continue
        r = [float(scores[c]) for c in COMPONENTS]
        fig.add_trace(go.Scatterpolar(
            r=[*r, r[0]], theta=[*theta, theta[0]], name=name, mode="lines+markers", fill=fill,
            line=dict(color=colour, dash=dash, width=2), marker=dict(size=7, color=colour),
            hovertemplate="%{theta}: %{r:.0f} / 5<extra>" + name.replace("<", "") + "</extra>",
        ))
    fig.update_layout(polar=dict(radialaxis=dict(range=[0, 5], tickvals=[1, 2, 3, 4, 5], angle=45, tickangle=45),
                                 angularaxis=dict(direction="clockwise")))
    return _layout(fig, 340, title="Maturity by component (1–5)", showlegend=True)


def trend(long: pd.DataFrame) -> go.Figure:
    """One line per component (and the overall mean) over the assessment dates; ``long`` is
    dashboard.domain.maturity.trend's output (assessed_at, component, score)."""
    from dashboard.domain.maturity import LEVEL_NAMES

    levels = dict(tickvals=[1, 2, 3, 4, 5], ticktext=[f"{n} · {LEVEL_NAMES[n]}" for n in range(1, 6)])
    fig = go.Figure()
    for i, (component, g) in enumerate(long.groupby("component", sort=False)):
        overall = component == "Overall"
        fig.add_trace(go.Scatter(
            x=g.assessed_at, y=g.score, name=component, mode="lines+markers",
            line=dict(color=TEXT if overall else SERIES[i % len(SERIES)], width=3 if overall else 2,
                      dash="dot" if overall else "solid"),
            hovertemplate="%{x|%d %b %Y}: %{y:.1f}<extra>" + component + "</extra>",
        ))
    return _layout(fig, 320, title="Maturity over time",
                   yaxis=dict(range=[0.5, 5.5], title="level", **levels), xaxis=dict(title=None))


def _as_rows(annotations) -> list[tuple[dt.date, str]]:
    if annotations is None:
        return []
    if isinstance(annotations, pd.DataFrame):
        if annotations.empty:
            return []
        return [(d, str(label)) for d, label in zip(annotations["date"], annotations["label"])]
    return [(row[0], str(row[1])) for row in annotations]


def _x(value) -> str:
    """A date as plotly's date-axis string (midnight of that day)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def short_label(label: str, limit: int = 36) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _x_extent(fig: go.Figure) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The earliest and latest time on the figure: its x axis range when fixed, else its traces' x values."""
    fixed = fig.layout.xaxis.range
    values = list(fixed) if fixed else [x for trace in fig.data
                                        for x in (() if getattr(trace, "x", None) is None else trace.x)]
    times = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", utc=True).dropna()
    return (times.min(), times.max()) if len(times) else None


def _label_side(fig: go.Figure, day) -> str:
    """'right' (the label to the left of its line) when the line is in the last 40 % of the time shown, so a
    change done today keeps its label inside the chart; else 'left'."""
    extent = _x_extent(fig)
    if extent is None or extent[1] <= extent[0]:
        return "left"
    at = pd.Timestamp(_x(day), tz="UTC")
    return "right" if at >= extent[0] + 0.6 * (extent[1] - extent[0]) else "left"


def add_annotations(fig: go.Figure, annotations: Iterable | pd.DataFrame | None, *, labels: bool = True) -> go.Figure:
    """A dashed vertical line per done change (``annotations``: a frame with date and label, or (date, label, ...)
    tuples) across the whole plot, with its short label at the top — to the left of the line near the right
    edge, so it is never cut off; returns ``fig`` (changed in place). Lines and labels are layout
    shapes/annotations, so they add no trace, no legend entry and do not widen the time axis."""
    for i, (day, label) in enumerate(_as_rows(annotations)):
        x = _x(day)
        fig.add_shape(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1, layer="above",
                      line=dict(color=ANNOTATION_COLOUR, width=1.5, dash="dash"), name=f"change: {label}")
        if labels:
            side = _label_side(fig, day)
            fig.add_annotation(x=x, xref="x", y=1, yref="paper", yshift=-12 * (i % 2), text=short_label(label),
                               showarrow=False, xanchor=side, yanchor="top", align=side,
                               font=dict(size=10, color=ANNOTATION_COLOUR), bgcolor="rgba(255,255,255,0.7)",
                               hovertext=f"{label} ({fmt.day(pd.Timestamp(day))})")
    return fig
