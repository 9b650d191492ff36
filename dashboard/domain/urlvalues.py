"""Ids and numbers taken from a page's link (``?unit=``, ``?scenario=``, ``?page=``, ``?window=``), checked for
type, length and range before any query sees them.

A link can carry anything: a 5,000-character string, a NUL byte, ``99999999999999999999`` (which SQLite cannot
bind and PostgreSQL's ``integer`` columns refuse). Each check returns the value in the type the queries take, or
raises :class:`UrlValueError` with a sentence saying which parameter was wrong and what it may hold; the pages
show that sentence literally and carry on with their empty state, so no such value ever reaches the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from dashboard.domain.refusals import Refused

UNIT_ID_LENGTH = 64  # characters units.id holds (dashboard.db)
UNIT_ID = re.compile(r"[a-z0-9][a-z0-9_\-]*")  # the data contract's rule for unit ids (dashboard.ingest.contract.UNIT_ID)
ROW_ID_MAX = 2**31 - 1  # integer ids (scenarios, rule sets, target models ...) are signed 32-bit columns
SHOWN_CHARACTERS = 40  # of a bad value, in the message


class UrlValueError(Refused):
    """A value in the link that no page can use; ``str()`` is the sentence to show."""


def preview(raw: object) -> str:
    """The start of a value as a message quotes it: control characters (a NUL byte ...) as �, at most
    :data:`SHOWN_CHARACTERS` characters, then "…" and the length."""
    text = "".join("�" if unicodedata.category(c) in ("Cc", "Cs") else c for c in str(raw))
    if len(text) <= SHOWN_CHARACTERS:
        return text
    return f"{text[:SHOWN_CHARACTERS]}… ({len(text):,} characters)"


def unit_id(raw: str, name: str = "unit") -> str:
    """A unit id: 1 to 64 lower-case letters, digits, ``_`` and ``-``, starting with a letter or digit."""
    if len(raw) > UNIT_ID_LENGTH or not UNIT_ID.fullmatch(raw):
        raise UrlValueError(f"The link's {name}=“{preview(raw)}” is not a spoke id: ids are up to {UNIT_ID_LENGTH} "
                            "lower-case letters, digits, _ and -.")
    return raw


def row_id(raw: str, name: str, what: str) -> int:
    """A stored row's number (``what`` names it for the message): a whole number from 1 to 2,147,483,647."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(ROW_ID_MAX))) or not 0 < int(raw) <= ROW_ID_MAX:
        raise UrlValueError(f"The link's {name}=“{preview(raw)}” is not {what}: those are whole numbers from 1 to "
                            f"{ROW_ID_MAX:,}.")
    return int(raw)


def page_number(raw: str, name: str = "page") -> int:
    """A page of a list: a whole number from 1 (a page past the end is the caller's to clamp)."""
    if not (raw.isascii() and raw.isdigit()) or int(raw[:12]) < 1:
        raise UrlValueError(f"The link's {name}=“{preview(raw)}” is not a page number; showing page 1.")
    return int(raw[:12])  # past the end anyway: the pager shows the last page


def known(raw: Iterable[str], options: Iterable[str], name: str) -> list[str]:
    """The values of a list parameter (``?channel=web,email``) that are among ``options``, in order, once each;
    raises when some are not (the caller keeps the known ones and shows the message)."""
    options = list(options)
    values = list(dict.fromkeys(raw))
    unknown = [v for v in values if v not in options]
    if unknown:
        offered = ", ".join(options[:8]) + (", …" if len(options) > 8 else "") if options else "none here"
        raise UrlValueError(f"The link's {name}=“{preview(','.join(unknown))}” "
                            f"{'is' if len(unknown) == 1 else 'are'} not among the choices here ({offered}); ignored.")
    return values


def one_of(raw: str, options: Iterable[str], name: str, default: str) -> str:
    """One of a fixed set of keys (a time window ...)."""
    options = list(options)
    if raw not in options:
        raise UrlValueError(f"The link's {name}=“{preview(raw)}” is not one of {', '.join(options)}; "
                            f"showing {default}.")
    return raw
