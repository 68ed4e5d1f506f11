"""Google News article links -> the publisher's address.

A Google News feed's items link to `news.google.com/rss/articles/<id>`. Ids minted before mid-2024
carry the publisher's URL and are read offline (`urls.decode_google_news_url`). Newer ids
("CBMi…AU_yqL…") are opaque: Google's article page for the id carries a signature and a
timestamp (`data-n-a-sg`, `data-n-a-ts`), and its `batchexecute` endpoint answers the
publisher's URL for (id, timestamp, signature). That is how the public decoders do it
(googlenewsdecoder and its ports). It is an undocumented web API of Google's: whatever it
answers that is not a URL means "unresolved", never an error that stops anything.

Not the googlenewsdecoder package itself: it makes its own requests, outside the fetcher's
address checks, size and time caps, per-host slots and back-off, and sleeps between calls.
The parsing is pure and tested here; `resolve` is the thin I/O around it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from .config import FetchSettings
from .fetch import FetchResult, fetch, post_form
from .urls import decode_google_news_url

HOST = "news.google.com"
_ARTICLE_RE = re.compile(r"^/(?:rss/)?(?:articles|read)/([A-Za-z0-9_-]+)")
_SIGNATURE_RE = re.compile(rb'data-n-a-sg="([^"]+)"')
_TIMESTAMP_RE = re.compile(rb'data-n-a-ts="(\d+)"')
_RPC = "Fbv4je"
BATCHEXECUTE_PATH = "/_/DotsSplashUi/data/batchexecute"
ARTICLE_PAGES = ("/articles/", "/rss/articles/")


def article_id(url: str) -> str | None:
    """The id of a Google News article link, or None for any other address."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() != HOST:
        return None
    match = _ARTICLE_RE.match(parts.path)
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
    except ValueError:
        return None
    for row in rows if isinstance(rows, list) else ():
        if isinstance(row, list) and len(row) > 2 and row[:2] == ["wrb.fr", _RPC] and isinstance(row[2], str):
            try:
                inner = json.loads(row[2])
            except ValueError:
                return None
            if isinstance(inner, list) and len(inner) > 1 and inner[0] == "garturlres":
                url = inner[1]
                if isinstance(url, str) and url.startswith(("http://", "https://")):
                    return url
    return None


@dataclass
class Resolution:
    url: str | None  # the publisher's page, or None
    detail: str  # how, or why not
    failed: FetchResult | None = None  # a request that failed (its status drives back-off)


def resolve(link: str, *, session: requests.Session, settings: FetchSettings, base: str | None = None) -> Resolution:
    """The publisher's URL behind a Google News link: offline when the id carries it, else with
    two requests to Google (`base` replaces https://news.google.com, for tests)."""
    offline = decode_google_news_url(link)
    if offline:
        return Resolution(offline, "read from the link")
    gid = article_id(link)
    if gid is None:
        return Resolution(None, "not a Google News article link")
    origin = (base or f"https://{HOST}").rstrip("/")
    params = None
    for path in ARTICLE_PAGES:  # the public decoders found the signature on one or the other
        page = fetch(f"{origin}{path}{gid}", settings=settings, session=session)
        if page.status != "ok" or page.body is None:
            return Resolution(None, f"Google's article page: {page.error or page.status}", page)
        params = decoding_params(page.body)
        if params is not None:
            break
    if params is None:
        return Resolution(None, "Google's article page carries no decoding signature")
    answer = post_form(
        f"{origin}{BATCHEXECUTE_PATH}", batchexecute_form(gid, params[1], params[0]), settings=settings, session=session
    )
    if answer.status != "ok" or answer.body is None:
        return Resolution(None, f"Google's batchexecute: {answer.error or answer.status}", answer)
    url = publisher_url(answer.body)
    if url is None:
        return Resolution(None, "Google's batchexecute answer holds no URL")
    return Resolution(url, "resolved through Google News")
