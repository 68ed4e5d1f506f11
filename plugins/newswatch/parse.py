"""Feed bytes -> raw entries. feedparser does the work for RSS 0.9x/1.0/2.0 and Atom 0.3/1.0;
JSON Feed (which feedparser does not read) is parsed here from its small, documented shape.

Entries come out as `RawEntry`: still raw text (HTML allowed), nothing canonicalised yet; that is
normalize.py's job. The `raw` dict of each entry is a JSON-safe copy kept for `news.rejects`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

import feedparser
from lxml import etree

from .errors import FeedParseError, NotAFeed

# feedparser sanitises the HTML it returns (the fast path below does not); either way
# normalize.html_to_text reduces every text field to plain text before anything is stored.
feedparser.SANITIZE_HTML = True
feedparser.RESOLVE_RELATIVE_URIS = True


@dataclass
class RawEntry:
    guid: str | None
    link: str | None
    title: str | None
    summary: str | None
    content: str | None
    published_text: str | None  # dates as the feed wrote them: normalize reads them in the
    updated_text: str | None  # feed's time zone (dates.py)
    author: str | None = None
    language: str | None = None
    source_title: str | None = None
    source_url: str | None = None
    tags: list[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict)
    problem: str | None = None  # why the document's entry cannot be an article at all


@dataclass
class ParsedFeed:
    format: str
    title: str | None
    link: str | None
    language: str | None
    entries: list[RawEntry]
    ttl_minutes: int | None = None
    update_period_minutes: int | None = None
    bozo: str | None = None  # why feedparser had to recover, if it did


_DOCTYPE_RE = re.compile(rb"<!DOCTYPE\b", re.IGNORECASE)
_PROLOG_SKIP_RE = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)


def _doctype_in_prolog(body: bytes) -> re.Match | None:
    """The DOCTYPE declaration, wherever the prolog puts it: after any amount of whitespace,
    processing instructions and comments (a fixed-size window could be padded past)."""
    i = 3 if body.startswith(b"\xef\xbb\xbf") else 0
    while True:
        skip = _PROLOG_SKIP_RE.match(body, i)
        if skip is None or skip.end() == i:
            return _DOCTYPE_RE.match(body, i)
        i = skip.end()


_WHITESPACE_RUN_RE = re.compile(rb"\s+")
_PROLOG_PART_RE = re.compile(rb"(\s+|<!--.*?-->)|(<\?.*?\?>|<!DOCTYPE[^>\[]*>)", re.DOTALL | re.IGNORECASE)


def compact_prolog(body: bytes) -> bytes:
    """The document without the whitespace and comments of its prolog.

    feedparser scans the prolog with `^\\s*<!ENTITY` patterns in MULTILINE mode, which is
    quadratic in its blank lines: 80,000 of them took six seconds a poll. They carry no meaning,
    so they go before feedparser reads the document; declarations and instructions stay, each on
    a line of its own (feedparser only sees a DOCTYPE that starts a line)."""
    bom = 3 if body.startswith(b"\xef\xbb\xbf") else 0
    i, kept, dropped = bom, [], False
    while (part := _PROLOG_PART_RE.match(body, i)) is not None:
        if part.group(1) is not None:
            dropped = True
        else:  # whitespace inside a declaration counts as lines to those patterns too
            kept.append(_WHITESPACE_RUN_RE.sub(b" ", part.group(2)))
        i = part.end()
    return body[:bom] + b"\n".join([*kept, body[i:]]) if dropped else body


def strip_internal_dtd(body: bytes) -> tuple[bytes, bool]:
    """Remove a DOCTYPE's internal subset (`<!DOCTYPE x [ ... ]>`).

    Entity declarations are how XXE and "billion laughs" documents attack a parser. Expat
    already refuses external entities and caps amplification, but a feed never needs its own
    entities, so we drop the subset before parsing: the document then parses in bounded time
    and any references to the dropped entities are left unexpanded.
    """
    match = _doctype_in_prolog(body)
    if not match:
        return body, False
    i = match.end()
    quote = None
    start = None
    depth_end = None
    while i < len(body):
        if quote is None and start is not None and body.startswith(b"<!--", i):
            # a comment inside the subset may hold quotes or brackets of its own
            close = body.find(b"-->", i + 4)
            i = len(body) if close < 0 else close + 3
            continue
        if quote is None and start is not None and body.startswith(b"<?", i):
            close = body.find(b"?>", i + 2)
            i = len(body) if close < 0 else close + 2
            continue
        ch = body[i : i + 1]
        if quote:
            if ch == quote:
                quote = None
        elif ch in (b'"', b"'"):
            quote = ch
        elif ch == b"[" and start is None:
            start = i
        elif ch == b"]" and start is not None:
            depth_end = i
        elif ch == b">" and (start is None or depth_end is not None):
            break
        i += 1
    if start is None:
        return body, False
    end = depth_end if depth_end is not None else i
    return body[:start] + body[end + 1 :], True


def _join(base: str, link: str) -> str:
    """A link resolved against the document's address; one urljoin cannot read (a malformed IPv6
    host) is kept as written, to be rejected with its entry rather than fail the feed."""
    try:
        return urljoin(base, link)
    except ValueError:
        return link


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    return body.lstrip()[:1] == b"{"


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:512]


def parse_feed(body: bytes, *, content_type: str | None = None, url: str | None = None) -> ParsedFeed:
    if not body or not body.strip():
        raise NotAFeed("empty response body")
    if _looks_like_json(body, content_type):
        return parse_json_feed(body)
    body, stripped = strip_internal_dtd(body)
    if not stripped:
        fast = fast_parse(body, content_type=content_type, url=url)
        if fast is not None:
            return fast
    headers = {}
    if content_type:
        headers["content-type"] = content_type
    if url:
        headers["content-location"] = url
    parsed = feedparser.parse(compact_prolog(body), response_headers=headers)
    version = parsed.get("version") or ""
    entries = parsed.get("entries") or []
    bozo = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        bozo = f"{type(exc).__name__}: {exc}" if exc else "ill-formed document"
    if stripped:
        bozo = "DTD internal subset removed" + (f"; {bozo}" if bozo else "")
    if not version and not entries:
        if _looks_like_html(body):
            raise NotAFeed("got an HTML page, not a feed (is the URL a feed address?)")
        if bozo:
            raise FeedParseError(f"not a parseable feed ({bozo})")
        raise NotAFeed("no RSS, Atom or JSON Feed document found")
    if not version and _looks_like_html(body):
        raise NotAFeed("got an HTML page, not a feed (is the URL a feed address?)")
    if not entries and parsed.get("bozo"):
        # A feed cut off mid-document (a server error, a dropped connection) parses to a
        # version and nothing else: that is a failed fetch, not an empty feed.
        raise FeedParseError(f"no entries could be recovered ({bozo})")
    feed = parsed.get("feed", {})
    return ParsedFeed(
        format=version or "unknown",
        title=feed.get("title"),
        link=feed.get("link"),
        language=feed.get("language"),
        entries=[_entry_from_feedparser(e) for e in entries],
        ttl_minutes=_int(feed.get("ttl")),
        update_period_minutes=_sy_period(feed.get("sy_updateperiod"), feed.get("sy_updatefrequency")),
        bozo=bozo,
    )


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


_SY_MINUTES = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200, "yearly": 525600}


def _sy_period(period, frequency) -> int | None:
    if not period:
        return None
    minutes = _SY_MINUTES.get(str(period).strip().lower())
    if minutes is None:
        return None
    freq = _int(frequency) or 1
    return max(1, minutes // max(1, freq))


def _text_or_none(value) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _entry_from_feedparser(e) -> RawEntry:
    content = None
    if e.get("content"):
        content = max((c.get("value") or "" for c in e["content"]), key=len) or None
    source = e.get("source") or {}
    raw = {
        key: e.get(key)
        for key in ("id", "link", "title", "summary", "published", "updated", "author", "language")
        if e.get(key) is not None
    }
    if source:
        raw["source"] = {"title": source.get("title"), "href": source.get("href")}
    return RawEntry(
        guid=(e.get("id") or None),
        link=(e.get("link") or None),
        title=e.get("title"),
        summary=e.get("summary"),
        content=content,
        published_text=_text_or_none(e.get("published")),
        updated_text=_text_or_none(e.get("updated")),
        author=e.get("author"),
        language=(e.get("language") or (e.get("title_detail") or {}).get("language") or None),
        source_title=source.get("title"),
        source_url=source.get("href") or source.get("url"),
        tags=[t.get("term") for t in e.get("tags") or [] if t.get("term")],
        raw=raw,
    )


# --- JSON Feed (https://www.jsonfeed.org/version/1.1/) -------------------------------------


def _json_str(obj: dict, key: str) -> str | None:
    """A JSON Feed field that must be a string: anything else (a number, a list, an object) is
    taken as absent, so one ill-typed field costs that field, not the entry or the feed."""
    value = obj.get(key)
    return value if isinstance(value, str) else None


def parse_json_feed(body: bytes) -> ParsedFeed:
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedParseError(f"invalid JSON: {exc}") from None
    if not isinstance(doc, dict) or "jsonfeed.org/version" not in str(doc.get("version", "")):
        raise NotAFeed("JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedParseError("JSON Feed has no `items` list")
    language = _json_str(doc, "language")
    entries = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            # not an item at all; kept as a reject rather than dropped without a trace
            entries.append(
                RawEntry(
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    problem="not_an_object",
                    raw={"position": position, "item": repr(item)[:500]},
                )
            )
            continue
        listed, single = item.get("authors"), item.get("author")
        authors = listed if isinstance(listed, list) else ([single] if isinstance(single, dict) else [])
        author = next((a["name"] for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)), None)
        item_id = item.get("id")
        tags = item.get("tags")
        tags = tags if isinstance(tags, list) else []
        entries.append(
            RawEntry(
                # the spec says id is a string; numbers are common and unambiguous
                guid=str(item_id) if isinstance(item_id, (str, int)) and not isinstance(item_id, bool) else None,
                link=_json_str(item, "url") or _json_str(item, "external_url"),
                title=_json_str(item, "title"),
                summary=_json_str(item, "summary"),
                content=_json_str(item, "content_html") or _json_str(item, "content_text"),
                published_text=_json_str(item, "date_published"),
                updated_text=_json_str(item, "date_modified"),
                author=author,
                language=_json_str(item, "language") or language,
                tags=[t for t in tags if isinstance(t, str)],
                raw={k: item.get(k) for k in ("id", "url", "title", "summary", "date_published") if k in item},
            )
        )
    return ParsedFeed(
        format="json" + str(doc.get("version", "")).rsplit("/", 1)[-1],
        title=_json_str(doc, "title"),
        link=_json_str(doc, "home_page_url"),
        language=language,
        entries=entries,
    )


# --- the fast path: well-formed RSS 2.0 and Atom 1.0 with lxml -----------------------------
#
# feedparser is thorough and slow (it runs a SAX parser, then sanitises and resolves every text
# construct in Python): on the benchmark corpus it was most of the pipeline's time. Most real
# feeds are well-formed RSS 2.0 or Atom 1.0, which libxml2 parses an order of magnitude faster.
# fast_parse handles exactly those and returns None for anything else (ill-formed XML, RSS 1.0,
# Atom 0.3, an HTTP charset that disagrees with the document, unknown roots), so feedparser
# remains the parser of record; tests/unit/test_parse.py checks on every fixture that both paths
# produce the same articles. Dates are kept as the feed wrote them on both paths.

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC = "{http://purl.org/dc/elements/1.1/}"
SY = "{http://purl.org/rss/1.0/modules/syndication/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_XML_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    huge_tree=False,
    recover=False,
    remove_comments=True,
    remove_pis=True,
    load_dtd=False,
)
_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_DECL_ENCODING_RE = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*encoding\s*=\s*[\"']([\w.:-]+)", re.IGNORECASE)


def _text(el) -> str | None:
    if el is None:
        return None
    if not len(el):  # no child node of any kind (element, entity): its text is all there is
        return el.text or ""
    return "".join(el.itertext())


def _stripped(el) -> str | None:
    text = _text(el)
    return text.strip() if text is not None else None


def _same_charset(body: bytes, content_type: str | None) -> bool:
    """feedparser lets an HTTP charset override the document's own declaration in some cases;
    rather than reproduce those rules, leave disagreements to feedparser."""
    match = _CHARSET_RE.search(content_type or "")
    if not match:
        return True
    declared = _DECL_ENCODING_RE.match(body[:200])
    http = match.group(1).lower().replace("_", "-")
    doc = declared.group(1).decode("ascii").lower().replace("_", "-") if declared else "utf-8"
    return http == doc or {http, doc} <= {"utf-8", "utf8"}


def fast_parse(body: bytes, *, content_type: str | None = None, url: str | None = None) -> ParsedFeed | None:
    if not _same_charset(body, content_type):
        return None
    try:
        root = etree.fromstring(body, parser=_XML_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root.tag == "rss" and root.get("version", "").strip() == "2.0":
        return _fast_rss(root, url)
    if root.tag == f"{ATOM}feed":
        return _fast_atom(root, url)
    return None


class _Unsupported(Exception):
    pass


def _fast_rss(root, url: str | None) -> ParsedFeed | None:
    channel = root.find("channel")
    if channel is None:
        return None
    base = url or ""
    entries = []
    try:
        for item in channel.iterfind("item"):
            entries.append(_rss_entry(item, base))
    except _Unsupported:
        return None
    return ParsedFeed(
        format="rss20",
        title=_text(channel.find("title")),
        link=_text(channel.find("link")),
        language=(_text(channel.find("language")) or "").strip() or None,
        entries=entries,
        ttl_minutes=_int(_text(channel.find("ttl"))),
        update_period_minutes=_sy_period(
            _text(channel.find(f"{SY}updatePeriod")), _text(channel.find(f"{SY}updateFrequency"))
        ),
    )


# Elements feedparser folds into an entry's link, title or summary in ways not mirrored here (it
# lets an image's media:description replace the item's description and media:title its title,
# whichever comes last): such feeds take the slow path, so both paths give the same articles.
_RSS_FALLBACK_TAGS = {
    f"{ATOM}link",
    "{http://rssnamespace.org/feedburner/ext/1.0}origLink",
    "{http://search.yahoo.com/mrss/}description",
    "{http://search.yahoo.com/mrss/}title",
}


def _rss_entry(item, base: str) -> RawEntry:
    for child in item.iter():
        if child.tag in _RSS_FALLBACK_TAGS:
            raise _Unsupported(child.tag)
    guid_el = item.find("guid")
    guid = (_text(guid_el) or "").strip() or None
    link = (_text(item.find("link")) or "").strip() or None
    if link is None and guid and (guid_el.get("isPermaLink", "true").strip().lower() != "false"):
        link = guid
    if link:
        link = _join(base, link)
    source_el = item.find("source")
    content = _text(item.find(CONTENT_ENCODED))
    summary = _text(item.find("description"))
    published = _text(item.find("pubDate")) or _text(item.find(f"{DC}date"))
    author = _text(item.find("author")) or _text(item.find(f"{DC}creator"))
    title = _stripped(item.find("title"))
    raw = {
        k: v
        for k, v in (
            ("id", guid),
            ("link", link),
            ("title", title),
            ("summary", summary),
            ("published", published),
            ("author", author),
        )
        if v is not None
    }
    return RawEntry(
        guid=guid,
        link=link,
        title=title,
        summary=summary if summary is not None else content,
        content=content,
        published_text=_text_or_none(published),
        updated_text=None,
        author=(author or "").strip() or None,
        language=None,
        source_title=(_text(source_el) or "").strip() or None if source_el is not None else None,
        source_url=source_el.get("url") if source_el is not None else None,
        tags=[t.strip() for t in (_text(c) for c in item.iterfind("category")) if t and t.strip()],
        raw=raw,
    )


def _atom_text(el) -> str | None:
    """An Atom text construct as feedparser gives it: text as is, html unescaped by the XML
    parser already, xhtml as the serialised content of its div."""
    if el is None:
        return None
    if el.get("type") == "xhtml":
        div = el.find("{http://www.w3.org/1999/xhtml}div")
        holder = div if div is not None else el
        parts = [holder.text or ""]
        for child in holder:
            parts.append(etree.tostring(child, encoding="unicode", with_tail=True))
        return re.sub(r' xmlns(:\w+)?="[^"]*"', "", "".join(parts)).replace("html:", "")
    return _text(el)


def _fast_atom(root, url: str | None) -> ParsedFeed | None:
    base = urljoin(url or "", root.get(XML_BASE) or "")
    entries = []
    for entry in root.iterfind(f"{ATOM}entry"):
        if entry.get(XML_BASE):
            return None  # per-entry bases: leave to feedparser
        link = None
        for element in entry.iterfind(f"{ATOM}link"):
            if element.get("rel", "alternate") == "alternate" and element.get("href"):
                link = _join(base, element.get("href").strip())
                break
        guid = (_text(entry.find(f"{ATOM}id")) or "").strip() or None
        summary = _atom_text(entry.find(f"{ATOM}summary"))
        content = _atom_text(entry.find(f"{ATOM}content"))
        author = entry.find(f"{ATOM}author/{ATOM}name")
        source = entry.find(f"{ATOM}source")
        published = _text(entry.find(f"{ATOM}published"))
        updated = _text(entry.find(f"{ATOM}updated"))
        title = _atom_text(entry.find(f"{ATOM}title"))
        title = title.strip() if title is not None else None
        raw = {
            k: v
            for k, v in (
                ("id", guid),
                ("link", link),
                ("title", title),
                ("summary", summary),
                ("published", published),
                ("updated", updated),
            )
            if v is not None
        }
        entries.append(
            RawEntry(
                guid=guid,
                link=link,
                title=title,
                summary=summary if summary is not None else content,
                content=content,
                published_text=_text_or_none(published),
                updated_text=_text_or_none(updated),
                author=(_text(author) or "").strip() or None,
                language=entry.get(XML_LANG),
                source_title=_text(source.find(f"{ATOM}title")) if source is not None else None,
                source_url=None,
                tags=[c.get("term") for c in entry.iterfind(f"{ATOM}category") if c.get("term")],
                raw=raw,
            )
        )
    return ParsedFeed(
        format="atom10",
        title=_atom_text(root.find(f"{ATOM}title")),
        link=next(
            (el.get("href") for el in root.iterfind(f"{ATOM}link") if el.get("rel", "alternate") == "alternate"), None
        ),
        language=root.get(XML_LANG),
        entries=entries,
    )
