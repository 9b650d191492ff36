"""The upload page's look at a file before anything is written: its first rows, kind and column matching."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dashboard.ingest.columns import Columns, choose_kind
from dashboard.ingest.errors import IngestError
from dashboard.ingest.source import SourceFile, open_source, read_chunks


@dataclass
class Preview:
    source: SourceFile
    kind: str | None
    columns: Columns | None
    rows: pd.DataFrame  # the first rows as text, original column names
    message: str | None = None  # why the kind or columns could not be settled


def preview(path: str | Path, *, name: str | None = None, kind: str | None = None,
            mapping: Mapping[str, str] | None = None, rows: int = 20) -> Preview:
    """The first rows, the kind and the column mapping, without touching the database. When the columns do not
    fit, ``columns`` still holds every column that matched (and names the missing ones) and ``message`` says
    what is wrong without command-line options."""
    src = open_source(path, name=name)
    first = next(read_chunks(src, rows), pd.DataFrame(columns=src.header))
    try:
        cols = choose_kind(src, kind, mapping)
        return Preview(src, cols.kind, cols, first)
    except IngestError as exc:
        found = exc.columns
        return Preview(src, found.kind if found else kind, found if found and found.kind else None, first, exc.plain)
