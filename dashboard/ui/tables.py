"""Data tables with readable column formats (keyboard- and screen-reader-friendly twins of the charts)."""

from __future__ import annotations

import pandas as pd
import streamlit as st


def flows_table(flows: pd.DataFrame, names: dict[str, str], focus: list[str] | None = None) -> None:
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
        "Items": flows.created,
        "Resolved": flows.resolved,
        "Within SLA": flows.sla_share * 100,
        "Median cycle (h)": flows.median_h,
        "p90 cycle (h)": flows.p90_h,
        "Open": flows.backlog,
        "Overdue": flows.overdue,
    })
    st.dataframe(
        view, hide_index=True,
        column_config={
            "Items": st.column_config.NumberColumn(format="localized"),
            "Resolved": st.column_config.NumberColumn(format="localized"),
            "Within SLA": st.column_config.ProgressColumn(format="%.0f %%", min_value=0, max_value=100),
            "Median cycle (h)": st.column_config.NumberColumn(format="%.1f h"),
            "p90 cycle (h)": st.column_config.NumberColumn(format="%.1f h"),
            "Open": st.column_config.NumberColumn(format="localized"),
            "Overdue": st.column_config.NumberColumn(format="localized"),
        },
    )


def kpi_table(kpis: pd.DataFrame) -> None:
    if kpis.empty:
        st.caption("No KPIs defined for this unit.")
        return
    view = pd.DataFrame({
        "KPI": kpis.name,
        "Value": kpis.value,
        "Target": kpis.window_target,
        "Unit": kpis.unit_of_measure,
        "Better when": kpis.direction,
        "Status": kpis.on_target.map({True: "on target", False: "off target"}).fillna("no data"),
    })
    st.dataframe(view, hide_index=True, column_config={
        "Value": st.column_config.NumberColumn(format="localized"),
        "Target": st.column_config.NumberColumn(format="localized"),
    })
