"""The live map's widget key follows what the map draws: a map rebuilt with the same figures keeps its key (the
browser keeps the chart under the pointer), a map with changed figures gets a new one."""

from __future__ import annotations

import pandas as pd

from dashboard.charts.hub_map import hub_spoke_map
from dashboard.ui.map_click import MAP_KEY, map_key
from tests.unit.test_hub_map import THRESHOLDS, flow, health, units


def build(created: int):
    u = units(3)
    return hub_spoke_map(u, pd.DataFrame([flow("hub", "s0", created, 0.9)]), health(u.id.tolist()), **THRESHOLDS)


def test_a_rebuilt_map_with_the_same_figures_keeps_its_key():
    first, again = build(10), build(10)
    assert first is not again
    assert map_key(first) == map_key(again)
    assert map_key(first).startswith(f"{MAP_KEY}-")


def test_a_map_with_changed_figures_gets_a_new_key():
    assert map_key(build(10)) != map_key(build(11))
