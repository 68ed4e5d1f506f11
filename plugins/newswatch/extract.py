"""Article page (bytes as served) -> main body text and metadata. Pure: no network, no database.

Steps, each explained where it is done (1-2 in extract_html.py, 4 in extract_lines.py, 5 in
extract_walls.py; 3, the page's metadata and the whole in this module):
  1. `looks_like_html`: refuse PDFs, images, JSON, feeds and other non-pages before parsing.
  2. `decode_html`: bytes of any charset -> str (BOM, HTTP charset, <meta>, then detection),
     with legacy labels mapped to the supersets browsers really use (GB2312 -> GB18030, ...).
  3. trafilatura finds the main text, with two deliberate changes from its defaults: comments
     are left out and precision is favoured (see `Options`); balanced mode is the fallback.
  4. Post-processing adds what trafilatura misses and removes what it keeps but is not the
     article: body chunks split by ad slots are joined; the headline and standfirst repeated at
     the top, share/subscribe/newsletter prompts, "Related:" lines and link lists, reading-time
     and "Updated at" stamps and wire credits are dropped.
  5. Walls: a paywall, consent wall, JavaScript wall or bot check is recognised by its markers on
     the page combined with too little text (or less text than the feed summary), so an ordinary
     article that merely has a cookie banner stays 'ok'. Wall text is never stored.

Measured with newswatch.dev.extraction_eval on 88 real pages of the public article-extraction
benchmark: F1 0.982 (P 0.984, R 0.980) against 0.954 for trafilatura.extract() defaults; each
step of 3-4 is checked on held-out pages with a 2-fold split (`CANDIDATES`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime

import trafilatura
from lxml import etree
from lxml.html import HtmlElement

from .extract_html import decode_html, looks_like_html, not_html_reason
from .extract_lines import (
    CJK_RE,
    add_split_body,
    drop_link_lists,
    norm_line,
    strip_boilerplate_lines,
    strip_headline_lines,
    word_count,
)
from .extract_walls import drop_wall_text, find_wall

__all__ = [
    "CANDIDATES",
    "EXTRACTOR",
    "Extraction",
    "Options",
    "decode_html",
    "extract_article",
    "looks_like_html",
    "word_count",
]

EXTRACTOR_VERSION = 1
EXTRACTOR = f"trafilatura {trafilatura.__version__} / newswatch-extract {EXTRACTOR_VERSION}"


@dataclass(frozen=True)
class Extraction:
    status: str  # 'ok' | 'paywalled' | 'not_html' | 'extract_failed'
    text: str | None  # main body text, paragraphs separated by "\n" (None unless ok)
    title: str | None
    author: str | None
    published: datetime | None  # aware UTC when the page states an instant, else None
    language: str | None  # primary subtag: 'en', 'zh'
    word_count: int  # words of text; a Han ideograph or kana counts as one word
    extractor: str
    detail: str | None = None  # why, for non-ok statuses


@dataclass(frozen=True)
class Options:
    """Extraction settings. The defaults are what the pipeline uses; the other values exist so
    that newswatch.dev.extraction_eval can check each choice on held-out pages (CANDIDATES)."""

    # trafilatura.extract() appends reader comments by default. They are not the article: on one
    # development page the comments were four times longer than the article.
    include_comments: bool = False
    # favor_precision prunes link-heavy blocks, teasers and sidebars harder; on real pages it
    # removed far more boilerplate than body text (P +0.018, R -0.001 over comments left out).
    favor_precision: bool = True
    # Join body chunks that an ad slot split into sibling containers (add_split_body).
    merge_split_body: bool = True
    # Line filters: headline/standfirst, calls to action and related-links blocks, link lists.
    strip_headline: bool = True
    strip_boilerplate: bool = True
    drop_link_lists: bool = True


# What extraction_eval's 2-fold check chooses from: trafilatura's defaults with no post-processing,
# everything on, and everything on but one step (each step must earn its place on held-out pages).
_TRAFILATURA_DEFAULTS = Options(
    include_comments=True,
    favor_precision=False,
    merge_split_body=False,
    strip_headline=False,
    strip_boilerplate=False,
    drop_link_lists=False,
)
CANDIDATES = {
    "trafilatura defaults": _TRAFILATURA_DEFAULTS,
    "all (default)": Options(),
    **{
        f"all but {f.name}": replace(Options(), **{f.name: getattr(_TRAFILATURA_DEFAULTS, f.name)})
        for f in fields(Options)
    },
}


# ---------------------------------------------------------------------------------------------
# 4. Post-processing of trafilatura's lines (extract_lines.py), each step as Options say


def _clean_text(
    text: str, tree: HtmlElement, title: str | None, description: str | None, options: Options
) -> list[str]:
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if norm_line(line)]
    if options.merge_split_body:
        lines = add_split_body(lines, tree)
    if options.strip_headline:
        lines = strip_headline_lines(lines, tree, title, description)
    if options.strip_boilerplate:
        lines = strip_boilerplate_lines(lines)
    if options.drop_link_lists:
        lines = drop_link_lists(lines, tree)
    return lines


# ---------------------------------------------------------------------------------------------
# Metadata trafilatura does not give in the form we need

_LANG_RE = re.compile(r"^([a-z]{2,3})(?:$|[-_])", re.I)
_DECLARED_LANGUAGE = etree.XPath(
    "string((/html/@lang | /html/@xml:lang"
    " | //meta[translate(@http-equiv, 'CONTENTLAGU', 'contentlagu')='content-language']/@content"
    " | //meta[@property='og:locale']/@content)[1])",
    namespaces={"xml": "http://www.w3.org/XML/1998/namespace"},
)


def _language(tree: HtmlElement, text: str) -> str | None:
    """Primary language subtag from the page's declaration (<html lang>, Content-Language,
    og:locale); without one, CJK text is told by its script. Other undeclared languages are left
    to the caller, which has a language identifier (this module loads no model)."""
    match = _LANG_RE.match(_DECLARED_LANGUAGE(tree).strip())
    if match:
        return match.group(1).lower()
    sample = text[:2000]
    if re.search(r"[\u3040-\u30ff]", sample):
        return "ja"
    if re.search(r"[\uac00-\ud7af]", sample):
        return "ko"
    return "zh" if CJK_RE.search(sample) else None


_PUBLISHED_XPATH = etree.XPath(
    "//meta[@property='article:published_time' or @name='article:published_time'"
    " or @itemprop='datePublished' or @name='parsely-pub-date' or @name='pubdate'"
    " or @name='publishdate' or @name='publish-date' or @name='sailthru.date'"
    " or @name='dc.date.issued' or @name='DC.date.issued' or @name='dcterms.created']/@content"
    " | //time[@itemprop='datePublished']/@datetime"
)
_EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)  # CMS placeholders are 0001-01-01


def _instant(value: str) -> datetime | None:
    """Aware UTC datetime of an ISO 8601 timestamp that carries its offset. A bare date, or a time
    without offset, does not say which instant it is: None."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    parsed = parsed.astimezone(UTC)
    return parsed if parsed >= _EARLIEST_PLAUSIBLE else None


def _json_ld_dates(tree: HtmlElement):
    """datePublished of the page's own JSON-LD nodes (top level and @graph), not of nested ones:
    a fact-check's itemReviewed or a quoted work has its own, older date."""
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        if "datePublished" not in script:
            continue
        try:
            data = json.loads(script, strict=False)
        except ValueError:
            continue
        for node in data if isinstance(data, list) else [data]:
            if not isinstance(node, dict):
                continue
            graph = node.get("@graph")
            for item in [node, *(graph if isinstance(graph, list) else [])]:
                if isinstance(item, dict) and isinstance(item.get("datePublished"), str):
                    yield item["datePublished"]


def _published(tree: HtmlElement) -> datetime | None:
    """The first exact publication instant the page states: JSON-LD, then meta/time tags.
    (trafilatura's date is a day without time zone, so it is not used.)"""
    for value in (*_json_ld_dates(tree), *_PUBLISHED_XPATH(tree)):
        instant = _instant(value)
        if instant:
            return instant
    return None


# ---------------------------------------------------------------------------------------------

# Below this, what was found is a fragment (a caption, "Loading...", an error line), not an
# article: the shortest wire briefs run to a few dozen words.
MIN_ARTICLE_WORDS = 10


def _trafilatura(tree: HtmlElement, url: str | None, options: Options, favor_precision: bool):
    return trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=options.include_comments,
        favor_precision=favor_precision,
        # htmldate's extensive search reads every date-like string on the page: slow, and only the
        # day it finds would be used anyway (`published` comes from structured data).
        date_extraction_params={"extensive_search": False},
    )


def extract_article(
    body: bytes,
    *,
    url: str | None = None,
    content_type: str | None = None,
    feed_summary: str | None = None,
    options: Options = Options(),
) -> Extraction:
    """Main text and metadata of an article page. `feed_summary`, when the feed gave one, helps
    tell a paywall teaser from the article: text shorter than the summary is not the article.

    An empty body is 'extract_failed' rather than 'not_html': it says nothing about the URL (a
    timeout or an error page can give it), so a later fetch may do better."""
    failed = Extraction("extract_failed", None, None, None, None, None, 0, EXTRACTOR)
    if not body or not body.strip():
        return replace(failed, detail="empty body")
    if not looks_like_html(body, content_type):
        return replace(failed, status="not_html", detail=not_html_reason(body, content_type))

    html = decode_html(body, content_type)
    tree = trafilatura.load_html(html)
    if tree is None:
        return replace(failed, detail="unparseable HTML")
    document = _trafilatura(tree, url, options, options.favor_precision)
    if document is None and options.favor_precision:
        # Precision mode can discard everything on a sparse page; balanced mode (which retries
        # with recall settings by itself) is the fallback before giving up.
        document = _trafilatura(tree, url, options, favor_precision=False)
    title = author = None
    text = ""
    if document is not None:
        title, author = document.title, document.author
        # NFC as trafilatura.extract() does; comments (when asked for) after the body, likewise.
        raw = "\n".join(part for part in (document.text, document.comments) if part)
        lines = _clean_text(unicodedata.normalize("NFC", raw), tree, title, document.description, options)
        text = "\n".join(drop_wall_text(lines, tree))

    words, summary_words = word_count(text), word_count(feed_summary)
    wall = find_wall(tree, html, words, summary_words)
    if wall:
        detail = f"{wall[0].kind}: {wall[1]!r} and {words} words"
        if words < summary_words:
            detail += f", fewer than the feed summary's {summary_words}"
        return replace(failed, status="paywalled", title=title, author=author, detail=detail)
    if words < MIN_ARTICLE_WORDS:
        detail = (
            "no main text found"
            if document is None
            else f"only {words} words of text"
            if words
            else "only boilerplate found"
        )
        return replace(failed, title=title, author=author, detail=detail)
    return Extraction(
        status="ok",
        text=text,
        title=title,
        author=author,
        published=_published(tree),
        language=_language(tree, text),
        word_count=words,
        extractor=EXTRACTOR,
    )
