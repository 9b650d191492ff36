"""A deterministic demo organisation: an analytics & marketing hub serving five spokes.

What it shows and why
- Flows both ways on every spoke: the hub sends leads and purchase-intent mentions to Sales, complaints,
  complaint mentions and promotion notices to Customer service, budget/revenue reports to Finance,
  insights to Product and job questions to HR; every spoke sends requests, escalations or data back.
- Office-hour and consumer (evening/weekend) seasonality, SLA hours per kind, cycle times mostly within SLA
  with visible breaches (insights to Product run late, Customer service is getting slower), and a growing
  backlog of open items at Customer service, so the map has green, amber and red edges.
- A KPI tree ending in the shared goal (revenue) with some KPIs on target and some not, per unit.
- Weekly campaigns per channel with different ROI.
- Routing: inbound customer items carry a segment (consumer, business, vip); hub -> spoke items carry
  the rule and priority of the ACTIVE rule set "Standard routing" (published by "demo" 60 days ago, with its
  archived first version for the History tab), which reproduces these routes; a handful of mentions no rule
  matches wait unrouted in the hub's triage queue.
- Customer journeys: a quarter of the consumer leads end a journey of 1-4 customer items over a few days whose
  path decides how likely it converts; some journeys also pass through the hub (Sales asks it for tailored
  content for a prospect, Customer service escalates a viral complaint to its social team), which raises their
  chance. Attribution therefore credits all three: Sales most (every lead journey runs through it), the hub
  clearly (Markov removal effect ~0.2, ~14 % of the conversions, never first touch).
- The operating-model cycle: three rounds of maturity self-assessments per function, the current target model
  "Hybrid hub 2027" with "Content production centralised" done 21 days ago and two changes still planned. Content
  requests reach the hub through one shared content board (a 2 h handoff), and the hub's specialists work them
  faster than the spokes' generalists, so the what-if model (on the typed as-is of ``operating_model_inputs``)
  predicts that centralising cuts content production's mean lead time by ~18 % (74.7 h -> 61.2 h in Mon-Fri
  09:00-17:00 office hours, stored with the change). The generated effect is derived from that prediction:
  Sales' and Product's inbound items created since the change take ``change_speedup()`` (~0.82) x the cycle
  time, so the Evaluate tab finds the lead-time difference-in-differences in line with the prediction (items
  resolved just after the change were started before it, and Customer service, an untouched spoke, keeps getting
  slower).

Everything is generated with numpy from one seeded ``Generator`` and anchored at ``now``: the same seed and
``now`` give identical rows, and dates are always recent. Loading replaces an earlier demo in one
transaction (``app_meta`` ``dataset`` = ``demo`` marks ownership) and refuses to overwrite other data unless
forced, so re-running never duplicates anything.

The package, one module per part: :mod:`~loaders.demo.organisation` (units and their rhythms),
:mod:`~loaders.demo.rules` (routing rules), :mod:`~loaders.demo.items` (work items), :mod:`~loaders.demo.journeys`,
:mod:`~loaders.demo.cycle` (the operating-model cycle), :mod:`~loaders.demo.kpis`, :mod:`~loaders.demo.campaigns`
(campaigns and promotions), :mod:`~loaders.demo.data` (``generate``: all of it as data) and
:mod:`~loaders.demo.load` (``load_demo``: into the database); :mod:`~loaders.demo.clock` holds the microsecond
clock they share. What the live simulator shares with the demo is in :mod:`loaders.spec`.
"""

from __future__ import annotations

from loaders.demo.cycle import (
    CHANGE_DONE_DAYS,
    CHANGE_FUNCTION,
    CHANGE_UNITS,
    change_done_us,
    change_speedup,
    operating_model_inputs,
)
from loaders.demo.data import (
    DEFAULT_DAYS,
    DEFAULT_KPI_OBSERVATIONS,
    DEFAULT_SEED,
    DEFAULT_WORK_ITEMS,
    DemoData,
    generate,
)
from loaders.demo.kpis import KPIS, KpiSpec
from loaders.demo.load import DemoRefused, DemoSummary, existing_dataset, load_demo, write_demo
from loaders.demo.organisation import UNITS, UnitSpec
from loaders.demo.rules import EARLIER_RULES, STANDARD_RULES, UNROUTED_TEXTS, UNROUTED_WAITING, route_rules

__all__ = [
    "CHANGE_DONE_DAYS", "CHANGE_FUNCTION", "CHANGE_UNITS", "DEFAULT_DAYS", "DEFAULT_KPI_OBSERVATIONS", "DEFAULT_SEED",
    "DEFAULT_WORK_ITEMS", "EARLIER_RULES", "KPIS", "STANDARD_RULES", "UNITS", "UNROUTED_TEXTS", "UNROUTED_WAITING",
    "DemoData", "DemoRefused", "DemoSummary", "KpiSpec", "UnitSpec", "change_done_us", "change_speedup",
    "existing_dataset", "generate", "load_demo", "operating_model_inputs", "route_rules", "write_demo",
]
