"""Where URLs are canonicalised: an entry's link -> the identity key for "the same article".


Canonical URL rules (NORMALIZER_VERSION 1). The canonical URL is an identity key for "the same
article", stored next to the raw URL, which is kept untouched in `article_sightings`:
  1. Google AMP-cache and Google News pointers are unwrapped to the publisher's URL when the
     address itself carries it (old-style news.google.com/rss/articles ids encode it; new-style
     ids need a network call and are kept as they are).
  2. Scheme becomes https (http and https of one host are one article); host lower-cased,
     IDNA-encoded, a leading "www." or "amp." dropped, default ports dropped.
  3. Fragment dropped; tracking parameters dropped (TRACKING_PARAMS, TRACKING_PREFIXES,
     case-insensitive); AMP markers dropped (an `amp` path segment, a `.amp` before `.html`,
     `?amp`, `?amp=1`, `?outputType=amp`).
  4. Remaining query parameters sorted, percent-encoding normalised (w3lib).
  Paths are never lower-cased and other parameters are never dropped: `?id=` and `?p=` name
  articles on many sites, and case matters in paths on most servers.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url as w3lib_canonicalize

from .errors import UnusableURL

NORMALIZER_VERSION = 1

# fmt: off
TRACKING_PARAMS = frozenset(
    p.lower()
    for p in (
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "igshid", "mc_cid", "mc_eid", "mkt_tok", "at_medium", "at_campaign", "at_custom1",
        "at_custom2", "at_custom3", "at_custom4", "at_ptr_name", "at_link_id", "at_link_origin",
        "at_link_type", "at_bbc_team", "at_format", "at_ptr_type", "cmpid", "cmp", "ocid",
        "taid", "smid", "smtyp", "sh", "ito", "_ga", "_gl", "_hsenc", "_hsmi", "s_cid",
        "wt.mc_id", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee",
        "sr_share", "xtor", "ref_src", "ref_url", "__twitter_impression", "guccounter",
        "guce_referrer", "guce_referrer_sig", "soc_src", "soc_trk", "spref", "rss", "feedtype",
        "feedname", "cid", "src", "source", "ref", "partner", "rpc", "mod", "sref", "share",
        "oc", "dicbo", "utm", "tpcc", "tid", "amp", "outputtype", "maca",
    )
)
# fmt: on
TRACKING_PREFIXES = ("utm_", "itm_", "pk_", "mtm_", "vero_", "oly_", "hsa_", "wt.", "at_")
# Parameters in TRACKING_PARAMS that some sites also use for content ("?cid=1234" can name an
# article): dropped only when the value is a known tracking value.
_VALUE_DEPENDENT = frozenset({"cid", "src", "source", "ref", "partner", "mod", "sref", "share", "tid", "rpc"})
_TRACKING_VALUE_RE = re.compile(
    r"^(?:(?:rss\d*|feed|feeds|feedburner|rssfeed|newsletter|twitter|facebook|fb|tw|social|share|"
    r"sharebar|email|mail|tracking|nl|outbrain|taboola|msn|yahoo|flipboard|google|gnews|"
    r"googlenews|homepage|hp|mobile|app|copy|link|web|world|asia|china|politics)(?:[_.:-][\w.:-]*)?"
    r"|1|true|yes)$",
    re.IGNORECASE,
)
_AMP_QUERY = {"amp": {"", "1", "true", "yes"}, "outputtype": {"amp"}, "_amp": {"true", "1"}}

_AMP_CACHE_RE = re.compile(r"^[a-z0-9-]+\.cdn\.ampproject\.org$")
# a Google News article link's path and its id (google_news.py resolves the opaque ones)
GOOGLE_NEWS_ARTICLE_RE = re.compile(r"^/(?:rss/)?(?:articles|read)/([A-Za-z0-9_-]+)")


def _is_tracking(name: str, value: str) -> bool:
    key = name.lower()
    if key in _AMP_QUERY:
        return value.lower() in _AMP_QUERY[key]
    if key in _VALUE_DEPENDENT:
        return bool(_TRACKING_VALUE_RE.match(value))
    if key in TRACKING_PARAMS:
        return True
    return key.startswith(TRACKING_PREFIXES)


def decode_google_news_url(url: str) -> str | None:
    """Publisher URL inside an old-style Google News article id, or None.

    Ids before mid-2024 are base64 protobuf: 0x08 0x13 0x22, a varint length, then the URL.
    Newer ids ("AU_yqL...") are opaque and need a request to Google to resolve.
    """
    parts = urlsplit(url)
    if parts.hostname != "news.google.com":
        return None
    match = GOOGLE_NEWS_ARTICLE_RE.match(parts.path)
    if not match:
        return None
    token = match.group(1)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    if raw.startswith(b"\x08\x13\x22"):
        raw = raw[3:]
        length, shift, i = 0, 0, 0
        while i < len(raw) and i < 5:
            byte = raw[i]
            length |= (byte & 0x7F) << shift
            i += 1
            if not byte & 0x80:
                break
            shift += 7
        candidate = raw[i : i + length]
        try:
            text = candidate.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if text.startswith(("http://", "https://")):
            return text
    return None


def _strip_amp_path(path: str) -> str:
    segments = path.split("/")
    kept = [s for s in segments if s.lower() != "amp"]
    if len(kept) != len(segments):
        path = "/".join(kept) or "/"
        if not path.startswith("/"):
            path = "/" + path
    if ".amp" in path.lower():
        path = _AMP_SUFFIX_RE.sub(lambda m: m.group(1) or "", path)
    return path


_AMP_SUFFIX_RE = re.compile(r"\.amp(\.html?)?$", re.IGNORECASE)


def canonicalize_url(url: str) -> str:
    """The canonical form of an article URL (see the module docstring for the rules)."""
    if not url or not url.strip():
        raise UnusableURL("empty URL")
    url = url.strip()
    if url.startswith("//"):
        url = "https:" + url
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # a malformed IPv6 host, say
        raise UnusableURL(f"not a URL ({exc}): {url[:200]!r}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UnusableURL(f"not an http(s) URL: {url[:200]!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnusableURL(f"URL has no host: {url[:200]!r}")

    inner = decode_google_news_url(url)
    if inner:
        return canonicalize_url(inner)
    if _AMP_CACHE_RE.match(host.lower()):
        # https://www-bbc-com.cdn.ampproject.org/c/s/www.bbc.com/news/amp/x -> https://www.bbc.com/news/amp/x
        match = re.match(r"^/[a-z]/(s/)?(.+)$", parts.path)
        if match:
            scheme = "https" if match.group(1) else "http"
            rebuilt = f"{scheme}://{match.group(2)}" + (f"?{parts.query}" if parts.query else "")
            return canonicalize_url(rebuilt)

    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        host = host.lower()
    for prefix in ("www.", "amp."):
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
    try:
        port = parts.port
    except ValueError:
        raise UnusableURL(f"URL has an invalid port: {url[:200]!r}") from None
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"

    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k, v)]
    path = _strip_amp_path(parts.path or "/")
    if "/." not in path and _PLAIN_RE.match(path) and all(_PLAIN_RE.match(k) and _PLAIN_RE.match(v) for k, v in query):
        # nothing for w3lib to escape or unescape: its answer is this (query sorted), for a
        # fraction of its cost (tests/unit/test_urls.py checks they agree)
        return f"https://{netloc}{path}" + ("?" + "&".join(f"{k}={v}" for k, v in sorted(query)) if query else "")
    rebuilt = urlunsplit(("https", netloc, path, urlencode(query, doseq=True), ""))
    return w3lib_canonicalize(rebuilt, keep_blank_values=True)


# characters of a path or query part that w3lib's canonical form leaves exactly as they are
# (it also resolves "." and ".." segments: paths with "/." take its way)
_PLAIN_RE = re.compile(r"^[A-Za-z0-9\-._~/]*$")
