"""FAQ candidates: recurring questions among the hub's routed mentions, grouped by similar wording.

The method is deliberately simple, so a hub lead can be told why two mentions landed together:

1. **Normalise** each distinct text: fold it (NFKD, accents dropped, casefolded, as routing rules see text:
   ``dashboard.domain.routing.fold``), then drop URLs, e-mail addresses, ``@handles``, ``#tags``, apostrophes
   ("don't" -> "dont"), numbers (a token made of digits, or holding 5 or more digits: order and phone numbers) and
   punctuation; split into words and drop a small English stopword list (:data:`STOPWORDS`). Model names such
   as "x200" or "k9" stay: they are what a question is about.
2. **Features**: word unigrams and bigrams (bigrams of the words left after stopwords), weighted by their
   count in the text (``1 + ln(count)``; mostly 1) and L2-normalised, so the dot product of two wordings is
   their cosine similarity (0: no term in common, 1: the same terms). A word pair found in one wording only is
   dropped: it is no phrase, usually the seam between two ("buy" + "x200"), and would only make every wording
   look unlike the others.

   *Why no IDF.* TF-IDF weighs a term more the fewer distinct wordings hold it. A recurring question asked
   about several products is where that backfires: "Does anyone know where to buy the X200 microwave?" and
   "Still waiting for a refund on my X200 microwave." share the product, and with five products and two
   questions the product is in 2 of 10 wordings while each question's words are in 5, so IDF makes the product
   outweigh the question and groups by product. Measured on the demo's 12 templates x 5 products and 8 subsets
   of them (a spoke's own view, two or three question types, one question only), 20 random draws of counts
   each, at threshold 0.4 with step 4: plain counts put two different questions in one group in 11 of 180
   runs (always involving the two shortest questions, "Any discount codes for the ...?" and "Thinking about
   getting the ... - is it worth it?", whose own words are fewer than a three-word product name's),
   smoothed IDF (``ln((1 + N) / (1 + df)) + 1``) in 72, its square root in 26; step 5 brings plain counts
   to 5. The stopword list does IDF's other job
   (keeping "the", "my", "please" from counting). Item counts never weigh terms either: a wording posted a
   thousand times is one way of asking; volume decides the order of grouping and the counts, not similarity.
3. **Group** greedily (leader clustering): wordings are taken most frequent first (ties by text, so the result
   is deterministic); each one joins the existing group whose *leader* (its first, most frequent wording) it
   is most similar to, when that cosine is at least ``threshold``; otherwise it starts a group of its own.
4. **Refine** (a few passes of spherical k-means seeded by step 3): each wording moves to the group whose
   centroid (its wordings' vectors summed, weighted by items) it is most similar to, until nothing moves
   (at most :data:`REFINE_PASSES` passes). A centroid holds what its wordings share at full weight and each
   wording's own product name at a fraction, so a wording that first joined a group for its product name
   moves to the group asking the same question. A group of one never dissolves (a wording is most similar to
   itself). The similarity reported per wording is to its group's centroid (1: the group's typical wording).
5. **Second round**: a term found in many first-round groups is what the questions are *about* (a product
   name asked about in every way), not the question. Each term's weight is divided by the square root of the
   number of groups it occurs in, so its share of any similarity (a product of two weights) shrinks in
   proportion: a product name in 8 groups counts 1/8 as much as a word found in one group only. Steps 3 and
   4 then run again on these weights. This is IDF taken over groups instead of wordings: groups are what
   the question words are concentrated in, so it does not backfire as IDF over wordings does. On the same
   180 runs it halves the runs with a mixed group (11 -> 5: four with only the two shortest questions in the
   window, one in the sales spoke's own view; the full demo set is right in all 20 draws).
6. **Cap the work**: only the :data:`MAX_TEXTS` most frequent distinct wordings are grouped (the rest are
   counted in :attr:`FaqResult.texts_total` / ``items_total`` but not grouped; the page says so). Terms in a
   single wording add to its vector's length but can never make two wordings similar, so the similarity
   matrix is built from the shared terms only, in column blocks: memory stays ~``n² + n x 2048`` float32
   whatever the vocabulary; a refinement pass sums its columns per group (``O(n²)``), never forming
   centroids over the vocabulary.

Per group: a label (up to three of its strongest terms, by summed items x weight, among the terms at least
half its wordings share; a term skipped when one of its words is already in the label), items, share of all
items, distinct wordings, the spokes the items went to (with counts), the three most frequent wordings as
examples, and whether it is a question (at least half its items end with "?" or start with a question word
such as who/what/how/is/can/does).
"""

from __future__ import annotations

import math
import numbers
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from dashboard.domain.routing import fold  # as routing rules see text: keywords and FAQ terms agree

MAX_TEXTS = 2000  # distinct wordings clustered at most (the most frequent ones)
DEFAULT_THRESHOLD = 0.4  # groups the demo's 12 templates right at 0.4 - 0.5; 0.4 splits least over random counts
DEFAULT_MIN_ITEMS = 2
EXAMPLES = 3
LABEL_TERMS = 3
BLOCK = 2048  # shared terms per block of the similarity product
REFINE_PASSES = 10
ROUNDS = 2  # the second weighs terms down by how many first-round groups hold them
EPS = 1e-5  # float32 rounding: a cosine of exactly the threshold passes

STOPWORDS = frozenset("""
a about above after again all also am an and any are as at be because been before being below between both
but by could did do does doing down during each few for from further had has have having he her here hers
herself him himself his i if in into is it its itself just me more most my myself no nor not of off on once
only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves can cant dont doesnt didnt im
ive id youre its isnt arent wasnt wont hi hello hey please thanks thank pls u ur yes ok okay just really how
hows whats wheres whos thats theres heres lets hasnt havent hadnt werent couldnt wouldnt shouldnt youve weve
theyre theyve youll hes shes
""".split())  # not "anyone"/"someone": "does anyone know ..." is how many questions are put

QUESTION_WORDS = frozenset("""
who whom whose what when where why how which is are am was were can could does do did will would should shall
may might has have had any anyone anybody someone somebody
""".split())

_URL = re.compile(r"(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HANDLE = re.compile(r"(?<![\w@])@\w+")
_TAG = re.compile(r"(?<![\w#])#\w+")
_APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w)")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_FIRST_WORD = re.compile(r"[a-z]+")
_TRAILING = re.compile(r"[^\w?]+$")  # closing quotes, brackets, "!", emoji, spaces after a final "?"


def normalise(text: str | None) -> str:
    """The words of a text that carry its meaning: folded, without URLs, handles, tags, numbers, punctuation
    and stopwords. 'Où est ma commande #123? @shop https://x.y' -> 'ou est ma commande'."""
    return " ".join(words(text))


def words(text: str | None) -> list[str]:
    t = fold(text)
    t = _URL.sub(" ", t)
    t = _EMAIL.sub(" ", t)
    t = _HANDLE.sub(" ", t)
    t = _TAG.sub(" ", t)
    t = _APOSTROPHE.sub("", t)
    return [w for w in _NON_WORD.split(t) if len(w) > 1 and w not in STOPWORDS and not _is_number(w)]


def _is_number(word: str) -> bool:
    digits = sum(c.isdigit() for c in word)
    return digits == len(word) or digits >= 5


def terms(text: str | None) -> list[str]:
    """Unigrams and bigrams of :func:`words` (bigrams joined by a space)."""
    w = words(text)
    return w + [f"{a} {b}" for a, b in zip(w, w[1:])]


def is_question(text: str | None) -> bool:
    """Ends with a question mark (after closing quotes, brackets or emoji), or starts with a question word."""
    t = _URL.sub(" ", fold(text))
    if _TRAILING.sub("", t).endswith("?"):
        return True
    t = _HANDLE.sub(" ", t).strip()
    first = _FIRST_WORD.match(t)
    return first is not None and first.group(0) in QUESTION_WORDS


@dataclass(frozen=True)
class FaqResult:
    """``clusters``: one row per candidate (columns :data:`CLUSTER_COLUMNS`), most items first.
    ``members``: one row per grouped wording (cluster, text, items, cosine similarity to its group's centroid,
    question), in cluster order then most items first; wordings of groups below ``min_items`` are left out.
    """

    clusters: pd.DataFrame
    members: pd.DataFrame
    texts_total: int  # distinct wordings given
    texts_used: int  # ... of which clustered (the cap)
    items_total: int  # items the shares are relative to
    items_used: int  # items of the clustered wordings
    unclusterable_items: int  # items whose text had no word left (only a link, a number, stopwords)
    threshold: float
    min_items: int

    @property
    def capped(self) -> bool:
        return self.texts_used < self.texts_total


CLUSTER_COLUMNS = ["cluster", "label", "terms", "items", "share", "wordings", "spokes", "examples",
                   "question", "question_share", "leader"]
MEMBER_COLUMNS = ["cluster", "text", "items", "similarity", "question"]


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def candidates(texts: pd.DataFrame, *, threshold: float = DEFAULT_THRESHOLD, min_items: int = DEFAULT_MIN_ITEMS,
               max_texts: int = MAX_TEXTS, items_total: int | None = None) -> FaqResult:
    """FAQ candidates from ``texts``: columns ``text`` and ``items`` (how many items carried that text), and
    optionally ``target_unit`` (the spoke they went to; a text may appear once per spoke).

    ``items_total``: what shares are relative to (all mentions in the window, including those beyond the cap);
    defaults to the sum of ``items``. Raises ValueError for a threshold outside (0, 1], ``min_items`` < 1 or
    ``max_texts`` < 1.
    """
    if not (_is_real(threshold) and 0 < threshold <= 1):
        raise ValueError(f"the similarity threshold must be above 0 and at most 1, not {threshold!r}")
    if not (_is_real(min_items) and min_items >= 1 and int(min_items) == min_items):
        raise ValueError(f"the minimum cluster size must be a whole number of at least 1 item, not {min_items!r}")
    if not (_is_real(max_texts) and max_texts >= 1 and int(max_texts) == max_texts):
        raise ValueError(f"the cap must be a whole number of at least 1 wording, not {max_texts!r}")
    per_text, spokes = _per_text(texts)
    total = int(per_text["items"].sum()) if items_total is None else int(items_total)
    texts_total = len(per_text)
    used = per_text.iloc[:max_texts]
    term_lists = [terms(t) for t in used.text]
    keep = np.array([bool(t) for t in term_lists], dtype=bool)
    unclusterable = int(used["items"].to_numpy()[~keep].sum()) if len(used) else 0
    used = used[keep].reset_index(drop=True)
    term_lists = [t for t, k in zip(term_lists, keep) if k]
    result: dict[str, Any] = dict(
        texts_total=texts_total, texts_used=min(texts_total, int(max_texts)), items_total=total,
        items_used=int(per_text["items"].iloc[:max_texts].sum()), unclusterable_items=unclusterable,
        threshold=float(threshold), min_items=int(min_items))
    if used.empty:
        return FaqResult(_empty(CLUSTER_COLUMNS), _empty(MEMBER_COLUMNS), **result)

    rows, cols, weights, vocab = _vectors(term_lists)
    shared = _shared_terms(cols, len(vocab))
    counts = used["items"].to_numpy(dtype=np.int64)
    sims = _similarities(rows, cols, weights, len(used), len(vocab), shared)
    assign, to_centroid = _refine(sims, counts, _leader_clusters(sims, threshold))
    for _ in range(ROUNDS - 1):
        weights = _spread_weighted(rows, cols, weights, assign, len(vocab))
        sims = _similarities(rows, cols, weights, len(used), len(vocab), shared)
        assign, to_centroid = _refine(sims, counts, _leader_clusters(sims, threshold))

    text_list = used.text.tolist()
    questions = np.array([is_question(t) for t in text_list], dtype=bool)
    items_per = np.bincount(assign, weights=counts).astype(np.int64)
    kept = np.flatnonzero(items_per >= min_items)
    if not len(kept):
        return FaqResult(_empty(CLUSTER_COLUMNS), _empty(MEMBER_COLUMNS), **result)
    q_items = np.bincount(assign, weights=counts * questions).astype(np.int64)
    member_lists: dict[int, list[int]] = defaultdict(list)  # wordings in order: most items first
    for i, c in enumerate(assign.tolist()):
        member_lists[c].append(i)
    scores = _term_scores(rows, cols, weights, counts, assign, set(kept.tolist()))
    out = []
    for c in kept.tolist():
        member = member_lists[c]
        spoke_counts: Counter = Counter()
        for i in member:
            spoke_counts.update(spokes.get(text_list[i], {}))
        top_terms = _label_terms(scores[c], vocab, len(member))
        items = int(items_per[c])
        out.append(dict(
            cluster=c, label=", ".join(top_terms), terms=tuple(top_terms), items=items,
            share=items / total if total else math.nan, wordings=len(member),
            spokes=tuple(sorted(spoke_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            examples=tuple(text_list[i] for i in member[:EXAMPLES]), question=bool(q_items[c] * 2 >= items),
            question_share=q_items[c] / items, leader=text_list[member[0]],
        ))
    clusters = pd.DataFrame(out, columns=CLUSTER_COLUMNS).sort_values(
        ["items", "wordings", "leader"], ascending=[False, False, True], kind="stable").reset_index(drop=True)
    order = clusters.cluster.tolist()
    clusters["cluster"] = np.arange(1, len(clusters) + 1)
    picked = [(new, i) for new, c in enumerate(order, start=1) for i in member_lists[c]]
    idx = np.array([i for _, i in picked], dtype=np.int64)
    members = pd.DataFrame({"cluster": np.array([new for new, _ in picked], dtype=np.int64),
                            "text": [text_list[i] for i in idx], "items": counts[idx],
                            "similarity": to_centroid[idx], "question": questions[idx]})
    return FaqResult(clusters, members[MEMBER_COLUMNS], **result)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)


def _per_text(texts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    """Items per distinct text (most first, then by text) and, per text, items per spoke."""
    if texts is None or texts.empty:
        return pd.DataFrame({"text": pd.Series(dtype=object), "items": pd.Series(dtype="int64")}), {}
    frame = texts[texts.text.notna()].copy()
    frame["text"] = frame.text.astype(str)
    frame = frame[frame.text.str.strip() != ""]
    frame["items"] = pd.to_numeric(frame["items"]).fillna(0).astype("int64")
    frame = frame[frame["items"] > 0]
    spokes: dict[str, dict[str, int]] = defaultdict(dict)
    if "target_unit" in frame.columns:
        by_spoke = frame.dropna(subset=["target_unit"]).groupby(["text", "target_unit"])["items"].sum()
        for key, n in by_spoke.items():
            text, unit = cast(tuple[str, str], key)  # a two-level index: the stubs type its keys as Hashable
            spokes[text][str(unit)] = int(n)
    # as_index=False makes this a DataFrame (text, items); the stubs take it for a Series
    per_text = cast(pd.DataFrame, frame.groupby("text", as_index=False)["items"].sum())
    per_text = per_text.sort_values(["items", "text"], ascending=[False, True], kind="stable").reset_index(drop=True)
    return per_text, dict(spokes)


def _vectors(term_lists: list[list[str]]):
    """Sparse rows of L2-normalised term vectors as (row, column, weight) arrays, and the vocabulary."""
    vocab: dict[str, int] = {}
    df: Counter = Counter()
    per_row = []
    for terms_ in term_lists:
        tf = Counter(terms_)
        per_row.append(tf)
        df.update(tf.keys())
    lone_pairs = {t for t, d in df.items() if d == 1 and " " in t}
    for tf in per_row:  # a word pair found in one wording only is no phrase: usually the seam of two phrases
        for t in lone_pairs & tf.keys():
            del tf[t]
    for t in lone_pairs:
        del df[t]
    for term in sorted(df):  # columns in term order: deterministic
        vocab[term] = len(vocab)
    rows, cols, weights = [], [], []
    for i, tf in enumerate(per_row):
        w = {t: 1 + math.log(c) for t, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in w.values()))
        for t in sorted(w):
            rows.append(i)
            cols.append(vocab[t])
            weights.append(w[t] / norm)
    return (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(weights, dtype=np.float64),
            sorted(vocab, key=vocab.__getitem__))


def _spread_weighted(rows, cols, weights, assign, n_terms: int):
    """Step 5: each term's weight divided by the square root of the number of groups holding it (so its part
    of any similarity, a product of two weights, by that number), then each wording's vector re-normalised."""
    pairs = np.unique(assign[rows] * n_terms + cols)  # (group, term) pairs that occur
    groups_per_term = np.bincount(pairs % n_terms, minlength=n_terms)
    w = weights / np.sqrt(groups_per_term[cols])
    norms = np.sqrt(np.bincount(rows, weights=w * w))
    return w / norms[rows]


def _shared_terms(cols: np.ndarray, n_terms: int) -> np.ndarray:
    """Columns held by at least two wordings: the only ones a dot product between two wordings can use."""
    return np.flatnonzero(np.bincount(cols, minlength=n_terms) >= 2)


def _similarities(rows, cols, weights, n: int, n_terms: int, shared: np.ndarray) -> np.ndarray:
    """Cosine similarity matrix (n x n), summed over blocks of shared columns."""
    sims = np.zeros((n, n), dtype=np.float32)
    position = np.full(n_terms, -1, dtype=np.int64)
    position[shared] = np.arange(len(shared))
    where = position[cols]
    on = where >= 0
    r, p, w = rows[on], where[on], weights[on]
    for lo in range(0, len(shared), BLOCK):
        sel = (p >= lo) & (p < lo + BLOCK)
        block = np.zeros((n, min(BLOCK, len(shared) - lo)), dtype=np.float32)
        block[r[sel], p[sel] - lo] = w[sel]
        sims += block @ block.T
    np.fill_diagonal(sims, 1.0)
    return sims


def _leader_clusters(sims: np.ndarray, threshold: float) -> np.ndarray:
    """Group id per wording (wordings in order: most items first): the most similar leader's when at least
    ``threshold``, else a new group."""
    n = len(sims)
    assign = np.empty(n, dtype=np.int64)
    leaders: list[int] = []
    for i in range(n):
        if leaders:
            s = sims[i, leaders]
            best = int(np.argmax(s))  # the first (most frequent) leader on a tie
            if s[best] >= threshold - EPS:
                assign[i] = best
                continue
        assign[i] = len(leaders)
        leaders.append(i)
    return assign


def _centroid_cosines(sims: np.ndarray, counts: np.ndarray, assign: np.ndarray) -> np.ndarray:
    """n x k: cosine of each wording with each group's items-weighted centroid, from the similarity matrix
    alone: x_i . c_k = sum over j in k of w_j S_ij, and |c_k|^2 = sum over j in k of w_j (x_j . c_k)."""
    order = np.argsort(assign, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(assign[order]) != 0])
    dots = np.add.reduceat(sims[:, order] * counts[order].astype(np.float32)[None, :], starts, axis=1)
    own = dots[np.arange(len(assign)), assign] * counts
    norms = np.sqrt(np.maximum(np.bincount(assign, weights=own), 1e-12)).astype(np.float32)
    return dots / norms[None, :]


def _refine(sims: np.ndarray, counts: np.ndarray, assign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move each wording to the group with the most similar centroid until nothing moves (group ids kept in
    order of their first, most frequent wording). Returns the groups and each wording's cosine with its own
    group's centroid."""
    rows = np.arange(len(assign))
    for _ in range(REFINE_PASSES + 1):
        cos = _centroid_cosines(sims, counts, assign)
        best = np.argmax(cos, axis=1)  # the group of the more frequent first wording on a tie
        move = cos[rows, best] > cos[rows, assign] + EPS  # a real gain only: float ties do not oscillate
        if not move.any() or _ == REFINE_PASSES:
            break
        assign = np.where(move, best, assign)
        _, first = np.unique(assign, return_index=True)  # drop emptied groups, keep the order
        relabel = np.empty(assign.max() + 1, dtype=np.int64)
        relabel[assign[np.sort(first)]] = np.arange(len(first))
        assign = relabel[assign]
    own = cos[rows, assign].astype(np.float64)
    return assign, np.minimum(1.0, np.round(own, 4))


def _term_scores(rows, cols, weights, counts, assign, clusters: set[int]) -> dict[int, dict[int, list]]:
    """Per cluster of ``clusters``: term column -> [sum over its wordings of items x weight, wordings holding
    the term]."""
    scores: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0]))
    of = assign.tolist()
    counts = counts.tolist()
    for r, c, w in zip(rows.tolist(), cols.tolist(), weights.tolist()):
        if of[r] not in clusters:
            continue
        entry = scores[of[r]][c]
        entry[0] += counts[r] * w
        entry[1] += 1
    return scores


def _label_terms(score: dict[int, list], vocab: list[str], wordings: int) -> list[str]:
    """Up to three of the strongest terms found in at least half the cluster's wordings (what its wordings
    share, not one wording's product name), phrases before words on a tie, a term left out when one of its
    words is already in the label. Only when no term is that widely shared do the others count."""
    chosen: list[str] = []
    seen: set[str] = set()
    ranked = sorted(score.items(), key=lambda kv: (kv[1][1] * 2 < wordings, -round(kv[1][0], 6),
                                                   -vocab[kv[0]].count(" "), vocab[kv[0]]))
    shared = [kv for kv in ranked if kv[1][1] * 2 >= wordings]
    for c, _ in shared or ranked:
        term = vocab[c]
        if seen & set(term.split()):
            continue
        chosen.append(term)
        seen |= set(term.split())
        if len(chosen) == LABEL_TERMS:
            break
    return chosen
