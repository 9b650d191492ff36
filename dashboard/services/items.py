"""What a spoke lead can do to routed work: acknowledge, resolve, hand back to the hub (with a note).

Each item is written in its own transaction through ``store.transition_item`` (optimistic check on the
version the user saw), so in a bulk action one item that someone else changed first is reported and left
as it is, while the others go through. Authorisation is re-checked here: the item must belong to the
spoke the viewer may act for, and the viewer's role must allow acting (executives only look). Every
change is written to the audit trail in the same transaction as the change.

Each item's transaction runs through :func:`dashboard.db.write_transaction`, which runs it again after a lost
race (a SQLite lock wait past its limit, a PostgreSQL deadlock). A database failure that outlasts those retries
does not escape halfway through a bulk action: that item and the ones after it (not tried) each get an outcome
saying they were not done and why (:func:`dashboard.errors.explain`), and the items before it stay done and are
reported so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, or_, select

from dashboard import audit, errors, store
from dashboard.db import work_items, write_transaction
from dashboard.domain import format as fmt
from dashboard.domain.access import require, require_unit
from dashboard.domain.refusals import Refused
from dashboard.domain.vocabulary import Status
from dashboard.services.changes import writes
from dashboard.settings import get_settings

ACTIONS: dict[str, tuple[str, Status]] = {
    "acknowledge": ("Acknowledge", Status.ACCEPTED),
    "resolve": ("Resolve", Status.RESOLVED),
    "hand_back": ("Hand back to the hub", Status.HANDED_BACK),
}
STATUS_LABELS = {s.value: s.value.replace("_", " ") for s in Status}  # how people read a status
DONE = {"acknowledge": "acknowledged", "resolve": "resolved", "hand_back": "handed back"}  # after the action


class ActionRefused(Refused):
    """The action cannot be done as asked (a hand-back without a note, nothing selected): nothing was changed."""


@dataclass(frozen=True)
class Outcome:
    item_id: str
    ok: bool
    message: str
    status: str | None = None
    version: int | None = None
    unchanged: bool = False  # the item already was where the action would take it: nothing to do, nothing done
    failed: bool = False  # not done because the database failed (on this item, or on an earlier one: not tried)


@writes("items")
def act(engine: Engine, viewer, unit: str, items: list[tuple[str, int]], action: str, *,
        note: str | None = None, now: dt.datetime | None = None) -> list[Outcome]:
    """Apply ``action`` to ``items`` (id, version the user saw). Returns one outcome per item."""
    v = require_unit(viewer, unit)
    require(v, v.can_act_for(unit), f"act on {unit}'s items")
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; choose one of {', '.join(ACTIONS)}")
    note = (note or "").strip() or None
    if action == "hand_back" and not note:
        raise ActionRefused("Say why you hand the item back: the note goes to the hub with it.")
    if not items:
        raise ActionRefused("Select at least one item first.")
    now = now or dt.datetime.now(dt.UTC)
    outcomes: list[Outcome] = []
    for index, (item_id, version) in enumerate(items):
        try:
            outcomes.append(write_transaction(
                engine, lambda conn, item_id=item_id, version=version:
                _act_on_one(conn, v, unit, item_id, int(version), action, note, now)))
        except errors.DATABASE_ERRORS as exc:
            why = errors.explain(exc, code=False)
            outcomes.append(Outcome(item_id, False, f"{item_id} was not {DONE[action]}: {why}", failed=True))
            outcomes += [Outcome(rest, False, f"{rest} was not {DONE[action]}: not tried after the database failed "
                                              f"on {item_id}.", failed=True) for rest, _version in items[index + 1:]]
            break
    return outcomes


def _act_on_one(conn, v, unit: str, item_id: str, version: int, action: str, note: str | None,
                now: dt.datetime) -> Outcome:
    """One item in one transaction: the change and its audit line, or why nothing was changed."""
    label, status = ACTIONS[action]
    current = conn.execute(
        select(work_items.c.status, work_items.c.version).where(
            work_items.c.id == item_id,
            or_(work_items.c.target_unit == unit, work_items.c.source_unit == unit),
        )
    ).first()
    if current is None:
        return Outcome(item_id, False, f"{item_id}: not an item of this spoke")
    if current.status == status.value and current.version == version:
        return Outcome(item_id, False, f"{item_id} is already {DONE[action]}: nothing to change.",
                       current.status, current.version, unchanged=True)
    try:
        res = store.transition_item(conn, item_id, expected_version=version, status=status, at=now, by=v.user,
                                    note=note)
    except store.InvalidTransitionError:
        return Outcome(item_id, False, f"{item_id} is {STATUS_LABELS.get(current.status, current.status)}"
                                       f" and cannot be {DONE[action]}: nothing was changed.", current.status,
                       current.version)
    except store.StoreError as exc:
        return Outcome(item_id, False, str(exc))
    if res.ok:  # in the same transaction as the change
        audit.record(conn, v, "item_action", item_id, f"{label} ({unit})" + (f": {note}" if note else ""), at=now)
        return Outcome(item_id, True, f"{item_id}: {label.lower()} done", res.item["status"], res.version)
    cur = res.item
    who = cur.get("updated_by") or "someone else"
    when = cur.get("updated_at")
    when_txt = f" at {_moment(when)}" if isinstance(when, dt.datetime) else ""
    now_is = STATUS_LABELS.get(cur["status"], cur["status"])
    return Outcome(item_id, False,
                   f"{item_id}: already changed by {who}{when_txt}; it is now “{now_is}”. Nothing was overwritten.",
                   cur["status"], res.version)


def _moment(when: dt.datetime) -> str:
    """When someone else changed an item, to the minute in the organisation's zone."""
    s = get_settings()
    return f"{fmt.moment(when, s.tz)} ({s.timezone})"
