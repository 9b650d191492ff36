"""The spoke page's reads from mix_hourly / text_hourly and the open items' index, on SQLite and PostgreSQL:

- the rollups equal a rebuild from the raw rows after every kind of write (insert, upsert, re-route, transitions);
- every query the page runs returns what the same question asked of the raw rows returns (the raw statements
  below are the queries' definitions), for windows starting and ending on and off the hour, within one hour,
  and for every filter of the inbox.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import and_, func, or_, select

from dashboard import store
from dashboard.db import mix_hourly, text_hourly, work_items
from dashboard.domain.access import LOCAL_ADMIN
from dashboard.domain.vocabulary import window_bounds
from dashboard.queries import checks, spoke
from tests.factories import NOW, at, item, tiny_org

LONG = "Why is my invoice " + "very " * 1200 + "late?"  # 6,000 characters: longer than a PostgreSQL index entry
TEXTS = [None, "", "How do I reset my password?", "How do I reset my password?", "Wie setze ich mein Passwort zurück? ✓",
         LONG, "What does it cost?", "  ", "What does it cost?"]
TOPICS = [None, "", "pricing", "login", "pricing", "billing_question"]
CHANNELS = ["web", "email", "phone"]


def _items() -> list[dict]:
    """Items to and from sales (and some to finance) over three days, at minutes that cut hours, in every
    status, with missing and empty topics and texts."""
    rows = []
    for i in range(140):
        created = at(70 - i * 0.49)  # every ~29 minutes from 70 h to ~2 h ago
        target, source, kind = [("sales", "hub", "lead"), ("sales", "hub", "complaint"), ("hub", "sales", "request"),
                                ("finance", "hub", "report")][i % 4]
        resolved = created + dt.timedelta(hours=1 + i % 5) if i % 3 else None
        if resolved is not None and resolved > NOW:
            resolved = None
        status = "resolved" if resolved else ["new", "routed", "accepted", "handed_back"][i // 4 % 4]
        rows.append(item(f"i{i:03d}", source, target, created, kind=kind, resolved=resolved, status=status,
                         sla_hours=2 + i % 7, value=float(i) if i % 2 else None)
                    | {"channel": CHANNELS[i % 3 if i % 10 else 2], "topic": TOPICS[i % len(TOPICS)],
                       "text": TEXTS[i % len(TEXTS)]})
    return rows


@pytest.fixture
def org(engine):
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, _items())
    return engine


def counts(conn) -> tuple[pd.DataFrame, pd.DataFrame]:
    mix = pd.DataFrame(conn.execute(select(mix_hourly)).mappings().all(), columns=list(mix_hourly.c.keys()))
    texts = pd.DataFrame(conn.execute(select(text_hourly)).mappings().all(), columns=list(text_hourly.c.keys()))
    mix = mix.sort_values(list(store.rollups.MIX_KEY)).reset_index(drop=True)
    texts = texts.sort_values(list(store.rollups.TEXT_KEY)).reset_index(drop=True)
    return mix.astype(object).where(mix.notna(), None), texts


def assert_counts_match_rebuild(conn) -> None:
    mix, texts = counts(conn)
    assert len(mix) and len(texts)
    store.rebuild_rollups(conn)
    want_mix, want_texts = counts(conn)
    assert mix.to_dict("records") == want_mix.to_dict("records")
    assert texts.to_dict("records") == want_texts.to_dict("records")
    assert (mix.created > 0).all() and (texts.created > 0).all()


def test_rollups_equal_a_rebuild_after_inserts(org):
    with org.begin() as conn:
        assert_counts_match_rebuild(conn)
        long_row = conn.execute(select(text_hourly.c.text, text_hourly.c.text_key)
                                .where(text_hourly.c.text == LONG)).first()
        assert long_row is not None and long_row.text_key == store.rollups.text_key(LONG)


def test_rollups_equal_a_rebuild_after_upserts_reroutes_and_transitions(org):
    with org.begin() as conn:
        changed = [r | {"topic": "moved", "text": "Another question?", "channel": "email"} for r in _items()[:30:3]]
        changed += [r | {"created_at": r["created_at"] - dt.timedelta(hours=5), "text": None} for r in _items()[1:30:3]]
        changed += [r | {"kind": "request"} for r in _items()[2:30:3]]
        new = [item(f"new{i}", "hub", "sales", at(3 + i / 7)) | {"topic": "fresh", "text": TEXTS[i % len(TEXTS)]}
               for i in range(9)]
        got = store.upsert_work_items(conn, changed + new, written_by="test", at=NOW)
        assert got.updated == 30 - 3 and got.inserted == 9  # the third group: 3 were requests already
        assert_counts_match_rebuild(conn)
    with org.begin() as conn:
        rows = conn.execute(select(work_items.c.id, work_items.c.version).where(
            work_items.c.target_unit == "sales", work_items.c.resolved_at.is_(None))).all()
        assert rows
        moved = store.reroute_work_items(conn, [dict(id=r.id, version=r.version, target_unit="finance") for r in rows[:6]],
                                         by="test", at=NOW)
        assert moved == 6
        assert_counts_match_rebuild(conn)
    with org.begin() as conn:
        row = conn.execute(select(work_items.c.id, work_items.c.version).where(
            work_items.c.target_unit == "sales", work_items.c.status == "accepted")).first()
        store.transition_item(conn, row.id, expected_version=row.version, status="resolved", at=NOW, by="test")
        assert_counts_match_rebuild(conn)


# --- the raw questions the queries answer ---------------------------------------------------------------------

def raw_options(conn, unit: str, start: dt.datetime | None) -> dict[str, list[str]]:
    wi = work_items.c
    cond = or_(wi.target_unit == unit, wi.source_unit == unit)
    if start is not None:
        cond = and_(cond, wi.created_at >= start)
    return {"channels": [r[0] for r in conn.execute(select(wi.channel).where(cond).distinct().order_by(wi.channel))],
            "kinds": [r[0] for r in conn.execute(select(wi.kind).where(cond).distinct().order_by(wi.kind))]}


def raw_topics(conn, unit: str, start: dt.datetime, end: dt.datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    wi = work_items.c
    n = func.count().label("items")
    by_topic = pd.DataFrame(
        conn.execute(select(func.coalesce(wi.topic, "(no topic)").label("topic"), wi.kind, n)
                     .where(wi.target_unit == unit, wi.created_at >= start, wi.created_at < end)
                     .group_by(wi.topic, wi.kind).order_by(n.desc(), wi.topic, wi.kind)).all(),
        columns=["topic", "kind", "items"])
    texts = pd.DataFrame(
        conn.execute(select(wi.text, n).where(wi.target_unit == unit, wi.created_at >= start, wi.created_at < end,
                                              wi.text.is_not(None), wi.text != "")
                     .group_by(wi.text).order_by(n.desc(), wi.text).limit(2000)).all(),
        columns=["text", "items"])
    return by_topic.astype({"items": "int64"}), texts.astype({"items": "int64"})


def raw_inbox(conn, unit: str, f: spoke.InboxFilter) -> tuple[int, list[str]]:
    wi = work_items.c
    conds = [wi.target_unit == unit]
    if f.start is not None:
        conds.append(wi.created_at >= f.start)
    if f.end is not None:
        conds.append(wi.created_at < f.end)
    if f.channels:
        conds.append(wi.channel.in_(f.channels))
    if f.kinds:
        conds.append(wi.kind.in_(f.kinds))
    if f.statuses:
        conds.append(wi.status.in_(f.statuses))
    total = conn.execute(select(func.count()).select_from(work_items).where(*conds)).scalar_one()
    order = wi[f.sort].desc() if f.descending else wi[f.sort].asc()
    ids = conn.execute(select(wi.id).where(*conds).order_by(order, wi.id).limit(f.limit).offset(f.offset)).scalars()
    return int(total), list(ids)


H = dt.timedelta(hours=1)
WINDOWS = [  # (start, end): on and off the hour, within one hour, across one hour boundary, empty
    (at(72), NOW), (at(48.5), at(0.5)), (at(30), at(6)), (at(10.25), at(9.75)), (at(10.4), at(10.1)),
    (at(5.5), at(5.5)), (NOW - 40 * H, NOW + 2 * H),
    *[window_bounds(w, NOW, dt.UTC) for w in ("1h", "today", "7d", "30d")],
]


@pytest.mark.parametrize("unit", ["sales", "hub", "finance"])
def test_options_and_topics_equal_the_raw_rows(org, unit):
    seen = 0
    with org.connect() as conn:
        for start, end in WINDOWS:
            for since in (start, start.replace(minute=0, second=0, microsecond=0), None):
                assert spoke.inbox_options(conn, LOCAL_ADMIN, unit, since) == raw_options(conn, unit, since), since
            by_topic, recurring = checks.routed_topics(conn, LOCAL_ADMIN, unit, start, end)
            want_topics, want_texts = raw_topics(conn, unit, start, end)
            assert by_topic.to_dict("records") == want_topics.to_dict("records"), (start, end)
            texts = checks._text_counts(conn, unit, start, end, 2000)
            assert texts.to_dict("records") == want_texts.to_dict("records"), (start, end)
            assert recurring.to_dict("records") == checks._recurring(want_texts, 2000).to_dict("records")
            seen += len(want_texts) + len(want_topics)
    assert unit == "hub" or seen > 0


FILTERS = [
    spoke.InboxFilter(statuses=("new", "routed", "accepted", "handed_back")),
    spoke.InboxFilter(statuses=("routed",), sort="created_at", descending=True),
    spoke.InboxFilter(statuses=("accepted", "handed_back"), channels=("phone",), sort="value"),
    spoke.InboxFilter(statuses=("resolved",), sort="status"),
    spoke.InboxFilter(statuses=("resolved", "new"), kinds=("lead",), sort="channel"),
    spoke.InboxFilter(),
    spoke.InboxFilter(statuses=("new", "routed", "accepted", "handed_back"), limit=3, offset=2),
]


@pytest.mark.parametrize("f", FILTERS, ids=range(len(FILTERS)))
def test_inbox_count_and_page_equal_the_raw_rows(org, f):
    with org.connect() as conn:
        seen = 0
        for start, end in WINDOWS:
            bounded = spoke.InboxFilter(**{**f.__dict__, "start": start, "end": end})
            page = spoke.inbox(conn, LOCAL_ADMIN, "sales", bounded, NOW)
            total, ids = raw_inbox(conn, "sales", bounded)
            assert (page.total, list(page.rows.id)) == (total, ids), (start, end)
            assert spoke.inbox_count(conn, LOCAL_ADMIN, "sales", bounded) == total
            seen += total
    assert seen > 0


def test_the_migration_fills_the_rollups_from_stored_items(org):
    """Revision 0008 fills mix_hourly and text_hourly from the items already stored: the same as a rebuild."""
    import importlib.util
    from pathlib import Path

    import dashboard

    path = Path(dashboard.__file__).parent / "migrations" / "versions" / "0008_spoke_page_rollups.py"
    spec = importlib.util.spec_from_file_location("rev0008", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with org.begin() as conn:
        want = counts(conn)
        conn.execute(mix_hourly.delete())
        conn.execute(text_hourly.delete())
        module._fill(conn)
        got = counts(conn)
    assert len(want[0]) and len(want[1])
    assert got[0].to_dict("records") == want[0].to_dict("records")
    assert got[1].to_dict("records") == want[1].to_dict("records")


def test_a_staged_set_based_upsert_moves_the_counts(pg_url):
    """PostgreSQL's set-based upsert (a stage table of new versions beside the old ones): the counts move by the
    difference, unchanged rows move nothing, emptied rows go."""
    from dashboard.db import make_engine
    from dashboard.store.rollups import ITEM_COUNT_COLUMNS, move_staged_item_counts

    engine = make_engine(pg_url)
    old = ", ".join(f"w.{c} AS old_{c}" for c in ITEM_COUNT_COLUMNS)
    run = None
    try:
        with engine.begin() as conn:
            run = conn.exec_driver_sql
            tiny_org(conn)
            store.insert_work_items(conn, _items())
            run(f"CREATE TEMPORARY TABLE st ON COMMIT DROP AS SELECT w.*, NULL::integer AS old_version, "
                f"false AS same, {old} FROM work_items w WITH NO DATA")
            run(f"INSERT INTO st SELECT w.*, w.version, w.id > 'i040', {old} FROM work_items w WHERE w.id < 'i050'")
            run("UPDATE st SET topic = CASE WHEN id < 'i010' THEN NULL ELSE 'staged' END, text = 'Staged?', "
                "channel = 'email', target_unit = CASE WHEN id < 'i020' THEN 'finance' ELSE target_unit END, "
                "created_at = created_at - interval '3 hours' WHERE NOT same")
            new = store.items.item_frame([item(f"s{i}", "hub", "sales", at(5 + i)) | {"text": "Staged?"} for i in range(4)])
            for i in range(4):
                run("INSERT INTO st (id, kind, source_unit, target_unit, channel, topic, text, created_at, due_at, "
                    "status, sla_hours, version, old_version, same) VALUES (%(id)s, 'lead', 'hub', 'sales', 'web', "
                    "NULL, 'Staged?', %(at)s, %(at)s, 'routed', 4, 1, NULL, NULL)",
                    {"id": f"s{i}", "at": at(5 + i).replace(tzinfo=None)})
            assert len(new) == 4
            run("UPDATE work_items w SET topic = s.topic, text = s.text, channel = s.channel, "
                "target_unit = s.target_unit, created_at = s.created_at FROM st s WHERE w.id = s.id AND NOT s.same "
                "AND s.old_version IS NOT NULL")
            run("INSERT INTO work_items (id, kind, source_unit, target_unit, channel, topic, text, created_at, due_at, "
                "status, sla_hours, version) SELECT id, kind, source_unit, target_unit, channel, topic, text, created_at, "
                "due_at, status, sla_hours, version FROM st WHERE old_version IS NULL")
            move_staged_item_counts(conn, "st")
            assert_counts_match_rebuild(conn)
    finally:
        engine.dispose()
    assert run is not None
