"""Data tables with readable column formats (keyboard- and screen-reader-friendly twins of the charts)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.domain import format as fmt

FLOW_HELP = {
    "New in window": "Items created on this flow during the window.",
    "Resolved in window": "Items resolved during the window, including items created before it — so it can be "
                          "larger than the items new in the window.",
    "Within SLA": "Of the items resolved in the window, the share resolved by their SLA due time.",
    "Median cycle": "Median time from creation to resolution of the items resolved in the window.",
    "p90 cycle": "9 in 10 of the items resolved in the window took at most this long.",
    "Open now": "Items on this flow not yet resolved, whenever they were created.",
    "Overdue now": "Open items already past their SLA due time.",
}


def flows_table(flows: pd.DataFrame, names: dict[str, str], focus: list[str] | None = None) -> None:
    """One row per flow. "New" and "resolved" are both counted in the window, but of different items (a flow can
    resolve more than arrived in it), and the backlog is now: the headers say so, their help explains."""
    if "hub_side" in flows:  # items waiting unrouted at the hub are not a flow (the map labels them at the hub)
        flows = flows[flows.hub_side != "unrouted"]
    if focus:
        flows = flows[flows.spoke.isin(focus)]
    if flows.empty:
        st.caption("No flows in this window.")
        return
    view = pd.DataFrame({
        "From": flows.source_unit.map(names).fillna(flows.source_unit),
        "To": flows.target_unit.map(names).fillna(flows.target_unit),
        "New in window": flows.created,
        "Resolved in window": flows.resolved,
        "Within SLA": flows.sla_share * 100,
        "Median cycle": flows.median_h,
        "p90 cycle": flows.p90_h,
        "Open now": flows.backlog,
        "Overdue now": flows.overdue,
    })
    count = {c: st.column_config.NumberColumn(c, format=fmt.COUNT, help=FLOW_HELP[c])
             for c in ("New in window", "Resolved in window", "Open now", "Overdue now")}
    st.dataframe(
        view, hide_index=True,
        column_config=count | {
            "Within SLA": st.column_config.ProgressColumn("Within SLA", format=fmt.PERCENT, min_value=0,
                                                          max_value=100, help=FLOW_HELP["Within SLA"]),
            "Median cycle": st.column_config.NumberColumn("Median cycle", format=fmt.HOURS,
                                                          help=FLOW_HELP["Median cycle"]),
            "p90 cycle": st.column_config.NumberColumn("p90 cycle", format=fmt.HOURS, help=FLOW_HELP["p90 cycle"]),
        },
    )


def kpi_cell(value, unit_of_measure: str) -> str:
    """A KPI's value or target in a table: money in full with its currency, counts whole, shares and hours with
    their fixed decimals (one column holds KPIs of different units, so each cell is formatted by its row)."""
    if value is None or pd.isna(value):
        return "no data"
    if unit_of_measure in fmt.CURRENCY_SYMBOLS:
        return fmt.money(value, unit_of_measure)
    if unit_of_measure in ("count", ""):
        return fmt.count(value)
    return fmt.measure(value, unit_of_measure)


def kpi_table(kpis: pd.DataFrame) -> None:
    if kpis.empty:
        st.caption("No KPIs defined for this unit.")
        return
    view = pd.DataFrame({
        "KPI": kpis.name,
        "Value": [kpi_cell(v, u) for v, u in zip(kpis.value, kpis.unit_of_measure)],
        "Target": [kpi_cell(t, u) if pd.notna(t) else "none set" for t, u in zip(kpis.window_target, kpis.unit_of_measure)],
        "Unit": kpis.unit_of_measure,
        "Better when": kpis.direction,
        "Status": kpis.on_target.map({True: "on target", False: "off target"}).fillna("no data"),
    })
    st.dataframe(view, hide_index=True, column_config={
        "Value": st.column_config.TextColumn("Value", help="Over the window, in the KPI's unit"),
        "Target": st.column_config.TextColumn("Target", help="For the window: a daily target times its days"),
    })
