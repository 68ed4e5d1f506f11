"""Article full-text extraction (newswatch.extract) and its scorer (newswatch.dev.extraction_eval).

Pages are made up here, except in the last test, which scores the real pages of the shared
article set when it is present."""

from datetime import UTC, datetime

import pytest

from newswatch.dev.extraction_eval import DEFAULT_DIR, evaluate, fold_of, score_page, shingles
from newswatch.extract import EXTRACTOR, decode_html, extract_article, looks_like_html, word_count

EN_PARAGRAPHS = [
    (
        "Negotiators from Washington and Beijing met again on Tuesday in Geneva to discuss tariffs, "
        "export controls and the timetable for the next round of talks, officials on both sides said."
    ),
    (
        "The meeting lasted more than six hours and ended without a joint statement, although a "
        "spokesman for the commerce ministry described the atmosphere as constructive and candid."
    ),
    (
        "Analysts said the main obstacle remained the sequencing of tariff cuts, with each side "
        "unwilling to move first on the measures the other regards as the most damaging."
    ),
    (
        "A second session is planned for next month, when agricultural purchases and the treatment "
        "of technology companies are expected to be at the top of the agenda for both delegations."
    ),
    (
        "Business groups in both countries welcomed the resumption of the talks but warned that "
        "uncertainty over tariffs was already delaying investment decisions across the region."
    ),
]
ZH_PARAGRAPHS = [
    "中美两国谈判代表星期二在日内瓦再次会面，讨论关税、出口管制以及下一轮谈判的时间表，双方官员均表示会谈坦诚而务实。",
    "前总理朱镕基曾多次强调对外开放的重要性。分析人士指出，目前的主要障碍仍然是削减关税的先后顺序，双方都不愿率先让步。",
    "商务部发言人表示，会谈持续了六个多小时，气氛建设性，双方同意下个月继续举行第二轮会谈，重点讨论农产品采购问题。",
    "两国的商业团体对恢复谈判表示欢迎，但警告说，关税方面的不确定性已经推迟了整个地区的投资决定，影响了供应链的稳定。",
    "一些企业负责人在吉祥物𠮷野家的发布会上表示，他们希望谈判能够尽快取得实质性进展，以便为明年的经营计划提供依据。",
]


def page(paragraphs, *, title="Trade talks resume in Geneva", head="", before="", after="", lang="en"):
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><title>{title}</title>{head}</head><body>'
        f'<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li></ul></nav>{before}'
        f"<article><h1>{title}</h1>{body}</article>{after}"
        f'<footer><a href="/privacy">Privacy</a> <a href="/terms">Terms</a></footer></body></html>'
    )


# --- decoding ---------------------------------------------------------------------------------


def test_gb2312_declared_page_decodes_as_gb18030_and_extracts():
    """Pages labelled GB2312 use GBK characters (镕) and even GB18030's four-byte ones (𠮷)."""
    html = page(
        ZH_PARAGRAPHS,
        title="中美贸易谈判在日内瓦恢复",
        lang="zh-CN",
        head='<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
    )
    body = html.encode("gb18030")
    with pytest.raises(UnicodeEncodeError):
        html.encode("gb2312")  # the page really needs the superset
    assert decode_html(body) == html
    assert decode_html(body, "text/html; charset=GBK") == html

    result = extract_article(body, url="https://example.cn/a")
    assert result.status == "ok"
    assert "朱镕基" in result.text and "𠮷野家" in result.text
    assert result.language == "zh" and result.title == "中美贸易谈判在日内瓦恢复"
    # Han characters count one word each: no paragraph has spaces, yet the count is in hundreds
    assert result.word_count >= sum(len(p) for p in ZH_PARAGRAPHS) * 0.8


def test_big5_page_from_http_header_uses_hkscs():
    paragraphs = [
        "香港的茶餐廳啲奶茶好飲㗎，不少遊客專程前來品嚐。中美兩國談判代表星期二在日內瓦再次會面，討論關稅與出口管制。",
        "分析人士指出，目前的主要障礙仍然是削減關稅的先後順序，雙方都不願率先讓步，會談持續了六個多小時。",
        "兩國的商業團體對恢復談判表示歡迎，但警告說，關稅方面的不確定性已經推遲了整個地區的投資決定。",
        "商務部發言人表示，雙方同意下個月繼續舉行第二輪會談，重點討論農產品採購以及科技企業的待遇問題。",
    ]
    html = page(paragraphs, title="中美貿易談判恢復", lang="zh-HK")
    body = html.encode("big5hkscs")
    with pytest.raises(UnicodeEncodeError):
        html.encode("big5")
    assert decode_html(body, "text/html; charset=big5") == html
    result = extract_article(body, content_type="text/html; charset=Big5")
    assert result.status == "ok" and "啲奶茶好飲㗎" in result.text


def test_charset_only_in_meta():
    """No charset in the header: <meta charset> decides. Shift_JIS pages use cp932's extensions."""
    text = "①髙島屋の売り上げは前年比で増加した。" + "日本と中国の貿易交渉について、関係者は建設的だったと述べた。" * 8
    html = page([text], title="日本の記事", head='<meta charset="Shift_JIS">', lang="ja")
    assert decode_html(html.encode("cp932"), "text/html") == html
    cyrillic = page(
        ["Переговоры возобновились во вторник в Женеве, сообщили официальные лица." * 5],
        head='<meta http-equiv="content-type" content="text/html; charset=windows-1251">',
    )
    assert decode_html(cyrillic.encode("cp1251"), None) == cyrillic


@pytest.mark.parametrize(
    "label, codec, text",
    [
        ("gb2312", "gb18030", "Premier Zhu Rongji (朱镕基) spoke at 𠮷野家."),
        ("GBK", "gb18030", "Premier Zhu Rongji (朱镕基) spoke."),
        ("big5", "big5hkscs", "Cha chaan teng: 啲奶茶好飲㗎 says the sign."),
        ("Shift_JIS", "cp932", "Takashimaya ①髙島屋 sales rose."),
        ("euc-kr", "cp949", "Seoul 똠방각하 talks."),
        ("iso-8859-1", "cp1252", "He said \u201cno\u201d \u2014 twice."),
    ],
)
def test_legacy_labels_decode_with_the_superset(label, codec, text):
    """Mostly-ASCII pages with a few such characters: detection alone gets these wrong, so the
    declared label, mapped to the codec browsers use for it, has to decide."""
    html = f'<html><head><meta charset="{label}"><title>x</title></head><body><p>{text}</p></body></html>'
    assert decode_html(html.encode(codec)) == html
    assert decode_html(html.encode(codec), f"text/html; charset={label}") == html


def test_charset_precedence_and_fallbacks():
    html = page([*EN_PARAGRAPHS[:1], "Café, naïve — “quoted” text."])
    utf8 = html.encode("utf-8")
    # the BOM wins over a header that disagrees
    assert decode_html(b"\xef\xbb\xbf" + utf8, "text/html; charset=iso-8859-1") == html
    assert decode_html(html.encode("utf-16"), "text/html") == html
    # a header naming ISO-8859-1 (a common server default) loses to valid UTF-8
    assert decode_html(utf8, "text/html; charset=ISO-8859-1") == html
    # a real windows-1252 page labelled so stays windows-1252 (0x93/0x94 are curly quotes)
    assert decode_html(html.replace("—", "-").encode("cp1252"), "text/html; charset=iso-8859-1") == html.replace(
        "—", "-"
    )
    # a header charset the bytes cannot be is skipped for the <meta> one
    gbk = page(ZH_PARAGRAPHS, head='<meta charset="gbk">', lang="zh")
    assert decode_html(gbk.encode("gb18030"), "text/html; charset=utf-8") == gbk
    # no label at all: detection
    assert decode_html(page(ZH_PARAGRAPHS * 3, lang="zh").encode("gb18030")) == page(ZH_PARAGRAPHS * 3, lang="zh")
    # unknown label: ignored
    assert decode_html(utf8, "text/html; charset=x-no-such-charset") == html


# --- what is HTML -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, content_type, expected",
    [
        (b"<!DOCTYPE html><html><body><p>x</p></body></html>", "text/html", True),
        (b"\xef\xbb\xbf  <!doctype html><html><p>x</p></html>", None, True),
        (b"<html><head><title>t</title></head><body>x</body></html>", "text/plain", True),
        (b"<div><p>no html element but markup</p></div>", "application/octet-stream", True),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf", False),
        (b"%PDF-1.4 served with a wrong header", "text/html; charset=utf-8", False),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None, False),
        (b'{"title": "<p>not a page</p>"}', "text/html", False),
        (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>', None, False),
        (b"<html><body>x</body></html>", "image/jpeg", False),
        (b"\x00\x01\x02\x03binary junk", "application/octet-stream", False),
        (b"just some plain text, no markup at all", "text/plain", False),
        (b"", "text/html", False),
    ],
)
def test_looks_like_html(body, content_type, expected):
    assert looks_like_html(body, content_type) is expected


def test_pdf_and_empty_bodies():
    pdf = extract_article(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>", content_type="application/pdf")
    assert (pdf.status, pdf.text, pdf.detail) == ("not_html", None, "PDF body (declared application/pdf)")
    sniffed = extract_article(b"%PDF-1.4\n...", content_type=None)
    assert sniffed.status == "not_html" and sniffed.detail == "PDF body"
    empty = extract_article(b"", content_type="text/html")
    assert (empty.status, empty.text, empty.word_count, empty.detail) == ("extract_failed", None, 0, "empty body")
    assert extract_article(b"  \n ").status == "extract_failed"
    assert pdf.extractor == empty.extractor == EXTRACTOR


# --- main text --------------------------------------------------------------------------------


def test_article_text_and_metadata():
    head = (
        '<meta name="author" content="Jane Doe">'
        '<meta property="article:published_time" content="2026-11-20T08:30:00+01:00">'
    )
    html = page(
        EN_PARAGRAPHS,
        head=head,
        lang="en-GB",
        after="<p>Sign up for our daily newsletter to get the news in your inbox.</p>",
    )
    result = extract_article(html.encode(), url="https://example.com/news/1")
    assert result.status == "ok" and result.detail is None
    assert result.text.split("\n") == EN_PARAGRAPHS  # no headline, no menu, no newsletter prompt
    assert result.title == "Trade talks resume in Geneva" and result.author == "Jane Doe"
    assert result.published == datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
    assert result.language == "en"
    assert result.word_count == sum(len(p.split()) for p in EN_PARAGRAPHS)


def test_published_needs_an_offset_and_prefers_the_articles_own_json_ld():
    naive = page(EN_PARAGRAPHS, head='<meta property="article:published_time" content="2026-11-20 08:30:00">')
    assert extract_article(naive.encode()).published is None  # no offset: which instant is unknown
    ld = (
        '<script type="application/ld+json">{"@type": "ClaimReview", "datePublished": "2026-11-19T10:00:00Z",'
        ' "itemReviewed": {"@type": "CreativeWork", "datePublished": "2020-01-01T00:00:00Z"}}</script>'
    )
    assert extract_article(page(EN_PARAGRAPHS, head=ld).encode()).published == datetime(2026, 11, 19, 10, tzinfo=UTC)


def test_boilerplate_lines_are_dropped_but_article_sentences_kept():
    tail = [
        "Related: Trade talks stall over farm purchases",
        "Follow us on Twitter and Facebook for the latest updates.",
        "Reporting by Jane Doe; Editing by John Roe",
        "5 min read",
    ]
    kept = "Officials said farmers could sign up for the new export programme from January."
    result = extract_article(page([*EN_PARAGRAPHS, kept, *tail]).encode())
    assert result.status == "ok"
    assert result.text.split("\n") == [*EN_PARAGRAPHS, kept]


def test_reader_comments_are_not_article_text():
    comments = "".join(
        f'<li class="comment"><div class="comment-author">reader{i}</div><div class="comment-content">'
        f"<p>I completely disagree with this analysis of the tariffs, comment number {i}.</p></div></li>"
        for i in range(8)
    )
    html = page(
        EN_PARAGRAPHS,
        after=f'<section id="comments" class="comments-area"><h2>8 comments</h2>'
        f'<ol class="comment-list">{comments}</ol></section>',
    )
    result = extract_article(html.encode())
    assert result.text.split("\n") == EN_PARAGRAPHS


def test_article_split_by_an_ad_slot_is_joined():
    chunk = '<div class="body article__body">{}</div>'
    html = (
        f'<html><head><title>Split</title></head><body><article><div class="chunks">'
        f'<div class="grid">{chunk.format("".join(f"<p>{p}</p>" for p in EN_PARAGRAPHS[:2] * 3))}'
        f'<aside class="rail"><div class="ad">Advertisement</div></aside></div>'
        f'<div class="full-bleed-ad"><span>Advertisement</span></div>'
        f'<div class="grid">{chunk.format("".join(f"<p>{p}</p>" for p in EN_PARAGRAPHS[2:] * 2))}</div>'
        f"</div></article></body></html>"
    )
    text = extract_article(html.encode()).text
    assert all(p in text for p in EN_PARAGRAPHS)
    assert text.index(EN_PARAGRAPHS[0]) < text.index(EN_PARAGRAPHS[4])


def test_page_with_only_navigation_fails():
    links = "".join(f'<li><a href="/section/{i}">Section number {i} of the site</a></li>' for i in range(40))
    html = (
        f'<html lang="en"><head><title>Sections</title></head><body><header><nav><ul>{links}</ul></nav>'
        f'</header><footer><a href="/about">About us</a></footer></body></html>'
    )
    result = extract_article(html.encode())
    assert result.status == "extract_failed" and result.text is None and result.word_count == 0
    fragment = extract_article(b"<html><body><div><p>Loading, please wait</p></div></body></html>")
    assert (fragment.status, fragment.detail) == ("extract_failed", "only 3 words of text")


# --- walls ------------------------------------------------------------------------------------


def test_paywall_stub():
    html = page(
        EN_PARAGRAPHS[:1],
        after='<div class="paywall"><h3>Subscribe to continue reading</h3>'
        '<p>Get unlimited access for $1 a week. <a href="/login">Log in</a></p></div>',
    )
    result = extract_article(html.encode())
    assert result.status == "paywalled" and result.text is None
    assert result.detail.startswith("paywall: 'subscribe to continue reading'")
    assert result.title == "Trade talks resume in Geneva"


def test_teaser_shorter_than_the_feed_summary_is_a_paywall():
    """A teaser too long to count as short is still a teaser when the feed gave more text."""
    teaser = [f"{p} ({i})" for i in range(2) for p in EN_PARAGRAPHS]
    html = page(teaser, after='<p class="wall">This article is for subscribers only.</p>')
    assert word_count("\n".join(teaser)) > 150
    assert extract_article(html.encode()).status == "ok"
    result = extract_article(html.encode(), feed_summary=" ".join(teaser * 2))
    assert result.status == "paywalled" and "fewer than the feed summary's" in result.detail


def test_consent_wall():
    html = (
        '<html><head><title>Before you continue</title></head><body><div id="onetrust-banner-sdk">'
        "<h2>We value your privacy</h2><p>We and our partners store and/or access information on a "
        "device, such as cookies, and process personal data, such as unique identifiers and standard "
        "information sent by a device for personalised ads and content, ad and content measurement, "
        "and audience insights, as well as to develop and improve products.</p>"
        "<button>Accept all cookies</button><button>Reject all</button></div></body></html>"
    )
    result = extract_article(html.encode())
    assert (result.status, result.text) == ("paywalled", None)
    assert result.detail.startswith("consent wall:")


def test_javascript_wall():
    html = (
        "<html><head><title>App</title></head><body><noscript>You need to enable JavaScript to run "
        'this app.</noscript><div id="root"></div></body></html>'
    )
    result = extract_article(html.encode())
    assert result.status == "paywalled" and result.detail.startswith("javascript wall:")


def test_long_article_with_cookie_banner_is_ok_and_banner_not_stored():
    banner = (
        '<div class="gdpr-box"><p>We and our partners use cookies and similar technologies to store '
        "and access information on your device in order to serve personalised ads and content and to "
        "measure audiences.</p><p>Accept all cookies</p></div>"
    )
    # the banner inside the article's container, where trafilatura takes it for body text
    paragraphs = [f"{p} ({i})" for i in range(2) for p in EN_PARAGRAPHS]
    html = page([*paragraphs[:3], f"</p>{banner}<p>{paragraphs[3]}", *paragraphs[4:]])
    result = extract_article(html.encode())
    assert result.status == "ok"
    assert result.text.split("\n") == paragraphs
    # a short article (not a wall) next to a cookie banner is not taken for a consent wall either
    short = extract_article(page(EN_PARAGRAPHS[:2], before=banner).encode())
    assert short.status == "ok" and short.text.split("\n") == EN_PARAGRAPHS[:2]


# --- counting and scoring ---------------------------------------------------------------------


def test_word_count():
    assert word_count("Trade talks resume, officials say.") == 5
    assert word_count("中美贸易谈判") == 6
    assert word_count("日本語のテキスト and English") == 10
    assert word_count("한국 무역 협상") == 3  # Korean separates its words
    assert word_count(None) == word_count("") == 0


def test_shingles():
    assert shingles("a b c d e") == {("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1}
    assert shingles("A b, c!") == {("A", "b", "c"): 1}  # fewer than 4 tokens: one short run, case kept
    assert shingles("x y z w x y z w") == {
        ("x", "y", "z", "w"): 2,
        ("y", "z", "w", "x"): 1,
        ("z", "w", "x", "y"): 1,
        ("w", "x", "y", "z"): 1,
    }
    assert not shingles("") and not shingles(" ... ")


def test_score_page_hand_computed():
    # truth: 6 tokens -> 3 shingles (a b c d)(b c d e)(c d e f)
    # predicted: 7 tokens -> 4 shingles, of which (b c d e)(c d e f) match: P = 2/4, R = 2/3
    assert score_page("x b c d e f g", "a b c d e f") == (0.5, pytest.approx(2 / 3))
    assert score_page("a b c d e f", "a b c d e f") == (1.0, 1.0)
    # counts with multiplicity: the truth has (x y z w) twice, predicted once -> R = 1/2... of 5
    truth, predicted = "x y z w x y z w", "x y z w"
    assert score_page(predicted, truth) == (1.0, 1 / 5)
    assert score_page(truth, predicted) == (1 / 5, 1.0)
    # case is kept and punctuation ignored
    assert score_page("Trade talks resume today", "trade talks resume today") == (0.0, 0.0)
    assert score_page("Trade, talks; resume today!", "Trade talks resume today") == (1.0, 1.0)
    # empty cases
    assert score_page("", "") == (1.0, 1.0)
    assert score_page(None, "a b c d") == (0.0, 0.0)
    assert score_page("a b c d", "") == (0.0, 1.0)


def test_fold_is_stable_and_splits_both_ways():
    ids = [f"page-{i}" for i in range(200)]
    folds = [fold_of(i) for i in ids]
    assert folds == [fold_of(i) for i in ids] and 60 < sum(folds) < 140


@pytest.mark.slow
def test_real_pages_score():
    """The shared benchmark pages: mean F1 must stay >= 0.96 (trafilatura defaults: 0.954)."""
    if not (DEFAULT_DIR / "ground-truth.json").exists():
        pytest.skip(f"no article set at {DEFAULT_DIR} ($NEWSWATCH_ARTICLES)")
    result = evaluate(DEFAULT_DIR)
    assert result["pages"] == 88
    assert result["f1"] >= 0.96, result
    assert result["statuses"] == {"ok": 88}  # none of these real articles is taken for a wall
