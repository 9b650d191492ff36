"""One work item moved to another status (:func:`transition_item`), with the optimistic
version check, and its resolution added to (or taken back out of) ``flow_hourly`` in the same transaction.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select, update

from dashboard.db import work_items
from dashboard.domain.stats import CYCLE_BIN_EDGES_H, N_CYCLE_BINS
from dashboard.domain.vocabulary import Status
from dashboard.store.results import InvalidTransitionError, TransitionResult, UnknownItemError
from dashboard.store.rollups import upsert_flow_rows
from dashboard.store.timestamps import EPOCH, US_PER_HOUR, aware

# Which status may follow which. Reopening a resolved item (to routed/accepted/handed_back) is allowed and
# takes its resolution back out of the rollup; nothing goes back to "new".
ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.ROUTED, Status.ACCEPTED, Status.RESOLVED}),
    Status.ROUTED: frozenset({Status.ACCEPTED, Status.RESOLVED, Status.HANDED_BACK}),
    Status.ACCEPTED: frozenset({Status.RESOLVED, Status.HANDED_BACK}),
    Status.HANDED_BACK: frozenset({Status.ROUTED, Status.ACCEPTED, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.ROUTED, Status.ACCEPTED, Status.HANDED_BACK}),
}


def _fetch_item(conn: Connection, item_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    stmt = select(work_items).where(work_items.c.id == item_id)
    if lock:  # PostgreSQL: a concurrent writer waits, then sees the new version (SQLite serialises writes)
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row is not None else None


def _transition_fields(new: Status, at: dt.datetime, row: Mapping[str, Any]) -> dict[str, Any]:
    """Timestamps implied by moving to ``new`` at ``at``."""
    if new is Status.ROUTED:
        return {"routed_at": at, "accepted_at": None, "resolved_at": None}
    if new is Status.ACCEPTED:
        return {"routed_at": row["routed_at"] or at, "accepted_at": at, "resolved_at": None}
    if new is Status.RESOLVED:
        return {"resolved_at": at}
    if new is Status.HANDED_BACK:
        return {"accepted_at": None, "resolved_at": None}
    raise InvalidTransitionError(f"nothing moves back to {new.value!r}")


def _us_since_epoch(ts: dt.datetime) -> int:
    return (aware(ts) - EPOCH) // dt.timedelta(microseconds=1)


def _resolution_delta(row: Mapping[str, Any], sign: int) -> tuple:
    """One item's resolution as a flow_hourly delta row (plain Python: a transition touches one item, and
    building DataFrames for it would cost more than the database round trips)."""
    created, resolved, due = (_us_since_epoch(row[c]) for c in ("created_at", "resolved_at", "due_at"))
    cycle_h = (resolved - created) / US_PER_HOUR
    bins = [0] * N_CYCLE_BINS
    bins[bisect.bisect_right(CYCLE_BIN_EDGES_H, cycle_h)] = sign  # same rule as cycle_bin_index
    return (resolved // US_PER_HOUR, row["source_unit"], row["target_unit"], row["kind"],
            0, 0.0, sign, sign * int(resolved <= due), sign * cycle_h, *bins)


def _apply_resolution(conn: Connection, row: Mapping[str, Any], sign: int) -> None:
    upsert_flow_rows(conn, [_resolution_delta(row, sign)], cleanup=sign < 0)


def transition_item(
    conn: Connection,
    item_id: str,
    *,
    expected_version: int,
    status: str | Status,
    at: dt.datetime,
    by: str,
    note: str | None = None,
) -> TransitionResult:
    """Move one item to ``status`` at time ``at`` if nobody changed it since ``expected_version``.

    Optimistic concurrency: the UPDATE only matches ``id = :id AND version = :expected_version`` and bumps
    the version, so of two editors holding the same version exactly one wins; the other gets
    ``ok=False`` with the current row and nothing written. Resolving adds the item's resolution to
    ``flow_hourly`` (hour of ``at``); reopening a resolved item subtracts the earlier resolution.
    Raises :class:`UnknownItemError` for an unknown id and :class:`InvalidTransitionError` for a move the
    workflow does not allow (see ``ALLOWED_TRANSITIONS``) or an ``at`` before the item was created.
    """
    try:
        new = Status(status)
    except ValueError:
        raise InvalidTransitionError(f"unknown status {status!r}; use one of {', '.join(Status)}") from None
    at = aware(at)
    row = _fetch_item(conn, item_id, lock=True)
    if row is None:
        raise UnknownItemError(f"no work item with id {item_id!r}")
    if row["version"] != expected_version:
        return TransitionResult(ok=False, item=row)
    old = Status(row["status"])
    if new not in ALLOWED_TRANSITIONS[old]:
        raise InvalidTransitionError(f"work item {item_id}: cannot go from {old.value} to {new.value}")
    if at < row["created_at"]:
        raise InvalidTransitionError(f"work item {item_id}: {at.isoformat()} is before it was created")
    changes = _transition_fields(new, at, row) | {
        "status": new.value, "version": expected_version + 1, "updated_by": by, "updated_at": at,
    }
    if note is not None:
        changes["note"] = note
    result = conn.execute(
        update(work_items)
        .where(work_items.c.id == item_id, work_items.c.version == expected_version)
        .values(**changes)
    )
    if result.rowcount != 1:  # lost a race between the read and the write
        return TransitionResult(ok=False, item=_fetch_item(conn, item_id) or row)
    if old is Status.RESOLVED:
        _apply_resolution(conn, row, -1)
    after = row | changes
    if new is Status.RESOLVED:
        _apply_resolution(conn, after, +1)
    return TransitionResult(ok=True, item=after)
