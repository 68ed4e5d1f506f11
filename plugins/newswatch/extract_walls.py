"""Step 5 of extraction (extract.py): walls. A paywall, consent wall, JavaScript wall or bot check
is recognised by its markers on the page combined with too little text, and wall text that
trafilatura took for body text is dropped. Pure: no network, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement

from .extract_lines import BOILERPLATE_MAX_WORDS, line_words, norm_line


@dataclass(frozen=True)
class Wall:
    kind: str
    # Fewer words than this (or than the feed summary) with a marker on the page make a wall. A
    # paywall shows a teaser of a few paragraphs; consent, JavaScript and bot walls show nothing,
    # so a short article on a page with a cookie banner is not taken for one.
    short_words: int
    # Lower-case phrases of the wall itself, not of ordinary page furniture: "cookie settings" and
    # "already a subscriber? sign in" are in the footers and top bars of most news sites.
    markers: tuple[str, ...]


_WALLS = (
    Wall(
        "paywall",
        150,
        (
            "subscribe to continue reading",
            "subscribe to read",
            "subscribe to keep reading",
            "subscribe now to continue",
            "to continue reading, subscribe",
            "continue reading with a subscription",
            "this content is for subscribers",
            "this article is for subscribers",
            "this story is for subscribers",
            "available to subscribers only",
            "you have reached your limit of free articles",
            "you've reached your free article limit",
            "you have reached the limit of free articles",
            "free articles remaining",
            "register to continue reading",
            "create a free account to continue",
            "log in to continue reading",
            "sign in to continue reading",
            "unlock this article",
            "this article is reserved for",
            "become a member to read",
        ),
    ),
    Wall(
        "consent wall",
        50,
        (
            "accept all cookies",
            "accept cookies",
            "we value your privacy",
            "we care about your privacy",
            "this site uses cookies",
            "this website uses cookies",
            "we use cookies",
            "we and our partners",
            "before you continue",
        ),
    ),
    Wall(
        "javascript wall",
        50,
        (
            "enable javascript",
            "javascript is disabled",
            "javascript is required",
            "turn on javascript",
            "javascript must be enabled",
            "your browser does not support javascript",
        ),
    ),
    Wall(
        "bot check",
        50,
        (
            "checking your browser",
            "verify you are human",
            "verify you are a human",
            "are you a robot",
            "please complete the security check",
            "unusual traffic from your computer",
            "access to this page has been denied",
        ),
    ),
)
_CONSENT = _WALLS[1]
_ALL_MARKERS = tuple(marker for wall in _WALLS for marker in wall.markers)
# Consent-management platforms' names as they appear in the id/class of their containers...
_CMP_NAMES = (
    "onetrust",
    "cookiebot",
    "didomi",
    "qc-cmp",
    "sp_message_container",
    "truste-",
    "trustarc",
    "usercentrics",
    "fc-consent",
    "cmp-container",
    "cookieconsent",
    "cookie-consent",
    "consent-banner",
    "cookie-banner",
    "cookie-notice",
    "gdpr-consent",
)
# ...and the attribute they must be in: the same names in a script URL are only a CMP's loader.
_ATTR_START_RE = re.compile(r"""\b(?:id|class)\s*=\s*["'][^"'<>]*$""")
_VISIBLE_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::template)]"
)


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


def find_wall(tree: HtmlElement, html: str, words: int, summary_words: int) -> tuple[Wall, str] | None:
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
_BANNER_NAMES = (
    "cookie",
    "Cookie",
    "consent",
    "Consent",
    "gdpr",
    "GDPR",
    "onetrust",
    "didomi",
    "qc-cmp",
    "sp_message",
    "truste",
    "usercentrics",
    "cmp-container",
)
_BANNERS = etree.XPath(
    "//body//*[self::div or self::section or self::aside or self::p or self::dialog or self::form]["
    + " or ".join(f"contains(@{attr}, '{name}')" for name in _BANNER_NAMES for attr in ("id", "class"))
    + "]"
)
_BANNER_MAX_CHARS = 3000
_BANNER_WORDS = ("cookie", "consent", "privacy", "personal data", "partners")


def drop_wall_text(lines: list[str], tree: HtmlElement) -> list[str]:
    """Drop the lines of wall text that trafilatura took for body text: short lines with a wall
    marker, and lines found inside a cookie/consent container (a consent dialog's long "We and our
    partners store and/or access information..." paragraph has no short marker). Containers are
    looked up only when some line speaks of cookies, consent or privacy, as a banner's text always
    does and most articles never do."""
    lines = [
        line
        for line in lines
        if not (line_words(line) <= BOILERPLATE_MAX_WORDS and any(marker in line.casefold() for marker in _ALL_MARKERS))
    ]
    if not any(word in line.casefold() for line in lines for word in _BANNER_WORDS):
        return lines
    banners = [norm_line(element.text_content()) for element in _BANNERS(tree)]
    banners = [text for text in banners if len(text) <= _BANNER_MAX_CHARS]

    def in_banner(line: str) -> bool:
        # a short line equal to a banner's text (a button); a longer one anywhere in a banner
        key = norm_line(line)
        return any(key == text or (len(key.split()) >= 4 and key in text) for text in banners)

    return [line for line in lines if not in_banner(line)]
