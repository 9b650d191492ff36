"""A KPI tile's sparkline: a bare plotly line (no axes, no markers, no mode bar), data in, Figure out.

Plotly rather than st.metric's own vega-lite chart: every chart in the app is plotly, and the tiles then share
the (large, lazily loaded) plotly bundle with the map instead of pulling in vega-lite's before it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import PRIMARY

HEIGHT = 60
MARK_COLOUR = "#7B61FF"  # dashboard.charts.cycle_charts.ANNOTATION_COLOUR: a done operating-model change
CONFIG = {"displayModeBar": False, "staticPlot": True}  # a glyph, not an instrument: no hover, zoom or tool bar


def sparkline(values: Sequence[float], colour: str = PRIMARY, height: int = HEIGHT,
              marks: Sequence[float] = ()) -> go.Figure:
    """The values in order as one line, lightly filled to the lowest value; lines only, so no plotly points.
    ``marks``: positions on the same 0..n-1 scale (fractions allowed) where a thin dashed line marks a done
    operating-model change (see :func:`mark_positions`)."""
    ys = [float(v) for v in values]
    fig = go.Figure(go.Scatter(
        x=list(range(len(ys))), y=ys, mode="lines", line=dict(color=colour, width=2, shape="spline", smoothing=0.6),
        fill="tozeroy" if ys and min(ys) >= 0 else None, fillcolor=_tint(colour), hoverinfo="skip",
    ))
    lo, hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
    pad = (hi - lo) * 0.1 or abs(hi) * 0.05 or 1.0
    fig.update_layout(
        height=height, margin=dict(l=0, r=0, t=4, b=4), showlegend=False,
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        xaxis=dict(visible=False, fixedrange=True),
        yaxis=dict(visible=False, fixedrange=True, range=[lo - pad, hi + pad]),
    )
    for x in marks:
        fig.add_shape(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                      line=dict(color=MARK_COLOUR, width=1, dash="dot"))
    if marks:  # a mark on the last point must not widen the line's own range
        fig.update_xaxes(range=[0, max(len(ys) - 1, 1)])
    return fig


def mark_positions(times: Sequence, days: Sequence) -> tuple[float, ...]:
    """Where each day (a date: midnight UTC) falls among the sparkline's points ``times`` (ascending timestamps),
    as a fractional index; days outside the span are left out."""
    if len(times) < 2 or not len(days):
        return ()

    def seconds(value) -> float:  # naive timestamps and dates are UTC (Timestamp.timestamp() reads them so)
        return pd.Timestamp(value).timestamp()

    xs = np.array([seconds(t) for t in times], dtype=float)
    out = []
    for day in days:
        t = seconds(day)
        if xs[0] <= t <= xs[-1]:
            i = int(np.searchsorted(xs, t, side="right")) - 1
            i = min(i, len(xs) - 2)
            span = xs[i + 1] - xs[i]
            out.append(float(round(i + ((t - xs[i]) / span if span else 0.0), 3)))
    return tuple(sorted(out))


def _tint(colour: str, alpha: float = 0.12) -> str:
    h = colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
