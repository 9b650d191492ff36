"""The benchmark report format shared by every benchmark module (see docs/benchmarks.md).

Each module in ``bench/`` exposes ``run() -> list[Figure]``. A figure carries its value, the floor measured
in the same run (or None for pure computations with an absolute target), the ratio value/floor and whether
the target holds. ``python -m bench`` prints one line per figure and writes bench/results.json.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    floor: float | None
    target: str  # human-readable, e.g. "<= 1.5 x floor and <= 250 ms"
    ok: bool

    @property
    def ratio(self) -> float | None:
        if self.floor in (None, 0):
            return None
        return self.value / self.floor

    def line(self) -> str:
        floor = "-" if self.floor is None else f"{self.floor:.4g} {self.unit}"
        ratio = "-" if self.ratio is None else f"{self.ratio:.2f}"
        return f"{self.name}: {self.value:.4g} {self.unit} | floor {floor} | ratio {ratio} | target {self.target} | {'ok' if self.ok else 'MISSED'}"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["ratio"] = self.ratio
        return d


def best_of(fn: Callable[[], object], repeat: int = 7, warmup: int = 1) -> float:
    """Median wall time in seconds of ``fn`` over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
