"""The live-refresh benchmark's floor app draws what the overview fragment draws, from constants, without an
error: a floor that fails (e.g. after a widget's signature changed) would make every ratio meaningless."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from bench.bench_load import write_floor_app


def test_the_floor_app_draws_the_tiles_the_map_and_the_caption(app_db, tmp_path):
    script = write_floor_app(app_db, tmp_path, refresh=60)
    at = AppTest.from_file(str(script), default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) >= 1
    assert [m.label for m in at.metric] == ["Revenue", "Conversion rate", "Marketing cost"]
    assert any("Updated" in c.value for c in at.caption)
