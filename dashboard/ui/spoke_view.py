"""The sections of a spoke's page: filters, KPI tiles and tree, the inbox with actions, flow, check panels."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import audit, errors

from dashboard.actions import ACTIONS, act
from dashboard.charts import spoke_charts
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.domain.export import to_safe_csv
from dashboard.domain.vocabulary import OPEN_STATUSES, Status
from dashboard.queries import spoke as q
from dashboard.queries.kpis import kpi_trend, kpis_with_change
from dashboard.queries.overview import TREND_BUCKET_HOURS
from dashboard.settings import get_settings
from dashboard.ui import data, urlstate
from dashboard.ui.tables import kpi_table
from dashboard.ui.widgets import kpi_tile, recent_changes

PAGE_SIZE = 50
EXPORT_CAP = 50_000
STATUS_LABELS = {s.value: s.value.replace("_", " ") for s in Status}


@dataclass(frozen=True)
class SpokeContext:
    viewer: Viewer
    unit: str
    name: str
    window: str
    start: dt.datetime
    end: dt.datetime
    names: dict[str, str]


def context(viewer: Viewer, unit: str, names: dict[str, str], window: str) -> SpokeContext:
    start, end = data.current_bounds(window)
    return SpokeContext(viewer, unit, names[unit], window, start, end, names)



# Cached accessors are keyed by the window's name, not its bounds: bounds move with the clock and would
# make every key new. Within the ttl a rerun reuses the result; after it, the bounds are recomputed.
@st.cache_data(ttl=get_settings().cache_ttl_seconds, show_spinner=False, max_entries=64)
def _kpis(url: str, viewer: Viewer, window: str) -> pd.DataFrame:
    with data.engine().connect() as conn:
        return kpis_with_change(conn, viewer, *data.current_bounds(window))


@st.cache_data(ttl=get_settings().cache_ttl_seconds, show_spinner=False, max_entries=64)
def _kpi_trend(url: str, viewer: Viewer, ids: tuple[str, ...], window: str):
    with data.engine().connect() as conn:
        return kpi_trend(conn, viewer, list(ids), *data.current_bounds(window), 24 if window == "30d" else 6)


def _bounded(f: q.InboxFilter, window: str) -> q.InboxFilter:
    start, end = data.current_bounds(window)
    return q.InboxFilter(**{**f.__dict__, "start": start, "end": end})


@st.cache_data(ttl=get_settings().cache_ttl_seconds, show_spinner=False, max_entries=64)
def _inbox_total(url: str, viewer: Viewer, unit: str, window: str, f: q.InboxFilter) -> int:
    with data.engine().connect() as conn:
        return q.inbox_count(conn, viewer, unit, _bounded(f, window))


@st.cache_data(ttl=get_settings().cache_ttl_seconds, show_spinner=False, max_entries=64)
def _inbox_page(url: str, viewer: Viewer, unit: str, window: str, f: q.InboxFilter) -> q.InboxPage:
    with data.engine().connect() as conn:
        return q.inbox(conn, viewer, unit, _bounded(f, window), dt.datetime.now(dt.timezone.utc))


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def _options(url: str, viewer: Viewer, unit: str, since: dt.date) -> dict[str, list[str]]:
    with data.engine().connect() as conn:  # per day: the lists change rarely, and a day's drift is harmless
        return q.inbox_options(conn, viewer, unit, dt.datetime.combine(since, dt.time(), dt.timezone.utc))


@st.cache_data(ttl=get_settings().cache_ttl_seconds, show_spinner=False, max_entries=64)
def _flow(url: str, viewer: Viewer, unit: str, window: str):
    start, end = data.current_bounds(window)
    bucket = TREND_BUCKET_HOURS[window]
    with data.engine().connect() as conn:
        return q.flow_trend(conn, viewer, unit, start, end, bucket), q.cycle_histogram(conn, viewer, unit, start, end)


def kpi_section(ctx: SpokeContext) -> pd.DataFrame:
    url = get_settings().database_url
    kpis = _kpis(url, ctx.viewer, ctx.window)
    own = kpis[kpis.unit_id == ctx.unit]
    if own.empty:
        st.info("This spoke has no KPIs yet. Add them to the `kpis` table (see the README's data contract).")
        return own
    trend = _kpi_trend(url, ctx.viewer, tuple(own.id), ctx.window)
    changes = recent_changes(url, ctx.viewer, ctx.unit)
    for start in range(0, len(own), 4):
        cols = st.columns(4)
        for col, row in zip(cols, own.iloc[start:start + 4].itertuples()):
            with col:
                kpi_tile(row, trend, changes)
    with st.expander("KPI tree: this team alone and as part of the shared goal", expanded=False):
        st.plotly_chart(chart("kpi_tree", kpis, ctx.unit, ctx.names), config={"displayModeBar": False})
        kpi_table(own)
    return own


def _inbox_filters(ctx: SpokeContext, options: dict[str, list[str]]) -> q.InboxFilter:
    c1, c2, c3, c4 = st.columns([3, 3, 3, 3])
    statuses = [s.value for s in Status]
    default_status = [s.value for s in OPEN_STATUSES]
    urlstate.seed_many("channel", options["channels"])
    urlstate.seed_many("kind", options["kinds"])
    urlstate.seed_many("status", statuses, default_status)
    with c1:
        channels = st.multiselect("Channel", options["channels"], key="channel", placeholder="All channels")
    with c2:
        kinds = st.multiselect("Kind", options["kinds"], key="kind", placeholder="All kinds",
                               format_func=lambda k: k.replace("_", " "))
    with c3:
        chosen_status = st.multiselect("Status", statuses, key="status", placeholder="Any status",
                                       format_func=STATUS_LABELS.get)
    with c4:
        sort = st.selectbox("Sort by", ["due_at", "created_at", "status", "kind", "channel", "value"], key="sort",
                            format_func=lambda c: c.replace("_at", "").replace("_", " ").capitalize())
        descending = st.toggle("Newest / largest first", key="desc")
    for key, value, default in (("channel", channels, None), ("kind", kinds, None), ("status", chosen_status, default_status)):
        urlstate.write(key, value, default)
    return q.InboxFilter(start=ctx.start, end=ctx.end, channels=tuple(channels), kinds=tuple(kinds),
                         statuses=tuple(chosen_status), sort=sort, descending=descending, limit=PAGE_SIZE)


def inbox_section(ctx: SpokeContext) -> None:
    url = get_settings().database_url
    now = dt.datetime.now(dt.timezone.utc)
    options = _options(url, ctx.viewer, ctx.unit, ctx.start.date())
    f = _inbox_filters(ctx, options)
    unbounded = q.InboxFilter(**{**f.__dict__, "start": None, "end": None})  # cache key: no clock in it
    total = _inbox_total(url, ctx.viewer, ctx.unit, ctx.window, unbounded)
    pages = max(1, -(-total // PAGE_SIZE))
    page_no = st.pagination(pages, key="inbox_page") if pages > 1 else 1
    page_no = min(page_no, pages)
    page = _inbox_page(url, ctx.viewer, ctx.unit, ctx.window, q.InboxFilter(**{**unbounded.__dict__, "offset": (page_no - 1) * PAGE_SIZE}))
    _flash()
    if page.rows.empty:
        st.info("No items match these filters in this window.", icon=":material/inbox:")
        return
    st.caption(f"{page.total:,} items · page {page_no} of {pages} · {PAGE_SIZE} per page")
    # Actions apply to the rows the user saw when ticking them (id + version), not to whatever a fresh
    # query puts at the same positions after a colleague changed something.
    seen = st.session_state.get("inbox_seen", [])
    shown = list(zip(page.rows.id, page.rows.version.astype(int)))
    st.session_state["inbox_seen"] = shown
    view = _inbox_view(page.rows, ctx.names, get_settings().tz)
    key = f"inbox-{page_no}-{st.session_state.get('inbox_generation', 0)}"
    event = st.dataframe(view, hide_index=True, on_select="rerun", selection_mode="multi-row", key=key,
                         column_config=_INBOX_COLUMNS)
    rows = list(event.selection.rows) if event else []
    basis = seen if seen and len(seen) > max(rows, default=-1) else shown
    _actions(ctx, [basis[i] for i in rows])
    _exports(ctx, f, now)


def _flash() -> None:
    """Show the outcome of the last action once (it ran before the rerun that refreshed the inbox)."""
    for kind, message in st.session_state.pop("inbox_flash", []):
        (st.success if kind == "ok" else st.warning)(message, icon=":material/check:" if kind == "ok" else ":material/warning:")


_INBOX_COLUMNS = {
    "Age (h)": st.column_config.NumberColumn(format="%.1f h"),
    "Due in (h)": st.column_config.NumberColumn(format="%.1f h", help="Negative: past the SLA due time"),
    "Value": st.column_config.NumberColumn(format="€%.0f"),
    "Breached": st.column_config.CheckboxColumn(help="Resolved after, or still open past, the SLA due time"),
}


def _inbox_view(rows: pd.DataFrame, names: dict[str, str], tz) -> pd.DataFrame:
    return pd.DataFrame({
        "Item": rows.id, "Kind": rows.kind.str.replace("_", " "), "From": rows.source_unit.map(names).fillna(rows.source_unit),
        "Channel": rows.channel, "Topic": rows.topic, "Text": rows.text, "Status": rows.status.map(STATUS_LABELS),
        "Created": rows.created_at.dt.tz_convert(tz).dt.strftime("%d %b %H:%M"),
        "SLA due": rows.due_at.dt.tz_convert(tz).dt.strftime("%d %b %H:%M"),
        "Age (h)": rows.age_h, "Due in (h)": rows.due_in_h.where(rows.resolved_at.isna()), "Breached": rows.breached,
        "Value": rows.value, "Last change": rows.updated_by.fillna(""), "Note": rows.note,
    })


def _actions(ctx: SpokeContext, selected: list[tuple[str, int]]) -> None:
    if not ctx.viewer.can_act_for(ctx.unit):  # executives look; the data layer refuses them too
        st.caption("Read-only: your role can see this inbox but not act on it.")
        return
    generation = st.session_state.get("inbox_generation", 0)  # cleared after a success, kept after a failure
    with st.form("item_actions", border=True):
        st.markdown(f"**Act on {len(selected)} selected item{'s' if len(selected) != 1 else ''}** "
                    "(tick rows in the table first)")
        a, b, c = st.columns([3, 5, 2], vertical_alignment="bottom")
        with a:
            action = st.selectbox("Action", list(ACTIONS), format_func=lambda k: ACTIONS[k][0],
                                  key=f"inbox_action_{generation}")
        with b:
            note = st.text_input("Note", placeholder="Required when handing back: why?", max_chars=500,
                                 key=f"inbox_note_{generation}")
        with c:
            submitted = st.form_submit_button("Apply", type="primary", width="stretch")
    if not submitted:
        return
    try:
        outcomes = act(data.engine(), ctx.viewer, ctx.unit, selected, action, note=note)
    except ValueError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    except NotPermitted as exc:
        st.error(str(exc), icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:  # the database went away or refused the write: the form keeps its input
        data.write_failed(exc, "Items are changed one at a time: any done before the failure stay done, the "
                               "others were not changed. Your selection and note are still here.")
        return
    done = [o for o in outcomes if o.ok]
    flash = []
    if done:
        flash.append(("ok", f"{ACTIONS[action][0]}: {len(done)} item{'s' if len(done) != 1 else ''} updated."))
    flash += [("warn", o.message) for o in outcomes if not o.ok]
    st.session_state["inbox_flash"] = flash
    st.session_state["inbox_generation"] = st.session_state.get("inbox_generation", 0) + 1  # clears the ticks
    st.session_state.pop("inbox_seen", None)
    _kpis.clear()
    _flow.clear()
    _inbox_total.clear()
    _inbox_page.clear()
    data.overview.clear()
    data.overview_map.clear()
    st.rerun()


def _exports(ctx: SpokeContext, f: q.InboxFilter, now: dt.datetime) -> None:
    def inbox_csv() -> bytes:  # built only when the user clicks (deferred download)
        with data.engine().begin() as conn:
            rows = q.export_rows(conn, ctx.viewer, ctx.unit, f, now, EXPORT_CAP)
            audit.record(conn, ctx.viewer, "export", f"{ctx.unit} inbox", f"{len(rows):,} rows")
            return to_safe_csv(rows)

    st.download_button("Download filtered inbox (CSV)", inbox_csv, file_name=f"{ctx.unit}-inbox.csv", mime="text/csv",
                       icon=":material/download:", on_click="ignore",
                       help=f"All items matching the filters (up to {EXPORT_CAP:,}); formula-like cells are neutralised")


def kpi_export(ctx: SpokeContext, own: pd.DataFrame) -> None:
    if own.empty:
        return
    cols = ["id", "name", "unit_of_measure", "value", "window_target", "direction", "on_target", "previous", "change"]
    def kpi_csv() -> str:  # built (and audited) when clicked
        with data.engine().begin() as conn:
            audit.record(conn, ctx.viewer, "export", f"{ctx.unit} KPIs", f"{len(own):,} rows")
        return to_safe_csv(own[cols])

    st.download_button("Download KPIs (CSV)", kpi_csv, file_name=f"{ctx.unit}-kpis.csv", mime="text/csv",
                       icon=":material/download:", on_click="ignore")


def flow_section(ctx: SpokeContext) -> None:
    trend, hist = _flow(get_settings().database_url, ctx.viewer, ctx.unit, ctx.window)
    if trend.empty or trend.created.sum() == 0:
        st.info("No flow with the hub in this window.", icon=":material/swap_horiz:")
        return
    changes = window_changes(ctx)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(chart("flow_volume", trend, changes), config={"displayModeBar": False})
        st.plotly_chart(chart("cycle_distribution", hist), config={"displayModeBar": False})
    with right:
        st.plotly_chart(chart("backlog_and_breaches", trend, changes), config={"displayModeBar": False})
    if changes:
        st.caption("Dashed lines: operating-model changes done in this window that touch this spoke — "
                   + "; ".join(f"{label} ({day.day} {day:%b})" for day, label, _units in changes) + ".")


@st.cache_resource(ttl=600, max_entries=128, show_spinner=False)
def chart(builder: str, *args):
    """``dashboard.charts.spoke_charts.<builder>(*args)``, shared per (builder, data): building a plotly figure
    costs 10–40 ms and the page reruns on every click, while the data behind it changes once per cache period
    (st.plotly_chart only reads the figure; the data frames are hashed by value)."""
    return getattr(spoke_charts, builder)(*args)


def window_changes(ctx: SpokeContext) -> tuple:
    """The done operating-model changes touching this spoke (or every spoke) dated inside the window."""
    first, last = ctx.start.date(), ctx.end.date()
    return tuple(c for c in recent_changes(get_settings().database_url, ctx.viewer, ctx.unit) if first <= c[0] <= last)
