"""The operating-model cycle of the demo: maturity self-assessments, the current target model and its planned
changes, and the done change whose predicted speed-up the generated items follow.
"""

from __future__ import annotations

import datetime as dt
import functools

from dashboard.domain.vocabulary import UnitKind
from loaders.demo.clock import HOUR_US, US, UTC, datetime_at, midnight_us
from loaders.demo.organisation import UNITS

CHANGE_DONE_DAYS = 21  # "Content production centralised" was done this many days ago ...
CHANGE_FUNCTION = "content_production"  # ... (the planned change of this function) ...
CHANGE_UNITS = ("sales", "product")  # ... touching these spokes, whose inbound items since then take the share


def change_done_us(now_us: int) -> int:
    """Midnight (UTC) of the day the done planned change was implemented."""
    return midnight_us(now_us, CHANGE_DONE_DAYS)


MATURITY_BASE: dict[str, tuple[int, int, int, int]] = {  # structure, processes, data management, technology
    "campaign_planning": (3, 3, 2, 3),
    "content_production": (2, 2, 2, 3),
    "analytics_reporting": (3, 2, 3, 4),
    "social_listening": (3, 3, 2, 3),
    "crm_lead_management": (2, 3, 2, 2),
    "martech_platforms": (3, 2, 3, 4),
}
ASSESSMENT_ROUNDS = (  # days before now, note
    (84, "Baseline self-assessment with the spoke leads"),
    (49, "Second round, after agreeing one intake and SLA per request type"),
    (14, "Third round, three weeks into centralised content production"),
)
AS_IS_SHARES = {"campaign_planning": 1.0, "content_production": 0.0, "analytics_reporting": 0.5,
                "social_listening": 1.0, "crm_lead_management": 0.0, "martech_platforms": 1.0}
TARGET_SHARES = {"content_production": 1.0, "analytics_reporting": 1.0, "crm_lead_management": 0.5}
CONTENT_DEMAND = {"sales": 1.3, "product": 1.0}  # content production is asked for by Sales and Product only
# Content requests reach the hub through one shared content board: handing one over takes 2 h (the transfer time of
# the hub's content work); centralising content production then shortens its mean lead time, the generalists'
# longer work outweighing the handoff
CONTENT_HANDOFF_DELAY_H = 2.0
TARGET_MODEL_NAME = "Hybrid hub 2027"
TARGET_PROMOTED_DAYS = 35
PLANNED = {  # function -> (owner, due in days from now, done days ago or None)
    "content_production": ("Maria Jensen (hub lead)", -24, CHANGE_DONE_DAYS),
    "analytics_reporting": ("Maria Jensen (hub lead)", 30, None),
    "crm_lead_management": ("Tom Berg (Sales)", 75, None),
}


def generate_maturity(now_us: int) -> list[dict]:
    """Three rounds of self-assessment per function, improving a little each time (content production's
    structure and processes most, after it was centralised)."""
    rows = []
    for f_index, (function, base) in enumerate(MATURITY_BASE.items()):
        scores = list(base)
        for r, (days_ago, note) in enumerate(ASSESSMENT_ROUNDS):
            if r:
                scores[(f_index + r) % 4] += 1  # one component better each round
                if function == "content_production" and r == 2:
                    scores[0] += 1
                    scores[1] += 1
            capped = [min(5, v) for v in scores]
            rows.append(dict(function=function, assessed_at=datetime_at(midnight_us(now_us, days_ago) + 10 * HOUR_US),
                             author="demo", structure=capped[0], processes=capped[1], data_management=capped[2],
                             technology=capped[3], note=note))
    return rows


def operating_model_inputs():
    """(as-is, target) what-if inputs of the demo organisation, for the target model and its predictions."""
    from dashboard.whatif.inputs import default_inputs

    spokes = [(u.id, u.name) for u in UNITS if u.kind is UnitKind.SPOKE]
    base = default_inputs(spokes, central_share=0.0)
    content = base.functions[CHANGE_FUNCTION]
    streams = [s.model_dump() | {"demand_per_day": 3.0 * CONTENT_DEMAND[s.spoke],
                                 "hub": s.hub.model_dump() | {"transfer_h": CONTENT_HANDOFF_DELAY_H}}
               for s in content.streams if s.spoke in CONTENT_DEMAND]
    base = base.updated({"functions": {CHANGE_FUNCTION: {"streams": streams}}})
    as_is = base.with_shares(AS_IS_SHARES)
    return as_is, as_is.with_shares(TARGET_SHARES)


@functools.lru_cache(maxsize=1)
def change_speedup() -> float:
    """after / before of the done change's predicted mean lead time (dashboard.whatif.changes.predict_change on
    the as-is model): the share of their cycle time the touched spokes' items take since the change, so the
    Evaluate tab's observed difference-in-differences lands near the prediction (within the day-to-day noise)."""
    from dashboard.whatif.changes import predict_change

    as_is, _target = operating_model_inputs()
    lead = predict_change(as_is, CHANGE_FUNCTION, TARGET_SHARES[CHANGE_FUNCTION])["lead_time_h"]
    return float(lead["after"] / lead["before"])


def generate_cycle(now_us: int) -> tuple[dict, list[dict]]:
    """The current target model (promoted five weeks ago) and its planned changes: content production
    centralised (done three weeks ago, touching Sales and Product), two more still planned. Predictions come
    from the same function the app uses when a scenario is promoted (dashboard.whatif.changes)."""
    from dashboard.whatif.changes import planned_changes_from
    from dashboard.whatif.inputs import dump_inputs
    from dashboard.whatif.model import evaluate

    as_is, target = operating_model_inputs()
    promoted = datetime_at(midnight_us(now_us, TARGET_PROMOTED_DAYS) + 9 * HOUR_US)
    model = dict(scenario_id=None, scenario_name=TARGET_MODEL_NAME, inputs=dump_inputs(target),
                 results=evaluate(target).as_record(), status="current", promoted_by="demo", promoted_at=promoted,
                 note="Content production and analytics in the hub; CRM shared with Sales.")
    today = dt.datetime.fromtimestamp(now_us / US, tz=UTC).date()
    changes = []
    for change in planned_changes_from(as_is, target):
        owner, due_days, done_days = PLANNED[change["function"]]
        done_on = today - dt.timedelta(days=done_days) if done_days is not None else None
        changes.append(change | dict(
            owner=owner, due_on=today + dt.timedelta(days=due_days), status="done" if done_on else "planned",
            done_on=done_on, version=1, updated_by="demo",
            updated_at=datetime_at(change_done_us(now_us) + 11 * HOUR_US) if done_on else promoted))
    return model, changes
