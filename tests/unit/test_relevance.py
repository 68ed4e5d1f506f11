import pytest

from newswatch.dev.evaluate import RELEVANCE_SET, STORY_SET, evaluate_relevance, load_jsonl, split_of
from newswatch.errors import RulesError
from newswatch.relevance import build_rules, load_rules

RULES = load_rules()


@pytest.mark.parametrize(
    "title, summary, relevant, topics",
    [
        ("Blinken set to meet Chinese leaders as superpowers manage rivalry",
         "The top US diplomat will press Beijing on Russia, fentanyl, Taiwan and export controls.", True,
         {"diplomacy", "taiwan", "fentanyl_law", "russia_third_parties", "technology"}),
        ("Beijing vows response after Washington adds 140 firms to list", "", True, {"diplomacy"}),
        ("王毅同美国国务卿布林肯通电话", "双方就中美关系交换意见。", True, {"diplomacy"}),
        ("外交部发言人就美方对华芯片出口管制答记者问", "", True, {"technology"}),
        ("Nvidia barred from selling H20 chips to China under new US rules", "", True, {"technology"}),
        ("China launches new rocket carrying three astronauts", "", False, set()),
        ("Philippines, China trade accusations over shoal collision", "", False, set()),
        ("NBA returns to China with preseason games in Macau", "The Nets and Suns play two games.", False, set()),
        ("Asian shares rise as Wall Street rallies", "", False, set()),
        ("The Washington Post reports on China's rocket launch", "", False, set()),
        ("习近平同俄罗斯总统普京举行会谈", "两国元首签署联合声明。", False, set()),
    ],
)
def test_rules(title, summary, relevant, topics):
    result = RULES.score(title, summary)
    assert result.is_relevant is relevant, result.terms
    assert topics <= set(result.topics)


def test_evidence_is_recorded():
    result = RULES.score("Rubio presses Wang Yi on fentanyl during call", "")
    assert result.terms["us"] == ["Rubio"] and result.terms["china"] == ["Wang Yi"]
    assert result.terms["topics"]["fentanyl_law"] == ["fentanyl"]
    assert result.version == RULES.version and RULES.version.startswith("1-")


def test_acronyms_match_only_in_capitals():
    assert RULES.score("Let us meet in China to talk trade", "").terms["us"] == []
    assert RULES.score("US and China to talk trade", "").terms["us"] == ["US"]


def test_rules_file_problems_are_clear():
    with pytest.raises(RulesError, match="weights.bilateral"):
        build_rules({"weights": {}}, {})
    with pytest.raises(RulesError, match="needs a name"):
        doc = {"weights": {k: 0.1 for k in ("bilateral", "both_sides", "both_in_title", "weak_sides", "topic",
                                           "topic_cap", "measure", "negative", "negative_cap",
                                           "negative_with_measure", "summary_weight")}}
        build_rules(doc, {"us": [{"aliases": ["x"]}]})


def test_dev_sets_are_big_enough_and_well_formed():
    items = load_jsonl(RELEVANCE_SET)
    assert sum(i["lang"] == "en" for i in items) >= 300 and sum(i["lang"] == "zh" for i in items) >= 60
    assert len({i["id"] for i in items}) == len(items)
    pairs = load_jsonl(STORY_SET)
    assert len(pairs) >= 150 and any(p["lang"] == "zh" for p in pairs)
    held_out = sum(split_of(i["id"]) == "held-out" for i in items) / len(items)
    assert 0.12 < held_out < 0.28


def test_relevance_quality_floor():
    labels, _, _ = evaluate_relevance()
    en = labels[("en", "all")]
    assert en.precision >= 0.95 and en.recall >= 0.95, en.row()
    zh = labels[("zh", "all")]
    assert zh.precision >= 0.85 and zh.recall >= 0.85, zh.row()


def test_story_clustering_quality_floor():
    from newswatch.dev.evaluate import evaluate_story_pairs

    results, _ = evaluate_story_pairs(load_jsonl(STORY_SET))
    pr = results[("all", "all")]
    assert pr.precision >= 0.95 and pr.recall >= 0.90, pr.row()
