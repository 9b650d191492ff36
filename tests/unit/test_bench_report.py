"""The benchmark report keeps every module's last figures when one module runs again on a fresh clone
(results.json is not committed: the committed results.md is read back)."""

from __future__ import annotations

from bench import __main__ as report

FIGURES = [
    {"name": "routing replay 30 d at 1M items (10 rules, 0 moved)", "value": 0.724, "unit": "s", "floor": 0.049,
     "ratio": 14.78, "target": "<= 5 s", "ok": True, "module": "bench_routing", "measured": "2026-11-23 @ 7e31bb3"},
    {"name": "demo generation rate 1M items (SQLite)", "value": 28524.0, "unit": "items/s", "floor": 89896.0,
     "ratio": 0.32, "target": ">= 100,000 items/s", "ok": False, "module": "bench_demo",
     "measured": "2026-11-23 @ 7e31bb3"},
    {"name": "erlang_c c=10000", "value": 0.255, "unit": "ms", "floor": None, "ratio": None, "target": "<= 1 ms",
     "ok": True, "module": "bench_whatif", "measured": "2026-12-07 @ 89384c0"},
]


def test_the_markdown_report_reads_back_to_the_same_figures():
    text = report.markdown(FIGURES, "a machine")
    assert report._from_markdown(text) == FIGURES
    assert report.markdown(report._from_markdown(text), "a machine") == text


def test_without_results_json_the_previous_figures_come_from_results_md(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "RESULTS_JSON", tmp_path / "results.json")  # absent, as on a fresh clone
    monkeypatch.setattr(report, "RESULTS_MD", tmp_path / "results.md")
    (tmp_path / "results.md").write_text(report.markdown(FIGURES, "a machine"))
    assert [f["module"] for f in report._previous()] == ["bench_routing", "bench_demo", "bench_whatif"]
    (tmp_path / "results.md").unlink()
    assert report._previous() == []
