"""Use cases of the operating-model cycle: save a maturity assessment (Assess), promote a saved scenario to the
target operating model (Design), update or mark done its planned changes (Implement), and the as-is
organisation every one of them starts from.

Saving an assessment, promoting and updating a change need ``can_edit_operating_model`` (admins and hub leads);
each checks the role, writes and audits in the caller's transaction. The reads are in
:mod:`dashboard.queries.cycle`.

The as-is (:func:`as_is`) is the organisation calibrated from the last :data:`CALIBRATION_DAYS` days of observed
work, or the typed defaults (saying why) when the viewer cannot see the organisation-wide items or the data
cannot support a model. The Scenarios page starts from it and a promotion compares with it.

Promotion compares the scenario with the organisation as it is now:
- when a target model is current, its inputs with every change not yet done put back to where it started
  (the planned changes that were never implemented did not happen); its open changes are dropped, and the new
  model's changes that repeat one of them keep its owner and due date;
- otherwise the ``baseline`` the caller passes (the Operating model page passes the Scenarios page's as-is),
  else the as-is (:func:`as_is`),
  else the typed defaults — the same as-is the Scenarios page starts from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, select

from dashboard import audit, store
from dashboard.db import planned_changes
from dashboard.domain import maturity
from dashboard.domain.access import NotPermitted, Viewer, require, require_viewer
from dashboard.domain.maturity import Scores
from dashboard.domain.refusals import Refused
from dashboard.queries import scenarios as saved
from dashboard.queries.cycle import STATUSES, target_model
from dashboard.queries.kpis import list_units
from dashboard.queries.observed import calibrated_as_is
from dashboard.services.changes import writes
from dashboard.settings import get_settings
from dashboard.whatif.calibration import CALIBRATION_DAYS, CalibrationError, CalibrationResult
from dashboard.whatif.changes import planned_changes_from
from dashboard.whatif.inputs import InputError, ScenarioInputs, default_inputs, dump_inputs, load_inputs
from dashboard.whatif.model import evaluate


class StaleChange(Refused):
    """Someone changed the planned change since it was read (optimistic version check)."""


class CycleError(Refused):
    """A request the cycle refuses (unknown scenario, bad status or date); the message says why."""


@dataclass(frozen=True)
class AsIs:
    """The organisation as it is: its inputs, the calibration behind them (None for typed defaults) and notes."""

    inputs: ScenarioInputs
    calibration: CalibrationResult | None
    notes: list[str]


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


def as_is(conn: Connection, viewer, now: dt.datetime | None = None) -> AsIs:
    """The as-is organisation calibrated from the last CALIBRATION_DAYS days of work items, or the typed defaults
    with a note saying why not (a role without the organisation-wide view, or data that cannot support a model)."""
    v = require_viewer(viewer)
    try:
        result = calibrated_as_is(conn, v, now=now, days=CALIBRATION_DAYS, default_timezone=get_settings().timezone)
        return AsIs(result.inputs, result, list(result.flags))
    except NotPermitted:
        reason = "your role does not see the organisation-wide work items it is calibrated from."
    except CalibrationError as exc:
        reason = str(exc).rstrip(".") + "."
    spokes = list_units(conn, v).query("kind == 'spoke'")
    fallback = default_inputs([(r.id, r.name) for r in spokes.itertuples()] or ["spoke"])
    return AsIs(fallback, None, [f"Not calibrated: {reason} Starting from typed defaults instead."])


# --- Assess ---------------------------------------------------------------------------------------------------


@writes("cycle")
def save_assessment(conn: Connection, viewer, scores: Mapping | Scores, *,
                    now: dt.datetime | None = None) -> int:
    """Store one assessment (function, the four components 1..5, note) dated now, authored by the viewer.
    Raises :class:`dashboard.domain.maturity.AssessmentError` with the reasons for bad scores."""
    v = require(viewer, "can_edit_operating_model", "save maturity assessments")
    valid = scores if isinstance(scores, maturity.Scores) else maturity.validate_scores(scores)
    now = _now(now)
    new_id = store.insert_assessment(conn, function=valid.function, at=now, author=v.user[:320], note=valid.note,
                                     scores=valid.values)
    scores_text = ", ".join(f"{maturity.COMPONENT_LABELS[c].lower()} {s}" for c, s in valid.values.items())
    audit.record(conn, v, "cycle_assessment", valid.function, f"assessment #{new_id}: {scores_text}", at=now)
    return new_id


# --- Design ---------------------------------------------------------------------------------------------------


def _actual_current(inputs: ScenarioInputs, open_changes: pd.DataFrame) -> ScenarioInputs:
    """A target model's inputs with its changes not yet done put back to their starting share."""
    back = {r.function: float(r.from_share) for r in open_changes.itertuples()
            if r.function in inputs.functions and pd.notna(r.from_share)}
    return inputs.with_shares(back) if back else inputs


def _starting_point(conn: Connection, v: Viewer, baseline, now: dt.datetime):
    """(the organisation as it is now, the current target model or None, its open changes)."""
    previous = target_model(conn, v)
    if previous is not None:
        open_ = previous.changes[previous.changes.status == "planned"]
        try:
            return _actual_current(load_inputs(previous.inputs), open_), previous, open_
        except InputError:
            return as_is(conn, v, now).inputs, previous, open_
    if baseline is not None:
        return (baseline if isinstance(baseline, ScenarioInputs) else load_inputs(baseline)), None, None
    return as_is(conn, v, now).inputs, None, None


def _scenario_inputs(conn: Connection, v: Viewer, scenario_id: int):
    """(the saved scenario, its inputs), or None when it no longer exists; CycleError when it cannot be read."""
    found = saved.get_scenario(conn, v, int(scenario_id))
    if found is None:
        return None
    try:
        return found, load_inputs({**found.inputs, "inputs_version": found.inputs_version})
    except InputError as exc:
        raise CycleError(f"“{found.name}” cannot be read: {exc}") from None


def preview_promotion(conn: Connection, viewer, scenario_id: int, *, baseline: Mapping | ScenarioInputs | None = None,
                      now: dt.datetime | None = None) -> list[dict] | None:
    """The planned changes promoting this scenario would create (with their predicted effect), without writing
    anything; None when the scenario no longer exists."""
    v = require_viewer(viewer)
    loaded = _scenario_inputs(conn, v, scenario_id)
    if loaded is None:
        return None
    current, _previous, _open = _starting_point(conn, v, baseline, _now(now))
    return planned_changes_from(current, loaded[1])


@writes("cycle")
def promote_scenario(conn: Connection, viewer, scenario_id: int, *, baseline: Mapping | ScenarioInputs | None = None,
                     note: str | None = None, now: dt.datetime | None = None) -> int | None:
    """Make a saved scenario the current target operating model (a snapshot of its inputs and results); the
    previous target is superseded and its open changes dropped; one planned change per function that moves.
    Returns the new target model's id, or None when the scenario no longer exists (nothing is written).
    See the module docstring for what the scenario is compared with."""
    v = require(viewer, "can_edit_operating_model", "promote a scenario to the target operating model")

    loaded = _scenario_inputs(conn, v, scenario_id)
    if loaded is None:
        return None
    found, target = loaded
    now = _now(now)
    current, previous, open_ = _starting_point(conn, v, baseline, now)
    carried: dict[tuple[str, float], tuple] = {}
    if previous is not None:
        carried = {(r.function, round(float(r.to_share), 4)): (r.owner, r.due_on) for r in open_.itertuples()}
    # every current model is superseded (two promotions at once cannot leave two current targets behind)
    store.supersede_target_models(conn, by=v.user[:320], at=now)
    new_id = store.insert_target_model(
        conn, scenario_id=found.id, scenario_name=found.name, inputs=dump_inputs(target),
        results=evaluate(target).as_record(), status="current", note=(note or "").strip() or None,
        promoted_by=v.user[:320], promoted_at=now,
    )
    changes = planned_changes_from(current, target)
    rows = []
    for change in changes:
        owner, due_on = carried.get((change["function"], round(change["to_share"], 4)), (None, None))
        rows.append(dict(owner=owner, due_on=due_on, **change))
    store.insert_planned_changes(conn, new_id, rows, by=v.user[:320], at=now)
    what = f"superseding target #{previous.id}" if previous is not None else "the first target model"
    audit.record(conn, v, "cycle_promote", found.name,
                 f"target model #{new_id} from scenario #{found.id}, {what}; {len(changes)} planned change(s)", at=now)
    return new_id


# --- Implement ------------------------------------------------------------------------------------------------

_UNSET = object()


@writes("cycle")
def update_change(conn: Connection, viewer, change_id: int, *, version: int, owner=_UNSET, due_on=_UNSET,
                  status: str | None = None, done_on=_UNSET, now: dt.datetime | None = None,
                  today: dt.date | None = None) -> int | None:
    """Change a planned change's owner, due date, status (planned / done / dropped) or done date; returns the
    new version, or None when the change no longer exists. ``version`` is the one the caller read: a change saved since is refused (:class:`StaleChange`).
    Marking a change done without a date dates it ``today``; a done date in the future is refused."""
    v = require(viewer, "can_edit_operating_model", "update planned changes")
    now = _now(now)
    today = today or now.date()
    p = planned_changes.c
    row = conn.execute(select(planned_changes).where(p.id == change_id)).mappings().first()
    if row is None:
        return None
    if int(row["version"]) != int(version):
        raise StaleChange(f"“{row['label']}” was changed by {row['updated_by']} since you opened it: "
                          "reload to see their version, then change it again.")
    values: dict = {}
    if owner is not _UNSET:
        owner = (owner or "").strip() or None
        if owner and len(owner) > 320:
            raise CycleError("An owner is at most 320 characters.")
        values["owner"] = owner
    if due_on is not _UNSET:
        values["due_on"] = _date(due_on, "due date")
    new_status = status if status is not None else row["status"]
    if new_status not in STATUSES:
        raise CycleError(f"Status must be one of {', '.join(STATUSES)}, not {new_status!r}.")
    values["status"] = new_status
    if new_status == "done":
        chosen = _date(done_on, "done date") if done_on is not _UNSET else row["done_on"]
        chosen = chosen or today
        if chosen > today:
            raise CycleError(f"A change cannot be done in the future ({chosen:%d %b %Y}); mark it done on the day.")
        values["done_on"] = chosen
    else:
        values["done_on"] = None
    changed = {k: val for k, val in values.items() if row[k] != val}
    if not changed:
        return int(row["version"])
    if not store.update_planned_change(conn, change_id, version, by=v.user[:320], at=now, changes=changed):
        # a concurrent writer got there between our read and this write
        raise StaleChange(f"“{row['label']}” was changed by someone else just now: reload and try again.")
    detail = ", ".join(f"{k.replace('_', ' ')} {_said(row[k])} → {_said(val)}" for k, val in changed.items())
    audit.record(conn, v, "cycle_change", row["label"], f"change #{change_id}: {detail}", at=now)
    return int(version) + 1


def _said(value) -> str:
    """A field's value in an audit line: '—' for none, a date as people write it."""
    if value is None:
        return "—"
    if isinstance(value, dt.date):
        return f"{value:%d %b %Y}"
    return str(value)


def _date(value, what: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CycleError(f"The {what} {value!r} is not a date (YYYY-MM-DD).") from None
