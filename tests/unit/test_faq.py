"""FAQ candidates: normalisation, clustering (hand-made sets and the demo's own templates), and the query that
feeds them, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import store
from dashboard.domain import faq
from dashboard.domain.access import NotPermitted, Role, Viewer
from dashboard.queries import faq as q
from loaders.spec import MENTION_TEMPLATES, PRODUCTS
from tests.factories import NOW, at, item, tiny_org

ADMIN = Viewer("ada@example.com", Role.ADMIN)
EXEC = Viewer("eve@example.com", Role.EXECUTIVE)
SALES = Viewer("sam@example.com", Role.SPOKE_LEAD, unit="sales")

BUY = "Does anyone know where to buy the {p}?"
REFUND = "Still waiting for a refund on my {p}."


def frame(rows) -> pd.DataFrame:
    """(text, target_unit, items) rows."""
    return pd.DataFrame(rows, columns=["text", "target_unit", "items"])


def demo_texts(seed: int = 3) -> pd.DataFrame:
    """Every wording the demo generator writes (12 templates x 5 products, jobs without a product), with
    random counts."""
    rng = np.random.default_rng(seed)
    rows = []
    for topic, spoke in (("purchase_intent", "sales"), ("complaint", "customer_service"), ("jobs", "hr")):
        for text in sorted({t.format(p=p) for t in MENTION_TEMPLATES[topic] for p in PRODUCTS}):
            rows.append((text, spoke, int(rng.integers(3, 60))))
    return frame(rows)


# --- normalisation ------------------------------------------------------------------------------------------


def test_normalise_folds_accents_and_case_and_drops_noise():
    assert faq.normalise("Où est ma COMMANDE?!") == "ou est ma commande"
    assert faq.normalise("Crème BRÛLÉE") == faq.normalise("creme brulee") == "creme brulee"
    assert faq.normalise("Ｆｕｌｌｗｉｄｔｈ") == "fullwidth"  # NFKD compatibility forms
    text = "@shop_help is the X200 in stock?? https://shop.example/x200?ref=1 www.example.com #sale #X200 order 123456"
    assert faq.normalise(text) == "x200 stock order"  # handles, links, tags, numbers, stopwords gone; x200 kept
    assert faq.normalise("I don't know what's going on") == "know going"  # apostrophes join: "dont", "whats" are stopwords
    assert faq.normalise("Where’s my order??") == faq.normalise("where is my ORDER") == "order"
    assert faq.normalise("Order no. 12 from 2025, ref A1234567") == "order ref"
    assert faq.normalise("mail sam.oneil+x@example.co.uk now") == "mail now"  # e-mail addresses go too
    assert faq.normalise(None) == faq.normalise("") == faq.normalise("?!") == ""


def test_terms_are_words_and_word_pairs():
    assert faq.terms("Refund for the X200 microwave!") == [
        "refund", "x200", "microwave", "refund x200", "x200 microwave"]


@pytest.mark.parametrize("text, question", [
    ("Does anyone know where to buy the X200 microwave?", True),
    ("is it in stock", True),
    ("How do I apply for the internship", True),
    ("Any discount codes?", True),
    ("Thinking about it - worth it? 🤔", True),
    ('"Is this real?"', True),
    ("@shop where is my parcel", True),
    ("Still waiting for a refund on my K9 kettle.", False),
    ("Is! great", True),
    ("Island holidays are great", False),  # a question word must be a whole word
    ("", False),
])
def test_is_question(text, question):
    assert faq.is_question(text) is question


# --- clustering -------------------------------------------------------------------------------------------------


def test_the_same_question_about_five_products_is_one_cluster():
    """Among every wording of the demo (other questions and complaints about the same five products), the
    five "where to buy" wordings form one cluster and the five "refund" wordings another."""
    texts = demo_texts()
    buy_texts = [BUY.format(p=p) for p in PRODUCTS]
    refund_texts = [REFUND.format(p=p) for p in PRODUCTS]
    counts = dict(zip(buy_texts, range(40, 45))) | dict(zip(refund_texts, range(30, 35)))
    texts["items"] = [counts.get(t, n) for t, n in zip(texts.text, texts["items"])]
    result = faq.candidates(texts)
    members = result.members
    (buy_id,) = set(members[members.text.isin(buy_texts)].cluster)
    (refund_id,) = set(members[members.text.isin(refund_texts)].cluster)
    assert buy_id != refund_id
    assert set(members[members.cluster == buy_id].text) == set(buy_texts)
    assert set(members[members.cluster == refund_id].text) == set(refund_texts)
    buy = result.clusters.set_index("cluster").loc[buy_id]
    refund = result.clusters.set_index("cluster").loc[refund_id]
    assert (buy["items"], buy.wordings, buy.question) == (210, 5, True)
    assert (refund["items"], refund.wordings, refund.question) == (160, 5, False)
    assert buy.spokes == (("sales", 210),) and refund.spokes == (("customer_service", 160),)
    assert buy.label == "anyone know, buy" and refund.label == "still waiting, refund"
    assert buy.examples == tuple(reversed(buy_texts[2:]))  # the 3 most frequent, most first
    assert buy.share == pytest.approx(210 / texts["items"].sum())
    assert members.groupby("cluster")["items"].sum().loc[[buy_id, refund_id]].tolist() == [210, 160]
    assert (members.similarity >= 0.5).all() and members.similarity.max() == 1.0


def test_refinement_moves_a_wording_that_first_joined_for_its_product_name(monkeypatch):
    """Ten wordings, two questions about five products. The most frequent is the refund for the Breeze tower
    fan, so it leads the first group, and "where to buy the Breeze tower fan" (three product words, shared)
    joins it in the greedy pass; the centroid passes move it to the other "where to buy" wordings."""
    buy = [BUY.format(p=p) for p in PRODUCTS]
    refund = [REFUND.format(p=p) for p in PRODUCTS]
    texts = frame([(t, "sales", n) for t, n in zip(buy, [28, 33, 32, 22, 56])]
                  + [(t, "customer_service", n) for t, n in zip(refund, [24, 40, 24, 28, 59])])
    result = faq.candidates(texts)
    groups = result.members.groupby("cluster").text.apply(set).tolist()
    assert groups == [set(refund), set(buy)]
    assert result.clusters.label.tolist() == ["still waiting, refund", "anyone know, buy"]
    assert result.clusters.spokes.tolist() == [(("customer_service", 175),), (("sales", 171),)]
    monkeypatch.setattr(faq, "REFINE_PASSES", 0)  # the greedy pass alone
    greedy = faq.candidates(texts).members.groupby("cluster").text.apply(set).tolist()
    assert greedy == [set(refund) | {buy[4]}, set(buy[:4])]


def test_the_second_round_separates_two_short_questions_about_the_same_products(monkeypatch):
    """With these counts the first round puts "Any discount codes for the ...?" and "Thinking about getting the
    ... - is it worth it?" in one group (both short, the same five products: their products make them alike).
    Product names are in many first-round groups, the question words in one: weighed by that, the second round
    separates the two questions."""
    rng = np.random.default_rng(3)
    templates = (*MENTION_TEMPLATES["purchase_intent"], *MENTION_TEMPLATES["complaint"], *MENTION_TEMPLATES["jobs"])
    rows, template_of = [], {}
    for template in templates:
        for p in PRODUCTS:
            text = template.format(p=p)
            if text not in template_of:
                template_of[text] = template
                rows.append((text, "sales", int(rng.integers(3, 60))))
    texts = frame(rows)

    def mixed(result) -> list[set]:
        groups = result.members.assign(template=result.members.text.map(template_of)).groupby("cluster").template
        return [set(g) for _, g in groups if g.nunique() > 1]

    assert mixed(faq.candidates(texts, min_items=1)) == []
    monkeypatch.setattr(faq, "ROUNDS", 1)
    assert mixed(faq.candidates(texts, min_items=1)) == [{"Any discount codes for the {p}?",
                                                         "Thinking about getting the {p} - is it worth it?"}]


def test_the_demo_templates_cluster_one_per_template():
    texts = demo_texts()
    result = faq.candidates(texts)
    clusters = result.clusters
    by_template = {}
    for template in (*MENTION_TEMPLATES["purchase_intent"], *MENTION_TEMPLATES["complaint"]):
        wordings = {template.format(p=p) for p in PRODUCTS}
        found = set(result.members[result.members.text.isin(wordings)].cluster)
        assert len(found) == 1, f"{template!r} split over clusters {found}"
        by_template[template] = found.pop()
    assert len(set(by_template.values())) == 8  # and no two templates share a cluster
    assert len(clusters) == 12  # the four job questions have no product and stay apart
    # counts add up: every item is in exactly one cluster
    assert clusters["items"].sum() == texts["items"].sum() == result.items_total == result.items_used
    assert clusters.wordings.sum() == len(texts) == result.texts_total
    assert clusters.share.sum() == pytest.approx(1.0)
    assert clusters["items"].is_monotonic_decreasing
    assert clusters.question.sum() == 4 + 4  # purchase-intent and jobs are questions, complaints are not
    for spokes, question in zip(clusters.spokes, clusters.question):
        assert len(spokes) == 1 and (spokes[0][0] != "customer_service") == question


def test_everyday_wordings_of_the_same_question_group_together():
    rows = [
        ("Where is my order? It's been 10 days #late", 9), ("where's my order??", 7),
        ("How do I return an item?", 8), ("how can i return a broken item", 5),
        ("What is your return policy?", 6), ("Return policy for sale items?", 2),
        ("Do you ship to Canada?", 5), ("Do you deliver to Canada or only US?", 3),
        ("@acme_help can I change my delivery address?", 4), ("How to change delivery address after ordering", 3),
        ("Is the K9 kettle dishwasher safe?", 3), ("Can I put the K9 kettle in the dishwasher?", 2),
        ("Why was I charged twice?", 4), ("I was charged twice for one order", 2),
        ("Discount code WELCOME10 not working", 5), ("my discount code doesn't work at checkout", 3),
        ("Love the new X200 microwave!", 4), ("Great service today, thanks Anna!", 1),
    ]
    result = faq.candidates(frame([(t, "customer_service", n) for t, n in rows]), min_items=1)
    groups = {frozenset(g) for g in result.members.groupby("cluster").text.apply(set)}
    pairs = {frozenset(p) for p in zip([t for t, _ in rows[:16:2]], [t for t, _ in rows[1:16:2]])}
    assert pairs <= groups  # each pair of wordings of one question is one group of exactly those two
    assert len(result.clusters) == len(pairs) + 2  # the praise stays apart
    labels = dict(zip(result.clusters.leader, result.clusters.label))
    assert labels["What is your return policy?"].startswith("return policy")
    assert labels["Is the K9 kettle dishwasher safe?"].startswith("k9 kettle, dishwasher")
    questions = dict(zip(result.clusters.leader, result.clusters.question))
    assert questions["Do you ship to Canada?"] and not questions["Love the new X200 microwave!"]


def test_counts_add_up_across_spokes_for_one_text():
    rows = [("Where is my order?", "customer_service", 7), ("Where is my order?", "sales", 2),
            ("where is my ORDER", "customer_service", 1)]
    result = faq.candidates(frame(rows))
    (c,) = result.clusters.itertuples()
    assert (c.items, c.wordings) == (10, 2)
    assert c.spokes == (("customer_service", 8), ("sales", 2))
    assert c.examples == ("Where is my order?", "where is my ORDER")


def test_shares_are_of_the_given_total():
    result = faq.candidates(frame([("Refund please?", "sales", 5)]), items_total=20)
    assert result.clusters.share.iloc[0] == pytest.approx(0.25)


def test_deterministic_whatever_the_row_order():
    texts = demo_texts(seed=5)
    first = faq.candidates(texts)
    for seed in range(3):
        shuffled = texts.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        again = faq.candidates(shuffled)
        pd.testing.assert_frame_equal(first.clusters, again.clusters)
        pd.testing.assert_frame_equal(first.members, again.members)


def test_the_threshold_decides_how_alike_wordings_must_be():
    texts = demo_texts()
    counts = [len(faq.candidates(texts, threshold=t, min_items=1).clusters) for t in (0.1, 0.3, 0.5, 0.7, 0.9, 1.0)]
    assert counts == sorted(counts)  # stricter: more, smaller clusters
    assert counts[0] < 12 < counts[-2] and counts[-1] == len(texts)  # 1.0: only identical term sets
    same = frame([("Refund?", "sales", 2), ("refund!!", "sales", 1), ("REFUND", "hr", 1)])
    (c,) = faq.candidates(same, threshold=1.0).clusters.itertuples()  # the same words: a cosine of exactly 1
    assert (c.items, c.wordings) == (4, 3)
    for bad in (0, -0.1, 1.01, "0.5", None, True, float("nan")):
        with pytest.raises(ValueError, match="threshold"):
            faq.candidates(texts, threshold=bad)
    assert len(faq.candidates(texts, threshold=np.float32(0.4)).clusters) == 12  # numpy numbers are numbers
    for bad in (0, 1.5, "2", None):
        with pytest.raises(ValueError, match="minimum cluster size"):
            faq.candidates(texts, min_items=bad)
    with pytest.raises(ValueError, match="cap"):
        faq.candidates(texts, max_texts=0)


def test_min_items_drops_small_clusters_but_not_their_share_of_the_total():
    texts = demo_texts()
    texts["items"] = [1 if t == "How do I apply for the marketing internship?" else 10 for t in texts.text]
    total = int(texts["items"].sum())
    result = faq.candidates(texts, min_items=2)
    assert len(result.clusters) == 11 and result.clusters["items"].sum() == total - 1
    assert result.clusters.share.sum() == pytest.approx((total - 1) / total)  # shares stay of every item
    assert "How do I apply for the marketing internship?" not in set(result.members.text)
    assert len(faq.candidates(texts, min_items=1).clusters) == 12
    assert faq.candidates(texts, min_items=51).clusters.empty  # every cluster holds 50 items or fewer


def test_the_cap_clusters_the_most_frequent_wordings_only():
    rows = [(f"Question number {w} about refunds?", "sales", 100 - i)
            for i, w in enumerate(["alpha", "beta", "gamma", "delta", "epsilon"])]
    result = faq.candidates(frame(rows), max_texts=3, min_items=1)
    assert (result.texts_total, result.texts_used, result.capped) == (5, 3, True)
    assert result.items_total == sum(r[2] for r in rows) and result.items_used == 100 + 99 + 98
    assert set(result.members.text) == {r[0] for r in rows[:3]}
    assert not faq.candidates(frame(rows)).capped


def random_questions(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(n)]  # no digits-only words: these survive normalisation
    return frame([(" ".join(rng.choice(vocab, 6)) + "?", "sales", int(rng.integers(1, 50))) for _ in range(n)])


@pytest.mark.slow
def test_the_cap_holds_at_scale():
    texts = random_questions(faq.MAX_TEXTS + 150)
    result = faq.candidates(texts, min_items=1)
    assert result.texts_used == faq.MAX_TEXTS and result.capped
    assert result.clusters["items"].sum() == result.items_used < result.items_total == texts["items"].sum()
    assert len(result.members) == faq.MAX_TEXTS


def test_blocks_of_the_similarity_product_do_not_change_the_result(monkeypatch):
    texts = pd.concat([random_questions(300, seed=1), demo_texts()], ignore_index=True)
    whole = faq.candidates(texts, min_items=1)
    monkeypatch.setattr(faq, "BLOCK", 13)  # the similarity product summed over many small column blocks
    pd.testing.assert_frame_equal(faq.candidates(texts, min_items=1).members, whole.members)


def test_texts_without_words_are_counted_apart():
    rows = [("https://example.com", "sales", 4), ("12345", "sales", 2), ("Refund?", "sales", 3), ("", "sales", 9),
            (None, "sales", 9)]
    result = faq.candidates(frame(rows), min_items=1)
    assert result.clusters["items"].tolist() == [3]
    assert result.unclusterable_items == 6 and result.items_total == 9  # empty and missing texts are no mention text


def test_empty_input():
    for empty in (frame([]), None):
        result = faq.candidates(empty)
        assert result.clusters.empty and result.members.empty
        assert list(result.clusters.columns) == faq.CLUSTER_COLUMNS
        assert (result.texts_total, result.items_total, result.capped) == (0, 0, False)


# --- the query -----------------------------------------------------------------------------------------------


def mention(id, target, hours, text, *, source="hub", kind="mention"):
    return item(id, source, target, at(hours), kind=kind) | {"text": text}


@pytest.fixture
def mentions(engine):
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, [
            mention("m1", "sales", 1, "Where can I buy the X200?"),
            mention("m2", "sales", 2, "Where can I buy the X200?"),
            mention("m3", "finance", 3, "Where can I buy the X200?"),
            mention("m4", "sales", 4, "Any discount codes?"),
            mention("m5", "finance", 5, "Invoice copy please"),
            mention("m6", "hub", 6, "Unrouted question?"),  # waits in the hub's triage queue
            mention("m7", "sales", 7, "   "),  # blank text
            mention("m8", "sales", 8, None),
            mention("m9", "hub", 9, "Not from the hub", source="sales"),
            mention("m10", "sales", 10, "A lead, not a mention", kind="lead"),
            mention("m11", "sales", 100, "Too old"),
        ])
    return engine


def test_mention_texts_counts_hub_routed_texts(mentions):
    with mentions.connect() as conn:
        rows = q.mention_texts(conn, ADMIN, at(48), NOW)
        assert rows.values.tolist() == [
            ["Where can I buy the X200?", "sales", 2],
            ["Any discount codes?", "sales", 1],
            ["Invoice copy please", "finance", 1],
            ["Unrouted question?", "hub", 1],
            ["Where can I buy the X200?", "finance", 1],
        ]
        assert q.mention_count(conn, ADMIN, at(48), NOW) == 6
        assert q.mention_texts(conn, EXEC, at(48), NOW, limit=2).text.tolist() == [
            "Where can I buy the X200?", "Any discount codes?"]
        assert q.mention_count(conn, EXEC, at(48), NOW, unit="finance") == 2
        both = q.mention_texts(conn, ADMIN, at(48), NOW, kinds=("mention", "lead"))
        assert "A lead, not a mention" in set(both.text)
        assert q.mention_texts(conn, ADMIN, at(48), NOW, kinds=()).empty
        assert q.mention_count(conn, ADMIN, at(200), NOW) == 7


def test_a_spoke_lead_sees_only_what_reached_their_spoke(mentions):
    with mentions.connect() as conn:
        own = q.mention_texts(conn, SALES, at(48), NOW)
        assert set(own.target_unit) == {"sales"} and own["items"].sum() == 3
        assert q.mention_count(conn, SALES, at(48), NOW) == 3
        assert q.mention_texts(conn, SALES, at(48), NOW, unit="sales").equals(own)
        for fn in (q.mention_texts, q.mention_count):
            with pytest.raises(NotPermitted, match="may not open 'finance'"):
                fn(conn, SALES, at(48), NOW, unit="finance")
            with pytest.raises(NotPermitted, match="may not open 'hub'"):
                fn(conn, SALES, at(48), NOW, unit="hub")
            with pytest.raises(NotPermitted):  # a spoke lead without a spoke
                fn(conn, Viewer("lost", Role.SPOKE_LEAD), at(48), NOW)


def test_query_to_candidates(mentions):
    with mentions.connect() as conn:
        rows = q.mention_texts(conn, ADMIN, at(48), NOW)
        total = q.mention_count(conn, ADMIN, at(48), NOW)
    result = faq.candidates(rows, items_total=total, min_items=1)
    top = result.clusters.iloc[0]
    assert (top["items"], top.wordings, top.spokes) == (3, 1, (("sales", 2), ("finance", 1)))
    assert top.share == pytest.approx(0.5) and top.question
