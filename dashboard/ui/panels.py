"""The check panels a spoke's page shows, chosen by the unit's `panels` column (data, not code)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.domain import format as fmt
from dashboard.domain.capacity import MIN_DAYS_FOR_TREND, RECENT_DAYS, capacity_outlook
from dashboard.domain.checks import channel_returns, suggest_shift
from dashboard.queries import checks
from dashboard.settings import get_settings
from dashboard.ui import cache, data
from dashboard.ui.spoke_view import chart
from dashboard.ui.text import md


@cache.reads("items", max_entries=32)
def _topics(viewer, unit: str, window: str):
    with data.engine().connect() as conn:
        return checks.routed_topics(conn, viewer, unit, *data.current_bounds(window))


LOOK_BACK_DAYS = 28
FIGURE_WIDTH = 230  # px per headline figure: they wrap onto more rows rather than cut their labels


@cache.reads("units", "items", max_entries=32)
def _arrivals(viewer, unit: str, today: dt.date):
    """The unit's row and its leads per complete day of the last LOOK_BACK_DAYS days (keyed by the local date:
    complete days change only when a day ends)."""
    now = dt.datetime.now(dt.UTC)
    with data.engine().connect() as conn:
        return checks.unit_row(conn, viewer, unit), checks.daily_arrivals(
            conn, viewer, unit, ["lead"], now - dt.timedelta(days=LOOK_BACK_DAYS), now, get_settings().tz)


def render_panels(ctx) -> None:
    with data.engine().connect() as conn:
        panels = checks.unit_panels(conn, ctx.viewer, ctx.unit)
    for panel in panels:
        st.subheader(checks.PANELS[panel])
        RENDERERS[panel](ctx)


def lead_capacity(ctx) -> None:
    s = get_settings()
    unit, days = _arrivals(ctx.viewer, ctx.unit, dt.datetime.now(s.tz).date())
    per_fte = unit.get("capacity_per_fte_day")
    if not per_fte or not unit.get("headcount"):
        st.info("Set this unit's headcount and leads per rep per day (`capacity_per_fte_day`) to compare.")
        return
    capacity = float(unit["headcount"]) * float(per_fte)
    if days.empty or days.sum() == 0:
        st.info(f"No leads routed on a complete day of the last {LOOK_BACK_DAYS} days (today counts once it has "
                "ended).", icon=":material/hourglass_empty:")
        return
    out = capacity_outlook(days, capacity)
    with st.container(horizontal=True, gap="small", key="capacity_figures"):  # wraps in a narrow window
        st.metric(f"Leads a day (last {min(RECENT_DAYS, len(days))} days)", fmt.count(out.recent_per_day),
                  help="Mean of the last complete days; today is left out until it has ended.", width=FIGURE_WIDTH)
        st.metric("Sales capacity a day", fmt.count(capacity), width=FIGURE_WIDTH,
                  help=f"{fmt.fte(unit['headcount'])} × {fmt.kpi(per_fte, 'leads per FTE a day')}")
        if out.slope is None:
            st.metric("Trend", "not yet", width=FIGURE_WIDTH,
                      help=f"A trend needs {MIN_DAYS_FOR_TREND} complete days of leads; there are {len(days)}.")
        else:
            st.metric("Trend", f"{fmt.signed_decimal(out.slope)} a day", width=FIGURE_WIDTH,
                      help=f"Leads a day change by {fmt.signed_decimal(out.slope)} each day: the slope of the "
                           f"straight line (least squares) through the {len(days)} complete days drawn below.")
    if out.over_capacity_now:
        st.error("Leads already exceed what sales can work: leads will wait or be lost.", icon=":material/warning:")
    elif out.runs_out_on:
        st.warning(f"At the current trend, leads exceed sales capacity on **{fmt.day(out.runs_out_on)}**.",
                   icon=":material/trending_up:")
    elif out.slope is not None:
        st.success("Sales capacity covers the lead trend for the next 6 months.", icon=":material/check:")
    st.plotly_chart(chart("capacity_chart", out.days, out.fitted, capacity), config={"displayModeBar": False})
    st.caption(f"Complete days only ({s.timezone}), {fmt.day(out.first_day)} to {fmt.day(out.last_day)}: "
               "today is left out until it has ended, and so is a day the data starts in the middle of.")


def promotions(ctx) -> None:
    with data.engine().connect() as conn:
        promos = checks.promotions_with_volume(conn, ctx.viewer, ctx.unit, dt.datetime.now(dt.UTC))
    if promos.empty:
        st.info(f"No promotion is running, coming up or ended in the last {checks.PROMOTIONS_ENDED_DAYS} days.")
        return
    tz = get_settings().tz
    order = {"active": 0, "upcoming": 1, "ended": 2}
    promos = promos.assign(_order=promos.state.map(order)).sort_values(["_order", "starts_at"], kind="stable")
    view = pd.DataFrame({
        "Promotion": promos.name, "State": promos.state, "Channel": promos.channel,
        "Starts": [t.astimezone(tz) for t in promos.starts_at], "Ends": [t.astimezone(tz) for t in promos.ends_at],
        "Complaints + mentions (±2 days)": promos.complaints_and_mentions, "Details": promos.description,
    })
    st.dataframe(view, hide_index=True, column_config={
        "Starts": st.column_config.DatetimeColumn(format=fmt.MOMENT),
        "Ends": st.column_config.DatetimeColumn(format=fmt.MOMENT),
        "Complaints + mentions (±2 days)": st.column_config.NumberColumn(
            format=fmt.COUNT, help="Complaints and mentions routed to this team from two days before the promotion "
                                   "starts to two days after it ends (so far)"),
    })
    st.caption(f"Times in {get_settings().timezone}. Ended promotions stay listed for "
               f"{checks.PROMOTIONS_ENDED_DAYS} days: their complaints often arrive afterwards.")


def channel_roi(ctx) -> None:
    with data.engine().connect() as conn:
        camp = checks.campaign_frame(conn, ctx.viewer, (ctx.end - dt.timedelta(days=90)).date(), ctx.end.date())
    if camp.empty:
        st.info("No campaign data for the last 90 days.")
        return
    returns = channel_returns(camp)
    st.plotly_chart(chart("channel_roi", returns), config={"displayModeBar": False})
    view = pd.DataFrame({
        "Channel": returns.channel, "Spend": returns.spend, "Revenue": returns.revenue, "ROI": returns.roi * 100,
        "Leads": returns.leads, "Conversions": returns.conversions, "Elasticity": returns.elasticity,
        "Marginal return": returns.marginal_return,
    })
    st.dataframe(view, hide_index=True, column_config={
        "Spend": st.column_config.NumberColumn(format=fmt.MONEY),
        "Revenue": st.column_config.NumberColumn(format=fmt.MONEY),
        "ROI": st.column_config.NumberColumn(format=fmt.PERCENT, help="(revenue − spend) ÷ spend"),
        "Leads": st.column_config.NumberColumn(format=fmt.COUNT),
        "Conversions": st.column_config.NumberColumn(format=fmt.COUNT),
        "Elasticity": st.column_config.NumberColumn(
            format="%.2f", help="b in revenue = a · spend^b, fitted on the channel's weekly periods: 1 would be "
                                "no diminishing returns"),
        "Marginal return": st.column_config.NumberColumn(
            format="€%.2f", help="Revenue from one more euro of spend at today's level (b × revenue ÷ spend)"),
    })
    shift = suggest_shift(returns)
    if shift:
        st.info(f"Suggested: move **{fmt.money(shift.amount)}** from **{md(shift.from_channel)}** to "
                f"**{md(shift.to_channel)}**; expected revenue change **{fmt.signed_money(shift.revenue_change)}** "
                f"over the same period.\n\n{md(shift.method)}", icon=":material/lightbulb:")
    total_rev, total_spend = returns.revenue.sum(), returns.spend.sum()
    st.caption(f"Revenue attributed to the hub's campaigns in the last 90 days: {fmt.money(total_rev)} "
               f"for {fmt.money(total_spend)} spend.")


def routed_topics(ctx) -> None:
    by_topic, faq = _topics(ctx.viewer, ctx.unit, ctx.window)
    if by_topic.empty:
        st.info("Nothing routed to this team in this window.")
        return
    left, right = st.columns(2)
    with left:
        st.caption("Items routed to this team by topic")
        st.dataframe(pd.DataFrame({"Topic": by_topic.topic.str.replace("_", " "),
                                   "Kind": by_topic.kind.str.replace("_", " "), "Items": by_topic["items"]}),
                     hide_index=True, column_config={"Items": st.column_config.NumberColumn(format=fmt.COUNT)})
    with right:
        st.caption("Recurring questions, grouped by similar wording (the method of Routing → FAQ candidates)")
        if faq.empty:
            st.write("No question was asked twice in this window.")
        else:
            st.dataframe(faq, hide_index=True, column_config={
                "question": st.column_config.TextColumn("Most frequent wording"),
                "items": st.column_config.NumberColumn("Items", format=fmt.COUNT),
                "wordings": st.column_config.NumberColumn("Wordings", format=fmt.COUNT),
                "examples": st.column_config.TextColumn("Other wordings"),
            })


RENDERERS = {"lead_capacity": lead_capacity, "promotions": promotions, "channel_roi": channel_roi, "routed_topics": routed_topics}
