"""Google News article links -> the publisher's address.

A Google News feed's items link to `news.google.com/rss/articles/<id>`. Ids minted before mid-2024
carry the publisher's URL and are read offline (`urls.decode_google_news_url`). Newer ids
("CBMi…AU_yqL…") are opaque: Google's article page for the id carries a signature and a
timestamp (`data-n-a-sg`, `data-n-a-ts`), and its `batchexecute` endpoint answers the
publisher's URL for (id, timestamp, signature). That is how the public decoders do it
(googlenewsdecoder and its ports). It is an undocumented web API of Google's, so the answers
are read in three kinds: a URL; a final "no" for this link (Google does not know the id, or
answered without a URL); or "Google is not answering us now" (rate limits, consent or captcha
pages, redirects away from news.google.com, a page without the signature), which backs Google
off and leaves the link for a later run instead of spending the page's attempts.

Not the googlenewsdecoder package itself: it makes its own requests, outside the fetcher's
address checks, size and time caps, per-host slots and back-off, and sleeps between calls.
The parsing is pure and tested here; `resolve` is the thin I/O around it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from .config import FetchSettings
from .fetch import FetchResult, fetch, post_form
from .urls import GOOGLE_NEWS_ARTICLE_RE, decode_google_news_url

HOST = "news.google.com"
_SIGNATURE_RE = re.compile(rb'data-n-a-sg="([^"]+)"')
_TIMESTAMP_RE = re.compile(rb'data-n-a-ts="(\d+)"')
_RPC = "Fbv4je"
BATCHEXECUTE_PATH = "/_/DotsSplashUi/data/batchexecute"
# where the signature is looked for, in order: the feed's own link form first (with its
# hl/gl/ceid), which the public decoders found answering when /articles/ sent clients to a
# "sorry" page
ARTICLE_PAGES = ("/rss/articles/", "/articles/")


def article_id(url: str) -> str | None:
    """The id of a Google News article link, or None for any other address."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() != HOST:
        return None
    match = GOOGLE_NEWS_ARTICLE_RE.match(parts.path)
    return match.group(1) if match else None


def decoding_params(page: bytes) -> tuple[str, int] | None:
    """(signature, timestamp) from Google's article page for an id, or None."""
    signature, timestamp = _SIGNATURE_RE.search(page), _TIMESTAMP_RE.search(page)
    if not signature or not timestamp:
        return None
    return signature.group(1).decode("ascii", "replace"), int(timestamp.group(1))


def batchexecute_form(gid: str, timestamp: int, signature: str) -> dict[str, str]:
    """The form Google's web client posts to turn (id, timestamp, signature) into a URL."""
    request = [
        "garturlreq",
        [["X", "X", ["X", "X"], None, None, 1, 1, "US:en", None, 1, None, None, None, None, None, 0, 1],
         "X", "X", 1, [1, 1, 1], 1, 1, None, 0, 0, None, 0],
        gid,
        timestamp,
        signature,
    ]  # fmt: skip
    envelope = [[[_RPC, json.dumps(request, separators=(",", ":")), None, "generic"]]]
    return {"f.req": json.dumps(envelope, separators=(",", ":"))}


def publisher_url(answer: bytes) -> str | None:
    """The URL in a batchexecute answer, or None. The answer is `)]}'`, a blank line, then JSON
    whose `["wrb.fr", "Fbv4je", "<JSON text>"]` row holds `["garturlres", "<url>", …]`."""
    text = answer.decode("utf-8", "replace")
    start = text.find("\n\n")
    try:
        rows = json.loads(text[start:] if start >= 0 else text)
        for row in rows if isinstance(rows, list) else ():
            if isinstance(row, list) and len(row) > 2 and row[:2] == ["wrb.fr", _RPC] and isinstance(row[2], str):
                inner = json.loads(row[2])
                if isinstance(inner, list) and len(inner) > 1 and inner[0] == "garturlres":
                    url = inner[1]
                    if isinstance(url, str) and url.startswith(("http://", "https://")):
                        return url
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return None
    return None


@dataclass
class Resolution:
    url: str | None = None  # the publisher's page
    final: str | None = None  # this link's answer is no: 'blocked' or 'robots_disallowed'
    detail: str = ""  # how, or why not
    unavailable: bool = False  # Google is not answering us now: back off, the link waits
    retry_after: float | None = None  # what Google asked for, with a 429


def _unavailable(result: FetchResult | None, detail: str) -> Resolution:
    return Resolution(detail=detail, unavailable=True, retry_after=result.retry_after if result else None)


def resolve(
    link: str,
    *,
    session: requests.Session,
    settings: FetchSettings,
    allowed: Callable[[str], bool] = lambda url: True,
    base: str | None = None,
) -> Resolution:
    """The publisher's URL behind a Google News link: offline when the id carries it, else with
    two requests to Google, each first checked with `allowed` (robots.txt). `base` replaces
    https://news.google.com, for tests."""
    offline = decode_google_news_url(link)
    if offline:
        return Resolution(url=offline, detail="read from the link")
    gid = article_id(link)
    if gid is None:
        return Resolution(final="blocked", detail="a news.google.com address that is not an article link")
    origin = (base or f"https://{HOST}").rstrip("/")
    query = urlsplit(link).query
    params, last = None, None
    for path in ARTICLE_PAGES:
        url = f"{origin}{path}{gid}" + (f"?{query}" if query and path == "/rss/articles/" else "")
        if not allowed(url):
            return Resolution(final="robots_disallowed", detail=f"robots.txt of {HOST} disallows {path}")
        try:
            page = fetch(url, settings=settings, session=session, check_redirect=_stay_on(origin))
        except _LeftGoogle as left:
            last = _unavailable(None, str(left))
            continue
        if page.http_status == 404:
            last = Resolution(final="blocked", detail="Google does not know this article id (HTTP 404)")
            continue
        if page.status == "ok" and page.body is not None:
            params = decoding_params(page.body)
            if params is not None:
                break
            last = _unavailable(
                page, "Google's article page carries no decoding signature (a consent or captcha page?)"
            )
        else:
            last = _unavailable(page, f"Google's article page: {page.error or page.status}")
        if page.error_class == "rate_limited":
            return last
    if params is None:
        return last or Resolution(final="blocked", detail="no article page to ask")
    endpoint = f"{origin}{BATCHEXECUTE_PATH}"
    if not allowed(endpoint):
        return Resolution(final="robots_disallowed", detail=f"robots.txt of {HOST} disallows {BATCHEXECUTE_PATH}")
    answer = post_form(endpoint, batchexecute_form(gid, params[1], params[0]), settings=settings, session=session)
    if answer.status != "ok" or answer.body is None:
        return _unavailable(answer, f"Google's batchexecute: {answer.error or answer.status}")
    publisher = publisher_url(answer.body)
    if publisher is None:
        return Resolution(final="blocked", detail="Google's batchexecute answer holds no URL for this id")
    return Resolution(url=publisher, detail="resolved through Google News")


class _LeftGoogle(Exception):
    """A redirect away from Google's own host: a consent or "sorry" page, not an answer."""


def _stay_on(origin: str) -> Callable[[str], None]:
    host = urlsplit(origin).netloc

    def check(target: str) -> None:
        if urlsplit(target).netloc != host:
            raise _LeftGoogle(f"Google redirected to {target}")

    return check
