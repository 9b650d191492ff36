"""The overview's own reads (numbers and numpy over the rollup rows, frames built once) equal the general queries
they stand for, frame for frame, on SQLite and PostgreSQL: ``kpis_and_unit_health``, ``goals`` and ``kpi_trend``
for the tiles and node colours, and for the edges a plain pandas computation straight from the raw work items
(no rollup). Every window, every kind of viewer, windows that start mid-hour, a level KPI, a KPI with no data,
items resolved before they were due and after, open items overdue and not.

It also holds what lets the page share one overview per scope: every viewer's overview equals their scope's."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pandas as pd
import pytest

from dashboard import store
from dashboard.domain.access import LOCAL_ADMIN, NotPermitted, Role, Viewer
from dashboard.domain.stats import CYCLE_BIN_COLUMNS, cycle_bin_index, percentile_from_hist
from dashboard.domain.vocabulary import WINDOWS, previous_bounds, window_bounds
from dashboard.queries.kpis import goals, kpi_trend, kpis_and_unit_health
from dashboard.queries.overview import TREND_BUCKET_HOURS, TREND_SPAN, load_overview, overview_scope
from tests.factories import NOW, item, tiny_org

UTC = dt.UTC
VIEWERS = [
    LOCAL_ADMIN,
    Viewer("eve@example.com", Role.EXECUTIVE),
    Viewer("hal@example.com", Role.HUB_LEAD),
    Viewer("sam@example.com", Role.SPOKE_LEAD, unit="sales"),
    Viewer("fay@example.com", Role.SPOKE_LEAD, unit="finance"),
]
FRAMES = ("units", "flows", "kpis", "health", "headline", "trends")


@pytest.fixture
def busy(engine):
    """tiny_org with three days of items both ways (created at odd minutes, so every window edge cuts an hour)
    and KPI observations every 37 minutes, the level KPI only every 5 hours; 'conversion' has none today."""
    rnd = random.Random(7)
    items = []
    for i in range(240):
        created = NOW - dt.timedelta(minutes=rnd.randrange(1, 3 * 24 * 60))
        source, target = rnd.choice([("hub", "sales"), ("sales", "hub"), ("hub", "finance"), ("finance", "hub"),
                                     ("hub", "hub")])
        cycle = rnd.choice([None, 0.2, 1.0, 3.5, 9.0, 30.0])
        resolved = created + dt.timedelta(hours=cycle) if cycle is not None else None
        if resolved is not None and resolved > NOW:
            resolved = None
        own = source == target and resolved is None  # waiting unrouted at the hub
        items.append(item(f"i{i}", source, target, created, resolved=resolved, sla_hours=rnd.choice([0.5, 4, 24]),
                          value=rnd.choice([None, 10.0, 125.5]), status="new" if own else None))
    observations = []
    for k in range(3 * 24 * 60 // 37):
        ts = NOW - dt.timedelta(minutes=37 * k + 3)
        observations.append(dict(kpi_id="revenue", ts=ts, value=100.0 + (k * 17) % 90))
        observations.append(dict(kpi_id="cost", ts=ts, value=20.0 + (k * 7) % 13))
        if ts < NOW - dt.timedelta(hours=20):
            observations.append(dict(kpi_id="conversion", ts=ts, value=3.0 + (k % 5) * 0.5))
        if k % 8 == 0:
            observations.append(dict(kpi_id="close_days", ts=ts, value=float(3 + k % 4)))
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, items)
        store.insert_kpi_observations(conn, observations)
    return engine


def raw_flows(conn, start, end, now) -> pd.DataFrame:
    """Every edge's figures over [start, end) from the raw work items alone, in pandas."""
    rows = pd.read_sql("SELECT source_unit, target_unit, created_at, resolved_at, due_at, value FROM work_items",
                       conn)
    for col in ("created_at", "resolved_at", "due_at"):
        rows[col] = pd.to_datetime(rows[col], utc=True)
    kinds = dict(pd.read_sql("SELECT id, kind FROM units", conn).itertuples(index=False))
    out = []
    for (source, target), g in rows.groupby(["source_unit", "target_unit"]):
        made = g[(g.created_at >= start) & (g.created_at < end)]
        done = g[(g.resolved_at >= start) & (g.resolved_at < end)]
        still = g[g.resolved_at.isna()]
        if made.empty and done.empty and still.empty:
            continue
        hours = ((done.resolved_at - done.created_at).dt.total_seconds() / 3600).to_numpy()
        hist = np.bincount(cycle_bin_index(hours), minlength=len(CYCLE_BIN_COLUMNS))
        side = (("unrouted" if source == target else "out") if kinds[source] == "hub"
                else "in" if kinds[target] == "hub" else "none")
        n = len(done)
        median, p90 = (percentile_from_hist(hist, q) for q in (0.5, 0.9))
        out.append(dict(
            source_unit=source, target_unit=target, hub_side=side, spoke=target if side == "out" else source,
            created=len(made), created_value=float(made.value.fillna(0).sum()), resolved=n,
            resolved_in_sla=int((done.resolved_at <= done.due_at).sum()),
            sla_share=(done.resolved_at <= done.due_at).sum() / n if n else np.nan,
            mean_h=hours.sum() / n if n else np.nan,
            median_h=np.nan if median is None else median, p90_h=np.nan if p90 is None else p90,
            backlog=len(still), overdue=int((still.due_at < now).sum()),
        ))
    return pd.DataFrame(out)


@pytest.mark.parametrize("window", list(WINDOWS))
def test_edges_equal_a_computation_from_the_raw_items(busy, window):
    with busy.connect() as conn:
        ov = load_overview(conn, LOCAL_ADMIN, window, NOW, UTC)
        want = raw_flows(conn, ov.start, ov.end, NOW)
    got = ov.flows
    assert len(got) == len(want) > 0
    pd.testing.assert_frame_equal(got.astype({c: float for c in ("created", "resolved", "resolved_in_sla")}),
                                  want.astype({c: float for c in ("created", "resolved", "resolved_in_sla")}),
                                  check_dtype=False, check_exact=False, rtol=1e-9)
    assert {c: str(t) for c, t in got.dtypes.items() if c in ("created", "backlog", "overdue")} == \
        dict.fromkeys(("created", "backlog", "overdue"), "int64")


@pytest.mark.parametrize("viewer", VIEWERS, ids=lambda v: f"{v.role.value}-{v.unit}")
@pytest.mark.parametrize("window", list(WINDOWS))
def test_tiles_node_health_and_trends_equal_the_general_kpi_queries(busy, viewer, window):
    with busy.connect() as conn:
        ov = load_overview(conn, viewer, window, NOW, UTC)
        start, end = window_bounds(window, NOW, UTC)
        kpis, health = kpis_and_unit_health(conn, viewer, start, end, previous_bounds(window, start, end))
        heads = goals(kpis)
        span = TREND_SPAN.get(window, end - start)
        trends = kpi_trend(conn, viewer, heads.id.tolist(), end - span, end, TREND_BUCKET_HOURS[window])
    for got, want in ((ov.kpis, kpis), (ov.health, health), (ov.headline, heads), (ov.trends, trends)):
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
    assert not ov.headline.empty and not ov.trends.empty


@pytest.mark.parametrize("viewer", VIEWERS, ids=lambda v: f"{v.role.value}-{v.unit}")
def test_every_viewer_sees_the_overview_of_their_scope(busy, viewer):
    with busy.connect() as conn:
        mine = load_overview(conn, viewer, "30d", NOW, UTC)
        scoped = load_overview(conn, overview_scope(viewer), "30d", NOW, UTC)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(mine, name), getattr(scoped, name))


def test_scopes_part_only_who_sees_every_unit_from_each_spoke_lead():
    scopes = {v: overview_scope(v) for v in VIEWERS}
    assert len({scopes[v] for v in VIEWERS[:3]}) == 1  # admin, executive, hub lead: one overview
    assert scopes[VIEWERS[3]] != scopes[VIEWERS[4]]  # each spoke lead their own
    assert scopes[VIEWERS[3]].unit == "sales" and not scopes[VIEWERS[3]].sees_everything
    assert scopes[VIEWERS[0]].role is Role.EXECUTIVE  # the narrowest of those who see every unit
    assert overview_scope(Viewer("other@example.com", Role.SPOKE_LEAD, unit="sales")) == scopes[VIEWERS[3]]
    for nobody in (None, Viewer("x", Role.NONE), "admin"):
        with pytest.raises(NotPermitted):
            overview_scope(nobody)


def test_a_spoke_lead_scope_never_shows_another_spokes_kpi_figures(busy):
    with busy.connect() as conn:
        sales = load_overview(conn, overview_scope(VIEWERS[3]), "7d", NOW, UTC).kpis.set_index("id")
        everything = load_overview(conn, overview_scope(LOCAL_ADMIN), "7d", NOW, UTC).kpis.set_index("id")
    assert pd.isna(sales.at["close_days", "value"]) and sales.at["close_days", "n"] == 0  # finance's, not a goal
    assert not pd.isna(everything.at["close_days", "value"])
    assert sales.at["revenue", "value"] == everything.at["revenue", "value"]  # the shared goal


def test_an_empty_organisation_reads_empty_frames(engine):
    with engine.connect() as conn:
        ov = load_overview(conn, LOCAL_ADMIN, "7d", NOW, UTC)
    assert ov.empty and ov.flows.empty and ov.kpis.empty and ov.trends.empty and ov.unrouted == 0
