"""What-if engine for operating models: pure Python + numpy/pandas, no streamlit, no I/O.

- ``queueing``: Erlang B/C, M/M/c, Allen–Cunneen, service level, staffing (scalar and vectorised);
- ``inputs``: typed, validated, versioned scenario inputs (``load_inputs``, ``dump_inputs``, ``default_inputs``);
- ``model``: ``evaluate``, ``presets``, ``compare_models``, ``totals_delta``, ``spoke_delta``;
- ``analysis``: ``tradeoff_curve``, ``sensitivity``;
- ``calibration``: ``calibrate`` observed work items into the as-is scenario.

The formulas, assumptions and sources are in ``docs/whatif.md``; the Scenarios page shows a reader's version
(``dashboard/ui/scenario_help.md``).
"""
