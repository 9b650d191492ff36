"""Run every benchmark module and report: ``python -m bench [module ...]`` (``make bench``)."""

from __future__ import annotations

import importlib
import json
import platform
import sys
import traceback
from pathlib import Path

MODULES = ["bench_whatif", "bench_demo", "bench_pages", "bench_ingest"]


def main(argv: list[str]) -> int:
    chosen = argv or MODULES
    figures = []
    for name in chosen:
        try:
            mod = importlib.import_module(f"bench.{name}")
            for fig in mod.run():
                print(fig.line(), flush=True)
                figures.append(fig)
        except Exception:  # a benchmark reports; it never takes the others down
            print(f"{name}: FAILED to run", file=sys.stderr)
            traceback.print_exc()
    out = Path(__file__).parent / "results.json"
    out.write_text(
        json.dumps(
            {"machine": f"{platform.node()} {platform.machine()} {platform.python_version()}",
             "figures": [f.as_dict() for f in figures]},
            indent=2,
        )
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
