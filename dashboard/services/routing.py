"""Use cases on routing: save, discard and publish the shared draft, route the items waiting at the hub, delete
a spoke nothing refers to any more.

Who: admins and hub leads (``can_edit_routing``) change rule sets; admins delete units. Each use case checks
the role, writes, and records what it did in the audit trail, in the caller's transaction. The life of a rule
set (draft, active, archived) is described in :mod:`dashboard.queries.routing`; the system side that routes
new items by the active set is :mod:`dashboard.services.autoroute`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, func, or_, select

from dashboard import audit, store
from dashboard.db import kpis, routing_rule_sets, units, users, work_items
from dashboard.domain.access import Viewer, require
from dashboard.domain.refusals import Refused
from dashboard.domain.routing import RuleError, RuleSet, check_targets, parse_rule_set, rules_pointing_to
from dashboard.queries.routing import StoredRuleSet, active_rule_set, current_draft, get_rule_set
from dashboard.services import autoroute
from dashboard.services.changes import writes


class StaleDraft(Refused):
    """The draft changed (or was published / discarded) since the editor read it; nothing was written."""


class DraftExists(Refused):
    """A draft exists already: there is one shared draft at a time."""


class UnitInUse(Refused):
    """A unit cannot be deleted yet; ``reasons`` lists every reason, one readable line each."""

    def __init__(self, unit: str, reasons: list[str]):
        self.unit, self.reasons = unit, reasons
        super().__init__(f"{unit} cannot be deleted: " + "; ".join(reasons))


def _writer(viewer) -> Viewer:
    return require(viewer, "can_edit_routing", "edit routing rules")


def _validate(conn: Connection, data) -> RuleSet:
    """The parsed set, or RuleError with every problem (rules themselves, then targets that are no spoke)."""
    rule_set = parse_rule_set(data)
    known = list(conn.execute(select(units.c.id).where(units.c.kind == "spoke")).scalars())
    problems = check_targets(rule_set, known)
    if problems:
        raise RuleError(list(problems))
    return rule_set


@writes("routing")
def save_draft(conn: Connection, viewer, rule_set, *, draft_id: int | None = None, version: int | None = None,
               name: str | None = None, based_on: int | None = None, now: dt.datetime | None = None) -> StoredRuleSet:
    """Create the draft (``draft_id`` None) or update it (``draft_id`` and the ``version`` the editor read).

    Refuses with :class:`RuleError` (every problem) when a rule is invalid or targets no spoke, with
    :class:`StaleDraft` when someone saved, published or discarded the draft in between, and with
    :class:`DraftExists` when creating while a draft exists. Returns the stored draft (its new version)."""
    v = _writer(viewer)
    now = now or dt.datetime.now(dt.UTC)
    parsed = _validate(conn, rule_set)
    data = parsed.model_dump(mode="json")
    name = (name or "").strip()[:200] or None
    if draft_id is None:
        existing = current_draft(conn, v)
        if existing is not None:
            raise DraftExists(f"{existing.updated_by} is already editing a draft (saved "
                              f"{existing.updated_at:%d %b %H:%M} UTC): open it instead of starting another.")
        new_id = store.insert_routing_draft(conn, rules=data, name=name or "Draft", based_on=based_on, by=v.user,
                                            at=now)
        audit.record(conn, v, "routing_save", f"rule set #{new_id}", f"started a draft ({len(parsed.rules)} rules)",
                     at=now)
        return get_rule_set(conn, v, new_id)
    if not store.save_routing_draft(conn, draft_id, version, rules=data, name=name, by=v.user, at=now):
        _explain_stale(conn, draft_id, "saved")
    audit.record(conn, v, "routing_save", f"rule set #{draft_id}", f"saved the draft ({len(parsed.rules)} rules, "
                 f"version {version} -> {version + 1})", at=now)
    return get_rule_set(conn, v, draft_id)


def _explain_stale(conn: Connection, draft_id: int, what: str):
    row = conn.execute(select(routing_rule_sets).where(routing_rule_sets.c.id == draft_id)).mappings().first()
    if row is None:
        raise StaleDraft(f"Nothing was {what}: the draft was discarded meanwhile. Your edits are kept: start a "
                         "new draft and enter them again.")
    if row["status"] != "draft":
        who = row["published_by"] or row["updated_by"]
        raise StaleDraft(f"Nothing was {what}: {who} published this draft meanwhile. Your edits are kept: start "
                         "a new draft from the active set to change it.")
    raise StaleDraft(f"Nothing was {what}: someone else ({row['updated_by']}, {row['updated_at']:%d %b %H:%M} UTC) "
                     "changed this draft since you opened it. Your edits are kept: reload the draft to see theirs.")


@writes("routing")
def discard_draft(conn: Connection, viewer, draft_id: int, version: int, now: dt.datetime | None = None) -> bool:
    """Delete the draft (audited). False when it is gone already (someone discarded it: nothing to do);
    :class:`StaleDraft` when it was published or changed since ``version``."""
    v = _writer(viewer)
    now = now or dt.datetime.now(dt.UTC)
    if not store.delete_routing_draft(conn, draft_id, version):
        r = routing_rule_sets.c
        if conn.execute(select(r.id).where(r.id == draft_id)).first() is None:
            return False
        _explain_stale(conn, draft_id, "discarded")
    audit.record(conn, v, "routing_discard", f"rule set #{draft_id}", "discarded the draft", at=now)
    return True


@writes("routing")
def publish(conn: Connection, viewer, draft_id: int, version: int, note: str, now: dt.datetime | None = None
            ) -> StoredRuleSet:
    """The draft becomes the active set and the active one is archived, in the caller's transaction.

    ``note`` (what changed and why) is required; the draft is validated again (a spoke may have gone since it
    was saved) and must still be at ``version``."""
    v = _writer(viewer)
    now = now or dt.datetime.now(dt.UTC)
    note = (note or "").strip()
    if not note:
        raise Refused("Say what changed and why in the note: it is what the history shows.")
    draft = get_rule_set(conn, v, draft_id)
    if draft is None or draft.status != "draft" or draft.version != version:
        _explain_stale(conn, draft_id, "published")
    _validate(conn, draft.rule_set)
    if not store.publish_routing_draft(conn, draft_id, version, note=note, by=v.user, at=now):
        _explain_stale(conn, draft_id, "published")  # someone published or saved it between the read and the update
    archived = store.archive_active_rule_sets(conn, keep=draft_id)
    was = ", ".join(f"#{i}" for i in archived) or "none"
    audit.record(conn, v, "routing_publish", f"rule set #{draft_id}", f"published ({len(draft.rule_set.rules)} rules; "
                 f"archived {was}): {note}"[:2000], at=now)
    return get_rule_set(conn, v, draft_id)


@writes("items")
def route_waiting(conn: Connection, viewer, now: dt.datetime | None = None) -> int:
    """Route the items waiting unrouted at the hub with the ACTIVE rules now (after a publish), in the caller's
    transaction; returns how many left the hub (items no rule matches keep waiting). Audited."""
    v = _writer(viewer)
    now = now or dt.datetime.now(dt.UTC)
    active = active_rule_set(conn, v)
    if active is None:
        return 0
    moved = autoroute.route_waiting(conn, now, active.rule_set, by=v.user)
    if moved:
        audit.record(conn, v, "routing_route", f"rule set #{active.id}",
                     f"routed {moved:,} waiting item{'s' if moved != 1 else ''} with the active rules", at=now)
    return moved


@writes("units")
def delete_unit(conn: Connection, viewer, unit_id: str, now: dt.datetime | None = None) -> bool:
    """Delete a spoke nothing refers to any more (admins; audited). Refused with :class:`UnitInUse` naming every
    reason: the active or draft routing rules that send items to it, its work items, KPIs and users. False when
    there is no such unit (deleted meanwhile: nothing to do)."""
    v = require(viewer, "is_admin", "delete units")
    now = now or dt.datetime.now(dt.UTC)
    row = conn.execute(select(units.c.id, units.c.name, units.c.kind).where(units.c.id == unit_id)).first()
    if row is None:
        return False
    if row.kind == "hub":
        raise UnitInUse(row.name, ["it is the hub: every flow starts or ends there"])
    reasons = []
    for status, read in (("active", active_rule_set), ("draft", current_draft)):
        try:
            stored = read(conn, v)
        except RuleError:  # unreadable: it may well route there
            reasons.append(f"the {status} rule set cannot be read, so it may route items to it — fix it first")
            continue
        if stored is None:
            continue
        names = rules_pointing_to(stored.rule_set, unit_id)
        if names:
            reasons.append(f"the {status} rule set (#{stored.id}) routes items to it: "
                           + ", ".join(f"“{n}”" for n in names) + " — change those rules first")
    wi = work_items.c
    n_items = conn.execute(select(func.count()).select_from(work_items)
                           .where(or_(wi.source_unit == unit_id, wi.target_unit == unit_id))).scalar_one()
    if n_items:
        reasons.append(f"{n_items:,} work item{'s' if n_items != 1 else ''} came from or went to it")
    n_kpis = conn.execute(select(func.count()).select_from(kpis).where(kpis.c.unit_id == unit_id)).scalar_one()
    if n_kpis:
        reasons.append(f"it owns {n_kpis:,} KPI{'s' if n_kpis != 1 else ''}")
    people = list(conn.execute(select(users.c.user).where(users.c.unit == unit_id).order_by(users.c.user)).scalars())
    if people:
        reasons.append("it is the spoke of " + ", ".join(people[:5]) + (" …" if len(people) > 5 else ""))
    if reasons:
        raise UnitInUse(row.name, reasons)
    store.delete_unit(conn, unit_id)
    audit.record(conn, v, "unit_delete", unit_id, f"deleted spoke {row.name}", at=now)
    return True
