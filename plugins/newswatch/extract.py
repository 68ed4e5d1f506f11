"""Article page (bytes as served) -> main body text and metadata. Pure: no network, no database.

Steps, each explained where it is done:
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

import codecs
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from itertools import pairwise

import trafilatura
from charset_normalizer import from_bytes
from lxml import etree
from lxml.html import HtmlElement

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
    # Join body chunks that an ad slot split into sibling containers (_add_split_body).
    merge_split_body: bool = True
    # Line filters: headline/standfirst, calls to action and related-links blocks, link lists.
    strip_headline: bool = True
    strip_boilerplate: bool = True
    drop_link_lists: bool = True


# What extraction_eval's 2-fold check chooses from: trafilatura's defaults with no post-processing,
# everything on, and everything on but one step (each step must earn its place on held-out pages).
_TRAFILATURA_DEFAULTS = Options(include_comments=True, favor_precision=False, merge_split_body=False,
                                strip_headline=False, strip_boilerplate=False, drop_link_lists=False)
CANDIDATES = {
    "trafilatura defaults": _TRAFILATURA_DEFAULTS,
    "all (default)": Options(),
    **{f"all but {f.name}": replace(Options(), **{f.name: getattr(_TRAFILATURA_DEFAULTS, f.name)})
       for f in fields(Options)},
}

# ---------------------------------------------------------------------------------------------
# 1. Is it an HTML page at all?

_NOT_HTML_MAGIC = (
    (b"%PDF-", "PDF"),
    (b"\x89PNG", "PNG image"),
    (b"GIF8", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"RIFF", "RIFF media"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"\xd0\xcf\x11\xe0", "MS Office document"),
    (b"OggS", "Ogg media"),
    (b"\x00\x00", "binary data"),  # ISO media (MP4/MOV) and most other binary formats
)
_FEED_RE = re.compile(rb"^(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:rdf)\b", re.I | re.S)
_HTML_MIME = {"text/html", "application/xhtml+xml"}
# Declared types that are never an article page, whatever the body looks like.
_NON_HTML_MIME_RE = re.compile(
    r"^(?:image|audio|video|font|model)/|^application/(?:pdf|json|[\w.-]+\+json|zip|gzip|msword"
    r"|vnd\.|x-|javascript|ecmascript|rss\+xml|atom\+xml|rdf\+xml)|^text/(?:css|csv|javascript|calendar|xml)"
)
_HTML_START_RE = re.compile(rb"^(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b", re.I | re.S)
_HTML_TAG_RE = re.compile(rb"<(?:html|head|body|div|p|article|title)[\s>]", re.I)


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _ascii_head(body: bytes, size: int = 4096) -> bytes:
    """The start of the body as ASCII-compatible bytes, so that UTF-16 pages are sniffed too."""
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            return body[2:size * 2].decode(codec, "replace").encode("ascii", "replace").lstrip()
    return body[:size].removeprefix(codecs.BOM_UTF8).lstrip()


def _sniff_not_html(body: bytes) -> str | None:
    """What the body is when its first bytes say it is not an HTML page, else None."""
    head = _ascii_head(body)
    for magic, kind in _NOT_HTML_MAGIC:
        if head.startswith(magic):
            return kind
    if head[:1] in (b"{", b"["):
        return "JSON"
    if _FEED_RE.match(head):
        return "RSS/Atom feed"
    return None


def looks_like_html(body: bytes, content_type: str | None = None) -> bool:
    """True when the body is an HTML page. A body whose first bytes say otherwise (PDF, image,
    JSON, feed) is never HTML, whatever the header says; otherwise an HTML type decides, a
    non-HTML type refuses, and a missing or vague one (text/plain, octet-stream: servers send
    them for HTML too) leaves it to the markup."""
    if not body or not body.strip() or _sniff_not_html(body):
        return False
    mime = _mime(content_type)
    if mime in _HTML_MIME:
        return True
    if _NON_HTML_MIME_RE.search(mime):
        return False
    head = _ascii_head(body)
    return b"\x00" not in head and bool(_HTML_START_RE.match(head) or _HTML_TAG_RE.search(head))


def _not_html_reason(body: bytes, content_type: str | None) -> str:
    kind, mime = _sniff_not_html(body), _mime(content_type)
    if kind:
        return f"{kind} body" + (f" (declared {mime})" if mime else "")
    return f"declared {mime}" if mime else "no HTML markup"


# ---------------------------------------------------------------------------------------------
# 2. Bytes -> str

# Legacy labels -> the codec browsers really decode them with (WHATWG Encoding Standard): pages
# labelled GB2312 use GBK/GB18030 characters, Big5 pages use HKSCS extensions, Shift_JIS pages use
# Microsoft's cp932 extensions, EUC-KR pages use cp949, and "ISO-8859-1"/"ASCII" mean windows-1252.
_CHARSET_ALIASES = {
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "gb_2312-80", "gb_2312", "cp936", "ms936", "euc-cn",
                     "csgb2312", "iso-ir-58", "chinese", "windows-936", "gb18030"), "gb18030"),
    **dict.fromkeys(("big5", "big5-hkscs", "big5hkscs", "x-x-big5", "cn-big5", "csbig5", "cp950"),
                    "big5hkscs"),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis",
                     "windows-31j", "ms932", "cp932"), "cp932"),
    **dict.fromkeys(("euc-kr", "euc_kr", "euckr", "ks_c_5601-1987", "ks_c_5601", "korean",
                     "csksc56011987", "windows-949", "cp949", "uhc"), "cp949"),
    **dict.fromkeys(("iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii",
                     "cp819", "ibm819", "windows-1252", "cp1252"), "cp1252"),
    **dict.fromkeys(("iso-8859-9", "latin5", "windows-1254"), "cp1254"),
    **dict.fromkeys(("tis-620", "iso-8859-11", "windows-874"), "cp874"),
}
# A header saying ISO-8859-1 is many servers' default, often on UTF-8 pages.
_WEAK_CODECS = {"cp1252"}
_HEADER_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET_RE = re.compile(
    rb"<meta\s[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)"  # <meta charset> and http-equiv content=
    rb"|<\?xml\s[^>]*?encoding\s*=\s*[\"']([\w.:-]+)",
    re.I,
)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _codec(label: str | bytes | None) -> str | None:
    """A Python codec name for a charset label, or None when the label is unknown."""
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    if not label:
        return None
    label = label.strip().lower()
    try:
        codec = codecs.lookup(_CHARSET_ALIASES.get(label, label)).name
    except LookupError:
        return None
    # Bytes that could be read as ASCII to find the label cannot be UTF-16: browsers then use
    # UTF-8, and so do we.
    return "utf-8" if codec.startswith("utf-16") else _CHARSET_ALIASES.get(codec, codec)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode an HTML page of any charset; never raises.

    Order: the HTTP header charset, then <meta charset>/<meta http-equiv>/<?xml encoding?> in the
    first 8 KB, then valid UTF-8, then charset detection. Two exceptions, as browsers do: a
    byte-order mark comes first (the bytes themselves say what they are, and a header that
    disagrees is the one that is wrong), and a header saying ISO-8859-1/ASCII loses to a body that
    is valid non-ASCII UTF-8. A declared charset the bytes do not decode under is skipped; the
    last resort replaces undecodable bytes.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, "replace")
    header = _HEADER_CHARSET_RE.search(content_type or "")
    meta = _META_CHARSET_RE.search(body[:8192])
    declared = [codec for codec in (_codec(header and header.group(1)),
                                    _codec(meta and (meta.group(1) or meta.group(2)))) if codec]
    if declared and declared[0] in _WEAK_CODECS and not body.isascii() and _is_utf8(body):
        declared.insert(0, "utf-8")
    for codec in declared:
        try:
            return body.decode(codec)
        except UnicodeDecodeError:
            continue
    if _is_utf8(body):
        return body.decode("utf-8")
    best = from_bytes(body[:200_000]).best()
    codec = _codec(best.encoding if best else None)
    return body.decode(codec or (declared[0] if declared else "utf-8"), "replace")


# ---------------------------------------------------------------------------------------------
# 4. Post-processing of trafilatura's lines

_TOKEN_RE = re.compile(r"\w+")


def _norm(text: str) -> str:
    """Compare-form of a line: its lower-cased words."""
    return " ".join(_TOKEN_RE.findall(text.casefold()))


def _words(line: str) -> int:
    return len(_TOKEN_RE.findall(line))


# Body chunks: a container counts when it brings at least _CHUNK_MIN_PARAGRAPHS paragraphs of
# _PARAGRAPH_MIN_WORDS words (one stray same-class box, a quoted claim or a byline, is not a
# chunk), and lies within _CHUNK_SCOPE_LEVELS levels of trafilatura's container (chunks sit in
# sibling wrappers; a same-class container further away is another article, e.g. a preloaded one).
_PARAGRAPH_MIN_WORDS = 10
_CHUNK_MIN_PARAGRAPHS = 3
_CHUNK_SCOPE_LEVELS = 3
_IN_FURNITURE = etree.XPath("boolean(ancestor::figure | ancestor::aside | ancestor::nav)")


def _add_split_body(lines: list[str], tree: HtmlElement) -> list[str]:
    """Some templates cut the body into several containers of one tag and class with ad slots
    between them, and trafilatura keeps only the chunk it scored best. Find that chunk's container
    from the paragraphs extracted, and add the paragraphs of its same-class neighbours in page
    order."""
    known = {_norm(line) for line in lines}
    parents: Counter = Counter()
    for p in tree.iter("p"):
        text = p.text_content()
        if len(text) >= 2 * _PARAGRAPH_MIN_WORDS:  # cheap pre-filter before the regex
            key = _norm(text)
            if len(key.split()) >= _PARAGRAPH_MIN_WORDS and key in known:
                parents[p.getparent()] += 1
    if not parents:
        return lines
    container = parents.most_common(1)[0][0]
    css_class = container.get("class")
    if not css_class:
        return lines
    scope = container
    for _ in range(_CHUNK_SCOPE_LEVELS):
        scope = scope.getparent() if scope.getparent() is not None else scope
    before: list[str] = []
    after: list[str] = []
    found = before  # paragraphs of chunks before the container, then of those after it
    for chunk in scope.iter(container.tag):
        if chunk is container:
            found = after
        elif (chunk.get("class") == css_class and chunk not in container.iterancestors()
              and container not in chunk.iterancestors()):
            for p in chunk.iter("p"):
                paragraph = " ".join(p.text_content().split())
                if _norm(paragraph) and _norm(paragraph) not in known and not _IN_FURNITURE(p):
                    found.append(paragraph)
    added = sum(1 for paragraph in before + after if _words(paragraph) >= _PARAGRAPH_MIN_WORDS)
    return before + lines + after if added >= _CHUNK_MIN_PARAGRAPHS else lines


# The headline, when trafilatura keeps it, is among the first lines (a teaser box may come first).
_HEAD_LINES = 3
_SUBHEADINGS = etree.XPath("//h2 | //h3 | //h4 | //h5 | //h6 | //header//p")


def _strip_headline(lines: list[str], tree: HtmlElement, title: str | None,
                    description: str | None) -> list[str]:
    """Drop the headline and the standfirst when trafilatura kept them: neither is body text, and
    the title is stored on its own. The headline is a line near the top equal to the page title or
    an <h1>. The standfirst is the line right after it when it equals the page's description *and*
    is a subheading or in the page's <header>: many pages use their first paragraph as the
    description, and that paragraph is body text."""
    headlines = {_norm(title or "")} | {_norm(h1.text_content()) for h1 in tree.iter("h1")}
    headlines.discard("")
    at = next((i for i, line in enumerate(lines[:_HEAD_LINES]) if _norm(line) in headlines), None)
    if at is None:
        return lines
    drop = {at}
    following = _norm(lines[at + 1]) if at + 1 < len(lines) else ""
    if following and following == _norm(description or "") and any(
            _norm(element.text_content()) == following for element in _SUBHEADINGS(tree)):
        drop.add(at + 1)
    return [line for i, line in enumerate(lines) if i not in drop]


# A line announcing links to other articles: the header alone ("Related", "DON'T MISS") or
# followed by one headline ("Read more: ...", "Also on example.com ...").
_RELATED_RE = re.compile(
    r"^[\[(]?\s*(?:related(?: (?:posts?|articles?|stories|story|coverage|content|reading|links?|news))?"
    r"|read (?:more|also|next)|also read|see (?:also|more)|more(?: (?:on this|stories|news|from [\w .'-]{1,30}))?"
    r"|also|also on [\w-]+\.[a-z]{2,}\b.*|you (?:may|might) (?:also )?(?:like|enjoy|be interested in)"
    r"|don'?t miss|recommended(?: for you| stories| reading)?|further reading|most (?:read|popular)"
    r"|trending(?: now)?|up next|what to read next|latest news|top stories|editor'?s picks?)"
    r"\b\s*(?:[:|>»…-]|\.\.\.|$)",
    re.I,
)
# After such a header, lines are dropped while they look like link titles: short, and a list
# item or not ending like a sentence.
_LINK_TITLE_MAX_WORDS = 25
_SENTENCE_END = (".", "!", "?", "\"", "”", "’", "'", ":", ";")
# Calls to action and page furniture, as whole short lines (at most _BOILERPLATE_MAX_WORDS): the
# same words inside a paragraph of the article are article text. Imperatives are anchored at the
# start of a sentence, so that reported speech ("he urged fans to follow him on Twitter") stays.
_BOILERPLATE_MAX_WORDS = 40
_SENTENCE_START = r"(?:^|[.!?]\s+)"
_BOILERPLATE_RE = re.compile("|".join(f"(?:{p})" for p in (
    # newsletters and subscriptions
    r"\b(?:sign up|subscribe|register)\b.{0,80}\b(?:newsletters?|inbox|email alerts?|briefing|digest)\b",
    r"\bnewsletters?\b.{0,80}\b(?:sign up|subscribe|inbox)\b",
    r"^[\w' ]{0,40}\bnewsletters?\W*$",  # a newsletter box's title
    rf"{_SENTENCE_START}(?:sign up|subscribe)(?: (?:now|today|here))?\W*$",
    r"\b(?:straight|right|directly|delivered) (?:to|in|into) your inbox\b",
    r"\bthanks? (?:you )?for (?:signing up|subscribing)\b|\berror processing your subscription\b",
    # social and sharing
    rf"{_SENTENCE_START}follow\b.{{0,60}}?\bon (?:twitter|facebook|instagram|linkedin|youtube|tiktok|x)\b",
    r"\b(?:like|enjoy(?:ed)?|liked) this (?:story|article|post)\?|\bshare (?:this|it) with (?:a friend|your friends)\b",
    r"^share (?:this|on|via)\b",
    (r"^(?:share|tweet|email|print|pin|whatsapp|facebook|twitter)(?:\W+(?:share|tweet|email|print|pin"
     r"|whatsapp|facebook|twitter|linkedin|reddit))+\W*$"),
    r"\b(?:click|tap) here\b",
    r"\bhave a (?:news )?tip\?|\bsend us (?:a|your) tips?\b",
    # comments
    r"^(?:\d+\s+)?comments?\W*$|\btell us what you think\b|\bjoin the (?:conversation|discussion)\b",
    rf"{_SENTENCE_START}(?:leave|post|add|write|view|read|show|see) (?:a |all |the |your )?comments?\b",
    r"\bwe(?:'d|’d| would) (?:like|love) to hear (?:from you|what you think)\b",
    # furniture
    r"\ball rights reserved\b|^(?:copyright|©|\(c\))\W.{0,60}\b(?:19|20)\d\d\b",
    r"\[(\w+)\b[^\]]*\].*\[/\1\]",  # an unrendered [shortcode]...[/shortcode]: a widget
    r"^\W*\d+\s*(?:min(?:ute)?s?)\.? read\W*$|\breading time\b|\btempo de leitura\b|\btiempo de lectura\b",
    r"^(?:updated|published|posted|last updated|first published)\b(?:\s*(?:at|on|:))?[\s\w,.:/-]{0,40}\d[\s\w,.:/-]{0,40}$",
    r"^(?:filed under|tags?|tagged|categories|category|posted in|topics?)\s*:",
    r"^sources?\s*:\s*[\w\s,.&'-]{1,60}$",
    r"^advertisement\W*$|^(?:story|article) continues below\b|^continue reading\W*$",
    # wire credits
    (r"^(?:additional )?reporting by\b|^(?:writing|editing|edited|compiled) by\b"
     r"|\bcontributed (?:reporting|to this (?:report|story|article))\b"),
)), re.I)


def _is_boilerplate(line: str) -> bool:
    if _words(line) > _BOILERPLATE_MAX_WORDS:
        return False
    # "(Reporting by ...)" and "[Related: ...]" are matched without their brackets too.
    forms = [line, line[1:-1].strip()] if line[:1] + line[-1:] in ("()", "[]") else [line]
    return any(_BOILERPLATE_RE.search(form) for form in forms)


def _strip_boilerplate(lines: list[str]) -> list[str]:
    out: list[str] = []
    in_related = False
    for line in lines:
        bare = line.lstrip("-•*· ")
        if _RELATED_RE.match(bare) and _words(bare) <= _LINK_TITLE_MAX_WORDS:
            in_related = True
            continue
        if in_related and _words(bare) <= _LINK_TITLE_MAX_WORDS and (
                line.startswith("- ") or not bare.endswith(_SENTENCE_END)):
            continue
        in_related = False
        if not _is_boilerplate(bare):
            out.append(line)
    return out


def _link_texts(tree: HtmlElement) -> set[str]:
    """Compare-forms of the page's links, and of its list items that are nothing but links."""
    texts = {_norm(a.text_content()) for a in tree.iter("a")}
    for li in tree.iter("li"):
        key = _norm(li.text_content())
        if key and key not in texts:
            link_text = " ".join(_norm(a.text_content()) for a in li.iter("a"))
            if len(link_text) >= 0.9 * len(key):
                texts.add(key)
    texts.discard("")
    return texts


def _drop_link_lists(lines: list[str], tree: HtmlElement) -> list[str]:
    """Drop runs of two or more lines that are each nothing but a link: a list of links to other
    pages ("15 Amazing Images of Stars", a menu) is related reading or navigation, not article
    text. A single linked line among paragraphs stays (a linked subheading, a source)."""
    short = [_words(line) <= _LINK_TITLE_MAX_WORDS for line in lines]
    if not any(a and b for a, b in pairwise(short)):
        return lines  # no run of short lines, no list: spare the page's links the look-up
    links = _link_texts(tree)
    flags = [is_short and _norm(line) in links for is_short, line in zip(short, lines)]
    return [line for i, line in enumerate(lines)
            if not (flags[i] and ((i > 0 and flags[i - 1]) or (i + 1 < len(lines) and flags[i + 1])))]


def _clean_text(text: str, tree: HtmlElement, title: str | None, description: str | None,
                options: Options) -> list[str]:
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if _norm(line)]
    if options.merge_split_body:
        lines = _add_split_body(lines, tree)
    if options.strip_headline:
        lines = _strip_headline(lines, tree, title, description)
    if options.strip_boilerplate:
        lines = _strip_boilerplate(lines)
    if options.drop_link_lists:
        lines = _drop_link_lists(lines, tree)
    return lines


_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def word_count(text: str | None) -> int:
    """Words of text, where each Han ideograph or kana counts as a word (Chinese and Japanese are
    written without spaces between words). Korean separates its words with spaces, so Hangul is
    counted by words like Latin script."""
    if not text:
        return 0
    return len(_CJK_RE.findall(text)) + len(_TOKEN_RE.findall(_CJK_RE.sub(" ", text)))


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
    return "zh" if _CJK_RE.search(sample) else None


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
# 5. Walls


@dataclass(frozen=True)
class _Wall:
    kind: str
    # Fewer words than this (or than the feed summary) with a marker on the page make a wall. A
    # paywall shows a teaser of a few paragraphs; consent, JavaScript and bot walls show nothing,
    # so a short article on a page with a cookie banner is not taken for one.
    short_words: int
    # Lower-case phrases of the wall itself, not of ordinary page furniture: "cookie settings" and
    # "already a subscriber? sign in" are in the footers and top bars of most news sites.
    markers: tuple[str, ...]


_WALLS = (
    _Wall("paywall", 150, (
        "subscribe to continue reading", "subscribe to read", "subscribe to keep reading",
        "subscribe now to continue", "to continue reading, subscribe", "continue reading with a subscription",
        "this content is for subscribers", "this article is for subscribers", "this story is for subscribers",
        "available to subscribers only", "you have reached your limit of free articles",
        "you've reached your free article limit", "you have reached the limit of free articles",
        "free articles remaining", "register to continue reading", "create a free account to continue",
        "log in to continue reading", "sign in to continue reading", "unlock this article",
        "this article is reserved for", "become a member to read",
    )),
    _Wall("consent wall", 50, (
        "accept all cookies", "accept cookies", "we value your privacy", "we care about your privacy",
        "this site uses cookies", "this website uses cookies", "we use cookies", "we and our partners",
        "before you continue",
    )),
    _Wall("javascript wall", 50, (
        "enable javascript", "javascript is disabled", "javascript is required", "turn on javascript",
        "javascript must be enabled", "your browser does not support javascript",
    )),
    _Wall("bot check", 50, (
        "checking your browser", "verify you are human", "verify you are a human", "are you a robot",
        "please complete the security check", "unusual traffic from your computer",
        "access to this page has been denied",
    )),
)
_CONSENT = _WALLS[1]
_ALL_MARKERS = tuple(marker for wall in _WALLS for marker in wall.markers)
# Consent-management platforms' names as they appear in the id/class of their containers...
_CMP_NAMES = (
    "onetrust", "cookiebot", "didomi", "qc-cmp", "sp_message_container", "truste-", "trustarc",
    "usercentrics", "fc-consent", "cmp-container", "cookieconsent", "cookie-consent", "consent-banner",
    "cookie-banner", "cookie-notice", "gdpr-consent",
)
# ...and the attribute they must be in: the same names in a script URL are only a CMP's loader.
_ATTR_START_RE = re.compile(r"""\b(?:id|class)\s*=\s*["'][^"'<>]*$""")
_VISIBLE_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::template)]")


def _cmp_container(html: str) -> str | None:
    """The first CMP name found inside an id or class attribute. Plain substring search first (a
    regex alternation over a large page is ~100x slower), then a look back from each hit."""
    low = html.lower()
    for name in _CMP_NAMES:
        at = low.find(name)
        while at != -1:
            if _ATTR_START_RE.search(low, max(0, at - 200), at):
                return name
            at = low.find(name, at + 1)
    return None


def _wall(tree: HtmlElement, html: str, words: int, summary_words: int) -> tuple[_Wall, str] | None:
    """The wall this page is, with the marker that shows it, or None. Markers are read in the
    text a reader sees, <noscript> included (it shows when scripts do not run); they are looked
    for only when the text is short, which spares most pages the cost."""
    visible = None
    for wall in _WALLS:
        if words < max(wall.short_words, summary_words):
            if visible is None:
                visible = " ".join(" ".join(_VISIBLE_TEXT(tree)).split()).casefold()
            marker = next((m for m in wall.markers if m in visible), None)
            if wall is _CONSENT and marker is None:
                cmp = _cmp_container(html)
                marker = f"{cmp} container" if cmp else None
            if marker:
                return wall, marker
    return None


# Containers of cookie/consent banners, by id or class. Larger than _BANNER_MAX_CHARS it is a
# page wrapper whose class merely mentions consent (e.g. <body class="... gdpr-enabled">).
_BANNER_NAMES = ("cookie", "Cookie", "consent", "Consent", "gdpr", "GDPR", "onetrust", "didomi",
                 "qc-cmp", "sp_message", "truste", "usercentrics", "cmp-container")
_BANNERS = etree.XPath(
    "//body//*[self::div or self::section or self::aside or self::p or self::dialog or self::form]["
    + " or ".join(f"contains(@{attr}, '{name}')" for name in _BANNER_NAMES for attr in ("id", "class"))
    + "]")
_BANNER_MAX_CHARS = 3000
_BANNER_WORDS = ("cookie", "consent", "privacy", "personal data", "partners")


def _drop_wall_text(lines: list[str], tree: HtmlElement) -> list[str]:
    """Drop the lines of wall text that trafilatura took for body text: short lines with a wall
    marker, and lines found inside a cookie/consent container (a consent dialog's long "We and our
    partners store and/or access information..." paragraph has no short marker). Containers are
    looked up only when some line speaks of cookies, consent or privacy, as a banner's text always
    does and most articles never do."""
    lines = [line for line in lines if not (
        _words(line) <= _BOILERPLATE_MAX_WORDS and any(marker in line.casefold() for marker in _ALL_MARKERS))]
    if not any(word in line.casefold() for line in lines for word in _BANNER_WORDS):
        return lines
    banners = [_norm(element.text_content()) for element in _BANNERS(tree)]
    banners = [text for text in banners if len(text) <= _BANNER_MAX_CHARS]

    def in_banner(line: str) -> bool:
        # a short line equal to a banner's text (a button); a longer one anywhere in a banner
        key = _norm(line)
        return any(key == text or (len(key.split()) >= 4 and key in text) for text in banners)

    return [line for line in lines if not in_banner(line)]


# ---------------------------------------------------------------------------------------------

# Below this, what was found is a fragment (a caption, "Loading...", an error line), not an
# article: the shortest wire briefs run to a few dozen words.
MIN_ARTICLE_WORDS = 10


def _trafilatura(tree: HtmlElement, url: str | None, options: Options, favor_precision: bool):
    return trafilatura.bare_extraction(
        tree, url=url, with_metadata=True,
        include_comments=options.include_comments, favor_precision=favor_precision,
        # htmldate's extensive search reads every date-like string on the page: slow, and only the
        # day it finds would be used anyway (`published` comes from structured data).
        date_extraction_params={"extensive_search": False},
    )


def extract_article(body: bytes, *, url: str | None = None, content_type: str | None = None,
                    feed_summary: str | None = None, options: Options = Options()) -> Extraction:
    """Main text and metadata of an article page. `feed_summary`, when the feed gave one, helps
    tell a paywall teaser from the article: text shorter than the summary is not the article.

    An empty body is 'extract_failed' rather than 'not_html': it says nothing about the URL (a
    timeout or an error page can give it), so a later fetch may do better."""
    failed = Extraction("extract_failed", None, None, None, None, None, 0, EXTRACTOR)
    if not body or not body.strip():
        return replace(failed, detail="empty body")
    if not looks_like_html(body, content_type):
        return replace(failed, status="not_html", detail=_not_html_reason(body, content_type))

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
        text = "\n".join(_drop_wall_text(lines, tree))

    words, summary_words = word_count(text), word_count(feed_summary)
    wall = _wall(tree, html, words, summary_words)
    if wall:
        detail = f"{wall[0].kind}: {wall[1]!r} and {words} words"
        if words < summary_words:
            detail += f", fewer than the feed summary's {summary_words}"
        return replace(failed, status="paywalled", title=title, author=author, detail=detail)
    if words < MIN_ARTICLE_WORDS:
        detail = ("no main text found" if document is None else
                  f"only {words} words of text" if words else "only boilerplate found")
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
