"""A small known organisation for the numbers tier: explicit raw rows, written through the real store.

The figures an executive decides on (tiles, map edges and nodes, the capacity outlook, attribution, scenario
deltas) are checked against plain Python over the rows below, never against the app's own queries. The rows
are deterministic functions of one moment ``now`` (the real clock when the database is built, to the minute,
because the app reads the real clock too):

- four units: the hub and three spokes (Sales with the lead-capacity check, Finance with channel ROI, Customer
  service with promotions and routed topics);
- nine KPIs in a tree ending at revenue, four of them shared goals, observed every six hours at
  ``now − (k + ½) · 6 h``: never near a window's edge;
- work items both ways on every spoke over 62 days (Sales' leads rise day by day for the capacity outlook),
  a few open and overdue, three waiting unrouted at the hub, one handed back;
- customer journeys over a year whose work items make the attribution paths (one converted without any item,
  one with an item after its conversion);
- weekly campaigns on three channels, three promotions (ended, active, upcoming), and one operating-model
  change marked done today (through the real save → promote → mark-done path).

Every event time keeps clear of the window edges the pages use (``now`` minus 1 h, 1, 7, 14, 28, 30, 60, 90,
180 and 365 days; local midnight today, yesterday and a week ago): it is moved just past the edge when it falls
within :data:`GUARD` of it, so a page rendered up to half an hour after ``now`` sees the same rows in every
window. :func:`zone_for` picks the display time zone in which ``now`` is shortly after noon, so "today" holds
twelve hours of data whatever the hour the tests run.

Independent figures (plain Python over :class:`KnownOrg`'s rows) are at the end of this module.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
GUARD = dt.timedelta(minutes=30)  # how long after ``now`` a page may render and still see the same windows

HUB, SALES, FINANCE, SERVICE = "hub", "sales", "finance", "service"
SPOKES = (SALES, FINANCE, SERVICE)
NAMES = {HUB: "Marketing hub", SALES: "Sales", FINANCE: "Finance", SERVICE: "Customer service"}
CAPACITY_PER_FTE_DAY = 2.5
SALES_HEADCOUNT = 8

UNITS = [
    dict(id=HUB, name=NAMES[HUB], kind="hub", headcount=10, cost_per_fte=90_000, sort_order=0,
         description="Campaigns, content, analytics and social listening for every team."),
    dict(id=SALES, name=NAMES[SALES], kind="spoke", headcount=SALES_HEADCOUNT, cost_per_fte=70_000, sort_order=1,
         panels="lead_capacity", capacity_per_fte_day=CAPACITY_PER_FTE_DAY),
    dict(id=FINANCE, name=NAMES[FINANCE], kind="spoke", headcount=4, cost_per_fte=80_000, sort_order=2,
         panels="channel_roi"),
    dict(id=SERVICE, name=NAMES[SERVICE], kind="spoke", headcount=12, cost_per_fte=50_000, sort_order=3,
         panels="promotions,routed_topics"),
]

KPIS = [  # id, unit, name, unit of measure, target (per day for sums), direction, aggregation, parent, goal
    ("revenue", SALES, "Revenue", "EUR", 8_000.0, "higher", "sum", None, True),
    ("conversion", SALES, "Conversion rate", "%", 4.0, "higher", "mean", "revenue", True),
    ("leads", HUB, "Qualified leads", "count", 20.0, "higher", "sum", "revenue", True),
    ("cost", HUB, "Marketing cost", "EUR", 3_000.0, "lower", "sum", "revenue", True),
    ("roi", HUB, "Campaign ROI", "%", 150.0, "higher", "mean", "leads", False),
    ("close_days", FINANCE, "Days to close the books", "count", 5.0, "lower", "last", "cost", False),
    ("csat", SERVICE, "Customer satisfaction", "%", 80.0, "higher", "mean", "conversion", False),
    ("response_h", SERVICE, "First response time", "hours", 4.0, "lower", "mean", "csat", False),
    ("tickets", SERVICE, "Tickets closed", "count", 30.0, "higher", "sum", "csat", False),
]


def observation_value(kpi: str, k: int) -> float:
    """The k-th six-hourly reading of a KPI (k = 0 is the newest): varied enough that every window differs."""
    fresh = OBSERVATION_DAYS * 4 - k  # grows towards now: every period differs from the one before
    return {
        "revenue": 1_500.0 + 4.0 * fresh + (k * 37) % 500 + (k % 7) * 13.5,
        "conversion": 3.0 + (k % 5) * 0.4 + fresh / 400,
        "leads": float(3 + (k * 5) % 7 // 2 + fresh // 60 + (k % 11 == 3)),
        "cost": 600.0 + (k * 13) % 200 + fresh * 0.8,
        "roi": 150.0 + (k % 9) * 5.0,
        "close_days": float(4 + k % 3),
        "csat": 78.0 + (k % 6),
        "response_h": 3.0 + (k % 5) * 0.5,
        "tickets": float(5 + (k * 3) % 7 + fresh // 45 + (k % 13 == 5)),
    }[kpi]


OBSERVATION_DAYS = 62


def zone_for(now: dt.datetime) -> str:
    """An IANA zone in which ``now`` is between 12:00 and 12:59 (Etc/GMT-k is UTC+k)."""
    k = 12 - now.astimezone(UTC).hour
    return "UTC" if k == 0 else f"Etc/GMT{-k:+d}"


@dataclass
class KnownOrg:
    now: dt.datetime
    timezone: str
    units: list[dict] = field(default_factory=list)
    kpis: list[dict] = field(default_factory=list)
    observations: list[dict] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    journeys: list[dict] = field(default_factory=list)
    campaigns: list[dict] = field(default_factory=list)
    promotions: list[dict] = field(default_factory=list)
    done_change: dict | None = None  # label, units, done_on: filled in by :func:`write`

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def edges(self) -> list[dt.datetime]:
        """The window edges no event may come close to (see the module doc)."""
        out = [self.now - H]
        out += [self.now - d * D for d in (1, 7, 14, 28, 30, 60, 90, 180, 365, 730)]
        midnight = self.now.astimezone(self.tz).replace(hour=0, minute=0, second=0, microsecond=0)
        for back in (0, 1, 7, 8, 14):
            out.append((midnight - back * D).astimezone(UTC))
        day0 = self.now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        out += [day0 - d * D for d in (0, 27, 28, 29)]  # UTC days of the capacity outlook
        return out

    def clear(self, t: dt.datetime) -> dt.datetime:
        """``t`` moved just past any window edge it falls within GUARD of (never past ``now``)."""
        for _ in range(3):
            for edge in self.edges():
                if edge - dt.timedelta(minutes=2) <= t <= edge + GUARD:
                    t = edge + GUARD + dt.timedelta(minutes=3)
        return t


# --- the rows ---------------------------------------------------------------------------------------------------


def build(now: dt.datetime | None = None) -> KnownOrg:
    """The organisation's rows relative to ``now`` (default: the real clock, to the minute)."""
    now = (now or dt.datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
    org = KnownOrg(now=now, timezone=zone_for(now))
    org.units = [dict(u) for u in UNITS]
    org.kpis = [dict(id=i, unit_id=u, name=n, unit_of_measure=m, target=t, direction=d, aggregation=a, parent_id=p,
                     is_goal=g, sort_order=s, description=None)
                for s, (i, u, n, m, t, d, a, p, g) in enumerate(KPIS)]
    for kpi in org.kpis:
        for k in range(OBSERVATION_DAYS * 4):
            org.observations.append(dict(kpi_id=kpi["id"], ts=now - (k + 0.5) * 6 * H,
                                         value=observation_value(kpi["id"], k)))
    _items(org)
    _journeys(org)
    _campaigns(org)
    _promotions(org)
    return org


def _item(org: KnownOrg, id, kind, source, target, created, cycle_h=None, *, sla_h, accept_share=0.3, channel="web",
          topic=None, text=None, value=None, journey=None, status=None) -> dict | None:
    """One work item; resolved ``cycle_h`` hours after creation when that is before now − GUARD, else open."""
    created = org.clear(created)
    if created >= org.now - GUARD:
        return None
    resolved = accepted = None
    if cycle_h is not None:
        resolved = org.clear(created + cycle_h * H)
        if resolved >= org.now - GUARD:
            resolved = None
        accepted = created + cycle_h * accept_share * H
        if accepted >= org.now:
            accepted = None
    due = created + sla_h * H
    if resolved is None and org.now - 2 * GUARD <= due <= org.now + 2 * GUARD:
        due = org.now + 3 * GUARD  # an open item is plainly overdue or not, whenever the page renders
    state = status or ("resolved" if resolved else ("accepted" if accepted else ("new" if source == target else "routed")))
    row = dict(id=id, kind=kind, source_unit=source, target_unit=target, channel=channel, topic=topic, text=text,
               created_at=created, routed_at=None if state == "new" else created, accepted_at=accepted,
               resolved_at=resolved if state == "resolved" else None, due_at=due, status=state, sla_hours=sla_h,
               value=value, journey_id=journey)
    org.items.append(row)
    return row


def leads_on(days_ago: int) -> int:
    """Leads routed to Sales on the UTC day ``days_ago`` days before today: rising by 0.3 a day, with a wiggle."""
    return max(0, round(18 - 0.3 * days_ago) + (0, 2, -1, 1)[days_ago % 4])


def _items(org: KnownOrg) -> None:
    rnd = random.Random(16)
    now = org.now
    today = now.replace(hour=0, minute=0)
    # hub -> sales: leads spread evenly over each UTC day (today only up to now)
    for days_ago in range(OBSERVATION_DAYS, -1, -1):
        n = leads_on(days_ago)
        start = today - days_ago * D
        for j in range(n):
            created = start + (j + 0.5) * 24 / n * H
            if created >= now - GUARD:
                continue
            cycle = rnd.choice((0.5, 1.5, 3.0, 5.0, 7.5, 9.0, 14.0, 30.0))
            _item(org, f"lead-{days_ago:02d}-{j:02d}", "lead", HUB, SALES, created, cycle, sla_h=8.0,
                  channel=("web", "event", "partner")[j % 3], value=float(500 + 250 * (j % 5)))
    # the other flows, both ways on every spoke (cycle None: still open)
    flows = [  # prefix, kind, source, target, every (hours), sla, cycles, channel, topic
        ("req-s", "request", SALES, HUB, 22.0, 24.0, (2.0, 6.0, 20.0, 30.0, 50.0), "internal", "pitch deck"),
        ("rep-f", "report", HUB, FINANCE, 41.0, 48.0, (10.0, 26.0, 44.0, 60.0, None), "analytics", "spend report"),
        ("req-f", "request", FINANCE, HUB, 67.0, 24.0, (4.0, 12.0, 30.0), "internal", "budget data"),
        ("cmp", "complaint", HUB, SERVICE, 7.0, 4.0, (0.5, 1.0, 2.5, 3.5, 6.0, 9.0, None), "email", "delivery"),
        ("men", "mention", HUB, SERVICE, 11.0, 2.0, (0.2, 0.8, 1.5, 3.0, None), "social", "promotion"),
        ("esc", "escalation", SERVICE, HUB, 37.0, 8.0, (1.0, 4.0, 7.0, 12.0), "internal", "refund"),
    ]
    texts = ("Is the spring promotion still on?", "is the spring promotion still on", "Where is my parcel?",
             "where is my parcel", "Can I return an opened item?")
    for prefix, kind, source, target, every, sla, cycles, channel, topic in flows:
        i, t = 0, now - OBSERVATION_DAYS * D + every * H / 3
        while t < now - GUARD:
            text = texts[i % len(texts)] if kind in ("mention", "complaint") else None
            _item(org, f"{prefix}-{i:03d}", kind, source, target, t, cycles[i % len(cycles)], sla_h=sla,
                  channel=channel, topic=topic, text=text)
            i += 1
            t += every * H
    # three items waiting unrouted at the hub, one lead handed back by Sales
    for i, hours in enumerate((3.0, 20.0, 40.0)):
        _item(org, f"wait-{i}", "mention", HUB, HUB, now - hours * H, sla_h=4.0, channel="social", status="new")
    _item(org, "handback-0", "lead", HUB, SALES, now - 50 * H, None, sla_h=8.0, status="handed_back")


JOURNEYS = [  # id, started (days ago), touch targets in order (hub = a request a spoke sent to it), converted, revenue
    ("J01", 5.2, (SALES,), True, 1_200.0),
    ("J02", 9.4, (SERVICE, SALES), True, 2_400.0),
    ("J03", 12.3, (HUB, SALES, SALES), True, 3_000.0),
    ("J04", 16.6, (SALES,), False, 0.0),
    ("J05", 20.1, (SERVICE,), False, 0.0),
    ("J06", 25.7, (FINANCE, SALES), True, 1_800.0),
    ("J07", 33.3, (SALES, SERVICE), True, 900.0),
    ("J08", 41.9, (HUB, SALES), True, 5_000.0),
    ("J09", 47.2, (SALES,), False, 0.0),
    ("J10", 55.5, (SERVICE, HUB, SALES), True, 2_700.0),
    ("J11", 63.1, (SALES,), True, 1_500.0),
    ("J12", 71.8, (FINANCE,), False, 0.0),
    ("J13", 84.4, (HUB, SERVICE, SALES), True, 4_200.0),
    ("J14", 120.0, (SALES,), True, 800.0),
    ("J15", 200.0, (SERVICE, SALES), True, 1_100.0),
    ("J16", 300.0, (HUB, SALES), False, 0.0),
    ("J17", 8.1, (), True, 650.0),  # converted without any work item: nobody to credit
    ("J18", 14.2, (SALES, SERVICE), True, 2_000.0),  # the service item comes after the conversion
]


def _journeys(org: KnownOrg) -> None:
    for jid, days, path, converted, revenue in JOURNEYS:
        started = org.clear(org.now - days * D)
        last = started
        for n, unit in enumerate(path):
            created = started + (n + 1) * 3 * H
            source, target = (SALES, HUB) if unit == HUB else (HUB, unit)
            kind = {HUB: "request", SALES: "lead", SERVICE: "complaint", FINANCE: "report"}[unit]
            row = _item(org, f"{jid}-{n}", kind, source, target, created, 1.0, sla_h=24.0, channel="journey",
                        journey=jid)
            last = row["created_at"]
        converted_at = None
        if converted:
            converted_at = org.clear(last + 2 * H) if jid != "J18" else started + 4 * H  # J18: before its 2nd item
        org.journeys.append(dict(id=jid, started_at=started, converted_at=converted_at,
                                 revenue=revenue if converted else 0.0))


CHANNELS = {"search": (1_500.0, 2.4), "social": (1_100.0, 1.3), "email": (400.0, 3.1)}  # spend base, revenue ratio


def _campaigns(org: KnownOrg) -> None:
    monday = (org.now - dt.timedelta(days=org.now.weekday())).date()
    for week in range(1, 14):
        start = monday - dt.timedelta(weeks=week)
        for c, (channel, (base, ratio)) in enumerate(CHANNELS.items()):
            spend = base + 60.0 * ((week * (c + 2)) % 5)
            org.campaigns.append(dict(channel=channel, period_start=start, period_end=start + dt.timedelta(days=6),
                                      budget=base * 1.2, spend=spend, leads=int(spend // 40), conversions=int(spend // 400),
                                      revenue=round(spend * ratio * (1 + 0.03 * (week % 3)), 2)))


def _promotions(org: KnownOrg) -> None:
    for pid, name, start, end in (("p-ended", "Winter clearance", -20, -3), ("p-active", "Spring promotion", -4, 6),
                                  ("p-next", "Summer preview", 9, 20)):
        org.promotions.append(dict(id=pid, name=name, channel="social", starts_at=org.now + start * D,
                                   ends_at=org.now + end * D, notice_item_id=None, description=f"{name} for everyone"))


# --- writing through the real store -----------------------------------------------------------------------------


def write(conn, org: KnownOrg) -> None:
    """The rows through the store (rollups in the same transaction) and the done change through the real
    save → promote → mark-done path."""
    from sqlalchemy import insert

    from dashboard import store
    from dashboard.db import promotions

    store.upsert_units(conn, org.units)
    store.upsert_kpis(conn, org.kpis)
    store.insert_kpi_observations(conn, org.observations)
    store.insert_work_items(conn, org.items)
    store.insert_journeys(conn, org.journeys)
    store.upsert_campaigns(conn, org.campaigns)
    conn.execute(insert(promotions), org.promotions)


def mark_change_done(engine, org: KnownOrg) -> None:
    """Save the Centralised preset of the calibrated as-is, promote it, and mark one of its changes done today."""
    from sqlalchemy import select

    from dashboard.db import planned_changes
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.queries import observed
    from dashboard.services import cycle as cycle_service
    from dashboard.services import scenarios as scenario_service
    from dashboard.whatif.inputs import dump_inputs
    from dashboard.whatif.model import evaluate, presets

    with engine.begin() as conn:
        as_is = observed.calibrated_as_is(conn, LOCAL_ADMIN, now=org.now, default_timezone=org.timezone).inputs
        target = presets(as_is)["centralised"]
        sid = scenario_service.save_scenario(conn, LOCAL_ADMIN, name="Everything in the hub", description=None,
                                      inputs=dump_inputs(target), inputs_version=target.inputs_version,
                                      results=evaluate(target).as_record())
        cycle_service.promote_scenario(conn, LOCAL_ADMIN, sid, baseline=as_is)
        p = planned_changes.c
        change = conn.execute(select(p.id, p.version, p.label, p.units).order_by(p.id).limit(1)).first()
        today = org.now.astimezone(org.tz).date()
        cycle_service.update_change(conn, LOCAL_ADMIN, change.id, version=change.version, status="done", done_on=today,
                            today=today)
    org.done_change = dict(label=change.label, units=change.units, done_on=today)


def known_database(path, org: KnownOrg | None = None, *, with_change: bool = True) -> tuple[str, KnownOrg]:
    """A migrated SQLite file at ``path`` holding the known organisation; returns (URL, the organisation)."""
    from dashboard.db import make_engine, migrate

    org = org or build()
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        migrate(engine)
        with engine.begin() as conn:
            write(conn, org)
        if with_change:
            mark_change_done(engine, org)
    finally:
        engine.dispose()
    return url, org


# --- independent figures: plain Python over the rows above --------------------------------------------------------


def window(org: KnownOrg, key: str, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of an overview window as a reader means it: the last hour / 7 / 30 days, or today since local
    midnight."""
    now = now or org.now
    if key == "today":
        midnight = now.astimezone(org.tz).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight.astimezone(UTC), now
    return now - {"1h": H, "7d": 7 * D, "30d": 30 * D}[key], now


def comparison_windows(org: KnownOrg, key: str) -> list[tuple[dt.datetime, dt.datetime]]:
    """The like-for-like periods a window's change may be measured against: the previous equal period for
    fixed-length windows; for "today" the same hours yesterday or the same hours on the same weekday last week."""
    start, end = window(org, key)
    if key != "today":
        return [(start - (end - start), start)]
    return [(start - D, end - D), (start - 7 * D, end - 7 * D)]


def kpi(org: KnownOrg, kpi_id: str) -> dict:
    return next(k for k in org.kpis if k["id"] == kpi_id)


def kpi_value(org: KnownOrg, kpi_id: str, start: dt.datetime, end: dt.datetime) -> float | None:
    """A KPI over [start, end) by its aggregation: the sum, the mean, or the latest reading."""
    rows = sorted((o for o in org.observations if o["kpi_id"] == kpi_id and start <= o["ts"] < end),
                  key=lambda o: o["ts"])
    if not rows:
        return None
    values = [o["value"] for o in rows]
    aggregation = kpi(org, kpi_id)["aggregation"]
    if aggregation == "sum":
        return math.fsum(values)
    if aggregation == "mean":
        return math.fsum(values) / len(values)
    return values[-1]


def kpi_target(org: KnownOrg, kpi_id: str, start: dt.datetime, end: dt.datetime) -> float | None:
    """A sum KPI's target is per day: × the window's days; other KPIs' targets stand as they are."""
    k = kpi(org, kpi_id)
    if k["target"] is None:
        return None
    days = (end - start).total_seconds() / 86_400
    return k["target"] * days if k["aggregation"] == "sum" else k["target"]


def on_target(org: KnownOrg, kpi_id: str, start: dt.datetime, end: dt.datetime) -> bool | None:
    value, target = kpi_value(org, kpi_id, start, end), kpi_target(org, kpi_id, start, end)
    if value is None or target is None:
        return None
    return value >= target if kpi(org, kpi_id)["direction"] == "higher" else value <= target


def kpi_share_on_target(org: KnownOrg, unit: str, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
    """(KPIs on target, KPIs with data) of a unit over the window."""
    states = [on_target(org, k["id"], start, end) for k in org.kpis if k["unit_id"] == unit]
    known = [s for s in states if s is not None]
    return sum(known), len(known)


@dataclass(frozen=True)
class Edge:
    created: int  # items created in the window
    resolved: int  # items resolved in the window
    within_sla: int  # of those, resolved by their due time
    median_h: float | None  # of the resolved items' lead times (created -> resolved)
    backlog: int  # open now
    overdue: int  # open now and past due

    @property
    def sla_share(self) -> float | None:
        return self.within_sla / self.resolved if self.resolved else None


def edge(org: KnownOrg, source: str, target: str, start: dt.datetime, end: dt.datetime) -> Edge:
    rows = [i for i in org.items if i["source_unit"] == source and i["target_unit"] == target]
    created = [i for i in rows if start <= i["created_at"] < end]
    resolved = [i for i in rows if i["resolved_at"] is not None and start <= i["resolved_at"] < end]
    within = [i for i in resolved if i["resolved_at"] <= i["due_at"]]
    lead = [(i["resolved_at"] - i["created_at"]).total_seconds() / 3600 for i in resolved]
    open_ = [i for i in rows if i["resolved_at"] is None]
    return Edge(len(created), len(resolved), len(within), statistics.median(lead) if lead else None, len(open_),
                sum(1 for i in open_ if i["due_at"] < org.now))


def unit_items(org: KnownOrg, unit: str, start: dt.datetime, end: dt.datetime) -> int:
    """Items created in the window on the unit's edges (both directions; a unit's own queue is not an edge)."""
    return sum(1 for i in org.items if start <= i["created_at"] < end and i["source_unit"] != i["target_unit"]
               and unit in (i["source_unit"], i["target_unit"]))


def unrouted(org: KnownOrg) -> int:
    return sum(1 for i in org.items if i["source_unit"] == i["target_unit"] and i["resolved_at"] is None)


# the capacity outlook of Sales


def daily_leads(org: KnownOrg) -> dict[dt.date, int]:
    """Leads routed to Sales per UTC day, every day that has one."""
    out: dict[dt.date, int] = {}
    for i in org.items:
        if i["target_unit"] == SALES and i["kind"] == "lead":
            day = i["created_at"].astimezone(UTC).date()
            out[day] = out.get(day, 0) + 1
    return out


def least_squares_slope(values: list[float]) -> float:
    n = len(values)
    mx, my = (n - 1) / 2, math.fsum(values) / n
    return math.fsum((x - mx) * (y - my) for x, y in enumerate(values)) / math.fsum((x - mx) ** 2 for x in range(n))


@dataclass(frozen=True)
class Outlook:
    days: list[dt.date]
    counts: list[int]
    recent_per_day: float
    trend_per_day: float
    capacity: float
    runs_out_on: dt.date | None


def capacity_outlook(org: KnownOrg, complete_days: int, horizon_days: int = 180) -> Outlook:
    """The trend of the last ``complete_days`` complete UTC days (yesterday and before, never a partial day):
    least-squares slope, the mean of the last seven, and the first day the line reaches capacity."""
    today = org.now.astimezone(UTC).date()
    days = [today - dt.timedelta(days=d) for d in range(complete_days, 0, -1)]
    per_day = daily_leads(org)
    counts = [per_day.get(d, 0) for d in days]
    slope = least_squares_slope([float(c) for c in counts])
    n = len(counts)
    intercept = math.fsum(counts) / n - slope * (n - 1) / 2
    capacity = SALES_HEADCOUNT * CAPACITY_PER_FTE_DAY
    recent = math.fsum(counts[-7:]) / 7
    runs_out = None
    if recent > capacity:
        runs_out = today
    elif slope > 0:
        for ahead in range(0, horizon_days + 1):  # the line at today + ahead (yesterday is x = n - 1)
            if intercept + slope * (n + ahead) >= capacity - 1e-9:
                runs_out = today + dt.timedelta(days=ahead)
                break
    return Outlook(days, counts, recent, slope, capacity, runs_out)


# attribution


def journey_paths(org: KnownOrg, start: dt.datetime, end: dt.datetime) -> list[tuple[str, tuple[str, ...], bool, float]]:
    """(id, path of handling units, converted, revenue) of the journeys started in [start, end): items in creation
    order, those created after the conversion left out."""
    out = []
    for j in org.journeys:
        if not start <= j["started_at"] < end:
            continue
        items = sorted((i for i in org.items if i["journey_id"] == j["id"]
                        and (j["converted_at"] is None or i["created_at"] <= j["converted_at"])),
                       key=lambda i: (i["created_at"], i["id"]))
        out.append((j["id"], tuple(i["target_unit"] for i in items), j["converted_at"] is not None, j["revenue"]))
    return out


def attribution(org: KnownOrg, days: int) -> dict:
    """Totals and each team's credit under first touch, last touch and linear (touches) for journeys started in
    the last ``days`` days."""
    paths = journey_paths(org, org.now - days * D, org.now)
    with_path = [p for p in paths if p[1]]
    converted = [p for p in with_path if p[2]]
    credit = {m: {} for m in ("first_touch", "last_touch", "linear")}
    for _, path, _, revenue in converted:
        for method, share in (("first_touch", {path[0]: 1.0}), ("last_touch", {path[-1]: 1.0}),
                              ("linear", {t: path.count(t) / len(path) for t in set(path)})):
            for team, s in share.items():
                conv, rev = credit[method].get(team, (0.0, 0.0))
                credit[method][team] = (conv + s, rev + s * revenue)
    return dict(
        journeys=len(paths), with_path=len(with_path), converted=len(converted),
        revenue=math.fsum(p[3] for p in converted),
        conversion_rate=len(converted) / len(with_path) if with_path else None,
        unattributed=[p for p in paths if not p[1] and p[2]],
        credit=credit,
    )


def markov_credit(org: KnownOrg, days: int) -> dict[str, tuple[float, float]]:
    """Each team's (conversions, revenue) by the Markov removal effect: a first-order chain start → teams →
    conversion | null over the journeys' paths (repeated touches of one team are one visit), P(conversion) by
    absorption, and each team's share = its removal effect over the sum of removal effects."""
    import numpy as np

    paths = [p for p in journey_paths(org, org.now - days * D, org.now) if p[1]]
    teams: list[str] = []
    for _, path, _, _ in paths:
        teams += [t for t in path if t not in teams]
    index = {t: i + 1 for i, t in enumerate(teams)}
    n = len(teams) + 1
    moves, wins, losses = np.zeros((n, n)), np.zeros(n), np.zeros(n)
    for _, path, converted, _ in paths:
        visits = [t for k, t in enumerate(path) if k == 0 or path[k - 1] != t]
        state = 0
        for t in visits:
            moves[state, index[t]] += 1
            state = index[t]
        (wins if converted else losses)[state] += 1
    total = moves.sum(1) + wins + losses
    q, r = moves / total[:, None], wins / total

    def p_convert(removed: str | None) -> float:
        keep = [i for i in range(n) if removed is None or i != index[removed]]
        x = np.linalg.solve(np.eye(len(keep)) - q[np.ix_(keep, keep)], r[keep])
        return float(x[0])

    p = p_convert(None)
    effects = {t: max(0.0, 1 - p_convert(t) / p) for t in teams}
    conversions = sum(1 for p_ in paths if p_[2])
    revenue = math.fsum(p_[3] for p_ in paths if p_[2])
    share = {t: e / sum(effects.values()) for t, e in effects.items()}
    return {t: (conversions * s, revenue * s) for t, s in share.items()}
