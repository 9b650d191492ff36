"""What a file that cannot be imported at all says: :class:`IngestError`, raised before anything is written."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dashboard.ingest.columns import Columns


class IngestError(Exception):
    """The file cannot be imported at all (nothing was written); the message names the file.

    ``str(error)`` is the message as the command line prints it, with the option that helps there (``--map``,
    ``--kind``, ``--encoding``); ``error.plain`` is the same message without command-line options, for the
    upload page (where those choices are widgets) and the failed-import record. When the columns were the
    problem, ``error.columns`` is the matching as far as it got (:func:`dashboard.ingest.columns.match_columns`).
    """

    def __init__(self, message: str, *, cli: str = "", columns: Columns | None = None) -> None:
        super().__init__(f"{message} {cli}" if cli else message)
        self.plain = message
        self.columns = columns


def first_line(exc: BaseException) -> str:
    """The first line of an exception's text (at most 200 characters), for a one-line message."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
