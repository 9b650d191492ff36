"""The check panels a spoke's page shows, chosen by the unit's `panels` column (data, not code)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard.domain import format as fmt
from dashboard.domain.checks import capacity_outlook, channel_returns, suggest_shift
from dashboard.queries import checks as q
from dashboard.settings import get_settings
from dashboard.ui import data
from dashboard.ui.spoke_view import chart



@st.cache_data(ttl=get_settings().cache_ttl_seconds, show_spinner=False, max_entries=32)
def _topics(url: str, viewer, unit: str, window: str):
    with data.engine().connect() as conn:
        return q.routed_topics(conn, viewer, unit, *data.current_bounds(window))


@st.cache_data(ttl=get_settings().cache_ttl_seconds, show_spinner=False, max_entries=32)
def _arrivals(url: str, viewer, unit: str):
    now = dt.datetime.now(dt.timezone.utc)
    with data.engine().connect() as conn:
        return q.unit_row(conn, viewer, unit), q.daily_arrivals(conn, viewer, unit, ["lead"], now - dt.timedelta(days=28), now)


def render_panels(ctx) -> None:
    with data.engine().connect() as conn:
        panels = q.unit_panels(conn, ctx.viewer, ctx.unit)
    for panel in panels:
        st.subheader(q.PANELS[panel])
        RENDERERS[panel](ctx)


def lead_capacity(ctx) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    unit, daily = _arrivals(get_settings().database_url, ctx.viewer, ctx.unit)
    per_fte = unit.get("capacity_per_fte_day")
    if not per_fte or not unit.get("headcount"):
        st.info("Set this unit's headcount and leads per rep per day (`capacity_per_fte_day`) to compare.")
        return
    capacity = float(unit["headcount"]) * float(per_fte)
    if daily.empty:
        st.info("No leads routed in the last 28 days.")
        return
    # judge complete days only: today is still filling up
    out = capacity_outlook(daily, capacity, now.date() - dt.timedelta(days=1))
    if out.recent_per_day == 0 and out.trend_per_day == 0:
        st.info("Not enough complete days of routed leads yet to compare with capacity.")
        return
    a, b, c = st.columns(3)
    a.metric("Leads per day (last 7 days)", f"{out.recent_per_day:,.0f}")
    b.metric("Sales capacity per day", f"{capacity:,.0f}", help=f"{unit['headcount']:g} reps × {per_fte:g} leads per rep per day")
    c.metric("Trend", f"{out.trend_per_day:+.1f} leads/day per day")
    if out.over_capacity_now:
        st.error("Leads already exceed what sales can work: leads will wait or be lost.", icon=":material/warning:")
    elif out.runs_out_on:
        st.warning(f"At the current trend, leads exceed sales capacity on **{out.runs_out_on:%d %b %Y}**.", icon=":material/trending_up:")
    else:
        st.success("Sales capacity covers the lead trend for the next 6 months.", icon=":material/check:")
    st.plotly_chart(chart("capacity_chart", daily, float(capacity)), config={"displayModeBar": False})


def promotions(ctx) -> None:
    with data.engine().connect() as conn:
        promos = q.promotions_with_volume(conn, ctx.viewer, ctx.unit, dt.datetime.now(dt.timezone.utc))
    if promos.empty:
        st.info("No active or upcoming promotions have been announced to this team.")
        return
    tz = get_settings().tz
    view = promos.assign(
        Starts=promos.starts_at.map(lambda t: t.astimezone(tz).strftime("%d %b %H:%M")),
        Ends=promos.ends_at.map(lambda t: t.astimezone(tz).strftime("%d %b %H:%M")),
    )[["name", "state", "channel", "Starts", "Ends", "complaints_and_mentions", "description"]]
    view.columns = ["Promotion", "State", "Channel", "Starts", "Ends", "Complaints + mentions (±2 days)", "Details"]
    st.dataframe(view, hide_index=True)


def channel_roi(ctx) -> None:
    with data.engine().connect() as conn:
        camp = q.campaign_frame(conn, ctx.viewer, (ctx.end - dt.timedelta(days=90)).date(), ctx.end.date())
    if camp.empty:
        st.info("No campaign data for the last 90 days.")
        return
    returns = channel_returns(camp)
    st.plotly_chart(chart("channel_roi", returns), config={"displayModeBar": False})
    st.dataframe(returns.rename(columns={"marginal_return": "marginal return (€ per extra €)"}), hide_index=True,
                 column_config={"roi": st.column_config.NumberColumn("ROI", format="percent"),
                                "spend": st.column_config.NumberColumn(format="€%.0f"),
                                "revenue": st.column_config.NumberColumn(format="€%.0f")})
    shift = suggest_shift(returns)
    if shift:
        st.info(f"Suggested: move **€{fmt.compact(shift.amount)}** from **{shift.from_channel}** to **{shift.to_channel}**; "
                f"expected revenue change **€{fmt.compact(shift.revenue_change)}** over the same period.\n\n{shift.method}",
                icon=":material/lightbulb:")
    total_rev, total_spend = returns.revenue.sum(), returns.spend.sum()
    st.caption(f"Revenue attributed to the hub's campaigns in the last 90 days: €{fmt.compact(total_rev)} "
               f"for €{fmt.compact(total_spend)} spend.")


def routed_topics(ctx) -> None:
    by_topic, faq = _topics(get_settings().database_url, ctx.viewer, ctx.unit, ctx.window)
    if by_topic.empty:
        st.info("Nothing routed to this team in this window.")
        return
    left, right = st.columns(2)
    with left:
        st.caption("Items routed to this team by topic")
        st.dataframe(by_topic, hide_index=True)
    with right:
        st.caption("Recurring questions, grouped by similar wording (the method of Routing → FAQ candidates)")
        if faq.empty:
            st.write("No question was asked twice in this window.")
        else:
            st.dataframe(faq, hide_index=True, column_config={
                "question": st.column_config.TextColumn("Most frequent wording"),
                "items": st.column_config.NumberColumn("Items", format="localized"),
                "wordings": st.column_config.NumberColumn("Wordings", format="localized"),
                "examples": st.column_config.TextColumn("Other wordings"),
            })


RENDERERS = {"lead_capacity": lead_capacity, "promotions": promotions, "channel_roi": channel_roi, "routed_topics": routed_topics}
