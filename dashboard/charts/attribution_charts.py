"""Attribution charts: the KPI tree with each team's credit for the shared goal, and the methods side by side.

Pure functions: frames in, plotly Figure out.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import GREY, HUB, SERIES
from dashboard.domain import format as fmt
from dashboard.domain.attribution import METHODS, OTHERS

MEASURES = {"revenue": "Revenue", "conversions": "Conversions"}
TOTALS = {"revenue": "Journey revenue", "conversions": "Converted journeys"}  # what the tree's root stands for


def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.12, yanchor="top"), **kw)
    return fig


def _lighten(hex_colour: str, amount: float = 0.35) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    r, g, b = (round(c + (255 - c) * amount) for c in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def format_credit(value: float, measure: str, currency: str = "EUR", *, compact_form: bool = True) -> str:
    """'€12.3k' (``compact_form=False``: '€12,345') for revenue, '42 conversions' (whole) for conversions."""
    if measure == "revenue":
        return fmt.money(value, currency, compact_form=compact_form)
    return f"{fmt.count(value)} conversion{'' if round(value) == 1 else 's'}"


def team_order(table: pd.DataFrame, measure: str) -> list[str]:
    """Teams by their Markov credit, largest first, the other teams together (a spoke lead's view) last."""
    if table is None or table.empty:
        return []
    rows = table[table.method == "markov"] if "method" in table else table  # one method's frame: its own order
    order = rows.sort_values(measure, ascending=False, kind="stable").team.tolist()
    return [t for t in order if t != OTHERS] + [t for t in order if t == OTHERS]


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
    it. Teams with no credit are left out (the caller lists them). The root is the journeys' total, named as such
    (journey revenue is part of the shared goal, not the goal's KPI figure)."""
    goal = goal_of(kpis)
    root_name = TOTALS[measure]
    total = float(credit[measure].sum()) if len(credit) else 0.0
    ids, labels, parents, values, texts, colours, hovers = [], [], [], [], [], [], []
    root_id = "goal"
    ids.append(root_id)
    labels.append(f"{root_name} · {format_credit(total, measure, currency)}")
    parents.append("")
    values.append(0.0)  # branchvalues="remainder": a box is its own value plus its children's (no rounding trap)
    texts.append(f"{format_credit(total, measure, currency)} attributed" + (f" ({method_label})" if method_label else ""))
    colours.append("white")
    hovers.append(f"{root_name}: part of the shared goal {goal['name']}" if goal is not None else root_name)
    ordered = credit.set_index("team").loc[team_order(credit, measure)].reset_index() if len(credit) else credit
    for i, row in enumerate(ordered.itertuples()):
        amount = float(getattr(row, measure))
        if amount <= 0:
            continue
        team = row.team
        name = unit_names.get(team, team)
        share = amount / total if total > 0 else 0.0
        team_id = f"team:{team}"
        colour = HUB if team == "hub" else GREY if team == OTHERS else SERIES[i % len(SERIES)]
        ids.append(team_id)
        labels.append(f"{name} · {format_credit(amount, measure, currency)} · {fmt.percent(share, 1)}")
        parents.append(root_id)
        team_at = len(values)
        values.append(amount)
        texts.append(f"{format_credit(amount, measure, currency)} · {fmt.percent(share, 1)}")
        colours.append(colour)
        hovers.append(f"{name}: {format_credit(amount, measure, currency, compact_form=False)}, "
                      f"{fmt.percent(share, 1)} of the {TOTALS[measure].lower()}")
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
        pathbar=dict(visible=False), textfont=dict(size=13),
    ))
    title = dict(text=f"Who earned the {TOTALS[measure].lower()}", y=0.98, yanchor="top")
    if method_label:
        title["subtitle"] = dict(text=method_label)
    _layout(fig, 460, title=title)
    # a box too small for its name at a readable size shows none (its name is in the hover), never a blur
    fig.update_layout(uniformtext=dict(minsize=11, mode="hide"), margin=dict(l=10, r=10, t=60, b=10))
    return fig


def wrapped(name: str, width: int = 14) -> str:
    """A team's name on lines of about ``width`` characters (plotly's <br>), so an axis label stays level."""
    lines, line = [], ""
    for word in str(name).split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line]) if line else str(name)


def method_comparison(table: pd.DataFrame, unit_names: dict[str, str], *, measure: str = "revenue",
                      currency: str = "EUR") -> go.Figure:
    """Grouped bars: per team, the credit each method gives it (``table``: attribution.compare output); long team
    names wrap onto lines under their bars instead of tilting."""
    fig = go.Figure()
    order = team_order(table, measure)
    for i, (method, label) in enumerate(METHODS.items()):
        g = table[table.method == method].set_index("team").reindex(order)
        if g.empty:
            continue
        names = [wrapped(unit_names.get(t, t)) for t in g.index]
        share_col = "revenue_share" if measure == "revenue" else "conversion_share"
        fig.add_trace(go.Bar(
            x=names, y=g[measure], name=label, marker_color=SERIES[i % len(SERIES)],
            customdata=[[format_credit(v, measure, currency, compact_form=False), fmt.percent(s, 1),
                         unit_names.get(t, t)] for t, v, s in zip(g.index, g[measure], g[share_col])],
            hovertemplate="%{customdata[2]} · " + label + ": %{customdata[0]} (%{customdata[1]})<extra></extra>",
        ))
    axis = (dict(tickprefix=fmt.CURRENCY_SYMBOLS.get(currency, currency), tickformat="~s") if measure == "revenue"
            else fmt.AXIS_COUNT)
    fig.update_yaxes(title_text=TOTALS[measure].lower(), nticks=6, **axis)
    fig.update_xaxes(tickangle=0, automargin=True)
    _layout(fig, 420, barmode="group", title=dict(text="Credit per team by method", y=0.99, yanchor="top"))
    # room above the bars for the legend under the title: one row wide, four on a phone
    fig.update_layout(margin=dict(l=10, r=10, t=130, b=40), legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"))
    return fig
