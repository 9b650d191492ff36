"""De-duplication across the chunks of one file: the natural keys seen so far (:class:`KeySet`)."""

from __future__ import annotations

import numpy as np
import pandas as pd


class KeySet:
    """The natural keys seen so far in this file, as 64-bit hashes with the row that had each.

    Memory is 16 bytes a row whatever the key length (a 30M-row file: ~0.5 GB), kept as a few sorted runs
    merged like a log-structured tree. A hash match is confirmed by the caller (the first row's key is in
    the database by then), so a collision cannot quarantine a row wrongly.
    """

    def __init__(self) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []

    @staticmethod
    def hashes(keys: pd.Series) -> np.ndarray:
        return pd.util.hash_array(keys.to_numpy(dtype=object)).view(np.int64)

    def first_rows(self, hashes: np.ndarray) -> np.ndarray:
        """For each hash, the row number it was first seen at (0 when new)."""
        out = np.zeros(len(hashes), dtype=np.int64)
        for h, rows in self.runs:
            pos = np.searchsorted(h, hashes).clip(0, len(h) - 1)
            hit = (h[pos] == hashes) & (out == 0)
            out[hit] = rows[pos[hit]]
        return out

    def add(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        order = np.argsort(hashes, kind="stable")
        self.runs.append((hashes[order], rows[order]))
        while len(self.runs) > 1 and len(self.runs[-1][0]) * 2 >= len(self.runs[-2][0]):
            (h2, r2), (h1, r1) = self.runs.pop(), self.runs.pop()
            h, r = np.concatenate([h1, h2]), np.concatenate([r1, r2])
            order = np.argsort(h, kind="stable")
            self.runs.append((h[order], r[order]))
