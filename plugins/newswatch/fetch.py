"""HTTP for feeds: conditional GET, redirects we follow ourselves, size and time caps, SSRF guard.

`fetch()` never raises for a feed's own problems: every outcome, good or bad, comes back as a
`FetchResult` with a status and, for failures, an `error_class` from a fixed vocabulary that
lands in `news.fetch_log`. What to do about the outcome (validators, back-off, redirects) is
decided elsewhere (`feedstate.py`); this module only talks HTTP.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .config import FetchSettings
from .errors import FeedError, FetchFailure

PERMANENT_REDIRECTS = {301, 308}
TEMPORARY_REDIRECTS = {302, 303, 307}


@dataclass
class Redirect:
    status: int
    source: str
    target: str


@dataclass
class FetchResult:
    url: str
    status: str  # 'ok' | 'not_modified' | 'error'
    final_url: str | None = None
    http_status: int | None = None
    body: bytes | None = None
    body_hash: str | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    cache_max_age: int | None = None
    retry_after: float | None = None
    redirects: list[Redirect] = field(default_factory=list)
    error_class: str | None = None
    error: str | None = None
    elapsed: float = 0.0

    @property
    def permanent_redirect(self) -> str | None:
        """Where the feed now lives, if every hop from the stored URL was permanent."""
        if self.redirects and all(r.status in PERMANENT_REDIRECTS for r in self.redirects):
            return self.redirects[-1].target
        return None

    @property
    def headers_for_parser(self) -> dict:
        headers = {"content-location": self.final_url or self.url}
        if self.content_type:
            headers["content-type"] = self.content_type
        return headers


# --- address checks -------------------------------------------------------------------------

_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def address_refusal(ip: str, allowed: tuple[str, ...] = ()) -> str | None:
    """Why a connection to `ip` is refused under the default policy, or None if it is public
    (or inside one of the `allowed` networks). Anything not globally routable is refused,
    including IPv4 addresses tunnelled in IPv6 (mapped, 6to4, Teredo)."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if any(addr in ipaddress.ip_network(net) for net in allowed):
        return None
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = addr.sixtofour or (addr.teredo[1] if addr.teredo else None)
        if embedded is not None:
            why = address_refusal(str(embedded), allowed)
            if why:
                return f"{why} (tunnelled in {ip})"
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_multicast:
        return "multicast"
    if addr.is_unspecified or addr.is_reserved:
        return "reserved"
    if addr.is_private or (isinstance(addr, ipaddress.IPv4Address) and addr in _CGNAT):
        return "private"
    if isinstance(addr, ipaddress.IPv6Address) and addr.is_site_local:
        return "site-local"  # deprecated fec0::/10, still routed inside some networks
    if not addr.is_global:
        return "non-public"
    return None


def _guarded_connection(base):
    # a subclass of whichever urllib3 connection class it is given (HTTP or HTTPS): mypy cannot
    # type a class whose base is a parameter
    class Guarded(base):  # type: ignore[misc,valid-type]
        """Checks the address actually connected to, after DNS, on every new connection, so
        neither a redirect hop nor a DNS answer that changes between check and use can reach
        an internal address."""

        allow_private = False
        allowed_networks: tuple[str, ...] = ()

        def _new_conn(self):
            sock = super()._new_conn()
            if not self.allow_private:
                peer = sock.getpeername()[0]
                why = address_refusal(peer, self.allowed_networks)
                if why:
                    sock.close()
                    raise BlockedAddress(f"{self.host} resolves to {why} address {peer}")
            return sock

    return Guarded


class BlockedAddress(FeedError, OSError):
    """Raised inside urllib3's connection (hence an OSError) and turned into FetchFailure("blocked")."""


_GuardedHTTP = _guarded_connection(HTTPConnection)
_GuardedHTTPS = _guarded_connection(HTTPSConnection)


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, allow_private: bool, allowed_networks: tuple[str, ...] = (), **kwargs):
        self._policy = {"allow_private": allow_private, "allowed_networks": tuple(allowed_networks)}
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        http_conn = type("GuardedHTTP", (_GuardedHTTP,), dict(self._policy))
        https_conn = type("GuardedHTTPS", (_GuardedHTTPS,), dict(self._policy))
        http_pool = type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn})
        https_pool = type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}


def make_session(settings: FetchSettings, pool_size: int = 10) -> requests.Session:
    session = requests.Session()
    # HTTP(S)_PROXY from the environment would send requests through a proxy whose address is
    # all the guard could check; newswatch connects directly so the check means something.
    session.trust_env = False
    adapter = _GuardedAdapter(
        settings.allow_private_networks,
        settings.allowed_networks,
        pool_connections=pool_size,
        pool_maxsize=pool_size,
        max_retries=0,
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update(
        {
            "User-Agent": settings.user_agent,
            "Accept": (
                "application/rss+xml, application/atom+xml, application/rdf+xml, "
                "application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
            ),
            "Accept-Encoding": "gzip, deflate",
        }
    )
    return session


# enough lookups in parallel for the fetch workers, so time queued here is not reported as DNS
_resolver = ThreadPoolExecutor(max_workers=16, thread_name_prefix="newswatch-dns")


def resolve(host: str, port: int, timeout: float) -> list[str]:
    """getaddrinfo with a timeout (the C call has none), for a clean `dns` classification."""
    future = _resolver.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=timeout)
    except FutureTimeout:
        raise FetchFailure("dns", f"DNS lookup of {host} timed out after {timeout:.0f}s") from None
    except socket.gaierror as exc:
        raise FetchFailure("dns", f"DNS lookup of {host} failed: {exc.strerror or exc}") from None
    except UnicodeError as exc:
        raise FetchFailure("dns", f"host name {host!r} is not valid: {exc}") from None
    return sorted({str(info[4][0]) for info in infos})  # the address of each (address, port, ...)


def check_url_allowed(url: str, settings: FetchSettings, deadline_left: float) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchFailure("blocked", f"refusing {parts.scheme or 'schemeless'} URL {url!r}: only http and https")
    if not parts.hostname:
        raise FetchFailure("blocked", f"URL {url!r} has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchFailure("blocked", f"URL {url!r} has an invalid port") from None
    addresses = resolve(parts.hostname, port, min(settings.connect_timeout, max(deadline_left, 0.1)))
    if settings.allow_private_networks:
        return
    for ip in addresses:
        why = address_refusal(ip, settings.allowed_networks)
        if why:
            raise FetchFailure(
                "blocked",
                f"{parts.hostname} resolves to {why} address {ip}; refused "
                "(set NEWSWATCH_ALLOW_PRIVATE_NETWORKS=true to allow)",
            )


# --- the fetch ------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def parse_max_age(cache_control: str | None) -> int | None:
    if not cache_control:
        return None
    for part in cache_control.lower().split(","):
        part = part.strip()
        if part in ("no-cache", "no-store"):
            return 0
        if part.startswith("max-age="):
            try:
                return max(0, int(part.split("=", 1)[1].strip().strip('"')))
            except ValueError:
                return None
    return None


def fetch(
    url: str,
    *,
    settings: FetchSettings,
    etag: str | None = None,
    last_modified: str | None = None,
    session: requests.Session | None = None,
    check_redirect: Callable[[str], None] | None = None,
) -> FetchResult:
    """One conditional GET of a feed, following up to `max_redirects` redirects by hand.
    `check_redirect(target)` is asked before each redirect is followed and may refuse it by
    raising (its exception reaches the caller; the full-text fetcher checks robots.txt and
    back-off there)."""
    own_session = session is None
    session = session or make_session(settings, pool_size=1)
    started = time.monotonic()
    result = FetchResult(url=url, status="error")
    try:
        _fetch_into(result, url, session, settings, etag, last_modified, started, check_redirect)
    except FetchFailure as exc:
        _record_failure(result, exc)
    finally:
        result.elapsed = time.monotonic() - started
        if own_session:
            session.close()
    return result


def post_form(url: str, form: dict[str, str], *, settings: FetchSettings, session: requests.Session) -> FetchResult:
    """One form POST under the same guards as a fetch (address checks, deadline, size cap); a
    redirect is an error, not followed: the only caller posts to an API that answers directly."""
    started = time.monotonic()
    result = FetchResult(url=url, status="error")
    try:
        check_url_allowed(url, settings, settings.deadline)
        response = _request(session, "POST", url, {}, settings, settings.deadline, data=form)
        try:
            result.http_status = response.status_code
            if response.is_redirect:
                raise FetchFailure("http_4xx", f"unexpected redirect (HTTP {response.status_code})")
            result.final_url = url
            _read_response(result, response, settings, started)
        finally:
            response.close()
    except FetchFailure as exc:
        _record_failure(result, exc)
    result.elapsed = time.monotonic() - started
    return result


def _record_failure(result: FetchResult, exc: FetchFailure) -> None:
    result.status = "error"
    result.error_class = exc.error_class
    result.error = str(exc)
    result.http_status = exc.http_status if exc.http_status is not None else result.http_status
    result.retry_after = exc.retry_after
    result.body = None


def _fetch_into(result, url, session, settings, etag, last_modified, started, check_redirect=None):
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    seen = {current}
    for _hop in range(settings.max_redirects + 1):
        left = settings.deadline - (time.monotonic() - started)
        if left <= 0:
            raise FetchFailure("timeout", f"gave up after the {settings.deadline:.0f}s deadline")
        check_url_allowed(current, settings, left)
        if result.redirects and check_redirect is not None:  # after the SSRF guard: never ask a blocked host
            check_redirect(current)
        response = _get(session, current, headers, settings, left)
        try:
            result.http_status = response.status_code
            if response.is_redirect or response.status_code in PERMANENT_REDIRECTS | TEMPORARY_REDIRECTS:
                location = response.headers.get("Location")
                if not location:
                    raise FetchFailure(
                        "http_5xx",
                        f"HTTP {response.status_code} redirect without a Location header (a server error)",
                        http_status=response.status_code,
                    )
                target = urljoin(current, location.strip())
                result.redirects.append(Redirect(response.status_code, current, target))
                if target in seen:
                    raise FetchFailure("redirect_loop", f"redirect loop at {target}", http_status=response.status_code)
                seen.add(target)
                current = target
                continue
            result.final_url = current
            _read_response(result, response, settings, started)
            return
        finally:
            response.close()
    raise FetchFailure(
        "redirect_loop",
        f"more than {settings.max_redirects} redirects (last: {current})",
        http_status=result.http_status,
    )


def _get(session, url, headers, settings, left):
    return _request(session, "GET", url, headers, settings, left)


def _request(session, method: str, url: str, headers, settings, left: float, data=None):
    """One request, no redirect followed, its errors classified as fetch failures."""
    timeout = (min(settings.connect_timeout, left), min(settings.read_timeout, left))
    try:
        return session.request(
            method, url, headers=headers, data=data, stream=True, timeout=timeout, allow_redirects=False
        )
    except requests.exceptions.ConnectionError as exc:
        raise _classify_connection_error(exc, url) from None
    except requests.exceptions.Timeout as exc:
        raise FetchFailure("timeout", f"no answer from {urlsplit(url).hostname}: {_short(exc)}") from None
    except requests.exceptions.InvalidURL as exc:
        raise FetchFailure("blocked", f"invalid URL {url!r}: {_short(exc)}") from None
    except requests.exceptions.RequestException as exc:
        raise FetchFailure("connect", f"request to {url} failed: {_short(exc)}") from None


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """requests wraps urllib3 wraps socket/ssl errors in several ways (reason, args, cause);
    walk all of them so the root cause can be classified."""
    seen: list[BaseException] = []
    stack = [exc]
    while stack and len(seen) < 20:
        item = stack.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        stack.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
        for attr in ("reason", "__cause__", "__context__"):
            value = getattr(item, attr, None)
            if isinstance(value, BaseException):
                stack.append(value)
    return seen


def _classify_connection_error(exc, url) -> FetchFailure:
    host = urlsplit(url).hostname
    chain = _exception_chain(exc)
    for item in chain:
        if isinstance(item, BlockedAddress):
            return FetchFailure("blocked", f"{item}; refused (set NEWSWATCH_ALLOW_PRIVATE_NETWORKS=true to allow)")
    for item in chain:
        if isinstance(item, (ssl.SSLError, ssl.CertificateError)) or type(item).__name__ == "SSLError":
            return FetchFailure("tls", f"TLS error with {host}: {_short(item)}")
    for item in chain:
        if isinstance(item, socket.gaierror) or type(item).__name__ == "NameResolutionError":
            return FetchFailure("dns", f"DNS lookup of {host} failed")
    for item in chain:
        if isinstance(item, (socket.timeout, TimeoutError)) or "Timeout" in type(item).__name__:
            return FetchFailure("timeout", f"connection to {host} timed out")
    for item in chain:
        if isinstance(item, ConnectionRefusedError):
            return FetchFailure("connect", f"connection to {host} refused")
    return FetchFailure("connect", f"could not connect to {host}: {_short(exc)}")


def _short(exc) -> str:
    text = str(exc)
    return text if len(text) <= 300 else text[:297] + "..."


def _read_response(result: FetchResult, response, settings: FetchSettings, started: float) -> None:
    status = response.status_code
    result.etag = response.headers.get("ETag")
    result.last_modified = response.headers.get("Last-Modified")
    result.content_type = response.headers.get("Content-Type")
    result.cache_max_age = parse_max_age(response.headers.get("Cache-Control"))
    if status == 304:
        result.status = "not_modified"
        return
    if status == 429 or (status == 503 and response.headers.get("Retry-After")):
        raise FetchFailure(
            "rate_limited" if status == 429 else "http_5xx",
            f"HTTP {status} {response.reason or ''}".strip() + _retry_note(response),
            http_status=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status == 410:
        raise FetchFailure("gone", "HTTP 410 Gone: the publisher removed this feed", http_status=status)
    if 400 <= status < 500:
        raise FetchFailure("http_4xx", f"HTTP {status} {response.reason or ''}".strip(), http_status=status)
    if status >= 500:
        raise FetchFailure("http_5xx", f"HTTP {status} {response.reason or ''}".strip(), http_status=status)
    if status != 200:
        raise FetchFailure("http_4xx", f"unexpected HTTP {status}", http_status=status)

    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > settings.max_body_bytes and not settings.truncate_body:
        raise FetchFailure(
            "too_large",
            f"body of {int(declared):,} bytes exceeds the {settings.max_body_bytes:,}-byte limit",
            http_status=status,
        )
    chunks = []
    size = 0
    digest = hashlib.sha256()
    raw = response.raw
    try:
        while True:
            if time.monotonic() - started > settings.deadline:
                raise FetchFailure(
                    "timeout", f"body not complete within the {settings.deadline:.0f}s deadline", http_status=status
                )
            # read1 returns what has arrived instead of waiting for a full buffer, so a server
            # that trickles bytes is caught by the deadline check above.
            chunk = raw.read1(64 * 1024, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > settings.max_body_bytes and settings.truncate_body:
                chunk = chunk[: len(chunk) - (size - settings.max_body_bytes)]
                digest.update(chunk)
                chunks.append(chunk)
                break
            if size > settings.max_body_bytes:
                raise FetchFailure(
                    "too_large", f"body exceeds the {settings.max_body_bytes:,}-byte limit", http_status=status
                )
            digest.update(chunk)
            chunks.append(chunk)
    except FetchFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - urllib3 raises a family of errors mid-body
        name = type(exc).__name__
        if "Timeout" in name or "timed out" in str(exc):
            raise FetchFailure("timeout", f"reading the body timed out: {_short(exc)}", http_status=status) from None
        if "Decode" in name:
            raise FetchFailure(
                "parse_error", f"could not decompress the body: {_short(exc)}", http_status=status
            ) from None
        raise FetchFailure(
            "connect", f"connection broke while reading the body: {_short(exc)}", http_status=status
        ) from None
    result.body = b"".join(chunks)
    result.body_hash = digest.hexdigest()
    result.status = "ok"


def _retry_note(response) -> str:
    value = response.headers.get("Retry-After")
    return f" (Retry-After: {value})" if value else ""
