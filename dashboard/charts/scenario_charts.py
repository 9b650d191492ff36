"""Charts for the Scenarios page: trade-off curve, sensitivity tornado, the scenario on the hub-and-spoke map."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.hub_map import edge_line, label_position, layout_positions
from dashboard.charts.palette import AMBER, GREEN, GREY, HUB, PRIMARY, RED, TEXT
from dashboard.domain import format as fmt


def tradeoff(curve, title: str = "Cost vs lead time as the central share goes 0 → 1") -> go.Figure:
    """x = median lead time, y = yearly cost; points where a spoke misses its SLA are marked red and named.

    ``curve``: a ``dashboard.whatif.analysis.TradeoffCurve``.
    """
    pts = curve.points
    breaching = [", ".join(sp for sp, b in row.items() if b) for _, row in curve.spoke_breach.iterrows()]
    finite = np.isfinite(pts.lead_time_median_h.to_numpy(dtype=float))
    c = pts[finite].assign(breaching=np.array(breaching, dtype=object)[finite])
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=c.lead_time_median_h, y=c.total_cost, mode="lines", name="central share 0 → 1", line=dict(color=PRIMARY, width=3),
        customdata=np.stack([c.share * 100, c.breaching.replace("", "none")], axis=1),
        hovertemplate="central share %{customdata[0]:.0f} %<br>median lead time %{x:.1f} h<br>cost €%{y:,.0f}/year"
                      "<br>SLA missed at: %{customdata[1]}<extra></extra>",
    ))
    bad = c[c.breaching != ""]
    if len(bad):
        fig.add_trace(go.Scatter(x=bad.lead_time_median_h, y=bad.total_cost, mode="markers", name="a spoke misses its SLA",
                                 marker=dict(color=RED, size=6), hoverinfo="skip"))
    for share, label in ((0.0, "all in spokes"), (1.0, "all in hub")):
        if len(c):
            end = c.iloc[int((c.share - share).abs().argmin())]
            fig.add_annotation(x=end.lead_time_median_h, y=end.total_cost, text=label, showarrow=True, arrowhead=2, ax=30, ay=-25)
    cur = curve.current
    if math.isfinite(cur.get("lead_time_median_h", math.inf)):
        fig.add_trace(go.Scatter(x=[cur["lead_time_median_h"]], y=[cur["total_cost"]], mode="markers",
                                 name="this scenario" + ("" if cur.get("on_curve", True) else " (mixed shares, off the curve)"),
                                 marker=dict(symbol="star", size=16, color=AMBER, line=dict(width=1, color=TEXT))))
    if not len(c):
        fig.add_annotation(text="Every point on this curve is unstable (demand exceeds capacity)", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10), title=title, xaxis_title="median lead time (hours)",
                      yaxis_title="cost per year (€)", legend=dict(orientation="h", y=-0.25))
    return fig


def tornado(sens: pd.DataFrame, metric: str = "cost", top: int = 10) -> go.Figure:
    """Bars from the result at input −x % to +x %, around the base, for the inputs that move it most."""
    lo_col, hi_col, base_col, swing = {"cost": ("cost_low", "cost_high", "cost_base", "cost_swing"),
                                       "lead": ("lead_low", "lead_high", "lead_base", "lead_swing")}[metric]
    rows = sens.sort_values(swing, ascending=False).head(top).iloc[::-1]
    base = float(rows[base_col].iloc[0]) if len(rows) else 0.0
    fig = go.Figure()
    fig.add_trace(go.Bar(y=rows.label, x=rows[lo_col] - base, base=base, orientation="h", name="input lowered",
                         marker_color=GREEN, hovertemplate="%{y}<br>%{x:+,.1f}<extra>input lowered</extra>"))
    fig.add_trace(go.Bar(y=rows.label, x=rows[hi_col] - base, base=base, orientation="h", name="input raised",
                         marker_color=RED, hovertemplate="%{y}<br>%{x:+,.1f}<extra>input raised</extra>"))
    fig.add_vline(x=base, line=dict(color=TEXT, width=1))
    unit = "cost (€/year)" if metric == "cost" else "mean lead time (h)"
    fig.update_layout(barmode="overlay", height=90 + 32 * len(rows), margin=dict(l=10, r=10, t=40, b=10),
                      title=f"What moves {unit} most", legend=dict(orientation="h", y=-0.15), yaxis=dict(automargin=True))
    return fig


def scenario_map(units: pd.DataFrame, delta: pd.DataFrame) -> go.Figure:
    """The scenario on the hub-and-spoke map: edge width = hub↔spoke handoffs per month, colour = change of the
    spoke's median lead time vs the baseline (green faster, red slower, grey unchanged), label = lead time.

    ``delta``: ``dashboard.whatif.model.spoke_delta`` (index spoke).
    """
    pos = layout_positions(units)
    names = dict(zip(units.id, units.name))
    hubs = units[units.kind == "hub"].id.tolist()
    fig = go.Figure()
    max_h = max(float(delta.handoffs_per_month.max() or 0), 1.0) if len(delta) else 1.0
    mx, my, mtext, mhover, mcolour = [], [], [], [], []
    for spoke, row in delta.iterrows():
        if spoke not in pos or not hubs:
            continue
        lead, change = row.lead_time_median_h, row.lead_time_median_h_delta
        colour = GREY if not math.isfinite(change) or abs(change) < 0.05 else (GREEN if change < 0 else RED)
        xs, ys = edge_line(pos[hubs[0]], pos[spoke], 1)
        width = 1.5 + 10 * math.sqrt(max(row.handoffs_per_month, 0) / max_h)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False, line=dict(width=width, color=colour)))
        mx.append(xs[0] + (xs[1] - xs[0]) * 0.5)
        my.append(ys[0] + (ys[1] - ys[0]) * 0.5)
        change_txt = "" if not math.isfinite(change) or abs(change) < 0.05 else f" ({change:+.1f} h)"
        mtext.append(f"{fmt.hours(lead)}{change_txt}")
        mcolour.append(colour)
        mhover.append(f"<b>{names.get(spoke, spoke)}</b><br>median lead time {fmt.hours(lead)}{change_txt}"
                      f"<br>hub↔spoke handoffs {fmt.compact(row.handoffs_per_month)}/month"
                      f" ({row.handoffs_per_month_delta:+,.0f})")
    fig.add_trace(go.Scatter(x=mx, y=my, mode="markers+text", text=mtext, textposition="middle right", hovertext=mhover,
                             hoverinfo="text", marker=dict(size=11, color=mcolour), showlegend=False,
                             textfont=dict(size=11, color=TEXT)))
    xs = [pos[u][0] for u in units.id]
    ys = [pos[u][1] for u in units.id]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers+text", text=[names[u] for u in units.id], hoverinfo="skip",
                             textposition=[label_position(x, y) for x, y in zip(xs, ys)], showlegend=False,
                             marker=dict(size=34, color=[HUB if k == "hub" else PRIMARY for k in units.kind],
                                         line=dict(width=2, color="white"))))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=10), title="This scenario on the map, vs as-is",
                      xaxis=dict(visible=False, range=[-1.5, 1.5]),
                      yaxis=dict(visible=False, range=[-1.3, 1.3], scaleanchor="x"),
                      plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)")
    return fig
