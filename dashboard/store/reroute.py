"""Re-routing: the routing rules move waiting items to a spoke, and the items' rollup contributions move
with them in the same transaction.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, false, select, update

from dashboard.db import work_items
from dashboard.domain.vocabulary import Status
from dashboard.store.items import ITEM_COLUMNS, check_units_exist, item_frame, update_at_version
from dashboard.store.results import InvalidRowsError, InvalidTransitionError
from dashboard.store.rollups import move_item_counts, net_flow_deltas, upsert_flow_rows
from dashboard.store.rows import Rows
from dashboard.store.sql import where_key_in
from dashboard.store.timestamps import aware
from dashboard.store.transitions import ALLOWED_TRANSITIONS

REROUTE_COLUMNS = ("target_unit", "priority", "rule_id", "sla_hours", "due_at", "status", "routed_at")


def reroute_work_items(conn: Connection, changes: Rows, *, by: str, at: dt.datetime) -> int:
    """Give stored items a new target (and priority, rule, SLA, due time, status, routed time); returns how many
    were changed. Their ``flow_hourly`` (and ``mix_hourly``, ``text_hourly``) contributions move with them in the caller's transaction: what each
    item added under its old route (created, value and, if resolved, its resolution) is taken out and added
    under the new one, so the rollups stay equal to :func:`rebuild_rollups`.

    ``changes`` holds ``id``, ``version`` (the version the caller read: an item changed since then is left
    alone and not counted, as in :func:`transition_item`) and ``target_unit``; the other columns of
    :data:`REROUTE_COLUMNS` are optional (not given = kept). ``due_at`` follows a changed ``sla_hours`` unless
    given. On PostgreSQL the rows are locked in id order first (several writers lock in the same order); on
    SQLite the file's write lock is taken before they are read.
    """
    df = changes if isinstance(changes, pd.DataFrame) else pd.DataFrame(list(changes))
    if df.empty:
        return 0
    missing = [c for c in ("id", "version", "target_unit") if c not in df.columns]
    if missing:
        raise InvalidRowsError(f"reroute: missing column(s) {', '.join(missing)}")
    unknown = set(df.columns) - {"id", "version", *REROUTE_COLUMNS}
    if unknown:
        raise InvalidRowsError(f"reroute: unknown column(s) {', '.join(sorted(unknown))}")
    if df["id"].duplicated().any():
        raise InvalidRowsError("reroute: an id is repeated")
    at = aware(at)
    ids = sorted(df["id"].astype(str).tolist())
    stmt = (select(*[work_items.c[c] for c in ITEM_COLUMNS if c != "version"], work_items.c.version)
            .where(where_key_in(conn, work_items.c.id, ids)).order_by(work_items.c.id))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    else:
        _hold_write_lock(conn)
    stored = pd.DataFrame(conn.execute(stmt).mappings().all())
    if stored.empty:
        return 0
    wanted = df.set_index(df["id"].astype(str))
    stored = stored[stored["version"].to_numpy() == wanted.loc[stored["id"], "version"].to_numpy()]
    if stored.empty:
        return 0
    stored = stored.reset_index(drop=True)
    new_rows = stored.drop(columns=["version", "note"]).copy()
    given = wanted.loc[new_rows["id"]]
    for c in REROUTE_COLUMNS:
        if c in given.columns:
            new_rows[c] = given[c].to_numpy()
    if "sla_hours" in given.columns and "due_at" not in given.columns:
        new_rows["due_at"] = None  # recomputed from created_at + sla_hours by item_frame
    new_rows["updated_by"], new_rows["updated_at"] = by, at
    old = item_frame(stored.drop(columns=["version", "note"]))
    new = item_frame(new_rows)
    check_units_exist(conn, new)
    bad = [f"{i}: {a} -> {b}" for i, a, b in zip(new.cols["id"], old.cols["status"], new.cols["status"])
           if a != b and Status(b) not in ALLOWED_TRANSITIONS[Status(a)]]
    if bad:
        raise InvalidTransitionError(f"work_items: status change not allowed: {', '.join(bad[:5])}")
    update_at_version(conn, new, REROUTE_COLUMNS, stored["version"].to_numpy(), "being re-routed")
    upsert_flow_rows(conn, list(net_flow_deltas(new, old).itertuples(index=False, name=None)), cleanup=True)
    move_item_counts(conn, new, old)
    return len(new)


def _hold_write_lock(conn: Connection) -> None:
    """SQLite: take the file's write lock before reading (a statement that writes nothing), so no other writer
    can change the rows between this transaction's read and its update; PostgreSQL locks the rows read instead."""
    conn.execute(update(work_items).where(false()).values(version=work_items.c.version))


