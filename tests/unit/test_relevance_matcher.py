"""The term matcher's index (relevance_matcher.TermMatcher) never changes what matches: at each
position the winner is the first term of the position's bucket that matches, in the bucket's
order, exactly as trying every term of the bucket would find it."""

from __future__ import annotations

from newswatch.dev.evaluate import RELEVANCE_SET, STORY_SET, load_jsonl
from newswatch.relevance import load_rules
from newswatch.relevance_matcher import TermMatcher, prepare_text, tokenize


def every_term_tried(matcher: TermMatcher, tokens: list[str]) -> list[tuple[str, str, int, int]]:
    """find_tokens by definition: every position, every term of its bucket in order (no pair
    index, no pre-filter of start positions), without the descriptor and "former" rules, which
    act on the winner alone."""
    lowered = [t.lower() for t in tokens]
    found, i = [], 0
    while i < len(tokens):
        best = next((t for t in matcher._by_first.get(lowered[i], ()) if matcher._matches(t, tokens, lowered, i)), None)
        if best is None and len(lowered[i]) >= 3:
            bucket = matcher._prefix_single.get(lowered[i][:3], ())
            best = next((t for t in bucket if matcher._matches(t, tokens, lowered, i)), None)
        if best is None:
            i += 1
            continue
        found.append((best.text, i, i + len(best.tokens)))
        i += len(best.tokens)
    return found


def winners(matcher: TermMatcher, tokens: list[str]) -> list[tuple[str, int, int]]:
    plain = TermMatcher.__new__(TermMatcher)
    plain.__dict__.update(matcher.__dict__, _descriptors=frozenset(), _former=frozenset())
    return sorted({(text, start, end) for _, text, start, end in plain.find_tokens(tokens, spans=True)})


def texts() -> list[str]:
    rows = load_jsonl(RELEVANCE_SET) + [side for pair in load_jsonl(STORY_SET) for side in (pair["a"], pair["b"])]
    return [prepare_text(f"{r['title']} {r.get('summary') or ''}") for r in rows] + [
        # one first word, many terms: the longest that matches wins, whatever the case says
        "US Secretary of State Blinken met U.S. Trade Representative Tai; the US-China talks",
        "us and the US and U.S. and US. and Chinese Foreign Ministry spokesperson and Chinese",
        "美国国务院 美国 美 中国外交部 中方 中",
    ]


def test_the_index_finds_what_trying_every_term_finds():
    rules = load_rules()
    checked = 0
    for matcher in (rules.side_matcher, rules.context_matcher):
        for text in texts():
            tokens = tokenize(text)
            expected = sorted(set(every_term_tried(matcher, tokens)))
            assert winners(matcher, tokens) == expected, text
            checked += bool(expected)
    assert checked > 500  # most texts name a term: the comparison is not between empty lists


def test_prepare_text_makes_every_dash_and_quote_ascii_as_the_table_says():
    import unicodedata

    from newswatch.relevance_matcher import DASHES

    rows = load_jsonl(RELEVANCE_SET)
    samples = [f"{r['title']} {r.get('summary') or ''}" for r in rows]
    samples.append("US\u2013China \u2014 \u2018talks\u2019 \u2010 \u2011 \u2212 ﬁnal ＵＳ")
    non_ascii = [s for s in samples if not s.isascii()]
    assert len(non_ascii) > 50
    for text in samples:
        assert prepare_text(text) == unicodedata.normalize("NFKC", text).translate(DASHES), text
