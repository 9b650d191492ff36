"""Run the benchmarks and report: ``python -m bench [module ...]`` (``make bench``); ``--report`` only rewrites
bench/results.md from bench/results.json.

Each figure is printed as it comes (``name: value | floor | ratio | target | ok``); at the end the figures go
to ``bench/results.json`` (a list of objects, not committed) and ``bench/results.md`` (the report
docs/benchmarks.md links: one table, with the machine). Running only some modules replaces those modules'
figures and keeps the others' from their last run, each with the date it was measured.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import traceback
from pathlib import Path

MODULES = ["bench_whatif", "bench_routing", "bench_demo", "bench_pages", "bench_ingest", "bench_browser", "bench_load",
           "bench_writers", "bench_scale", "bench_cluster"]
HERE = Path(__file__).parent
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "results.md"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        kib = int(next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")).split()[1])
        return kib / 1024 / 1024
    except (OSError, StopIteration, ValueError):
        return None


def _postgres_version() -> str:
    try:
        from loaders.localpg import pg_bin

        out = subprocess.run([str(pg_bin() / "postgres"), "--version"], capture_output=True, text=True).stdout
        found = re.search(r"\(PostgreSQL\) (\S+)", out)  # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        return found.group(1) if found else "?"
    except Exception:  # not installed: the PostgreSQL figures say so themselves
        return "not installed"


def machine() -> str:
    mem = _memory_gib()
    return (f"{_cpu()}, {os.cpu_count()} cores, {mem:.0f} GiB RAM" if mem else f"{_cpu()}, {os.cpu_count()} cores") + \
        f"; {platform.system()} {platform.release()}; Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, " \
        f"PostgreSQL {_postgres_version()}"


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=HERE.parent).stdout.strip() or "?"
    except OSError:
        return "?"


def _previous() -> list[dict]:
    """The figures of the last report: results.json where this machine wrote one, else the committed results.md
    (so running one module on a fresh clone keeps every other module's last figures)."""
    try:
        return json.loads(RESULTS_JSON.read_text()).get("figures", [])
    except (OSError, ValueError, AttributeError):
        pass
    try:
        return _from_markdown(RESULTS_MD.read_text())
    except OSError:
        return []


def _number(cell: str) -> tuple[float | None, str]:
    """``"28,524 items/s"`` -> (28524.0, "items/s"); ``"–"`` -> (None, "")."""
    if cell in ("–", "-", ""):
        return None, ""
    text, _, unit = cell.partition(" ")
    return float(text.replace(",", "")), unit


def _from_markdown(text: str) -> list[dict]:
    figures = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) != 8 or cells[0] in ("figure", "---") or cells[1].startswith("---"):
            continue
        name, value, floor, ratio, target, met, module, measured = cells
        try:
            number, unit = _number(value)
            floor_number, _ = _number(floor)
        except ValueError:
            continue
        figures.append({"name": name, "value": number, "unit": unit, "floor": floor_number,
                        "ratio": None if ratio == "–" else float(ratio), "target": target, "ok": met == "yes",
                        "module": module, "measured": measured})
    return figures


def _cell(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def markdown(figures: list[dict], machine_line: str) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench`). How each figure and its floor are measured: "
        "[docs/benchmarks.md](../docs/benchmarks.md) and the docstring of each module in `bench/`. "
        "The floor is measured in the same run on the same machine (shared and noisy), ratio = value ÷ floor; "
        "the absolute value is there for context.",
        "",
        f"**Machine:** {machine_line}",
        "",
        "| figure | value | floor | ratio | target | met | module | measured |",
        "|---|---:|---:|---:|---|:-:|---|---|",
    ]
    for f in figures:
        ratio = "–" if f.get("ratio") is None else f"{f['ratio']:.2f}"
        lines.append(
            f"| {f['name']} | {_cell(f['value'], f['unit'])} | {_cell(f.get('floor'), f['unit'])} | {ratio} | "
            f"{f['target']} | {'yes' if f['ok'] else '**no**'} | {f.get('module', '')} | {f.get('measured', '')} |"
        )
    missed = [f["name"] for f in figures if not f["ok"]]
    lines += ["", f"{len(figures) - len(missed)} of {len(figures)} figures meet their target."]
    if missed:
        lines.append("Missed: " + "; ".join(missed) + ".")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["--report"]:  # rewrite results.md from results.json (e.g. after changing the report's format)
        RESULTS_MD.write_text(markdown(_previous(), machine()))
        print(f"wrote {RESULTS_MD}")
        return 0
    chosen = argv or MODULES
    stamp = f"{dt.date.today().isoformat()} @ {_commit()}"
    fresh: list[dict] = []
    ran: set[str] = set()
    for name in chosen:
        try:
            mod = importlib.import_module(f"bench.{name}")
            figures = mod.run()
        except Exception:  # a benchmark reports; it never takes the others down (its last figures stay)
            print(f"{name}: FAILED to run", file=sys.stderr)
            traceback.print_exc()
            continue
        ran.add(name)
        for fig in figures:
            print(fig.line(), flush=True)
            fresh.append(fig.as_dict() | {"module": name, "measured": stamp})
    kept = [f for f in _previous() if f.get("module") in set(MODULES) - ran]
    order = {m: i for i, m in enumerate(MODULES)}
    figures = sorted(kept + fresh, key=lambda f: order.get(f.get("module"), len(order)))
    machine_line = machine()
    RESULTS_JSON.write_text(json.dumps({"machine": machine_line, "figures": figures}, indent=2))
    RESULTS_MD.write_text(markdown(figures, machine_line))
    print(f"wrote {RESULTS_JSON} and {RESULTS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
