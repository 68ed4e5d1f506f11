"""The poll's memory of texts it already scored and fingerprinted (pipeline._ScoredTexts)."""

from types import SimpleNamespace

from newswatch.fingerprints import fingerprint
from newswatch.normalize import content_hash
from newswatch.pipeline import _ScoredTexts
from newswatch.relevance import load_rules
from newswatch.stopwatch import Stopwatch
from tests.helpers import CountingRules


def article(title, summary):
    return SimpleNamespace(title=title, summary=summary, content_hash=content_hash(title, summary))


def remembered(memo, run_id, rules, art):
    """The memory's answer for one article (the poll asks for a feed's at once)."""
    (result,) = memo.get_many(run_id, rules, [art], Stopwatch())
    return result


TITLE = "Blinken set to meet Chinese leaders as superpowers manage rivalry"
SUMMARY = "The US secretary of state will meet Chinese leaders in Beijing, with Taiwan and fentanyl on the table."


def test_a_repeated_text_is_scored_once_and_gets_the_same_answer():
    rules = CountingRules(load_rules())
    memo = _ScoredTexts()
    first = remembered(memo, "r1", rules, article(TITLE, SUMMARY))
    again = remembered(memo, "r1", rules, article(TITLE, SUMMARY))
    assert rules.calls == 1 and again == first
    assert first == (rules.rules.score(TITLE, SUMMARY), fingerprint(TITLE, SUMMARY))
    assert first[0].is_relevant
    remembered(memo, "r1", rules, article(TITLE, SUMMARY + " More."))
    assert rules.calls == 2  # another text


def test_another_run_or_other_rules_score_afresh():
    rules = CountingRules(load_rules())
    memo = _ScoredTexts()
    remembered(memo, "r1", rules, article(TITLE, SUMMARY))
    remembered(memo, "r2", rules, article(TITLE, SUMMARY))
    assert rules.calls == 2


def test_other_rules_score_afresh_and_the_memory_is_bounded():
    memo = _ScoredTexts()
    memo.SIZE = 2
    old, new = CountingRules(load_rules()), CountingRules(load_rules())
    remembered(memo, "r1", old, article(TITLE, SUMMARY))
    remembered(memo, "r1", new, article(TITLE, SUMMARY))
    assert (old.calls, new.calls) == (1, 1)
    for i in range(3):
        remembered(memo, "r1", new, article(f"{TITLE} {i}", SUMMARY))
    assert len(memo.texts) == 2
    remembered(memo, "r1", new, article(TITLE, SUMMARY))  # evicted: scored again
    assert new.calls == 5


def test_a_feed_is_scored_in_one_pass_each_text_once_and_one_failure_stays_its_own():
    rules = CountingRules(load_rules(), fails_on="odd")
    memo = _ScoredTexts()
    remembered(memo, "r1", rules, article(TITLE, SUMMARY))  # known before the feed
    feed = [
        article(TITLE, SUMMARY),
        article("odd", SUMMARY),
        article("Other news", "Nothing to do with either side."),
        article("Other news", "Nothing to do with either side."),
    ]
    watch = Stopwatch()
    results = memo.get_many("r1", rules, feed, watch)
    assert rules.calls == 2  # the first call, then "Other news" once: the known text and the repeat are not scored
    assert results[0] == remembered(memo, "r1", rules, article(TITLE, SUMMARY))
    assert isinstance(results[1], ValueError)
    assert (
        results[2]
        == results[3]
        == (
            rules.rules.score("Other news", "Nothing to do with either side."),
            fingerprint("Other news", "Nothing to do with either side."),
        )
    )
    assert set(watch.seconds) == {"relevance", "fingerprint"}
    assert content_hash("odd", SUMMARY) not in memo.texts  # a failure is not remembered
