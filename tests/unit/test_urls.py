import pytest

from newswatch.errors import UnusableURL
from newswatch.urls import canonicalize_url, decode_google_news_url
from tests.helpers import gnews

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


def test_the_fast_path_for_plain_urls_agrees_with_w3lib():
    """canonicalize_url skips w3lib for URLs it would leave as they are; the answers must agree."""
    import re

    from newswatch import urls as module

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
    fast = [module.canonicalize_url(u) for u in urls]
    plain, module._PLAIN_RE = module._PLAIN_RE, re.compile(r"(?!)")  # never plain: always w3lib
    try:
        assert fast == [module.canonicalize_url(u) for u in urls]
    finally:
        module._PLAIN_RE = plain
