import json
import time
from datetime import UTC
from pathlib import Path

import feedparser
import pytest

from newswatch.errors import FeedParseError, NotAFeed
from newswatch.parse import compact_prolog, parse_feed, strip_internal_dtd

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "realfeeds"
DEMO = Path(__file__).resolve().parents[2] / "demo" / "feeds"

RSS2 = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>
<title>T</title><link>https://ex.com/</link><language>en-us</language><ttl>120</ttl>
<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
<item><title>One &amp; two</title><link>https://ex.com/1</link><guid>g1</guid>
<pubDate>Tue, 24 Nov 2026 10:00:00 +0800</pubDate><description>&lt;p&gt;Hi&lt;/p&gt;</description></item>
</channel></rss>"""


def test_rss2_fields_and_hints():
    feed = parse_feed(RSS2)
    assert feed.format == "rss20" and feed.language == "en-us"
    assert feed.ttl_minutes == 120 and feed.update_period_minutes == 720
    e = feed.entries[0]
    assert (e.guid, e.link, e.title) == ("g1", "https://ex.com/1", "One & two")
    assert e.published_text == "Tue, 24 Nov 2026 10:00:00 +0800"
    assert e.raw["link"] == "https://ex.com/1"


@pytest.mark.parametrize(
    "doc, fmt",
    [
        (
            b'<rss version="0.91"><channel><title>t</title><item><title>a</title><link>http://x/1</link></item></channel></rss>',
            "rss091u",
        ),
        (
            b'<rss version="0.92"><channel><title>t</title><item><title>a</title><link>http://x/1</link></item></channel></rss>',
            "rss092",
        ),
        (
            b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">'
            b'<channel rdf:about="x"><title>t</title></channel><item rdf:about="http://x/1"><title>a</title><link>http://x/1</link></item></rdf:RDF>',
            "rss10",
        ),
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><title>a</title><link href="http://x/1"/>'
            b"<id>urn:1</id><updated>2026-11-20T10:00:00Z</updated></entry></feed>",
            "atom10",
        ),
        (
            b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>t</title><entry><title>a</title>'
            b'<link rel="alternate" type="text/html" href="http://x/1"/><id>urn:1</id><issued>2026-11-20T10:00:00Z</issued></entry></feed>',
            "atom03",
        ),
    ],
)
def test_every_feed_format_loads(doc, fmt):
    feed = parse_feed(doc)
    assert feed.format == fmt
    assert feed.entries[0].link == "http://x/1" and feed.entries[0].title == "a"


def test_json_feed():
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "language": "en",
        "items": [
            {
                "id": 1,
                "url": "https://ex.com/j",
                "title": "JSON item",
                "content_html": "<p>x</p>",
                "date_published": "2026-11-20T10:00:00-05:00",
                "authors": [{"name": "A"}],
            },
            {"id": "2", "title": "no url"},
        ],
    }
    feed = parse_feed(json.dumps(doc).encode(), content_type="application/feed+json")
    assert feed.format == "json1.1" and len(feed.entries) == 2
    assert feed.entries[0].guid == "1" and feed.entries[0].author == "A"
    assert feed.entries[0].published_text == "2026-11-20T10:00:00-05:00"
    assert feed.entries[1].link is None
    with pytest.raises(NotAFeed):
        parse_feed(b'{"hello": "world"}')
    with pytest.raises(FeedParseError):
        parse_feed(b'{"version": "https://jsonfeed.org/version/1", ', content_type="application/json")


def test_html_page_is_not_a_feed():
    with pytest.raises(NotAFeed, match="HTML page"):
        parse_feed(b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>hi</p></body></html>")
    for blank in (b"", b"   ", b" \t\r\n\x0b\x0c"):
        with pytest.raises(NotAFeed, match="empty response body"):
            parse_feed(blank)


def test_truncated_feed_is_a_parse_error():
    with pytest.raises(FeedParseError):
        parse_feed((REAL / "rss_2.0_invalid_1.xml").read_bytes())


def test_ill_formed_feed_is_recovered_and_flagged():
    doc = b'<rss version="2.0"><channel><title>t</title><item><title>a &nbsp; b</title><link>http://x/1</link></item></channel></rss>'
    feed = parse_feed(doc)
    assert feed.bozo and feed.entries[0].title.replace("\xa0", " ").split() == ["a", "b"]


def test_xxe_does_not_read_local_files():
    doc = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
    <rss version="2.0"><channel><title>t</title><item><title>x&xxe;y</title><link>http://x/1</link>
    <description>&xxe;</description></item></channel></rss>"""
    feed = parse_feed(doc)
    text = (feed.entries[0].title or "") + (feed.entries[0].summary or "")
    assert "root:" not in text
    assert "DTD internal subset removed" in feed.bozo


def test_billion_laughs_finishes_fast_and_small():
    lol = "".join(f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(1, 10))
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{lol}]>'
        '<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
        "<link>http://x/1</link></item></channel></rss>"
    ).encode()
    started = time.monotonic()
    feed = parse_feed(doc)
    assert time.monotonic() - started < 2
    assert len(feed.entries[0].title or "") < 1000


def test_strip_internal_dtd_keeps_public_doctype():
    doc = b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" "http://x/rss-0.91.dtd"><rss/>'
    assert strip_internal_dtd(doc) == (doc, False)
    body, stripped = strip_internal_dtd(b'<!DOCTYPE x [<!ENTITY a "]>">]><rss/>')
    assert stripped and body == b"<!DOCTYPE x ><rss/>"


def test_internal_dtd_is_found_behind_any_amount_of_prolog():
    # The entity block must go wherever the DOCTYPE sits: a fixed window (it was 64 KiB) could
    # be padded past with whitespace or comments, and the entities would reach the parser.
    padding = b"<!-- " + b"x" * 70_000 + b" -->" + b" \n" * 40_000
    doc = (
        b'<?xml version="1.0"?>' + padding + b'<!DOCTYPE rss [<!ENTITY e "expanded">]>'
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>a &e;</title><link>http://x/1</link></item></channel></rss>"
    )
    body, stripped = strip_internal_dtd(doc)
    assert stripped and b"<!ENTITY" not in body and len(padding) > 128 * 1024
    assert parse_feed(doc).entries[0].title == "a &e;"  # the reference is left unexpanded


def test_prolog_whitespace_and_comments_are_dropped_before_feedparser_reads_them():
    # feedparser's prolog patterns are quadratic in blank lines; a padded prolog must not reach it
    doc = (
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- a -->' + b"\n" * 50_000 + b"<?xml-stylesheet href='s.xsl'?>\n"
        b'<!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" "http://x/rss-0.91.dtd">\n  <rss version="0.91">\n'
        b"<channel><title>t</title><item><title>a</title><link>http://x/1</link></item></channel></rss>"
    )
    compact = compact_prolog(doc)
    assert compact.startswith(
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<?xml-stylesheet href=\'s.xsl\'?>\n<!DOCTYPE rss PUBLIC "-//Netscape'
    )
    assert compact.endswith(doc[doc.index(b'<rss version="0.91">') :])
    assert compact_prolog(compact) == compact and len(compact) < 1000
    feed = parse_feed(doc + b"<unclosed>")  # ill-formed, so feedparser reads it
    assert feed.format == "rss091n" and feed.entries[0].link == "http://x/1"


def test_feedparser_is_handed_the_compacted_prolog(monkeypatch):
    import feedparser

    import newswatch.parse as parse_module

    seen: list[bytes] = []
    real = feedparser.parse
    monkeypatch.setattr(parse_module.feedparser, "parse", lambda body, **kw: seen.append(body) or real(body, **kw))
    doctype = b"<!DOCTYPE rss" + b"\n" * 30_000 + b' PUBLIC "-//Netscape//DTD RSS 0.91//EN" "http://x/rss-0.91.dtd">'
    doc = b'<?xml version="1.0"?>' + b"\n" * 30_000 + doctype + b'<rss version="0.91"><channel><title>t</title>'
    feed = parse_feed(doc + b"<item><title>a</title><link>http://x/1</link></item></channel></rss><unclosed>")
    assert feed.format == "rss091n" and feed.entries[0].link == "http://x/1"
    (handed,) = seen
    assert handed.startswith(b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape') and len(handed) < 500


@pytest.mark.parametrize("encoding, text", [("gbk", "中美关系"), ("gb18030", "王毅会见布林肯"), ("big5", "美國國務卿")])
def test_chinese_encodings_from_xml_declaration(encoding, text):
    doc = (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>{text}</title><link>http://x/1</link></item></channel></rss>"
    ).encode(encoding)
    assert parse_feed(doc).entries[0].title == text


def test_charset_from_http_header_and_bom():
    doc = '<rss version="2.0"><channel><title>t</title><item><title>中美</title><link>http://x/1</link></item></channel></rss>'
    assert parse_feed(doc.encode("gbk"), content_type="application/rss+xml; charset=gbk").entries[0].title == "中美"
    assert parse_feed(b"\xef\xbb\xbf" + doc.encode("utf-8")).entries[0].title == "中美"


REAL_FEEDS = sorted(p for p in REAL.iterdir() if p.suffix in (".xml", ".rss") and p.name != "rss_2.0_invalid_1.xml")


@pytest.mark.parametrize("path", REAL_FEEDS, ids=lambda p: p.name)
def test_real_feeds_parse_with_the_same_entry_count_as_feedparser(path):
    body = path.read_bytes()
    assert len(parse_feed(body).entries) == len(feedparser.parse(body).entries) > 0


@pytest.mark.parametrize("path", sorted(DEMO.iterdir()), ids=lambda p: p.name)
def test_demo_feeds_parse(path):
    assert len(parse_feed(path.read_bytes()).entries) >= 8


FIXTURES = REAL_FEEDS + sorted(DEMO.iterdir())


def _fast_path_documents():
    from newswatch.parse import fast_parse

    return [p for p in FIXTURES if fast_parse(p.read_bytes()) is not None]


def _articles(entries):
    from datetime import datetime

    from newswatch.normalize import normalize_entry

    now = datetime(2026, 11, 28, tzinfo=UTC)
    return [
        vars(a) if not hasattr(a, "reason") else a.reason
        for a in (normalize_entry(e, fetched_at=now, feed_outlet="X") for e in entries)
    ]


@pytest.mark.parametrize("path", _fast_path_documents(), ids=lambda p: p.name)
def test_fast_path_gives_the_same_articles_as_feedparser(path):
    from newswatch.parse import _entry_from_feedparser, fast_parse

    body = path.read_bytes()
    fast = fast_parse(body, url="https://example.com/feed")
    slow = feedparser.parse(body, response_headers={"content-location": "https://example.com/feed"})
    assert _articles(fast.entries) == _articles([_entry_from_feedparser(e) for e in slow.entries])
    assert (fast.ttl_minutes, fast.language) == (
        int(slow.feed["ttl"]) if slow.feed.get("ttl") else None,
        slow.feed.get("language"),
    )


def test_fast_path_covers_most_fixtures_and_steps_aside_for_the_rest():
    from newswatch.parse import fast_parse

    assert len(_fast_path_documents()) >= 25
    assert fast_parse((REAL / "rss_2.0_invalid_1.xml").read_bytes()) is None  # ill-formed
    assert fast_parse((DEMO / "dw_world.rdf").read_bytes()) is None  # RSS 1.0
    doc = '<?xml version="1.0" encoding="gbk"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    assert fast_parse(doc.encode("gbk"), content_type="text/xml; charset=utf-8") is None  # charsets disagree


def test_internal_dtd_with_comments_and_instructions_is_removed_cleanly():
    doc = (
        b"<?xml version=\"1.0\"?><!DOCTYPE rss [<!-- don't trip on ' or ] here -->"
        b'<?pi it\'s fine ?><!ENTITY e "x">]><rss version="2.0"><channel><title>t</title>'
        b"<item><title>a</title><link>http://x/1</link></item></channel></rss>"
    )
    body, stripped = strip_internal_dtd(doc)
    assert stripped and body.startswith(b'<?xml version="1.0"?><!DOCTYPE rss ><rss')
    assert parse_feed(doc).entries[0].link == "http://x/1"
