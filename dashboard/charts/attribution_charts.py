"""Attribution charts: the KPI tree with each team's credit for the shared goal, and the methods side by side.

Pure functions: frames in, plotly Figure out.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import HUB, SERIES
from dashboard.domain import format as fmt
from dashboard.domain.attribution import METHODS

MEASURES = {"revenue": "Revenue", "conversions": "Conversions"}


def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.12, yanchor="top"), **kw)
    return fig


def _lighten(hex_colour: str, amount: float = 0.35) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    r, g, b = (round(c + (255 - c) * amount) for c in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def format_credit(value: float, measure: str, currency: str = "EUR") -> str:
    """'€12.3k' for revenue, '41.5 conversions' for conversions."""
    if measure == "revenue":
        return fmt.measure(value, currency)
    return f"{value:,.1f} conversion{'s' if round(value, 1) != 1 else ''}"


def goal_of(kpis: pd.DataFrame) -> pd.Series | None:
    """The shared goal: the root of the KPI tree (no parent), preferring one marked as a goal."""
    if kpis is None or kpis.empty:
        return None
    roots = kpis[kpis.parent_id.isna() | ~kpis.parent_id.isin(kpis.id)]
    if roots.empty:
        return None
    goals = roots[roots.is_goal.astype(bool)]
    return (goals if len(goals) else roots).iloc[0]


def kpi_tree(kpis: pd.DataFrame, credit: pd.DataFrame, unit_names: dict[str, str], *, measure: str = "revenue",
             method_label: str = "", currency: str = "EUR") -> go.Figure:
    """The KPI tree as a treemap: the shared goal at the root, each team under it sized by the credit it gets
    (``credit``: team, conversions, revenue), labelled with its amount and share, and the team's own KPIs inside
    it. Teams with no credit are left out (the caller lists them)."""
    goal = goal_of(kpis)
    root_name = f"{goal['name']} · shared goal" if goal is not None else "Shared goal"
    total = float(credit[measure].sum()) if len(credit) else 0.0
    ids, labels, parents, values, texts, colours, hovers = [], [], [], [], [], [], []
    root_id = "goal"
    ids.append(root_id)
    labels.append(f"{root_name} · {format_credit(total, measure, currency)}")
    parents.append("")
    values.append(0.0)  # branchvalues="remainder": a box is its own value plus its children's (no rounding trap)
    texts.append(f"{format_credit(total, measure, currency)} attributed" + (f" ({method_label})" if method_label else ""))
    colours.append("white")
    hovers.append(root_name)
    ordered = credit.sort_values(measure, ascending=False) if len(credit) else credit
    for i, row in enumerate(ordered.itertuples()):
        amount = float(getattr(row, measure))
        if amount <= 0:
            continue
        team = row.team
        name = unit_names.get(team, team)
        share = amount / total if total > 0 else 0.0
        team_id = f"team:{team}"
        colour = HUB if team == "hub" else SERIES[i % len(SERIES)]
        ids.append(team_id)
        labels.append(f"{name} · {format_credit(amount, measure, currency)} · {fmt.percent(share)}")
        parents.append(root_id)
        team_at = len(values)
        values.append(amount)
        texts.append(f"{format_credit(amount, measure, currency)} · {fmt.percent(share)}")
        colours.append(colour)
        hovers.append(f"{name}: {format_credit(amount, measure, currency)}, {fmt.percent(share, 1)} of the goal's "
                      f"{MEASURES[measure].lower()}")
        own = kpis[(kpis.unit_id == team)] if kpis is not None and len(kpis) else pd.DataFrame()
        if goal is not None and len(own):
            own = own[own.id != goal["id"]]
        if len(own):
            values[team_at] = 0.0
        for k in own.itertuples():  # the team's KPIs share its box evenly: their size means nothing on its own
            ids.append(f"kpi:{k.id}")
            labels.append(k.name)
            parents.append(team_id)
            values.append(amount / len(own))
            texts.append("")
            colours.append(_lighten(colour))
            hovers.append(f"{k.name}: a KPI of {name}")
    fig = go.Figure(go.Treemap(
        ids=ids, labels=labels, parents=parents, values=values, text=texts, customdata=hovers,
        branchvalues="remainder", textinfo="label+text", marker=dict(colors=colours, line=dict(color="white", width=1)),
        hovertemplate="%{customdata}<extra></extra>", root_color="white", sort=False,
        pathbar=dict(visible=False),
    ))
    title = f"Who contributed to the shared goal · {MEASURES[measure].lower()}"
    if method_label:
        title += f" · {method_label}"
    return _layout(fig, 460, title=title)


def method_comparison(table: pd.DataFrame, unit_names: dict[str, str], *, measure: str = "revenue",
                      currency: str = "EUR") -> go.Figure:
    """Grouped bars: per team, the credit each method gives it (``table``: attribution.compare output)."""
    fig = go.Figure()
    order = (table[table.method == "markov"].sort_values(measure, ascending=False).team.tolist()
             if len(table) else [])
    for i, (method, label) in enumerate(METHODS.items()):
        g = table[table.method == method].set_index("team").reindex(order)
        if g.empty:
            continue
        names = [unit_names.get(t, t) for t in g.index]
        share_col = "revenue_share" if measure == "revenue" else "conversion_share"
        fig.add_trace(go.Bar(
            x=names, y=g[measure], name=label, marker_color=SERIES[i % len(SERIES)],
            customdata=[[format_credit(v, measure, currency), fmt.percent(s, 1)] for v, s in zip(g[measure], g[share_col])],
            hovertemplate="%{x} · " + label + ": %{customdata[0]} (%{customdata[1]})<extra></extra>",
        ))
    ytitle = f"{MEASURES[measure].lower()} ({fmt.CURRENCY_SYMBOLS.get(currency, currency)})" if measure == "revenue" else "conversions"
    return _layout(fig, 360, barmode="group", title="Credit per team by method", yaxis_title=ytitle)
