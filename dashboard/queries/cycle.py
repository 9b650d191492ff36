"""The operating-model cycle in the database: maturity assessments (Assess), the target operating model promoted
from a saved scenario (Design), its planned changes (Implement) and the done changes as chart annotations.

Every public function takes ``(conn, viewer, ...)`` and checks access first: every role may read; saving an
assessment, promoting a scenario and updating a change need ``can_edit_operating_model`` (admins and hub
leads). Writes are audited in the same transaction.

Promotion compares the scenario with the organisation as it is now:
- when a target model is current, its inputs with every change not yet done put back to where it started
  (the planned changes that were never implemented did not happen); its open changes are dropped, and the new
  model's changes that repeat one of them keep its owner and due date;
- otherwise the ``baseline`` the caller passes (the Operating model page passes the Scenarios page's as-is),
  else the as-is calibrated from the last 30 days of observed work (``dashboard.queries.observed.calibrated_as_is``),
  else the typed defaults — the same as-is the Scenarios page starts from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import Connection, insert, select, update

from dashboard import audit
from dashboard.db import maturity_assessments, planned_changes, target_models
from dashboard.domain.access import NotPermitted, Viewer, require, require_unit, require_viewer
from dashboard.queries import scenarios as saved

if TYPE_CHECKING:  # the what-if model is imported where it is used: the overview reads annotations only
    from dashboard.domain.maturity import Scores
    from dashboard.whatif.inputs import ScenarioInputs

STATUSES = ("planned", "done", "dropped")
COMPONENTS = ("structure", "processes", "data_management", "technology")  # dashboard.domain.maturity.COMPONENTS
ASSESSMENT_COLUMNS = ["id", "function", "assessed_at", "author", *COMPONENTS, "note"]
CHANGE_COLUMNS = ["id", "target_model_id", "function", "from_placement", "to_placement", "from_share", "to_share",
                  "label", "units", "owner", "due_on", "status", "done_on", "predicted", "version", "updated_by",
                  "updated_at"]
ANNOTATION_COLUMNS = ["id", "date", "label", "units", "function"]


class StaleChange(ValueError):
    """Someone changed the planned change since it was read (optimistic version check)."""


class CycleError(ValueError):
    """A request the cycle refuses (unknown scenario, bad status or date); the message says why."""


@dataclass(frozen=True)
class TargetModel:
    id: int
    scenario_id: int | None
    scenario_name: str
    inputs: dict
    results: dict | None
    status: str
    note: str | None
    promoted_by: str
    promoted_at: dt.datetime
    changes: pd.DataFrame


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


# --- Assess ---------------------------------------------------------------------------------------------------


def save_assessment(conn: Connection, viewer, scores: Mapping | Scores, *,
                    now: dt.datetime | None = None) -> int:
    """Store one assessment (function, the four components 1..5, note) dated now, authored by the viewer.
    Raises :class:`dashboard.domain.maturity.AssessmentError` with the reasons for bad scores."""
    v = require(viewer, "can_edit_operating_model", "save maturity assessments")
    from dashboard.domain import maturity

    valid = scores if isinstance(scores, maturity.Scores) else maturity.validate_scores(scores)
    now = _now(now)
    new_id = int(conn.execute(insert(maturity_assessments).values(
        function=valid.function, assessed_at=now, author=v.user[:320], note=valid.note, **valid.values,
    )).inserted_primary_key[0])
    scores_text = ", ".join(f"{maturity.COMPONENT_LABELS[c].lower()} {s}" for c, s in valid.values.items())
    audit.record(conn, v, "cycle_assessment", valid.function, f"assessment #{new_id}: {scores_text}", at=now)
    return new_id


def assessments(conn: Connection, viewer, function: str | None = None) -> pd.DataFrame:
    """Past assessments, oldest first (all functions, or one); columns ASSESSMENT_COLUMNS + overall."""
    require_viewer(viewer)
    a = maturity_assessments.c
    stmt = select(*[a[c] for c in ASSESSMENT_COLUMNS]).order_by(a.assessed_at, a.id)
    if function is not None:
        stmt = stmt.where(a.function == function)
    frame = pd.DataFrame(conn.execute(stmt).all(), columns=ASSESSMENT_COLUMNS)
    frame["assessed_at"] = pd.to_datetime(frame["assessed_at"], utc=True)
    frame["note"] = frame["note"].astype(object).where(frame["note"].notna(), None)
    frame["overall"] = frame[list(COMPONENTS)].astype(float).mean(axis=1) if len(frame) else pd.Series(dtype=float)
    return frame


# --- Design ---------------------------------------------------------------------------------------------------


def _changes(conn: Connection, target_model_id: int) -> pd.DataFrame:
    p = planned_changes.c
    rows = conn.execute(select(*[p[c] for c in CHANGE_COLUMNS]).where(p.target_model_id == target_model_id)
                        .order_by(p.id)).all()
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def _current_row(conn: Connection):
    t = target_models.c
    return conn.execute(select(target_models).where(t.status == "current")
                        .order_by(t.promoted_at.desc(), t.id.desc())).mappings().first()


def target_model(conn: Connection, viewer) -> TargetModel | None:
    """The current target operating model with its planned changes, or None before the first promotion."""
    require_viewer(viewer)
    row = _current_row(conn)
    if row is None:
        return None
    return TargetModel(**{k: row[k] for k in ("id", "scenario_id", "scenario_name", "inputs", "results", "status",
                                              "note", "promoted_by", "promoted_at")},
                       changes=_changes(conn, int(row["id"])))


def target_history(conn: Connection, viewer) -> pd.DataFrame:
    """Every target model ever promoted, newest first (id, scenario_name, status, promoted_by, promoted_at)."""
    require_viewer(viewer)
    t = target_models.c
    cols = ["id", "scenario_name", "status", "promoted_by", "promoted_at", "note"]
    rows = conn.execute(select(*[t[c] for c in cols]).order_by(t.promoted_at.desc(), t.id.desc())).all()
    return pd.DataFrame(rows, columns=cols)


def _as_is(conn: Connection, viewer: Viewer, now: dt.datetime) -> ScenarioInputs:
    from dashboard.queries.kpis import list_units
    from dashboard.queries.observed import calibrated_as_is
    from dashboard.settings import get_settings
    from dashboard.whatif.calibration import CalibrationError
    from dashboard.whatif.inputs import default_inputs

    try:
        return calibrated_as_is(conn, viewer, now=now, default_timezone=get_settings().timezone).inputs
    except (CalibrationError, NotPermitted):
        spokes = list_units(conn, viewer).query("kind == 'spoke'")
        return default_inputs([(r.id, r.name) for r in spokes.itertuples()] or ["spoke"])


def _actual_current(inputs: ScenarioInputs, open_changes: pd.DataFrame) -> ScenarioInputs:
    """A target model's inputs with its changes not yet done put back to their starting share."""
    back = {r.function: float(r.from_share) for r in open_changes.itertuples()
            if r.function in inputs.functions and pd.notna(r.from_share)}
    return inputs.with_shares(back) if back else inputs


def _starting_point(conn: Connection, v: Viewer, baseline, now: dt.datetime):
    """(the organisation as it is now, the current target row or None, its open changes)."""
    from dashboard.whatif.inputs import InputError, ScenarioInputs, load_inputs

    previous = _current_row(conn)
    if previous is not None:
        old = _changes(conn, int(previous["id"]))
        open_ = old[old.status == "planned"]
        try:
            return _actual_current(load_inputs(previous["inputs"]), open_), previous, open_
        except InputError:
            return _as_is(conn, v, now), previous, open_
    if baseline is not None:
        return (baseline if isinstance(baseline, ScenarioInputs) else load_inputs(baseline)), None, None
    return _as_is(conn, v, now), None, None


def _scenario_inputs(conn: Connection, v: Viewer, scenario_id: int):
    """(the saved scenario, its inputs), or None when it no longer exists; CycleError when it cannot be read."""
    from dashboard.whatif.inputs import InputError, load_inputs

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
    from dashboard.whatif.changes import planned_changes_from

    loaded = _scenario_inputs(conn, v, scenario_id)
    if loaded is None:
        return None
    current, _previous, _open = _starting_point(conn, v, baseline, _now(now))
    return planned_changes_from(current, loaded[1])


def promote_scenario(conn: Connection, viewer, scenario_id: int, *, baseline: Mapping | ScenarioInputs | None = None,
                     note: str | None = None, now: dt.datetime | None = None) -> int | None:
    """Make a saved scenario the current target operating model (a snapshot of its inputs and results); the
    previous target is superseded and its open changes dropped; one planned change per function that moves.
    Returns the new target model's id, or None when the scenario no longer exists (nothing is written).
    See the module docstring for what the scenario is compared with."""
    v = require(viewer, "can_edit_operating_model", "promote a scenario to the target operating model")
    from dashboard.whatif.changes import planned_changes_from
    from dashboard.whatif.inputs import dump_inputs
    from dashboard.whatif.model import evaluate

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
    superseded = [int(i) for i in conn.execute(select(target_models.c.id).where(target_models.c.status == "current")).scalars()]
    if superseded:
        conn.execute(update(target_models).where(target_models.c.id.in_(superseded)).values(status="superseded"))
        p = planned_changes.c
        conn.execute(update(planned_changes).where(p.target_model_id.in_(superseded), p.status == "planned")
                     .values(status="dropped", version=p.version + 1, updated_by=v.user[:320], updated_at=now))
    new_id = int(conn.execute(insert(target_models).values(
        scenario_id=found.id, scenario_name=found.name, inputs=dump_inputs(target),
        results=evaluate(target).as_record(), status="current", note=(note or "").strip() or None,
        promoted_by=v.user[:320], promoted_at=now,
    )).inserted_primary_key[0])
    changes = planned_changes_from(current, target)
    for change in changes:
        owner, due_on = carried.get((change["function"], round(change["to_share"], 4)), (None, None))
        conn.execute(insert(planned_changes).values(
            target_model_id=new_id, status="planned", owner=owner, due_on=due_on, version=1,
            updated_by=v.user[:320], updated_at=now, **change,
        ))
    what = f"superseding target #{previous['id']}" if previous is not None else "the first target model"
    audit.record(conn, v, "cycle_promote", found.name,
                 f"target model #{new_id} from scenario #{found.id}, {what}; {len(changes)} planned change(s)", at=now)
    return new_id


# --- Implement ------------------------------------------------------------------------------------------------

_UNSET = object()


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
    result = conn.execute(update(planned_changes).where(p.id == change_id, p.version == version)
                          .values(version=p.version + 1, updated_by=v.user[:320], updated_at=now, **changed))
    if result.rowcount != 1:  # a concurrent writer got there between our read and this write
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


def annotations(conn: Connection, viewer, start: dt.datetime | dt.date, end: dt.datetime | dt.date,
                unit: str | None = None) -> pd.DataFrame:
    """Done changes dated in [start, end] (by day), oldest first: id, date, label, units (list of spoke ids, empty =
    every spoke), function. With ``unit`` (a spoke's page) only the changes that touch it or every spoke, and
    only for a viewer who may open that spoke."""
    v = require_unit(viewer, unit) if unit is not None else require_viewer(viewer)
    del v
    first = start.date() if isinstance(start, dt.datetime) else start
    last = end.date() if isinstance(end, dt.datetime) else end
    p = planned_changes.c
    rows = conn.execute(select(p.id, p.done_on, p.label, p.units, p.function)
                        .where(p.status == "done", p.done_on >= first, p.done_on <= last)
                        .order_by(p.done_on, p.id)).all()
    out = []
    for r in rows:
        touched = [u.strip() for u in (r.units or "").split(",") if u.strip()]
        if unit is not None and touched and unit not in touched:
            continue
        out.append((int(r.id), r.done_on, r.label, touched, r.function))
    return pd.DataFrame(out, columns=ANNOTATION_COLUMNS)
