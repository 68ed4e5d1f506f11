import base64
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from newswatch.normalize import (
    Rejected,
    UnusableURL,
    canonicalize_url,
    choose_published,
    clean_summary,
    clean_title,
    decode_google_news_url,
    detect_language,
    html_to_text,
    normalize_entry,
    normalize_language,
    strip_boilerplate,
)
from newswatch.parse import RawEntry


def gnews(url: str) -> str:
    raw = url.encode()
    token = base64.urlsafe_b64encode(b"\x08\x13\x22" + bytes([len(raw)]) + raw + b"\xd2\x01\x00").decode().rstrip("=")
    return f"https://news.google.com/rss/articles/{token}?oc=5"


URL_CASES = [
    # scheme, host, port
    ("http://example.com/a", "https://example.com/a"),
    ("HTTPS://EXAMPLE.COM/a", "https://example.com/a"),
    ("https://Example.Com:443/a", "https://example.com/a"),
    ("http://example.com:80/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("https://www.example.com/a", "https://example.com/a"),
    ("https://www2.example.com/a", "https://www2.example.com/a"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com.", "https://example.com/"),
    ("//example.com/a", "https://example.com/a"),
    ("https://bücher.example/a", "https://xn--bcher-kva.example/a"),
    ("  https://example.com/a  ", "https://example.com/a"),
    # fragments
    ("https://example.com/a#comments", "https://example.com/a"),
    ("https://example.com/a?x=1#top", "https://example.com/a?x=1"),
    # tracking parameters
    ("https://example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=world", "https://example.com/a"),
    ("https://example.com/a?UTM_Source=x", "https://example.com/a"),
    ("https://example.com/a?utm_content=x&id=7", "https://example.com/a?id=7"),
    ("https://example.com/a?fbclid=IwAR0abc", "https://example.com/a"),
    ("https://example.com/a?gclid=xyz&gclsrc=aw.ds", "https://example.com/a"),
    ("https://example.com/a?mc_cid=1&mc_eid=2", "https://example.com/a"),
    ("https://www.bbc.com/news/articles/cp8?at_medium=RSS&at_campaign=KARANGA", "https://bbc.com/news/articles/cp8"),
    (
        "https://www.nytimes.com/2024/04/24/world/asia/blinken.html?smid=rss",
        "https://nytimes.com/2024/04/24/world/asia/blinken.html",
    ),
    ("https://www.nytimes.com/x.html?smid=nytcore-ios-share&smtyp=cur", "https://nytimes.com/x.html"),
    ("https://edition.cnn.com/x?cmpid=rss", "https://edition.cnn.com/x"),
    ("https://www.msn.com/en-us/news/x?ocid=BingNewsSearch", "https://msn.com/en-us/news/x"),
    ("https://www.nbcnews.com/x?taid=6629", "https://nbcnews.com/x"),
    ("https://www.theguardian.com/x?CMP=share_btn_tw", "https://theguardian.com/x"),
    ("https://www.dw.com/en/x/a-74893021?maca=en-rss-en-world-4025-rdf", "https://dw.com/en/x/a-74893021"),
    ("https://example.com/a?_ga=2.1&_gl=1*abc", "https://example.com/a"),
    ("https://example.com/a?msclkid=1&yclid=2&igshid=3", "https://example.com/a"),
    ("https://example.com/a?mkt_tok=abc&_hsenc=x&_hsmi=y", "https://example.com/a"),
    ("https://example.com/a?itm_source=home&itm_campaign=z", "https://example.com/a"),
    ("https://www.wsj.com/articles/x?mod=rss_world", "https://wsj.com/articles/x"),
    ("https://example.com/a?source=rss", "https://example.com/a"),
    ("https://example.com/a?ref=rss&x=1", "https://example.com/a?x=1"),
    ("https://example.com/a?at_custom1=a&at_custom4=b", "https://example.com/a"),
    ("https://example.com/a?xtor=RSS-1", "https://example.com/a"),
    # meaningful parameters are kept, sorted
    ("https://example.com/article.php?id=123", "https://example.com/article.php?id=123"),
    ("https://example.com/?p=4567", "https://example.com/?p=4567"),
    ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
    ("https://example.com/a?page=2&utm_source=x", "https://example.com/a?page=2"),
    ("https://example.com/a?cid=12345", "https://example.com/a?cid=12345"),
    ("https://example.com/a?source=reuters-wire-9", "https://example.com/a?source=reuters-wire-9"),
    ("https://example.com/a?ref=abc123", "https://example.com/a?ref=abc123"),
    ("https://example.com/a?mod=article_inline", "https://example.com/a?mod=article_inline"),
    ("https://example.com/search?q=US%20China", "https://example.com/search?q=US+China"),
    ("https://example.com/a?x=", "https://example.com/a?x="),
    # paths: case kept, encoding normalised
    ("https://example.com/News/Article-ABC", "https://example.com/News/Article-ABC"),
    ("https://example.com/a%7eb", "https://example.com/a~b"),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://example.com/%E4%B8%AD%E7%BE%8E", "https://example.com/%E4%B8%AD%E7%BE%8E"),
    ("https://example.com/中美关系", "https://example.com/%E4%B8%AD%E7%BE%8E%E5%85%B3%E7%B3%BB"),
    ("https://example.com/a/", "https://example.com/a/"),
    ("https://example.com/index.html", "https://example.com/index.html"),
    # AMP variants
    ("https://amp.theguardian.com/world/2024/apr/24/x", "https://theguardian.com/world/2024/apr/24/x"),
    ("https://www.bbc.co.uk/news/amp/world-asia-123", "https://bbc.co.uk/news/world-asia-123"),
    ("https://site.com/2023/06/post/amp/", "https://site.com/2023/06/post/"),
    ("https://site.com/2023/06/post/amp", "https://site.com/2023/06/post"),
    ("https://japantoday.com/amp/category/politics/x", "https://japantoday.com/category/politics/x"),
    ("https://example.com/story.amp.html", "https://example.com/story.html"),
    ("https://example.com/a?amp", "https://example.com/a"),
    ("https://example.com/a?amp=1", "https://example.com/a"),
    ("https://example.com/a?outputType=amp", "https://example.com/a"),
    ("https://example.com/amplifier/a", "https://example.com/amplifier/a"),
    ("https://example.com/a?amp=false", "https://example.com/a?amp=false"),
    (
        "https://www-bbc-com.cdn.ampproject.org/c/s/www.bbc.com/news/amp/world-asia-1",
        "https://bbc.com/news/world-asia-1",
    ),
    # Google News pointers
    (gnews("https://www.example.com/news/blinken-china?utm_source=gn"), "https://example.com/news/blinken-china"),
    (
        "https://news.google.com/rss/articles/AU_yqLopaqueid123?oc=5",
        "https://news.google.com/rss/articles/AU_yqLopaqueid123",
    ),
]


def test_at_least_sixty_url_cases():
    assert len(URL_CASES) >= 60


@pytest.mark.parametrize("raw, expected", URL_CASES)
def test_canonical_url(raw, expected):
    assert canonicalize_url(raw) == expected


@pytest.mark.parametrize("raw, expected", URL_CASES[:20])
def test_canonical_url_is_idempotent(raw, expected):
    assert canonicalize_url(canonicalize_url(raw)) == canonicalize_url(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "javascript:alert(1)",
        "mailto:x@y.z",
        "ftp://x/y",
        "/relative/path",
        "https://",
        "https://example.com:99999/a",
    ],
)
def test_unusable_urls_raise(raw):
    with pytest.raises(UnusableURL):
        canonicalize_url(raw)


def test_media_cloud_traps_distinct_articles_stay_distinct():
    # lower-casing paths or dropping ?id= would merge these
    assert canonicalize_url("https://example.com/Story/A") != canonicalize_url("https://example.com/story/a")
    assert canonicalize_url("https://example.com/a.php?id=1") != canonicalize_url("https://example.com/a.php?id=2")


def test_google_news_decoding_ignores_new_opaque_ids():
    assert decode_google_news_url("https://news.google.com/rss/articles/AU_yqLxyz") is None
    assert decode_google_news_url("https://example.com/rss/articles/CBMi") is None


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


def test_the_fast_path_for_plain_urls_agrees_with_w3lib():
    """canonicalize_url skips w3lib for URLs it would leave as they are; the answers must agree."""
    import re

    from newswatch import normalize

    urls = [c[0] for c in URL_CASES] + [
        "https://ex.com/a/./b/../c?x=1&a=2",
        "https://ex.com/~user/p-1_2.html?b=&a",
        "https://ex.com",
        "http://EX.com:80/A?Z=1&z=2&Z=0",
        "https://ex.com/a?x=1&x=0",
        "https://ex.com/path//double?q=a.b~c",
        "https://ex.com/caf%C3%A9?q=%E4%B8%AD",
        "https://ex.com/a b?c=d e",
        "https://ex.com/a?b=1;c=2",
    ]
    fast = [normalize.canonicalize_url(u) for u in urls]
    plain, normalize._PLAIN_RE = normalize._PLAIN_RE, re.compile(r"(?!)")  # never plain: always w3lib
    try:
        assert fast == [normalize.canonicalize_url(u) for u in urls]
    finally:
        normalize._PLAIN_RE = plain
