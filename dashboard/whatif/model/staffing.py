"""Staffing to meet the SLA targets: per team, the fewest people whose items meet their targets, beside the
people it has.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dashboard.whatif.engine import Params, Structure, compute
from dashboard.whatif.inputs import ScenarioInputs
from dashboard.whatif.model.result import pool_ids

_OCC_GRID = np.linspace(0.05, 0.95, 37)


def sla_staffing(inputs: ScenarioInputs) -> pd.DataFrame:
    """Per team: the FTE that meets the SLA targets of its items, beside the FTE it has in this scenario.

    Each team's occupancy is lowered (more people for the same work) until the item-weighted share within SLA
    reaches the item-weighted target. Where no staffing reaches it (office hours, pick-up or in-progress time
    alone break the SLA) the team is staffed to within half a point of the best share staffing can give, and
    ``reachable`` is False. The search steps occupancy by ``_OCC_GRID``: the fewest people that meet the target
    lie between ``fte_for_sla_low`` (one step more occupancy, known to miss) and ``fte_for_sla``. Columns: fte,
    fte_for_sla, fte_for_sla_low, sla_share, sla_share_at_sla_fte, sla_target, best_sla_share, reachable.
    """
    st = Structure.from_inputs(inputs)
    base = Params.from_inputs(inputs)
    grid = base.repeat(len(_OCC_GRID))
    grid = _with(grid, occupancy=np.broadcast_to(_OCC_GRID[:, None], (len(_OCC_GRID), st.Q)).copy())
    out = compute(st, grid)
    now = compute(st, base)
    onehot = np.zeros((st.J, 2, st.Q))
    if st.J:
        onehot[np.arange(st.J)[:, None], np.arange(2)[None, :], st.pool_of] = 1.0
    target_j = np.broadcast_to(base.target, (1, st.F))[0][st.fn_of]
    weights = out.answered  # (G, J, 2)
    met = np.einsum("gjw,jwq->gq", weights * out.sla_met, onehot)
    tot = np.einsum("gjw,jwq->gq", weights, onehot)
    tgt = np.einsum("gjw,jwq->gq", weights * target_j[None, :, None], onehot)
    share = np.where(tot > 0, met / np.where(tot > 0, tot, 1.0), 1.0)
    target = np.where(tot > 0, tgt / np.where(tot > 0, tot, 1.0), 0.0)
    best = share[0]
    needed = np.minimum(target[0], best - 0.005)
    ok = share >= needed[None, :]
    # the largest occupancy (fewest people) that still meets the requirement
    last = np.where(ok.any(0), len(_OCC_GRID) - 1 - np.argmax(ok[::-1], axis=0), 0)
    occ = _OCC_GRID[last]
    work = now.pool_work[0]
    productive = float(np.broadcast_to(base.productive, (1,))[0])
    hours = np.minimum(productive, st.open_hours)
    fte_sla = np.where(work > 0, work / (occ * hours), 0.0)
    occ_next = _OCC_GRID[np.minimum(last + 1, len(_OCC_GRID) - 1)]
    fte_low = np.where(work > 0, work / (occ_next * hours), 0.0)
    now_met = np.einsum("jw,jwq->q", now.answered[0] * now.sla_met[0], onehot)
    now_tot = np.einsum("jw,jwq->q", now.answered[0], onehot)
    table = pd.DataFrame({
        "fte": now.fte[0], "fte_for_sla": fte_sla, "fte_for_sla_low": fte_low,
        "sla_share": np.where(now_tot > 0, now_met / np.where(now_tot > 0, now_tot, 1.0), 1.0),
        "sla_share_at_sla_fte": share[last, np.arange(st.Q)], "sla_target": target[0], "best_sla_share": best,
        "reachable": best >= target[0],
    }, index=pd.Index(pool_ids(st), name="pool"))
    return table[work > 0]


def _with(p: Params, **arrays: Any) -> Params:
    from dataclasses import replace

    return replace(p, **arrays)
