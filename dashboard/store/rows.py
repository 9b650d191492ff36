"""What the write functions take: ``Rows``, a data frame or a sequence of mappings; text columns as
object arrays with every kind of missing value as None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

Rows = pd.DataFrame | Sequence[Mapping[str, Any]]


def object_column(values: Any) -> np.ndarray:
    """Strings (or None) as an object array, with every kind of missing value turned into None."""
    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    return s.astype(object).to_numpy(dtype=object, na_value=None)
