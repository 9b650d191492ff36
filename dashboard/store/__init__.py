"""The write primitives: every change to the database's data goes through this package.

Why one home: the overview reads hourly rollups (``flow_hourly``, ``kpi_hourly``) instead of scanning millions
of rows, so every write that adds or changes work items or KPI observations must also update the rollups *in the
same transaction*; and each table's concurrency rule (the optimistic version check, the lock order) is written
once. Callers pass a :class:`~sqlalchemy.Connection` opened with ``engine.begin()``; nothing here commits, so a
failure anywhere leaves neither rows nor rollup deltas. Who may write, what is valid and what is recorded in the
audit trail is the use cases' part (:mod:`dashboard.services`); these functions only write.

One module per idea:

- :mod:`~dashboard.store.results`: the errors a write refuses with and what it reports;
- :mod:`~dashboard.store.timestamps`, :mod:`~dashboard.store.rows`, :mod:`~dashboard.store.sql`: timestamps as
  int64 microseconds, the rows writers take, SQL pieces they share;
- :mod:`~dashboard.store.items`: work items normalised and validated;
- :mod:`~dashboard.store.rollups`: ``flow_hourly`` deltas and the upserts that add them (the grain is described
  there; ``kpi_hourly`` is in :mod:`~dashboard.store.observations`);
- :mod:`~dashboard.store.bulk`: driver-level bulk writes (``executemany`` / ``COPY``), deferred indexes;
- :mod:`~dashboard.store.inserts`, :mod:`~dashboard.store.upserts`, :mod:`~dashboard.store.transitions`,
  :mod:`~dashboard.store.reroute`: work items inserted, upserted from files, moved by people, re-routed;
- :mod:`~dashboard.store.observations`, :mod:`~dashboard.store.journeys`, :mod:`~dashboard.store.reference`:
  KPI observations, customer journeys, units / KPIs / campaigns / promotions / meta;
- :mod:`~dashboard.store.imports`: the file import's log (``imports``) and its refused rows (``quarantine``);
- :mod:`~dashboard.store.rebuild`: both rollups recomputed from the base tables (the tests' oracle);
- :mod:`~dashboard.store.rule_sets`, :mod:`~dashboard.store.scenarios`, :mod:`~dashboard.store.cycle`,
  :mod:`~dashboard.store.users`, :mod:`~dashboard.store.units`: what people change through the app;
- :mod:`~dashboard.store.reset`: tables emptied whole (the demo loader, before it writes a new demo).

The names below are the package's API (``from dashboard import store; store.transition_item(...)``); the
modules' other public names are shared between the modules of this package only.
"""

from __future__ import annotations

from dashboard.store.bulk import BULK_CACHE_KIB, DEFAULT_BATCH, deferred_indexes, deferred_indexes_when_larger
from dashboard.store.cycle import (
    insert_assessment,
    insert_assessments,
    insert_planned_change_rows,
    insert_planned_changes,
    insert_target_model,
    supersede_target_models,
    update_planned_change,
)
from dashboard.store.imports import (
    finish_import,
    mark_quarantine_fixed,
    quarantine_rows,
    record_failed_import,
    start_import,
)
from dashboard.store.inserts import insert_work_items
from dashboard.store.items import ITEM_COLUMNS
from dashboard.store.journeys import insert_journeys, upsert_journeys
from dashboard.store.observations import insert_kpi_observations, upsert_kpi_observations
from dashboard.store.rebuild import rebuild_rollups
from dashboard.store.reference import (
    delete_meta,
    delete_meta_like,
    get_meta,
    insert_promotions,
    set_meta,
    upsert_campaigns,
    upsert_kpis,
    upsert_reference,
    upsert_units,
)
from dashboard.store.reroute import REROUTE_COLUMNS, reroute_work_items
from dashboard.store.reset import clear_tables
from dashboard.store.results import (
    InvalidRowsError,
    InvalidTransitionError,
    StoreError,
    TransitionResult,
    UnknownItemError,
    UpsertCounts,
)
from dashboard.store.rollups import FLOW_KEY, FLOW_SUMS
from dashboard.store.rows import Rows
from dashboard.store.rule_sets import (
    archive_active_rule_sets,
    delete_routing_draft,
    insert_routing_draft,
    insert_rule_sets,
    publish_routing_draft,
    save_routing_draft,
)
from dashboard.store.scenarios import delete_scenario, insert_scenario, update_scenario
from dashboard.store.sql import IN_CHUNK, where_key_in
from dashboard.store.timestamps import MAX_TEXT_US, MIN_TEXT_US
from dashboard.store.transitions import ALLOWED_TRANSITIONS, transition_item
from dashboard.store.units import delete_unit, set_unit_office_hours
from dashboard.store.upserts import (
    PreparedItems,
    StagedItems,
    prepare_work_items,
    stage_work_items,
    upsert_staged_work_items,
    upsert_work_items,
)
from dashboard.store.users import replace_users

__all__ = [
    # errors and results
    "StoreError", "InvalidRowsError", "UnknownItemError", "InvalidTransitionError", "TransitionResult",
    "UpsertCounts", "Rows",
    # work items and their rollups
    "ITEM_COLUMNS", "FLOW_KEY", "FLOW_SUMS", "ALLOWED_TRANSITIONS", "REROUTE_COLUMNS",
    "insert_work_items", "prepare_work_items", "PreparedItems", "upsert_work_items", "transition_item",
    "stage_work_items", "StagedItems", "upsert_staged_work_items",
    "reroute_work_items", "rebuild_rollups",
    # KPI observations, journeys, reference data
    "insert_kpi_observations", "upsert_kpi_observations", "insert_journeys", "upsert_journeys",
    "upsert_units", "upsert_kpis", "upsert_campaigns", "upsert_reference", "insert_promotions",
    "set_meta", "get_meta", "delete_meta", "delete_meta_like",
    # the file import's log and quarantine
    "start_import", "finish_import", "record_failed_import", "quarantine_rows", "mark_quarantine_fixed",
    # bulk loads
    "DEFAULT_BATCH", "BULK_CACHE_KIB", "deferred_indexes", "deferred_indexes_when_larger", "IN_CHUNK", "where_key_in",
    "MIN_TEXT_US", "MAX_TEXT_US",
    # a load that replaces the data whole (the demo)
    "clear_tables", "insert_rule_sets", "insert_assessments", "insert_planned_change_rows",
    # what people change through the app (dashboard.services)
    "insert_routing_draft", "save_routing_draft", "delete_routing_draft", "publish_routing_draft",
    "archive_active_rule_sets",
    "insert_scenario", "update_scenario", "delete_scenario",
    "insert_assessment", "supersede_target_models", "insert_target_model", "insert_planned_changes",
    "update_planned_change",
    "replace_users", "set_unit_office_hours", "delete_unit",
]
