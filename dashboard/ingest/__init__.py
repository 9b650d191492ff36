"""File import without the database: reading a CSV or Parquet file, matching its columns and checking its rows
against the data contract. Plain Python (pandas, pydantic): no SQL, no Streamlit.

The transaction that writes an import (role, store, quarantine, audit) is the use case
:mod:`dashboard.services.imports`; the command line (``python -m loaders ingest``) and the upload page both call
it, and the upload page previews a file with :mod:`dashboard.ingest.preview` before anything is written.

- :mod:`~dashboard.ingest.contract`: one pydantic model per kind, its columns, keys and rules (docs/data-contract.md);
- :mod:`~dashboard.ingest.validate`: a chunk of text cells checked against the contract at ingest speed;
- :mod:`~dashboard.ingest.source`: a file's format, encoding, delimiter and header, and its rows in chunks;
- :mod:`~dashboard.ingest.columns`: the kind a header holds and which file column feeds each contract column;
- :mod:`~dashboard.ingest.keys`: the natural keys seen so far in a file (duplicates across chunks);
- :mod:`~dashboard.ingest.oddities`: rows that pass the contract but are probably wrong;
- :mod:`~dashboard.ingest.report`: what an import did, and the rows it refused;
- :mod:`~dashboard.ingest.preview`: the first rows, kind and column matching, for the upload page;
- :mod:`~dashboard.ingest.errors`: what a file that cannot be imported at all says.
"""
