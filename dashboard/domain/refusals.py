"""A refusal meant for a person: :class:`Refused`.

When a use case, a check of typed input or a value from a link refuses what it was asked, it raises
:class:`Refused` (or a subclass such as ``ScenarioExists``, ``StaleDraft``, ``RuleError``, ``InputError``,
``UrlValueError``). **The message is a sentence for the person** — what was not done, why, and what to do instead
— and the pages show it as it is. Anything else is a bug: a plain ``ValueError`` (from pandas, numpy, a typo) is
never caught as advice, so it reaches the app's fault handling instead of being shown as guidance.

``Refused`` is a ``ValueError``, so code and tests that catch ``ValueError`` still catch every refusal.
:class:`dashboard.domain.access.NotPermitted` (the viewer's role may not do or see this) is a separate family, a
``PermissionError``; a page that shows refusals catches both: ``except (NotPermitted, Refused)``.
"""

from __future__ import annotations


class Refused(ValueError):
    """A request refused for a reason the person can act on; ``str(refusal)`` is the sentence to show them."""


__all__ = ["Refused"]
