"""Raw entry -> article fields: canonical URL (rules in urls.py), clean title and summary, UTC
dates, outlet, language."""

from __future__ import annotations

import functools
import hashlib
import html
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeGuard
from urllib.parse import urlsplit

from lxml import html as lxml_html
from lxml.etree import ParserError

from .dates import parse_date
from .errors import UnusableURL
from .language import detect_language, normalize_language
from .parse import RawEntry
from .urls import NORMALIZER_VERSION, canonicalize_url

# --- text -----------------------------------------------------------------------------------

_TAG_RE = re.compile(r"<[^>]+>")
_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "tr",
    "table",
    "section",
    "article",
    "figure",
    "figcaption",
}
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "iframe",
    "object",
    "embed",
    "svg",
    "form",
    "button",
    "figure",
    "figcaption",
    "img",
    "video",
    "audio",
    "picture",
    "source",
)


_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# What proves that text is escaped HTML rather than prose that mentions a "<": an element whose
# content is never text, a void element, or an element with its closing tag. "Use <b> for bold"
# or "a<b and c>d" prove nothing and stay as they are.
_MARKUP_RE = re.compile(
    r"<(?:script|style|iframe|object|embed|svg|noscript|form)\b"
    r"|<(?:img|br|hr|source|input|video|audio)\b[^<>]*>"
    r"|<([a-zA-Z][a-zA-Z0-9]{0,9})\b[^<>]*>.*?</\1\s*>",
    re.IGNORECASE | re.DOTALL,
)


def html_to_text(markup: str | None) -> str:
    """HTML fragment -> plain text; scripts, styles, media and their text never survive.

    Entities are decoded once, by parsing the markup. A layer more is decoded only where the
    result proves the feed escaped twice: entities left in the text (`&amp;#8217;` -> ’) and,
    after those, markup (`&amp;lt;script&amp;gt;` is removed, not decoded into text). Text that
    merely looks like a tag is kept, never deleted."""
    if not markup:
        return ""
    text = _fragment_text(storable(markup))
    for _ in range(2):
        if _MARKUP_RE.search(text):
            text = _fragment_text(text)
        elif _ENTITY_RE.search(text):
            text = html.unescape(text)
            if not _MARKUP_RE.search(text):
                break
        else:
            break
    return _collapse(text)


def _fragment_text(markup: str) -> str:
    """One level of HTML: the fragment's text, without the elements whose content is not text."""
    if "<" not in markup and "&" not in markup:
        return markup
    if "<" not in markup:
        return html.unescape(markup)
    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except (ParserError, ValueError):
        return html.unescape(_TAG_RE.sub(" ", markup))
    for bad in root.iter(*_DROP_TAGS):
        bad.drop_tree() if bad.getparent() is not None else None
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.lower() in _BLOCK_TAGS:
            el.tail = "\n" + (el.tail or "")
    return root.text_content()


# Control characters (NUL above all: PostgreSQL refuses it in text) and lone surrogates (not
# encodable) come from broken feeds and would make a whole feed fail to load; they carry nothing.
_UNSTORABLE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def storable(text: str) -> str:
    return _UNSTORABLE_RE.sub("", text)


def _collapse(text: str) -> str:
    text = unicodedata.normalize("NFC", storable(text)).replace("\u00a0", " ").replace("\u200b", "")
    return " ".join(text.split())  # every run of (Unicode) whitespace to one space, ends trimmed


# (pattern, window, needles): each pattern is anchored at the end and can only start within its
# last `window` characters, and cannot match unless one of its needles is there, so for the great
# majority of summaries, which carry none of these tails, no regular expression runs at all.
_BOILERPLATE_PATTERNS = [
    (re.compile(p, re.IGNORECASE), window, needles)
    for p, window, needles in (
        (r"\s*The post .{1,300}? appeared first on .{1,200}?\.?\s*$", 560, ("appeared first",)),
        (
            r"\s*This (?:article|story|post) (?:was )?(?:originally )?(?:appeared|published) (?:first )?"
            r"(?:on|in) .{1,200}?\.?\s*$",
            280,
            ("appeared on", "appeared in", "appeared first", "published on", "published in", "published first"),
        ),
        (
            r"\s*(?:Continue|Keep) reading(?: the (?:full )?(?:story|article))?\s*(?:\.\.\.|…|»|→|>+)?\s*$",
            60,
            ("continue reading", "keep reading"),
        ),
        (
            r"\s*(?:Read|See) (?:more|the full (?:story|article))(?: (?:at|on) .{1,80})?\s*(?:\.\.\.|…|»|→|>+)?\s*$",
            130,
            ("read more", "see more", "read the full", "see the full"),
        ),
        (r"\s*\[(?:…|\.\.\.|&hellip;)\]\s*$", 20, ("[",)),
        (
            r"\s*(?:Share|Share this|Share on|Tweet|Email|Print|WhatsApp|Facebook|Twitter|LinkedIn|Reddit)"
            r"(?:\s*(?:this|article|story|on|via|to)?\s*(?:Facebook|Twitter|X|LinkedIn|WhatsApp|Email|Reddit)?)?\s*$",
            40,
            ("share", "tweet", "email", "print", "whatsapp", "facebook", "twitter", "linkedin", "reddit"),
        ),
        (
            r"\s*(?:Must read|Latest article|Related|Recommended|Also read|Read also|READ MORE)\s*:?.{0,200}$",
            230,
            ("must read", "latest article", "related", "recommended", "also read", "read also", "read more"),
        ),
        (r"\s*(?:Photo|Image|Video):\s*[^.]{0,80}$", 100, ("photo:", "image:", "video:")),
    )
]

_BOILERPLATE_TAIL = 700  # longer than any pattern above can match


def strip_boilerplate(text: str) -> str:
    """Remove feed boilerplate tails, repeatedly: a summary can end with several of them.

    Every pattern is anchored at the end, so only the last few hundred characters are searched,
    and a pattern is tried only when one of its needles is within its reach of the end: most
    summaries end with none, and looking for each pattern's needles only in its own window
    (4 us a summary) is cheaper than any search of the whole tail first (12 us)."""
    cut = max(0, len(text) - _BOILERPLATE_TAIL)
    head, tail = text[:cut], text[cut:]
    previous = None
    while previous != tail:
        previous = tail
        lowered = tail.lower()
        for pattern, window, needles in _BOILERPLATE_PATTERNS:
            end = lowered[-window:]
            for needle in needles:
                if needle in end:
                    tail = pattern.sub("", tail).rstrip(" |-–—·•")
                    lowered = tail.lower()
                    break
    return (head + tail).strip()


_SUFFIX_SPLIT_RE = re.compile(r"\s+(?:[-–—|:•·]|::)\s+(?=[^-–—|:•·]{1,60}$)")
_SECTION_LABELS = {
    "world",
    "world news",
    "news",
    "asia",
    "asia pacific",
    "asia-pacific",
    "china",
    "us news",
    "u.s. news",
    "international",
    "latest news",
    "breaking news",
    "top stories",
    "politics",
    "business",
    "economy",
}


_LEADING_THE_RE = re.compile(r"^the\s+")
_NON_WORD_RE = re.compile(r"[^\w]+")


def _text_key(text: str) -> str:
    """A label or headline as compared with another: NFKC, lower case, without a leading "the",
    every run of non-word characters one space."""
    text = unicodedata.normalize("NFKC", text).lower().strip()
    return _NON_WORD_RE.sub(" ", _LEADING_THE_RE.sub("", text)).strip()


# Outlet names and section labels recur from entry to entry; summaries never do, and are kept
# out of this cache (they would evict the names).
_label_key = functools.lru_cache(maxsize=4096)(_text_key)
_SECTION_KEYS = frozenset(_text_key(s) for s in _SECTION_LABELS)


# The ASCII characters a regular expression's \w matches in a str pattern
_ASCII_WORD = bytes(c for c in range(128) if chr(c).isalnum() or chr(c) == "_")


def _repeats_headline(summary: str, title: str) -> bool:
    """Whether the summary is only the headline again (whatever punctuation or emoji it adds)."""
    key = _label_key(title)
    if summary.isascii():
        # Exact early answer for nearly every summary, without _text_key's regular expression
        # (a fifth of normalising): an ASCII text's key keeps every word character, less the
        # three of a leading "the", and the title's key is word characters and single spaces.
        # So a summary with any other count of word characters cannot repeat the headline.
        words = len(summary) - len(summary.encode("ascii").translate(None, _ASCII_WORD))
        if words - (len(key) - key.count(" ")) not in (0, 3):
            return False
    return _text_key(summary) == key


def _names_source(suffix: str, sources: list[str]) -> bool:
    key = _label_key(suffix)
    if not key:
        return False
    if key in _SECTION_KEYS:
        return True
    for source in sources:
        skey = _label_key(source)
        if not skey:
            continue
        compact_key, compact_source = key.replace(" ", ""), skey.replace(" ", "")
        if key == skey or compact_key == compact_source:
            return True
        # "Reuters" vs outlet "Reuters World", "The Guardian" vs "guardian.com"
        if len(compact_key) >= 3 and (compact_key in compact_source or compact_source in compact_key):
            return True
    return False


def clean_title(raw_title: str | None, sources: list[str] | None = None, *, pointer: bool = False) -> str:
    """Clean text title with an outlet or section suffix removed when it names the source.

    Google News (`pointer`) always appends " - Source" to the headline, sometimes with a name
    that differs from the entry's <source> ("WSJ" for The Wall Street Journal), so there the
    last " - " segment goes whatever it says."""
    return strip_title_suffix(html_to_text(raw_title), sources, pointer=pointer)


def strip_title_suffix(title: str, sources: list[str] | None = None, *, pointer: bool = False) -> str:
    """clean_title's second half, for a title already turned into text."""
    sources = [s for s in (sources or []) if s]
    if pointer:
        head, sep, tail = title.rpartition(" - ")
        if sep and len(head) >= 12 and 0 < len(tail) <= 60:
            title = head.rstrip()
    for _ in range(3):
        match = _SUFFIX_SPLIT_RE.search(title)
        if not match:
            break
        head, suffix = title[: match.start()], title[match.end() :]
        if len(head) < 12 or not _names_source(suffix, sources):
            break
        title = head.rstrip()
    return title


SUMMARY_MAX_CHARS = 2000


def clean_summary(raw_summary: str | None, raw_content: str | None = None) -> str:
    text = strip_boilerplate(html_to_text(raw_summary or ""))
    if not text and raw_content:
        text = strip_boilerplate(html_to_text(raw_content))
    if len(text) > SUMMARY_MAX_CHARS:
        cut = text.rfind(" ", 0, SUMMARY_MAX_CHARS)
        text = text[: cut if cut > SUMMARY_MAX_CHARS // 2 else SUMMARY_MAX_CHARS].rstrip() + "…"
    return text


# --- dates ----------------------------------------------------------------------------------

EARLIEST_TRUSTED = datetime(1995, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


def trusted(dt: datetime | None, now: datetime) -> TypeGuard[datetime]:
    """Whether dt is a plausible time for an entry seen at `now` (so, not None)."""
    return dt is not None and EARLIEST_TRUSTED <= dt <= now + FUTURE_SLACK


def choose_published(
    published: datetime | None, updated: datetime | None, first_seen: datetime
) -> tuple[datetime, str]:
    """published_at and where it came from: 'published', 'updated' or 'first_seen'."""
    if trusted(published, first_seen):
        return published.astimezone(UTC), "published"
    if trusted(updated, first_seen):
        return updated.astimezone(UTC), "updated"
    return first_seen, "first_seen"


# --- the entry ------------------------------------------------------------------------------


@dataclass
class Article:
    canonical_url: str
    url: str
    guid: str | None
    title: str
    title_raw: str
    summary: str
    published_at: datetime
    published_at_source: str
    outlet: str | None
    language: str | None
    content_hash: str
    normalizer_version: int = NORMALIZER_VERSION


@dataclass
class Rejected:
    reason: str  # missing_link | bad_link | missing_title | <field>_too_long
    detail: str


# Limits at the door, in UTF-8 bytes of what the feed gave. An entry over one of them is
# rejected with its reason instead of staged: a URL or GUID is an index key (PostgreSQL refuses
# btree keys over about 2.7 KB, which would fail every later merge of the batch), and no real
# headline or excerpt comes near these sizes (a full-content item's body is a few hundred KB).
MAX_URL_BYTES = 2048
MAX_GUID_BYTES = 1024
MAX_TITLE_BYTES = 16 * 1024
MAX_SUMMARY_BYTES = 2 * 1024 * 1024


def _utf8_len(text: str | None) -> int:
    return len(text.encode("utf-8", "replace")) if text else 0


def over_limit(entry: RawEntry) -> Rejected | None:
    """The first field of `entry` over its byte limit, as a rejection, or None."""
    for reason, value, limit in (
        ("url_too_long", entry.link, MAX_URL_BYTES),
        ("guid_too_long", entry.guid, MAX_GUID_BYTES),
        ("title_too_long", entry.title, MAX_TITLE_BYTES),
        ("summary_too_long", entry.summary, MAX_SUMMARY_BYTES),
        ("summary_too_long", entry.content, MAX_SUMMARY_BYTES),
    ):
        size = _utf8_len(value)
        if size > limit:
            return Rejected(reason, f"{size:,} bytes, over the {limit:,}-byte limit")
    return None


def raw_for_storage(raw: dict) -> dict:
    """The raw entry kept with a reject: text fields reduced to text, and nothing jsonb cannot
    hold, however deep (keys, lists, NUL, lone surrogates, numbers such as 1e999)."""
    return {
        storable(str(key)): (
            html_to_text(value) if key in ("title", "summary") and isinstance(value, str) else _storable_json(value)
        )
        for key, value in raw.items()
    }


def _storable_json(value):
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return raw_for_storage(value)
    if isinstance(value, (list, tuple)):
        return [_storable_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return storable(str(value))


def content_hash(title: str, summary: str) -> str:
    return hashlib.sha1(f"{title}\n{summary}".encode()).hexdigest()


def normalize_entry(
    entry: RawEntry,
    *,
    fetched_at: datetime,
    feed_outlet: str | None = None,
    feed_language: str | None = None,
    feed_title: str | None = None,
    document_language: str | None = None,
    feed_timezone: str | None = None,
) -> Article | Rejected:
    if entry.problem:
        return Rejected(entry.problem, f"the document's entry is not one ({entry.problem})")
    too_long = over_limit(entry)
    if too_long:
        return too_long
    link = storable(entry.link or "").strip()
    if not link:
        return Rejected("missing_link", "entry has no link")
    try:
        canonical = canonicalize_url(link)
    except UnusableURL as exc:
        return Rejected("bad_link", str(exc))
    if _utf8_len(canonical) > MAX_URL_BYTES:
        return Rejected(
            "url_too_long", f"canonical URL of {_utf8_len(canonical):,} bytes, over the {MAX_URL_BYTES:,}-byte limit"
        )
    is_pointer = urlsplit(link).hostname == "news.google.com"
    outlet = (
        _collapse(entry.source_title or "")
        or feed_outlet
        or _collapse(feed_title or "")
        or (urlsplit(canonical).hostname or None)
    )
    title_text = html_to_text(entry.title)
    title = strip_title_suffix(
        title_text,
        [outlet or "", feed_outlet or "", feed_title or "", _host_label(entry.source_url), _host_label(link)],
        pointer=is_pointer,
    )
    if not title:
        return Rejected("missing_title", "entry has no usable title")
    # A Google News description is only the headline and the outlet again, never article text.
    summary = "" if is_pointer else clean_summary(entry.summary, entry.content)
    if summary and _repeats_headline(summary, title):
        summary = ""
    # dates in the feed's own zone (config `timezone`), so a Beijing site's "08:00 CST" or a
    # zone-less "2024-03-04 08:00" lands on the right day
    published_at, source = choose_published(
        parse_date(entry.published_text, feed_timezone), parse_date(entry.updated_text, feed_timezone), fetched_at
    )
    language = (
        normalize_language(entry.language)
        or normalize_language(feed_language)
        or normalize_language(document_language)
        or detect_language(f"{title}. {summary}")
    )
    return Article(
        canonical_url=canonical,
        url=link,
        guid=storable(entry.guid or "").strip() or None,
        title=title[:1000],
        title_raw=title_text[:2000],  # as published, outlet suffix and all
        summary=summary,
        published_at=published_at,
        published_at_source=source,
        outlet=outlet,
        language=language,
        content_hash=content_hash(title, summary),
    )


def _host_label(url: str | None) -> str:
    if not url:
        return ""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    return _site_name(host)


@functools.lru_cache(maxsize=4096)
def _site_name(host: str) -> str:
    host = _HOST_PREFIX_RE.sub("", host)
    return host.rsplit(".", 1)[0] if "." in host else host


_HOST_PREFIX_RE = re.compile(r"^(www|amp|m)\.")
