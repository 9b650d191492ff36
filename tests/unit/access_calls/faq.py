"""FAQ candidates: the mention texts the hub routed, and their total."""

from __future__ import annotations

from tests.factories import NOW, at

CALLS = {
    "faq.mention_texts": lambda c: dict(conn=c.conn, start=at(48), end=NOW),
    "faq.mention_count": lambda c: dict(conn=c.conn, start=at(48), end=NOW),
}
