from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from newswatch.normalize import (
    Rejected,
    choose_published,
    clean_summary,
    clean_title,
    detect_language,
    html_to_text,
    normalize_entry,
    normalize_language,
    strip_boilerplate,
)
from newswatch.parse import RawEntry
from tests.helpers import gnews

TITLE_CASES = [
    ("Blinken arrives in Beijing - Reuters", ["Reuters"], "Blinken arrives in Beijing"),
    ("Xi and Biden talk | World news | The Guardian", ["The Guardian"], "Xi and Biden talk"),
    ("China’s exports fall – BBC News", ["BBC News"], "China’s exports fall"),
    ("Biden meets Xi - what we know", ["BBC"], "Biden meets Xi - what we know"),
    ("US-China: the long road - Analysis", ["Reuters"], "US-China: the long road - Analysis"),
    ("Trade talks resume &amp;#8217;quietly&amp;#8217;", [], "Trade talks resume ’quietly’"),
    ("<b>Bold</b> move   by\nBeijing", [], "Bold move by Beijing"),
    ("Tom &amp; Jerry &lt;3", [], "Tom & Jerry <3"),
    ("Cafe\u0301 talks", [], "Café talks"),
    ("Reuters", ["Reuters"], "Reuters"),
    ("Short - Reuters", ["Reuters"], "Short - Reuters"),
]


@pytest.mark.parametrize("raw, sources, expected", TITLE_CASES)
def test_clean_title(raw, sources, expected):
    assert clean_title(raw, sources) == expected


def test_google_news_titles_lose_their_source_suffix_whatever_it_says():
    assert clean_title("US adds firms to entity list - WSJ", [], pointer=True) == "US adds firms to entity list"


SUMMARY_CASES = [
    ("<p>Talks went well.</p><p>The post <a href='x'>Talks</a> appeared first on PBS News.</p>", "Talks went well."),
    ("Talks went well. Continue reading...", "Talks went well."),
    ("Talks went well. Continue reading…", "Talks went well."),
    ("Talks went well. Read more »", "Talks went well."),
    ("Talks went well. [&#8230;]", "Talks went well."),
    ("Talks went well. Share on Facebook", "Talks went well."),
    ("<p>Talks.</p><script>alert('x')</script><style>p{}</style>", "Talks."),
    ("Talks.<img src='x.jpg' alt='photo of Xi'/> More.", "Talks. More."),
    ("Line one<br/>line two", "Line one line two"),
    ("It&amp;#8217;s done", "It’s done"),
    ("Must read: something else", ""),
    ("", ""),
]


@pytest.mark.parametrize("raw, expected", SUMMARY_CASES)
def test_clean_summary(raw, expected):
    assert clean_summary(raw) == expected


def test_summary_falls_back_to_content_and_is_capped():
    assert clean_summary("", "<p>From content</p>") == "From content"
    long = clean_summary("word " * 1000)
    assert len(long) <= 2001 and long.endswith("…")


def test_boilerplate_stacked_tails_all_go():
    assert strip_boilerplate("Body. Read more. The post X appeared first on Y.") == "Body."


def test_html_to_text_survives_broken_markup():
    assert html_to_text("<p>unclosed <b>bold") == "unclosed bold"
    assert html_to_text("a < b and c > d") == "a < b and c > d"


NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "published, updated, expected_source",
    [
        (NOW - timedelta(hours=2), None, "published"),
        (None, NOW - timedelta(hours=3), "updated"),
        (None, None, "first_seen"),
        (datetime(1970, 1, 1, tzinfo=UTC), NOW - timedelta(days=1), "updated"),
        (datetime(1994, 12, 31, tzinfo=UTC), None, "first_seen"),
        (NOW + timedelta(days=30), None, "first_seen"),
        (NOW + timedelta(hours=2), None, "published"),
    ],
)
def test_published_at_fallbacks(published, updated, expected_source):
    when, source = choose_published(published, updated, NOW)
    assert source == expected_source
    assert when.tzinfo is not None and when.utcoffset() == timedelta(0)


def test_published_at_is_converted_to_utc():
    tokyo = timezone(timedelta(hours=9))
    when, _ = choose_published(datetime(2026, 11, 28, 9, tzinfo=tokyo), None, NOW)
    assert when == datetime(2026, 11, 28, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "code, expected",
    [("en-US", "en"), ("zh-Hans", "zh"), ("zh_CN", "zh"), ("EN", "en"), ("", None), (None, None), ("12", None)],
)
def test_language_codes(code, expected):
    assert normalize_language(code) == expected


def test_language_detection():
    assert detect_language("Blinken set to meet Chinese leaders as superpowers manage rivalry") == "en"
    assert detect_language("王毅同美国国务卿布林肯通电话") == "zh"
    assert detect_language("短") is None


def entry(**kw):
    base = {
        "guid": "g1",
        "link": "https://www.example.com/a?utm_source=rss",
        "title": "US and China hold talks",
        "summary": "<p>Officials met.</p>",
        "content": None,
        "published_text": format_datetime(NOW - timedelta(hours=1)),
        "updated_text": None,
    }
    base.update(kw)
    return RawEntry(**base)


def test_normalize_entry_fields():
    art = normalize_entry(entry(), fetched_at=NOW, feed_outlet="Example News", feed_language="en")
    assert art.canonical_url == "https://example.com/a"
    assert art.url == "https://www.example.com/a?utm_source=rss"
    assert art.title == "US and China hold talks" and art.summary == "Officials met."
    assert art.outlet == "Example News" and art.language == "en"
    assert art.published_at_source == "published" and art.normalizer_version == 1


def test_a_summary_that_only_repeats_the_headline_is_dropped():
    def summary_of(summary: str) -> str:
        return normalize_entry(entry(summary=summary), fetched_at=NOW, feed_outlet="Example News").summary

    # the same words, whatever the case, punctuation or a leading "The"
    assert summary_of("<p>The US and China hold talks!</p>") == ""
    assert summary_of("US and China -- hold talks ...") == ""
    # more words than the headline: a summary
    assert summary_of("US and China hold talks in Geneva") == "US and China hold talks in Geneva"
    assert summary_of("US and China hold talks" + " ..." * 40 + " 🇺🇸🇨🇳" * 40) == ""
    long = "US and China hold talks. " + "Officials met for two days and agreed on a schedule. " * 5
    assert summary_of(long) == long.strip()


def test_the_early_answer_for_ascii_summaries_agrees_with_comparing_keys():
    # _repeats_headline answers most ASCII summaries by counting word characters; it must give
    # what comparing the two keys gives, on summaries built to sit at the count's edges
    import random

    from newswatch.normalize import _label_key, _repeats_headline, _text_key

    rng = random.Random(5)
    words = ["US", "China", "the", "The", "talks", "hold", "a", "x_y", "2024", "café", "THE"]
    seps = [" ", "  ", " -- ", "! ", "... ", "\n", ", ", " 🇺🇸 ", "_"]
    checked = 0
    for _ in range(4000):
        title = "".join(rng.choice(words) + rng.choice(seps) for _ in range(rng.randint(1, 6)))
        picked = title.split() if rng.random() < 0.6 else [rng.choice(words) for _ in range(rng.randint(1, 7))]
        lead = rng.choice(["", "The ", "the  ", "THE\t", "...", "Theo "])
        summary = lead + "".join(w + rng.choice(seps) for w in picked)
        assert _repeats_headline(summary, title) == (_text_key(summary) == _label_key(title)), (summary, title)
        checked += summary.isascii() and _repeats_headline(summary, title)
    assert checked > 50  # the early path saw ASCII repeats, not only rejections


def test_normalize_entry_google_news_uses_source_and_drops_pointer_description():
    art = normalize_entry(
        entry(
            link=gnews("https://apnews.com/article/x"),
            title="Blinken lands in Beijing - Associated Press",
            summary='<a href="https://news.google.com/x">Blinken lands in Beijing</a>'
            "&nbsp;&nbsp;<font>Associated Press</font>",
            source_title="Associated Press",
            source_url="https://apnews.com",
        ),
        fetched_at=NOW,
        feed_outlet="Google News",
    )
    assert art.canonical_url == "https://apnews.com/article/x"
    assert art.outlet == "Associated Press" and art.title == "Blinken lands in Beijing" and art.summary == ""


@pytest.mark.parametrize(
    "kw, reason",
    [
        ({"link": None}, "missing_link"),
        ({"link": "javascript:void(0)"}, "bad_link"),
        ({"title": None}, "missing_title"),
        ({"title": "  <br/> "}, "missing_title"),
    ],
)
def test_normalize_entry_rejects_with_reason(kw, reason):
    result = normalize_entry(entry(**kw), fetched_at=NOW)
    assert isinstance(result, Rejected) and result.reason == reason


def test_script_never_survives_into_the_text():
    art = normalize_entry(
        entry(title="<script>alert(1)</script>Real title", summary="<script>document.cookie</script><p>Body</p>"),
        fetched_at=NOW,
    )
    assert "script" not in art.title.lower() and "alert" not in art.title
    assert "cookie" not in art.summary and art.summary == "Body"


def test_double_escaped_markup_is_removed_not_decoded_into_text():
    art = normalize_entry(
        entry(
            title="&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;Real title",
            summary="&amp;lt;img src=x onerror=alert(1)&amp;gt;Body",
        ),
        fetched_at=NOW,
    )
    for text in (art.title, art.title_raw, art.summary):
        assert "<" not in text and "alert" not in text
    assert art.title == "Real title" and art.summary == "Body"


def test_title_raw_is_the_published_headline_as_text():
    art = normalize_entry(
        entry(title="<b>Blinken</b> lands in Beijing - Reuters"), fetched_at=NOW, feed_outlet="Reuters"
    )
    assert art.title == "Blinken lands in Beijing" and art.title_raw == "Blinken lands in Beijing - Reuters"


def test_unstorable_characters_are_dropped():
    art = normalize_entry(
        entry(title="Biden\x00 and Xi \ud800meet", summary="a\x07b", guid="g\x001", link="https://ex.com/a\x00b"),
        fetched_at=NOW,
    )
    assert art.title == "Biden and Xi meet" and art.summary == "ab" and art.guid == "g1"
    assert "\x00" not in art.url


def test_raw_entries_kept_with_rejects_are_text():
    from newswatch.normalize import raw_for_storage

    raw = raw_for_storage({"title": "<script>x</script>T", "link": "a\x00b", "source": {"title": "<b>S</b>"}, "n": 3})
    assert raw == {"title": "T", "link": "ab", "source": {"title": "S"}, "n": 3}


@pytest.mark.parametrize("text", ["Mon, 04 Mar 2024 08:00:00 CST", "2024年03月04日 08:00", "2024-03-04 08:00:00"])
def test_an_asian_feeds_local_dates_are_read_in_its_time_zone(text):
    art = normalize_entry(entry(published_text=text), fetched_at=NOW, feed_timezone="Asia/Shanghai")
    assert art.published_at == datetime(2024, 3, 4, tzinfo=UTC) and art.published_at_source == "published"


def test_an_incomplete_date_falls_back_to_first_seen_and_says_so():
    art = normalize_entry(entry(published_text="03月04日 08:00"), fetched_at=NOW, feed_timezone="Asia/Shanghai")
    assert art.published_at == NOW and art.published_at_source == "first_seen"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Use &amp;lt;b&amp;gt; for bold", "Use <b> for bold"),  # literal text is never deleted
        ("a &lt;b&gt; c", "a <b> c"),
        ("&lt;p&gt;Escaped once&lt;/p&gt;", "Escaped once"),  # escaped markup, proven by its closing tag
    ],
)
def test_entities_are_decoded_once_unless_double_escaping_is_proven(raw, expected):
    assert html_to_text(raw) == expected


def test_boilerplate_needles_only_skip_patterns_that_cannot_match():
    # strip_boilerplate tries a pattern only when one of its needles is near the end: the result
    # must be what trying every pattern every time gives
    import random

    from newswatch.normalize import _BOILERPLATE_PATTERNS

    def every_pattern_every_time(text: str) -> str:
        previous = None
        while previous != text:
            previous = text
            for pattern, _, _ in _BOILERPLATE_PATTERNS:
                text = pattern.sub("", text).rstrip(" |-–—·•")
        return text.strip()

    tails = [
        "The post Talks resume appeared first on Example News.",
        "This article originally appeared on Example.com",
        "This story was first published in The Paper.",
        "Continue reading...",
        "KEEP READING »",
        "Read more at example.com →",
        "See the full story",
        "[…]",
        "[...]",
        "Share this on Facebook",
        "Tweet",
        "Email",
        "Related: China's exports fall",
        "READ MORE: the talks",
        "Photo: Reuters",
        "Video: the meeting",
        "| Share",
    ]
    rng = random.Random(3)
    body = "Officials in Washington and Beijing met again on Tuesday, and agreed to keep talking. "
    stripped = 0
    for _ in range(3000):
        text = body * rng.randint(0, 12) + " ".join(rng.choice(tails) for _ in range(rng.randint(0, 3)))
        if rng.random() < 0.3:
            text = text.upper() if rng.random() < 0.5 else text.lower()
        expected = every_pattern_every_time(text)
        assert strip_boilerplate(text) == expected, text
        stripped += expected != text.strip()
    assert stripped > 1000  # most texts had a tail to strip
