"""Fitting the queueing model to what was observed (steps 4 and 5 of the package docstring): each team's
occupancy, then the pick-up delay and variability queueing does not explain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from dashboard.whatif.calibration.evidence import Evidence
from dashboard.whatif.calibration.streams import Observed
from dashboard.whatif.engine import Outcome, Params, Structure, compute
from dashboard.whatif.inputs import ScenarioInputs, function_label

_OCC_GRID = np.linspace(0.05, 0.99, 48)


@dataclass
class Fitted:
    """The queueing model evaluated at the grid of occupancies, and the row chosen per team."""

    structure: Structure
    outcome: Outcome  # over the grid rows
    grid: np.ndarray
    row_of: dict[str, int]  # team -> chosen grid row
    observed: np.ndarray  # (J, 2) True where the stream's times at that worker are observed
    pickup: np.ndarray  # (J, 2) observed mean pick-up, staffed hours (NaN where not observed)
    team_pickup: dict[str, float]
    team_wait: dict[str, float]


def fit_occupancy(ev: Evidence, cap: float, build, flags: list[str]) -> tuple[dict, dict, Fitted]:
    """Step 4: each team's occupancy is the cap, lowered until no observed stream of the team waits longer in the
    queueing model than it was seen to wait before pick-up (work per item follows from the occupancy)."""
    grid = _OCC_GRID[_OCC_GRID <= cap]
    grid = np.append(grid, cap) if grid[-1] < cap else grid
    base = build({t: ev.team_size(t, cap)[1] for t in ev.teams}, dict.fromkeys(ev.teams, cap))
    st = Structure.from_inputs(base, ev.prep.end.to_pydatetime())
    params = Params.from_inputs(base)
    teams = [f"hub:{f}" for f in base.functions] + list(base.spoke_ids)
    rows = params.repeat(len(grid))
    occupancy = np.repeat(grid[:, None], st.Q, axis=1)
    observed = _observed_mask(base, ev.observations)
    flow = np.array([[ev.team_size(t, rho)[1] if t in ev.load else 1.0 for t in teams] for rho in grid])  # (G, Q)
    progress = np.broadcast_to(params.in_progress, (1, st.J, 2))
    work = np.where(observed[None], np.maximum(progress * flow[:, st.pool_of], 1e-6), rows.work)
    out = compute(st, replace(rows, occupancy=occupancy, work=work), spread=True)

    onehot = np.zeros((st.J, 2, st.Q))
    onehot[np.arange(st.J)[:, None], np.arange(2)[None, :], st.pool_of] = 1.0
    pickup = np.array([[getattr(ev.observations.get(k, {}).get(w), "pickup_mean", np.nan) for w in ("hub", "spoke")]
                       for k in st.stream_keys]).reshape(-1, 2)
    reach = np.array([[getattr(ev.observations.get(k, {}).get(w), "reach_mean", 0.0) for w in ("hub", "spoke")]
                      for k in st.stream_keys]).reshape(-1, 2)
    tolerance = np.maximum(0.02, 0.02 * reach)
    too_long = observed[None] & (out.wait > np.nan_to_num(pickup, nan=np.inf)[None] + tolerance[None])
    bad = np.einsum("rjw,jwq->rq", too_long.astype(np.float64), onehot) > 0
    weight = np.where(observed, out.answered[0], 0.0)
    team_pickup = np.einsum("jw,jwq->q", weight * np.nan_to_num(pickup), onehot) / np.maximum(
        np.einsum("jw,jwq->q", weight, onehot), 1e-12)
    team_wait = np.einsum("rjw,jwq->rq", out.answered * out.wait * observed, onehot) / np.maximum(
        np.einsum("rjw,jwq->rq", out.answered * observed, onehot), 1e-12)
    chosen, row_of = {}, {}
    for q, team in enumerate(teams):
        fits = np.flatnonzero(~bad[:, q])
        row_of[team] = int(fits[-1]) if len(fits) else 0
        chosen[team] = float(grid[row_of[team]])
        if not len(fits) and ev.load.get(team, 0.0) > 0:
            flags.append(f"{_team_label(team, ev.units)}: even at {grid[0]:.0%} occupancy the queue model waits longer "
                         "than items were seen to wait before pick-up; check its office hours")
    flows = {t: ev.team_size(t, chosen[t])[1] if t in ev.load else 1.0 for t in teams}
    fitted = Fitted(structure=st, outcome=out, grid=grid, row_of=row_of, observed=observed, pickup=pickup,
                     team_pickup=dict(zip(teams, team_pickup)),
                     team_wait={t: float(team_wait[row_of[t], q]) for q, t in enumerate(teams)})
    return chosen, flows, fitted


def residuals(ev: Evidence, fitted: Fitted) -> tuple[dict, dict]:
    """Step 5: per stream and worker, the pick-up delay queueing does not explain (observed pick-up − the modelled
    wait, never below 0) and the variability of pick-up + in-progress left after the modelled wait's."""
    st, out = fitted.structure, fitted.outcome
    teams = [f"hub:{f}" for f in st.function_ids] + list(st.spoke_ids)
    response, variability = {}, {}
    for j, key in enumerate(st.stream_keys):
        for w, worker in enumerate(("hub", "spoke")):
            obs = ev.observations.get(key, {}).get(worker)
            if obs is None or not fitted.observed[j, w]:
                continue
            r = fitted.row_of[teams[st.pool_of[j, w]]]
            wait, wait_var = float(out.wait[r, j, w]), float(out.wait_var[r, j, w])
            response[(key, worker)] = max(obs.pickup_mean - wait, 0.0)
            rest_mean = max(obs.reach_mean - wait, obs.progress_mean)
            rest_var = max(obs.reach_var - wait_var, obs.progress_var)
            variability[(key, worker)] = float(min(np.sqrt(rest_var) / rest_mean, 20.0)) if rest_mean > 0 else 1.0
    return response, variability


def _team_label(team: str, units: pd.DataFrame) -> str:
    names = {str(r["id"]): str(r["name"] or r["id"]) for _, r in units.iterrows()}
    if team.startswith("hub:"):
        return f"Hub ({function_label(team[4:])})"
    return names.get(team, team)


def _observed_mask(inputs: ScenarioInputs, observations: Mapping[tuple, Mapping[str, Observed | None]]) -> np.ndarray:
    rows = []
    for fid, fn in inputs.functions.items():
        for s in fn.streams:
            obs = observations.get((fid, s.spoke, s.kind, s.origin), {})
            rows.append((obs.get("hub") is not None, obs.get("spoke") is not None))
    return np.asarray(rows, dtype=bool).reshape(-1, 2)
