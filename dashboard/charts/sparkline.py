"""A KPI tile's sparkline: a bare plotly line (no axes, no markers, no mode bar), data in, Figure out.

Plotly rather than st.metric's own vega-lite chart: every chart in the app is plotly, and the tiles then share
the (large, lazily loaded) plotly bundle with the map instead of pulling in vega-lite's before it.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from dashboard.charts.palette import PRIMARY

HEIGHT = 60
CONFIG = {"displayModeBar": False, "staticPlot": True}  # a glyph, not an instrument: no hover, zoom or tool bar


def sparkline(values: Sequence[float], colour: str = PRIMARY, height: int = HEIGHT) -> go.Figure:
    """The values in order as one line, lightly filled to the lowest value; lines only, so no plotly points."""
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
    return fig


def _tint(colour: str, alpha: float = 0.12) -> str:
    h = colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
