"""Feed bytes -> raw entries. feedparser does the work for RSS 0.9x/1.0/2.0 and Atom 0.3/1.0;
JSON Feed (which feedparser does not read) is parsed here from its small, documented shape.

Entries come out as `RawEntry`: still raw text (HTML allowed), nothing canonicalised yet; that is
normalize.py's job. The `raw` dict of each entry is a JSON-safe copy kept for `news.rejects`.
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

import feedparser

# feedparser's sanitiser already strips <script>, <style> and event handlers from HTML it
# returns; we keep that on (it is the default) and reduce HTML to text later anyway.
feedparser.SANITIZE_HTML = True
feedparser.RESOLVE_RELATIVE_URIS = True


class NotAFeed(Exception):
    """The document is something else (usually an HTML page)."""


class FeedParseError(Exception):
    """The document looks like a feed but nothing could be recovered from it."""


@dataclass
class RawEntry:
    guid: str | None
    link: str | None
    title: str | None
    summary: str | None
    content: str | None
    published: datetime | None
    updated: datetime | None
    author: str | None = None
    language: str | None = None
    source_title: str | None = None
    source_url: str | None = None
    tags: list[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict)


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


def strip_internal_dtd(body: bytes) -> tuple[bytes, bool]:
    """Remove a DOCTYPE's internal subset (`<!DOCTYPE x [ ... ]>`).

    Entity declarations are how XXE and "billion laughs" documents attack a parser. Expat
    already refuses external entities and caps amplification, but a feed never needs its own
    entities, so we drop the subset before parsing: the document then parses in bounded time
    and any references to the dropped entities are left unexpanded.
    """
    head = body[:65536]
    match = _DOCTYPE_RE.search(head)
    if not match:
        return body, False
    i = match.end()
    quote = None
    start = None
    depth_end = None
    while i < len(body):
        ch = body[i:i + 1]
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
    return body[:start] + body[end + 1:], True


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    return body.lstrip()[:1] == b"{"


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html") or b"<html" in head[:512]


def parse_feed(body: bytes, *, content_type: str | None = None, url: str | None = None) -> ParsedFeed:
    if not body or not body.strip():
        raise NotAFeed("empty response body")
    if _looks_like_json(body, content_type):
        return parse_json_feed(body)
    body, stripped = strip_internal_dtd(body)
    headers = {}
    if content_type:
        headers["content-type"] = content_type
    if url:
        headers["content-location"] = url
    parsed = feedparser.parse(body, response_headers=headers)
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


def _struct_to_dt(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
    except (OverflowError, ValueError, TypeError):
        return None


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
        published=_struct_to_dt(e.get("published_parsed")),
        updated=_struct_to_dt(e.get("updated_parsed")),
        author=e.get("author"),
        language=(e.get("language") or (e.get("title_detail") or {}).get("language") or None),
        source_title=source.get("title"),
        source_url=source.get("href") or source.get("url"),
        tags=[t.get("term") for t in e.get("tags") or [] if t.get("term")],
        raw=raw,
    )


# --- JSON Feed (https://www.jsonfeed.org/version/1.1/) -------------------------------------

def _iso(value) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


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
    language = doc.get("language")
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        author = next((a.get("name") for a in authors if isinstance(a, dict) and a.get("name")), None)
        entries.append(
            RawEntry(
                guid=str(item["id"]) if item.get("id") is not None else None,
                link=item.get("url") or item.get("external_url"),
                title=item.get("title"),
                summary=item.get("summary"),
                content=item.get("content_html") or item.get("content_text"),
                published=_iso(item.get("date_published")),
                updated=_iso(item.get("date_modified")),
                author=author,
                language=item.get("language") or language,
                tags=[t for t in item.get("tags") or [] if isinstance(t, str)],
                raw={k: item.get(k) for k in ("id", "url", "title", "summary", "date_published") if k in item},
            )
        )
    return ParsedFeed(
        format="json" + str(doc.get("version", "")).rsplit("/", 1)[-1],
        title=doc.get("title"),
        link=doc.get("home_page_url"),
        language=language,
        entries=entries,
    )
