"""Routing rules (dashboard.domain.routing): precedence, default, disabled rules, folding, whole-word keywords,
refused patterns and rule sets, explanations, and route_frame agreeing with route_one row by row."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from dashboard.domain.routing import (
    DEFAULT_RULE_ID,
    PRIORITIES,
    Decision,
    Rule,
    RuleError,
    RuleSet,
    check_targets,
    diff,
    explain,
    fold,
    parse_rule_set,
    route_frame,
    route_one,
    rules_pointing_to,
)


def rule(id: str, target: str, **conditions) -> dict:
    return {"id": id, "name": conditions.pop("name", id.title()), "target_unit": target, **conditions}


DEMO = {
    "rules": [
        rule("buy", "sales", kinds=["mention"], keywords=["where to buy", "in stock", "discount"],
             priority="high", sla_hours=2),
        rule("leads", "sales", kinds=["lead"], sla_hours=4),
        rule("jobs", "hr", keywords=["hiring", "internship", "apply", "role"], sla_hours=24),
        rule("complaints", "customer_service", kinds=["complaint"]),
        rule("complaint-mentions", "customer_service", kinds=["mention"],
             pattern=r"refund|stopped working|damaged|late"),
        rule("reports", "finance", kinds=["report"], topics=["budget", "revenue"]),
        rule("insights", "product", kinds=["insight"], enabled=True),
        rule("promos", "customer_service", kinds=["promotion_notice"], sla_hours=24),
        rule("vip", "sales", segments=["enterprise"], enabled=False),
    ],
    "default": {"target_unit": None},
}


@pytest.fixture
def demo() -> RuleSet:
    return parse_rule_set(DEMO)


def test_priorities_and_default_id():
    assert PRIORITIES == ("high", "normal", "low")
    assert DEFAULT_RULE_ID == "default"


# --- folding ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, folded", [
    ("Café", "cafe"), ("CAFÉ", "cafe"), ("cafe", "cafe"), ("  Crème\t BRÛLÉE \n", "creme brulee"),
    ("Straße", "strasse"), ("ﬁle", "file"), (None, ""), (float("nan"), ""), ("", ""),
])
def test_fold(text, folded):
    assert fold(text) == folded


# --- precedence, default, disabled --------------------------------------------------------------------------


def test_first_enabled_matching_rule_wins(demo):
    # "apply" is a jobs keyword, but the mention also asks where to buy: buy comes first
    d = route_one(demo, {"kind": "mention", "text": "Where to buy the X200, and can I apply for a job?"})
    assert (d.target_unit, d.rule_id, d.priority, d.sla_hours) == ("sales", "buy", "high", 2.0)
    d = route_one(demo, {"kind": "mention", "text": "Are you hiring data analysts this year?"})
    assert (d.target_unit, d.rule_id, d.priority, d.sla_hours) == ("hr", "jobs", "normal", 24.0)


def test_reordering_changes_the_winner():
    data = {"rules": [DEMO["rules"][2], DEMO["rules"][0]]}
    d = route_one(parse_rule_set(data), {"kind": "mention", "text": "Where to buy the X200, and can I apply?"})
    assert d.rule_id == "jobs"


def test_conditions_and_across_fields_or_within(demo):
    # reports: kind report AND topic in (budget, revenue)
    assert route_one(demo, {"kind": "report", "topic": "revenue"}).rule_id == "reports"
    assert route_one(demo, {"kind": "report", "topic": "budget"}).rule_id == "reports"
    assert route_one(demo, {"kind": "report", "topic": "crm_export"}).rule_id is None
    assert route_one(demo, {"kind": "insight", "topic": "budget"}).rule_id == "insights"


def test_no_match_leaves_unrouted_when_default_has_no_target(demo):
    d = route_one(demo, {"kind": "request", "text": "please make a dashboard"})
    assert d == Decision(None, "normal", None, None, d.reason)
    assert not d.routed and "unrouted" in d.reason


def test_default_rule_routes_unmatched_items():
    rs = parse_rule_set({**DEMO, "default": {"target_unit": "customer_service", "priority": "low", "sla_hours": 48}})
    d = route_one(rs, {"kind": "request"})
    assert (d.target_unit, d.rule_id, d.priority, d.sla_hours) == ("customer_service", "default", "low", 48.0)
    assert "default rule" in d.reason


def test_disabled_rules_are_skipped(demo):
    assert route_one(demo, {"kind": "request", "segment": "enterprise"}).rule_id is None
    enabled = parse_rule_set({**DEMO, "rules": [{**r, "enabled": True} for r in DEMO["rules"]]})
    assert route_one(enabled, {"kind": "request", "segment": "enterprise"}).rule_id == "vip"


def test_empty_rule_set_routes_nothing():
    assert route_one(RuleSet(), {"kind": "lead"}).target_unit is None
    assert route_one(RuleSet(), {}).rule_id is None


# --- case, accents, spaces, whole words ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mention", "MENTION", " Mention ", "mentión"])
def test_categories_ignore_case_spaces_and_accents(demo, kind):
    assert route_one(demo, {"kind": kind, "text": "is it in stock?"}).rule_id == "buy"


def test_rule_values_are_folded_too():
    rs = parse_rule_set({"rules": [rule("c", "sales", channels=[" Social ", "E-Mail"])]})
    assert route_one(rs, {"channel": "social"}).rule_id == "c"
    assert route_one(rs, {"channel": "e-mail"}).rule_id == "c"
    assert route_one(rs, {"channel": "email"}).rule_id is None


@pytest.mark.parametrize("text, fires", [
    ("We love the Café!", True), ("CAFE opening hours", True), ("café", True), ("cafe-bar", True),
    ("cafeteria", False), ("the cafés", False), ("", False), (None, False), (float("nan"), False),
])
def test_keywords_whole_words_case_and_accent_insensitive(text, fires):
    rs = parse_rule_set({"rules": [rule("k", "sales", keywords=["café"])]})
    assert (route_one(rs, {"text": text}).rule_id == "k") is fires


@pytest.mark.parametrize("text, fires", [
    ("we hire now", True), ("HIRE!", True), ("(hire)", True), ("a hirer", False), ("rehire", False),
    ("hire_me", False), ("hire2", False),
])
def test_keyword_boundaries(text, fires):
    rs = parse_rule_set({"rules": [rule("k", "hr", keywords=["hire"])]})
    assert (route_one(rs, {"text": text}).rule_id == "k") is fires


def test_keyword_phrases_match_across_any_white_space():
    rs = parse_rule_set({"rules": [rule("k", "hr", keywords=["Data Analyst"])]})
    assert route_one(rs, {"text": "Any data\n  analyst roles?"}).rule_id == "k"
    assert route_one(rs, {"text": "Any data analysts?"}).rule_id is None


def test_keywords_with_symbols_are_literal():
    rs = parse_rule_set({"rules": [rule("k", "product", keywords=["c++", "#hiring", "a.b"])]})
    assert route_one(rs, {"text": "I code C++ daily"}).rule_id == "k"
    assert route_one(rs, {"text": "see #Hiring"}).rule_id == "k"
    assert route_one(rs, {"text": "axb"}).rule_id is None


def test_pattern_is_case_and_accent_insensitive():
    rs = parse_rule_set({"rules": [rule("p", "sales", pattern=r"caf[eé]\s+\d+")]})
    assert route_one(rs, {"text": "CAFÉ  42"}).rule_id == "p"
    assert route_one(rs, {"text": "cafe x"}).rule_id is None
    assert route_one(rs, {"text": None}).rule_id is None


def test_keywords_and_pattern_both_required_when_both_given():
    rs = parse_rule_set({"rules": [rule("b", "sales", keywords=["refund"], pattern=r"\d+ days")]})
    assert route_one(rs, {"text": "refund after 3 days"}).rule_id == "b"
    assert route_one(rs, {"text": "refund please"}).rule_id is None
    assert route_one(rs, {"text": "waited 3 days"}).rule_id is None


def test_missing_category_matches_no_list(demo):
    assert route_one(demo, {"text": "is it in stock?"}).rule_id is None  # buy needs kind mention
    assert route_one(demo, {"kind": None, "text": "are you hiring"}).rule_id == "jobs"  # jobs has no kind condition


# --- refused input ------------------------------------------------------------------------------------------


def problems_of(data) -> list[str]:
    with pytest.raises(RuleError) as err:
        parse_rule_set(data)
    assert str(err.value)  # readable as a whole too
    return err.value.problems


def test_invalid_pattern_refused_with_reason_and_position():
    problems = problems_of({"rules": [rule("jobs", "hr", pattern="(hiring")]})
    assert problems == ["rule 'jobs': pattern '(hiring' is not a valid regular expression: "
                        "missing ), unterminated subpattern at position 0"]
    (line,) = problems_of({"rules": [rule("x", "hr", pattern="ab[c")]})
    assert "unterminated character set at position 2" in line


@pytest.mark.parametrize("pattern", ["(a+)+", "(a*)*", r"(\w+\s?)*", "(?:x|y+)+$", "((ab)*c)+", "(?>(a+)+b)",
                                     "((a+)+)++", "x(?=(a+)+)", "(a+){2,}"])
def test_nested_quantifiers_refused(pattern):
    (line,) = problems_of({"rules": [rule("x", "hr", pattern=pattern)]})
    assert "catastrophic backtracking" in line and line.startswith("rule 'x': ")


@pytest.mark.parametrize("pattern", [r"(\d{1,3}\.){3}\d{1,3}", r"(?:ab)+", r"\w+ing\b", r"refund|late", "(?>a+)+b",
                                     "(a++)+b"])
def test_ordinary_patterns_accepted(pattern):
    parse_rule_set({"rules": [rule("x", "hr", pattern=pattern)]})


@pytest.mark.parametrize("pattern", ["a*", "x?", "^", r"\b", "(?:)", "a|"])
def test_patterns_matching_the_empty_string_refused(pattern):
    (line,) = problems_of({"rules": [rule("x", "hr", pattern=pattern)]})
    assert "empty string" in line


def test_long_pattern_refused():
    (line,) = problems_of({"rules": [rule("x", "hr", pattern="a" * 301)]})
    assert "301 characters" in line and "300" in line


def test_duplicate_ids_refused():
    problems = problems_of({"rules": [rule("jobs", "hr", kinds=["mention"]), rule("jobs", "sales", kinds=["lead"])]})
    assert problems == ["rule id 'jobs' is used by 2 rules; ids must be unique"]
    with pytest.raises(ValueError, match="unique"):
        RuleSet(rules=[Rule(**rule("a", "hr", kinds=["x"])), Rule(**rule("a", "hr", kinds=["y"]))])


def test_rule_without_condition_refused():
    (line,) = problems_of({"rules": [rule("all", "hr", kinds=[" "], keywords=["", "\u0301 "], pattern="  ")]})
    assert line == "rule 'all': the rule has no condition, so it would match every item: use the default rule instead"


@pytest.mark.parametrize("sla", [0, -1, float("inf"), float("nan")])
def test_sla_must_be_positive_and_finite(sla):
    (line,) = problems_of({"rules": [rule("x", "hr", kinds=["lead"], sla_hours=sla)]})
    assert "greater than 0" in line
    (line,) = problems_of({"default": {"sla_hours": sla}})
    assert line.startswith("the default rule: ")


def test_every_problem_is_reported_at_once():
    problems = problems_of({"rules": [
        rule("Bad Id", "hr", kinds=["x"]), rule("p", "hr", pattern="("), {"id": "n", "name": "", "target_unit": "hr"},
        rule("q", "hr", kinds=["x"], priority="urgent"),
    ], "default": {"priority": "now"}})
    assert len(problems) == 5, problems  # Bad Id, p, n (name), q, default
    assert any("Bad Id" in p and "slug" in p for p in problems)
    assert any(p.startswith("rule 'q': priority must be") for p in problems)
    assert any(p.startswith("the default rule: priority") for p in problems)


def test_not_a_mapping_refused():
    assert problems_of([1, 2]) and problems_of({"rules": "x"}) and problems_of({"rules": [], "extra": 1})


def test_check_targets():
    rs = parse_rule_set({**DEMO, "default": {"target_unit": "marketing"}})
    problems = check_targets(rs, ["sales", "hr", "customer_service", "finance"])
    assert problems[0].startswith("rule 'insights' sends items to 'product', which is not a spoke")
    assert problems[-1].startswith("the default rule sends items to 'marketing'")
    assert check_targets(parse_rule_set(DEMO), ["sales", "hr", "customer_service", "finance", "product"]) == []


# --- explain ------------------------------------------------------------------------------------------------


def test_explain_says_why_each_rule_did_or_did_not_match(demo):
    decision, traces = explain(demo, {"kind": "mention", "text": "My kettle arrived DAMAGED, need a refund"})
    assert decision.rule_id == "complaint-mentions"
    assert [t.rule_id for t in traces] == [r["id"] for r in DEMO["rules"]]
    by = {t.rule_id: t for t in traces}
    assert by["buy"].matched is False and any("none of the keywords" in r for r in by["buy"].reasons)
    assert by["leads"].reasons == ["kind 'mention' is not one of 'lead'"]
    assert by["complaint-mentions"].fired and by["complaint-mentions"].matched
    assert "kind 'mention' is one of 'mention'" in by["complaint-mentions"].reasons
    assert any("found 'damaged'" in r for r in by["complaint-mentions"].reasons)
    assert [t.rule_id for t in traces if t.fired] == ["complaint-mentions"]
    assert by["vip"].enabled is False and by["vip"].reasons[0] == "disabled: skipped"
    assert decision == route_one(demo, {"kind": "mention", "text": "My kettle arrived DAMAGED, need a refund"})


def test_explain_marks_shadowed_rules(demo):
    decision, traces = explain(demo, {"kind": "mention", "text": "in stock? also hiring?"})
    by = {t.rule_id: t for t in traces}
    assert by["buy"].fired and by["jobs"].matched and not by["jobs"].fired
    assert "shadowed" in by["jobs"].reasons[-1]


def test_explain_without_text(demo):
    _, traces = explain(demo, {"kind": "mention"})
    assert any("has no text" in r for r in traces[0].reasons)


# --- route_frame == route_one -------------------------------------------------------------------------------


def varied_frame(n: int = 3000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    texts = np.array(["Where to buy the X200?", "is it IN STOCK", "Are you hiring?", "hirer needed",
                      "My kettle stopped working", "refund!!", "Café au lait", "", "   ", None, float("nan"),
                      "apply for the role", "late delivery", "nothing to see"], dtype=object)
    kinds = np.array(["mention", "Mention ", "lead", "complaint", "report", "insight", "promotion_notice",
                      "request", None, "MENTIÓN"], dtype=object)
    topics = np.array(["budget", "revenue", "crm_export", None, " Budget"], dtype=object)
    segments = np.array(["enterprise", "consumer", None], dtype=object)
    return pd.DataFrame({
        "kind": kinds[rng.integers(0, len(kinds), n)],
        "channel": rng.choice(["social", "web", "email"], n),
        "topic": topics[rng.integers(0, len(topics), n)],
        "segment": segments[rng.integers(0, len(segments), n)],
        "text": texts[rng.integers(0, len(texts), n)],
    }, index=pd.RangeIndex(100, 100 + n) if seed % 2 else rng.permutation(n))


@pytest.mark.parametrize("dtype", [object, "str", "category"])
@pytest.mark.parametrize("default", [None, "finance"])
@pytest.mark.parametrize("seed", [7, 8])
def test_route_frame_matches_route_one(default, seed, dtype):
    data = {**DEMO, "default": {"target_unit": default, "priority": "low", "sla_hours": 12 if default else None}}
    data["rules"] = [{**r, "enabled": True} if r["id"] == "vip" and seed == 8 else r for r in data["rules"]]
    rs = parse_rule_set(data)
    items = varied_frame(n=600, seed=seed).astype(dtype)
    out = route_frame(rs, items)
    assert list(out.columns) == ["target_unit", "priority", "sla_hours", "rule_id"]
    assert out.index.equals(items.index)
    assert out["target_unit"].dtype == object and out["rule_id"].dtype == object
    assert out["sla_hours"].dtype == np.float64
    for idx, row in items.astype(object).iterrows():
        d = route_one(rs, row.to_dict())
        assert explain(rs, row.to_dict())[0] == d
        got = out.loc[idx]
        assert got["target_unit"] == d.target_unit, (row.to_dict(), got.to_dict(), d)
        assert got["rule_id"] == d.rule_id and got["priority"] == d.priority
        assert (math.isnan(got["sla_hours"]) and d.sla_hours is None) or got["sla_hours"] == d.sla_hours
    assert set(out.rule_id.dropna()) >= {"buy", "jobs", "complaints", "reports", "insights", "promos"}


def test_route_frame_without_optional_columns_and_empty():
    rs = parse_rule_set(DEMO)
    out = route_frame(rs, pd.DataFrame({"kind": ["lead", "report"]}))
    assert out.rule_id.tolist() == ["leads", None]
    assert out.target_unit.tolist() == ["sales", None]
    empty = route_frame(rs, pd.DataFrame({"kind": pd.Series([], dtype=object)}))
    assert empty.empty and list(empty.columns) == ["target_unit", "priority", "sla_hours", "rule_id"]


def test_route_frame_with_string_dtype_columns():
    rs = parse_rule_set(DEMO)
    items = pd.DataFrame({"kind": pd.array(["mention", None, "lead"], dtype="string"),
                          "text": pd.array(["Are you hiring", None, None], dtype="string")})
    assert route_frame(rs, items).rule_id.tolist() == ["jobs", None, "leads"]


def test_route_frame_is_fast_on_repeating_texts():
    rs = parse_rule_set(DEMO)
    items = pd.concat([varied_frame(20_000, seed=9)] * 10, ignore_index=True)  # 200k rows
    t0 = time.perf_counter()
    route_frame(rs, items)
    assert time.perf_counter() - t0 < 3.0  # per-row evaluation would take ~10 s; vectorised ~0.2 s


# --- rules_pointing_to and diff -----------------------------------------------------------------------------


def test_rules_pointing_to(demo):
    assert rules_pointing_to(demo, "customer_service") == ["Complaints", "Complaint-Mentions", "Promos"]
    assert rules_pointing_to(demo, "legal") == []
    rs = parse_rule_set({**DEMO, "default": {"target_unit": "hr"}})
    assert rules_pointing_to(rs, "hr") == ["Jobs", "the default rule"]


def test_diff_lists_added_removed_moved_and_changed(demo):
    new_rules = [dict(r) for r in DEMO["rules"] if r["id"] != "leads"]
    new_rules[0], new_rules[1] = new_rules[1], new_rules[0]  # jobs before buy
    new_rules[1] = {**new_rules[1], "keywords": ["where to buy"], "priority": "normal"}
    new_rules = [{**r, "enabled": False} if r["id"] == "promos" else r for r in new_rules]
    new_rules.append(rule("faq", "customer_service", keywords=["opening hours"]))
    new = parse_rule_set({"rules": new_rules, "default": {"target_unit": "customer_service"}})
    lines = diff(demo, new)
    assert "added rule 'Faq' (faq) at position 9: sends to 'customer_service'" in lines
    assert "removed rule 'Leads' (leads), was at position 2" in lines
    assert any(line.startswith("moved rule 'Jobs' (jobs)") for line in lines)
    assert "rule 'Buy' (buy): keywords where to buy, in stock, discount -> where to buy" in lines
    assert "rule 'Buy' (buy): priority 'high' -> 'normal'" in lines
    assert "disabled rule 'Promos' (promos)" in lines
    assert "the default rule: leave unrouted -> 'customer_service'" in lines
    assert diff(demo, demo) == []


def test_diff_from_nothing():
    rs = parse_rule_set(DEMO)
    lines = diff(None, rs)
    assert len(lines) == len(DEMO["rules"]) and all(line.startswith("added rule") for line in lines)


@pytest.mark.slow
def test_route_frame_matches_route_one_on_many_distinct_texts():
    """Thousands of distinct texts take the vectorised folding and keyword pre-filter (pyarrow) paths; the
    answers must still be route_one's, including odd white space and non-ASCII text."""
    base = ["Are you\tHIRING?", "where to\x1c buy", "WHERE  TO BUY", "Café\u00a0hiring", "ﬁnd a role",
            "hirer", "refund\n", "ΑΓΟΡΆ in stock", "stopped working", "internship\x0bplease"]
    n = 6000
    rng = np.random.default_rng(3)
    texts = [f"{base[i % len(base)]} #{i}" if i % 7 else None for i in range(n)]
    items = pd.DataFrame({"kind": rng.choice(["mention", "lead", "complaint"], n), "text": texts})
    rs = parse_rule_set(DEMO)
    for frame in (items, items.astype({"text": "str"})):
        out = route_frame(rs, frame)
        for idx, row in items.iterrows():
            assert out.at[idx, "rule_id"] == route_one(rs, row.to_dict()).rule_id, row.to_dict()
    assert {"buy", "jobs", "complaint-mentions", "leads", "complaints"} <= set(out.rule_id.dropna())


def test_diff_for_people_names_units_and_gives_the_sla_in_hours(demo):
    new_rules = [{**r, "target_unit": "finance", "sla_hours": 8.0} if r["id"] == "leads" else dict(r)
                 for r in DEMO["rules"]]
    new = parse_rule_set({"rules": new_rules, "default": {"target_unit": "customer_service"}})
    names = {"sales": "Sales", "finance": "Finance", "customer_service": "Customer service"}
    lines = diff(demo, new, names)
    assert "rule 'Leads' (leads): target unit Sales → Finance" in lines
    assert any(line.startswith("rule 'Leads' (leads): SLA ") and line.endswith("→ 8.0 h") for line in lines)
    assert "the default rule: leave unrouted → Customer service" in lines
