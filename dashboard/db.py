"""Engine factory and schema (SQLAlchemy Core).

One module for one idea, the database as every layer above sees it: the tables, and the one way to open, migrate
and retry a write against them.

Conventions
- Every timestamp is stored as UTC without a zone (``UTCDateTime``): aware datetimes are converted to UTC on
  the way in, and come back out aware (UTC). Naive datetimes handed in are taken to be UTC already.
- Rollup tables bucket time as whole hours since the Unix epoch (``hour`` integers), which is cheap to
  index, identical on SQLite and PostgreSQL and trivially converted (``hour * 3600`` seconds).
- The schema is created and upgraded by Alembic (``dashboard/migrations``); ``python -m loaders init`` runs it.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from dashboard.domain.stats import CYCLE_BIN_COLUMNS

UTC = dt.UTC



class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and returned as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if getattr(value, "tzinfo", None) is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

units = Table(
    "units",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(8), nullable=False),  # hub | spoke
    Column("headcount", Float, nullable=False, default=0),
    Column("cost_per_fte", Float, nullable=False, default=0),  # per year, in the org's currency
    Column("description", Text),
    Column("sort_order", Integer, nullable=False, default=0),
    # 0002: which check panels the unit's page shows (comma-separated ids, see dashboard.domain.panels),
    # and how many routed items one FTE can work per day (sales: leads per rep per day).
    Column("panels", Text),
    Column("capacity_per_fte_day", Float),
    # 0007: when the unit's people work, for the what-if model: an IANA zone and canonical office hours
    # ("Mon-Fri 08:00-18:00; Sat 10:00-14:00", "24/7"; see dashboard.whatif.calendar). NULL: read from the data.
    Column("timezone", String(64)),
    Column("office_hours", String(200)),
)

kpis = Table(
    "kpis",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("unit_id", String(64), ForeignKey("units.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("unit_of_measure", String(16), nullable=False),  # EUR | % | count | hours | score
    Column("target", Float),
    Column("direction", String(8), nullable=False),  # higher | lower
    Column("aggregation", String(8), nullable=False, default="sum"),  # sum | mean | last
    Column("parent_id", String(64), ForeignKey("kpis.id")),
    Column("is_goal", Boolean, nullable=False, default=False),  # headline tile of the shared goal
    Column("description", Text),
    Column("sort_order", Integer, nullable=False, default=0),
)

kpi_observations = Table(
    "kpi_observations",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("kpi_id", String(64), ForeignKey("kpis.id"), nullable=False),
    Column("ts", UTCDateTime, nullable=False),
    Column("value", Float, nullable=False),
    UniqueConstraint("kpi_id", "ts"),
)
# 0003: window edges are corrected from raw observations by time alone (see queries.kpis._sum_n)
Index("ix_kpi_observations_ts", kpi_observations.c.ts)

work_items = Table(
    "work_items",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("source_unit", String(64), ForeignKey("units.id"), nullable=False),
    Column("target_unit", String(64), ForeignKey("units.id"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("topic", String(64)),
    Column("text", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("routed_at", UTCDateTime),
    Column("accepted_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("due_at", UTCDateTime, nullable=False),  # created_at + sla_hours, kept for cheap breach checks
    Column("status", String(16), nullable=False),  # new | routed | accepted | resolved | handed_back
    Column("sla_hours", Float, nullable=False),
    Column("value", Float),
    Column("version", Integer, nullable=False, default=1),  # optimistic concurrency for edits
    Column("updated_by", String(200)),
    Column("updated_at", UTCDateTime),
    Column("note", Text),
    # 0006: routing (who the item is for, how urgent, which rule sent it) and the customer journey it is part of
    Column("segment", String(32)),  # customer segment, e.g. consumer | business | vip (routing rules may test it)
    Column("priority", String(8)),  # high | normal | low, set by the routing rule that routed it
    Column("rule_id", String(64)),  # the routing rule that chose target_unit (None: routed by hand or imported so)
    Column("journey_id", String(64)),  # the customer journey (touchpoint path) this item belongs to, if known
)
Index("ix_work_items_target_created", work_items.c.target_unit, work_items.c.created_at)
Index("ix_work_items_source_created", work_items.c.source_unit, work_items.c.created_at)
Index("ix_work_items_created", work_items.c.created_at)
Index("ix_work_items_resolved", work_items.c.resolved_at)  # exact window edges (see queries.overview)
# Open items are few; a partial index keeps backlog counts cheap on both engines.
Index(
    "ix_work_items_open",
    work_items.c.source_unit,
    work_items.c.target_unit,
    work_items.c.due_at,
    sqlite_where=work_items.c.resolved_at.is_(None),
    postgresql_where=work_items.c.resolved_at.is_(None),
)
# 0008: a spoke's inbox of open items (its default view) reads only the open items routed to it
Index(
    "ix_work_items_open_target",
    work_items.c.target_unit,
    work_items.c.created_at,
    sqlite_where=work_items.c.resolved_at.is_(None),
    postgresql_where=work_items.c.resolved_at.is_(None),
)
# 0009: the same rows with every column the default view filters and sorts by, so its count and the ids of a page
# are read from the index alone (both engines pick it for those; other filters and sorts take the one above).
# PostgreSQL prices an index scan's table reads by how the index's first column follows the table's order: at 10M
# items it preferred reading every open item of every unit through ix_work_items_resolved over a spoke's through
# the index above; an index-only read has no table reads to price.
Index(
    "ix_work_items_open_inbox",
    work_items.c.target_unit,
    work_items.c.created_at,
    work_items.c.status,
    work_items.c.due_at,
    work_items.c.id,
    work_items.c.resolved_at,
    sqlite_where=work_items.c.resolved_at.is_(None),
    postgresql_where=work_items.c.resolved_at.is_(None),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("budget", Float, nullable=False, default=0),
    Column("spend", Float, nullable=False, default=0),
    Column("leads", Integer, nullable=False, default=0),
    Column("conversions", Integer, nullable=False, default=0),
    Column("revenue", Float, nullable=False, default=0),
    UniqueConstraint("channel", "period_start"),
)

# --- rollups, maintained by the loaders and the simulator in the same transaction as their rows -------

flow_hourly = Table(
    "flow_hourly",
    metadata,
    Column("hour", Integer, primary_key=True),  # hours since epoch (UTC)
    Column("source_unit", String(64), primary_key=True),
    Column("target_unit", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("created", Integer, nullable=False, default=0),  # items created in this hour
    Column("created_value", Float, nullable=False, default=0),
    Column("resolved", Integer, nullable=False, default=0),  # items resolved in this hour
    Column("resolved_in_sla", Integer, nullable=False, default=0),
    Column("cycle_sum_h", Float, nullable=False, default=0),  # sum of (resolved_at - created_at) in hours
    *[Column(name, Integer, nullable=False, default=0) for name in CYCLE_BIN_COLUMNS],
)

# 0008: what the spoke page lists per window without scanning items (see dashboard.store.rollups): items created
# per hour by route, kind, channel and topic (filter options, routed topics), and per hour, target and wording
# (recurring questions). Only rows with created > 0 exist.
mix_hourly = Table(
    "mix_hourly",
    metadata,
    Column("target_unit", String(64), primary_key=True),
    Column("hour", Integer, primary_key=True),  # hour of created_at, since epoch (UTC)
    Column("source_unit", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("topic_key", String(80), primary_key=True),  # "" for no topic, else "#" + topic (NULL cannot be a key)
    Column("topic", String(64)),
    Column("created", Integer, nullable=False, default=0),
)
Index("ix_mix_hourly_source_unit_hour", mix_hourly.c.source_unit, mix_hourly.c.hour)

text_hourly = Table(
    "text_hourly",
    metadata,
    Column("target_unit", String(64), primary_key=True),
    Column("hour", Integer, primary_key=True),  # hour of created_at, since epoch (UTC)
    Column("text_key", String(64), primary_key=True),  # sha256 of the text (UTF-8, hex): texts may be too long for a key
    Column("text", Text, nullable=False),  # only items with a non-empty text
    Column("created", Integer, nullable=False, default=0),
)

kpi_hourly = Table(
    "kpi_hourly",
    metadata,
    Column("kpi_id", String(64), primary_key=True),
    Column("hour", Integer, primary_key=True),
    Column("n", Integer, nullable=False, default=0),
    Column("sum", Float, nullable=False, default=0),
    Column("last_ts", UTCDateTime, nullable=False),
    Column("last_value", Float, nullable=False),
)

promotions = Table(  # 0002: promotions customer service must know about (from promotion notices)
    "promotions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("channel", String(32)),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("notice_item_id", String(64)),  # the promotion_notice work item that announced it
    Column("description", Text),
)

app_meta = Table(
    "app_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

scenarios = Table(
    "scenarios",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text),
    Column("owner", String(200), nullable=False),
    Column("inputs_version", Integer, nullable=False, default=1),
    Column("inputs", JSON, nullable=False),
    Column("results", JSON),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)


# 0004: file imports (one row per run of `python -m loaders ingest` or an upload) and the rows they refused
imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),  # where the file came from, e.g. "crm-export" (default: file stem)
    Column("file_name", String(500), nullable=False),
    Column("kind", String(32), nullable=False),  # work_items | kpi_observations | kpis | units | campaigns
    Column("content_hash", String(64), nullable=False),  # sha256 of the file's bytes: the same file is not loaded twice
    Column("size_bytes", BigInteger, nullable=False, default=0),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("status", String(16), nullable=False),  # ok | quarantined (some rows refused) | failed (nothing written)
    Column("rows_read", BigInteger, nullable=False, default=0),
    Column("inserted", BigInteger, nullable=False, default=0),
    Column("updated", BigInteger, nullable=False, default=0),
    Column("unchanged", BigInteger, nullable=False, default=0),
    Column("quarantined", BigInteger, nullable=False, default=0),
    Column("message", Text),
    Column("imported_by", String(200)),
)
Index("ix_imports_kind_content_hash", imports.c.kind, imports.c.content_hash)
Index("ix_imports_started_at", imports.c.started_at)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("row_number", BigInteger, nullable=False),  # as a spreadsheet shows it: the header is row 1
    Column("row_key", String(300)),  # the natural key when the row had one (id, or kpi_id|ts ...)
    Column("raw", Text, nullable=False),  # JSON object: the file's column -> the cell as text
    Column("reasons", Text, nullable=False),  # "; "-joined, each naming its column
    Column("status", String(8), nullable=False, default="open"),  # open | fixed (a later import loaded the key)
    Column("fixed_by_import", Integer, ForeignKey("imports.id")),
)
Index("ix_quarantine_import_id", quarantine.c.import_id)
Index("ix_quarantine_kind_row_key", quarantine.c.kind, quarantine.c.row_key)
Index("ix_quarantine_status", quarantine.c.status)


# 0005: who may sign in with which role (when the identity provider does not say), and what people did
users = Table(
    "users",
    metadata,
    Column("user", String(320), primary_key=True),  # the sign-in identity, usually the e-mail address
    Column("name", String(200)),
    Column("role", String(16), nullable=False),  # admin | executive | hub_lead | spoke_lead
    Column("unit", String(64), ForeignKey("units.id")),  # a spoke lead's spoke
    Column("active", Boolean, nullable=False, default=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("user", String(320), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(32), nullable=False),  # sign_in | item_action | scenario_save | scenario_delete | import | export | user_change
    Column("target", String(500)),  # what it was done to: a unit, a scenario, a file ...
    Column("detail", Text),  # a short human sentence or JSON
)
Index("ix_audit_log_at", audit_log.c.at)
Index("ix_audit_log_user_at", audit_log.c.user, audit_log.c.at)
Index("ix_audit_log_action_at", audit_log.c.action, audit_log.c.at)


# 0006: the customer journeys whose item paths feed attribution (dashboard.domain.attribution)
journeys = Table(
    "journeys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("converted_at", UTCDateTime),  # None: no conversion (yet)
    Column("revenue", Float, nullable=False, default=0),  # revenue of the conversion, in the org's currency
)
Index("ix_journeys_started_at", journeys.c.started_at)
# items of a journey, in order: partial, as most items belong to none
Index("ix_work_items_journey", work_items.c.journey_id, work_items.c.created_at,
      sqlite_where=work_items.c.journey_id.isnot(None), postgresql_where=work_items.c.journey_id.isnot(None))

# 0006: routing rule sets. A set is the whole ordered list of rules plus its default (JSON, validated by
# dashboard.domain.routing.RuleSet). Exactly one set is active at a time; drafts are edited and replayed, then
# published (the active one becomes archived). Every version is kept: who changed what and when.
routing_rule_sets = Table(
    "routing_rule_sets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("status", String(8), nullable=False),  # draft | active | archived
    Column("name", String(200), nullable=False),
    Column("rules", JSON, nullable=False),  # dashboard.domain.routing.RuleSet.model_dump(mode="json")
    Column("based_on", Integer),  # the set a draft was copied from
    Column("note", Text),  # what changed and why (asked for on publish)
    Column("version", Integer, nullable=False, default=1),  # optimistic concurrency for draft edits
    Column("created_by", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("published_by", String(320)),
    Column("published_at", UTCDateTime),
)
Index("ix_routing_rule_sets_status", routing_rule_sets.c.status)

# 0006: the operating-model cycle. Assess: maturity self-assessments per function (scores 1-5 per component).
maturity_assessments = Table(
    "maturity_assessments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("function", String(64), nullable=False),  # dashboard.whatif.inputs.FUNCTIONS
    Column("assessed_at", UTCDateTime, nullable=False),
    Column("author", String(320), nullable=False),
    Column("structure", Integer, nullable=False),  # 1..5
    Column("processes", Integer, nullable=False),
    Column("data_management", Integer, nullable=False),
    Column("technology", Integer, nullable=False),
    Column("note", Text),
)
Index("ix_maturity_assessments_function_at", maturity_assessments.c.function, maturity_assessments.c.assessed_at)

# Design: a scenario promoted to the target operating model (a snapshot, so deleting the scenario loses nothing)
target_models = Table(
    "target_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scenario_id", Integer),  # where it came from (no foreign key: the scenario may be deleted later)
    Column("scenario_name", String(200), nullable=False),
    Column("inputs", JSON, nullable=False),  # the scenario's inputs at promotion (dashboard.whatif.inputs.dump_inputs)
    Column("results", JSON),  # the model's results at promotion: the prediction evaluation compares with
    Column("status", String(12), nullable=False),  # current | superseded
    Column("note", Text),
    Column("promoted_by", String(320), nullable=False),
    Column("promoted_at", UTCDateTime, nullable=False),
)

# Implement / evaluate: the planned changes of a target model; a done change is an annotation on trend charts
planned_changes = Table(
    "planned_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target_model_id", Integer, ForeignKey("target_models.id"), nullable=False),
    Column("function", String(64), nullable=False),
    Column("from_placement", String(16), nullable=False),  # hub | spokes | hybrid
    Column("to_placement", String(16), nullable=False),
    Column("from_share", Float),  # central share before / after (0 = spokes, 1 = hub)
    Column("to_share", Float),
    Column("label", String(200), nullable=False),  # the annotation text: "Content production centralised"
    Column("units", Text),  # comma-separated spokes the change touches (empty: all spokes)
    Column("owner", String(320)),
    Column("due_on", Date),
    Column("status", String(8), nullable=False),  # planned | done | dropped
    Column("done_on", Date),
    Column("predicted", JSON),  # the model's prediction for this change: metric -> {before, after}
    Column("version", Integer, nullable=False, default=1),
    Column("updated_by", String(320), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_planned_changes_status_done_on", planned_changes.c.status, planned_changes.c.done_on)


def to_hour(ts: dt.datetime) -> int:
    """Whole hours since the epoch for an aware (or naive-UTC) datetime."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return int(ts.timestamp() // 3600)


def hour_start(hour: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(hour * 3600, tz=UTC)


def hour_parts(start: dt.datetime, end: dt.datetime | None) -> tuple[tuple[int, int | None] | None,
                                                                       list[tuple[dt.datetime, dt.datetime]]]:
    """[start, end) split into the whole hours inside it (first and last hour, ``None`` for no end), read from an
    hourly rollup, and the partial hours at its edges ([lo, hi) pairs), read from raw items (at most an hour each).
    ``end=None``: no upper bound. Naive times are taken to be UTC."""
    start = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
    end = end if end is None or end.tzinfo is not None else end.replace(tzinfo=UTC)
    first = to_hour(start)
    if hour_start(first) < start:
        first += 1
    edges = []
    if end is None:
        if hour_start(first) > start:
            edges.append((start, hour_start(first)))
        return (first, None), edges
    stop = to_hour(end)  # the hour holding end: whole only up to the hour before it
    if first >= stop:  # no whole hour inside
        return None, [(start, end)] if start < end else []
    if hour_start(first) > start:
        edges.append((start, hour_start(first)))
    if hour_start(stop) < end:
        edges.append((hour_start(stop), end))
    return (first, stop - 1), edges


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """Engine with sane defaults: pre-ping, and for SQLite WAL + busy timeout + foreign keys."""
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, pool_pre_ping=True, connect_args={"timeout": 30})
        file = Path(path) if path and path != ":memory:" and not path.startswith("file:") else None

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
            if file is not None:
                record.info["file_id"] = _file_id(file)

        # A connection to a file that was deleted or replaced would read stale pages and write into an unlinked
        # file that is gone at the next restart; a new connection would create an empty file in its place.
        # Once this engine has opened the file, both are refused (the pages show the fault banner).
        opened: dict[str, tuple[int, int] | None] = {"id": None}

        def _gone() -> sqlite3.OperationalError:
            return sqlite3.OperationalError(
                f"unable to open database file: {file} was deleted or replaced while the app was running; restart the app once it is back")

        @event.listens_for(engine, "do_connect")
        def _not_recreated(_dialect, _record, _cargs, _cparams):
            if file is not None and opened["id"] is not None and _file_id(file) != opened["id"]:
                raise _gone()

        @event.listens_for(engine, "checkout")
        def _same_file(_dbapi_conn, record, _proxy):
            if file is None:
                return
            if opened["id"] is None:
                opened["id"] = record.info.get("file_id")
            if record.info.get("file_id") != _file_id(file) or record.info.get("file_id") != opened["id"]:
                record.invalidate()
                raise _gone()

        return engine
    # connect_timeout: a host that drops packets gives a clear error in seconds instead of hanging the page
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size,
                         connect_args={"connect_timeout": 5})


T = TypeVar("T")
WRITE_ATTEMPTS = 4  # assumption: a lost race rarely repeats more than twice in a row under the loads we measure


def write_transaction(engine: Engine, work: Callable[[Connection], T], *, attempts: int = WRITE_ATTEMPTS,
                      first_delay: float = 0.05, sleep: Callable[[float], None] = time.sleep,
                      also: Callable[[BaseException], bool] | None = None) -> T:
    """``work(conn)`` in one transaction, run again when it lost a race as a whole: a PostgreSQL deadlock or
    serialization failure, or a lock wait past its limit (:func:`dashboard.errors.is_transient`). Each failed
    attempt rolled back entirely, so running it again writes nothing twice. At most ``attempts`` runs, waiting
    ``first_delay`` × 2ⁿ (with jitter, so two writers that collided do not collide again in step) between them;
    the last failure is raised. ``work`` must not keep state between runs (it gets a fresh transaction).
    ``also`` names further failures that mean a lost race for this particular work (e.g. a key another writer
    inserted meanwhile, for an upsert)."""
    from dashboard import errors

    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except DBAPIError as exc:
            if attempt == attempts or not (errors.is_transient(exc) or (also is not None and also(exc))):
                raise
            sleep(first_delay * 2 ** (attempt - 1) * (0.5 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema with Alembic, on this engine."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def schema_ready(engine: Engine) -> bool:
    """True when the schema exists at all (the app shows set-up instructions otherwise)."""
    from sqlalchemy import inspect

    return inspect(engine).has_table("work_items")


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
