"""Use cases on saved scenarios: save (or overwrite), duplicate, delete.

Names are unique; saving over an existing name needs ``overwrite=True`` (the page asks first). Saving needs
``can_edit_scenarios``; only the owner or an admin may overwrite or delete a scenario. Each use case checks the
role, writes and audits in the caller's transaction; the reads are in :mod:`dashboard.queries.scenarios`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from dashboard import audit, store
from dashboard.db import scenarios
from dashboard.domain.access import NotPermitted, Role, require
from dashboard.domain.refusals import Refused
from dashboard.queries.scenarios import get_scenario
from dashboard.services.changes import writes


class ScenarioExists(Refused):
    """A scenario with that name exists; ask the user to overwrite or rename."""


def _may_change(viewer, owner: str) -> bool:
    return viewer.role is Role.ADMIN or viewer.user == owner


@writes("scenarios")
def save_scenario(conn: Connection, viewer, *, name: str, description: str | None, inputs: dict, inputs_version: int,
                  results: dict | None, overwrite: bool = False, now: dt.datetime | None = None) -> int:
    """Insert, or with ``overwrite`` replace, the scenario called ``name``; returns its id (audited)."""
    v = require(viewer, "can_edit_scenarios", "save scenarios")
    name = (name or "").strip()
    if not name:
        raise Refused("Give the scenario a name.")
    if len(name) > 200:
        raise Refused("Scenario names are at most 200 characters.")
    now = now or dt.datetime.now(dt.UTC)
    s = scenarios.c
    existing = conn.execute(select(s.id, s.owner).where(s.name == name)).first()
    values = dict(description=description, inputs=inputs, inputs_version=inputs_version, results=results, at=now)
    if existing:
        if not overwrite:
            raise ScenarioExists(f"A scenario called “{name}” exists already: overwrite it or choose another name.")
        if not _may_change(v, existing.owner):
            raise NotPermitted(f"“{name}” belongs to {existing.owner}; save under another name.")
        store.update_scenario(conn, existing.id, **values)
        audit.record(conn, v, "scenario_save", name, f"overwrote scenario #{existing.id}", at=now)
        return int(existing.id)
    try:
        new_id = store.insert_scenario(conn, name=name, owner=v.user, **values)
    except IntegrityError:  # a colleague saved the same name a moment ago
        raise ScenarioExists(f"A scenario called “{name}” was just saved by someone else: choose another name.") from None
    audit.record(conn, v, "scenario_save", name, f"saved scenario #{new_id}", at=now)
    return new_id


@writes("scenarios")
def duplicate_scenario(conn: Connection, viewer, scenario_id: int, now: dt.datetime | None = None) -> int:
    original = get_scenario(conn, viewer, scenario_id)
    if original is None:
        raise LookupError("That scenario no longer exists.")
    base = f"{original.name} (copy)"
    name, n = base, 2
    while conn.execute(select(func.count()).where(scenarios.c.name == name)).scalar_one():
        name, n = f"{base} {n}", n + 1
    return save_scenario(conn, viewer, name=name, description=original.description, inputs=original.inputs,
                         inputs_version=original.inputs_version, results=original.results, now=now)


@writes("scenarios")
def delete_scenario(conn: Connection, viewer, scenario_id: int) -> None:
    v = require(viewer, "can_edit_scenarios", "delete scenarios")
    found = get_scenario(conn, v, scenario_id)
    if found is None:
        return
    if not _may_change(v, found.owner):
        raise NotPermitted(f"“{found.name}” belongs to {found.owner}; only they or an admin can delete it.")
    store.delete_scenario(conn, scenario_id)
    audit.record(conn, v, "scenario_delete", found.name, f"deleted scenario #{scenario_id}")
