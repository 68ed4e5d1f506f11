"""HTTP behaviour of fetch() against a local server that misbehaves on purpose."""

import gzip
import socket
import threading
import time
import zlib

import pytest

from newswatch.config import FetchSettings
from newswatch.dev.feedserver import FeedServer, Response
from newswatch.fetch import address_refusal, fetch, parse_max_age, parse_retry_after

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>a</title><link>http://x/1</link></item></channel></rss>'
LOOPBACK_ONLY = FetchSettings(allowed_networks=("127.0.0.0/8",), connect_timeout=2, read_timeout=2, deadline=4)


@pytest.fixture
def server():
    srv = FeedServer().start()
    yield srv
    srv.stop()


def test_conditional_get_with_etag_and_with_last_modified_only(server):
    url = server.add_document("/f.xml", FEED)
    first = fetch(url, settings=LOOPBACK_ONLY)
    assert first.status == "ok" and first.body == FEED and first.etag and first.last_modified
    assert fetch(url, settings=LOOPBACK_ONLY, etag=first.etag).status == "not_modified"
    assert fetch(url, settings=LOOPBACK_ONLY, last_modified=first.last_modified).status == "not_modified"
    sent = server.requests_for("/f.xml")
    assert sent[1].headers["if-none-match"] == first.etag
    assert sent[2].headers["if-modified-since"] == first.last_modified and "if-none-match" not in sent[2].headers


def test_both_validators_are_sent_together(server):
    url = server.add_document("/f.xml", FEED)
    first = fetch(url, settings=LOOPBACK_ONLY)
    fetch(url, settings=LOOPBACK_ONLY, etag=first.etag, last_modified=first.last_modified)
    last = server.requests_for("/f.xml")[-1].headers
    assert last["if-none-match"] == first.etag and last["if-modified-since"] == first.last_modified


def test_user_agent_names_the_project(server):
    url = server.add_document("/f.xml", FEED)
    fetch(url, settings=LOOPBACK_ONLY)
    ua = server.requests_for("/f.xml")[0].headers["user-agent"]
    assert ua.startswith("newswatch/") and "+http" in ua


def test_changed_body_gets_a_new_hash_even_with_a_stale_etag(server):
    body = {"v": FEED}
    server.add_handler("/stale", lambda req: Response(200, {"ETag": '"same"'}, body["v"]))
    a = fetch(server.url("/stale"), settings=LOOPBACK_ONLY, etag='"same"')
    body["v"] = FEED.replace(b"<title>a</title>", b"<title>b</title>")
    b = fetch(server.url("/stale"), settings=LOOPBACK_ONLY, etag='"same"')
    assert a.status == b.status == "ok" and a.body_hash != b.body_hash and a.etag == b.etag


def test_permanent_redirect_chain_is_followed_and_reported(server):
    final = server.add_document("/final.xml", FEED)
    server.add_handler("/a", lambda r: Response(301, {"Location": "/b"}))
    server.add_handler("/b", lambda r: Response(308, {"Location": final}))
    result = fetch(server.url("/a"), settings=LOOPBACK_ONLY)
    assert result.status == "ok" and result.final_url == final
    assert [r.status for r in result.redirects] == [301, 308]
    assert result.permanent_redirect == final


def test_temporary_redirect_is_not_permanent(server):
    final = server.add_document("/final.xml", FEED)
    server.add_handler("/a", lambda r: Response(301, {"Location": "/t"}))
    server.add_handler("/t", lambda r: Response(302, {"Location": final}))
    result = fetch(server.url("/a"), settings=LOOPBACK_ONLY)
    assert result.status == "ok" and result.permanent_redirect is None


def test_more_than_five_redirects_fail(server):
    for i in range(7):
        server.add_handler(f"/r{i}", lambda r, i=i: Response(302, {"Location": f"/r{i + 1}"}))
    result = fetch(server.url("/r0"), settings=LOOPBACK_ONLY)
    assert result.status == "error" and result.error_class == "redirect_loop"
    assert len(result.redirects) == 6


def test_redirect_loop(server):
    server.add_handler("/loop", lambda r: Response(302, {"Location": "/loop"}))
    assert fetch(server.url("/loop"), settings=LOOPBACK_ONLY).error_class == "redirect_loop"


@pytest.mark.parametrize(
    "status, error_class", [(500, "http_5xx"), (503, "http_5xx"), (404, "http_4xx"), (403, "http_4xx"), (410, "gone")]
)
def test_http_errors_are_classified(server, status, error_class):
    server.add_handler("/e", lambda r: Response(status, {}, b"nope"))
    result = fetch(server.url("/e"), settings=LOOPBACK_ONLY)
    assert (result.status, result.error_class, result.http_status) == ("error", error_class, status)


def test_429_with_retry_after_seconds_and_date(server):
    server.add_handler("/slow-down", lambda r: Response(429, {"Retry-After": "7200"}))
    result = fetch(server.url("/slow-down"), settings=LOOPBACK_ONLY)
    assert result.error_class == "rate_limited" and result.retry_after == 7200
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


def test_server_that_never_answers_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    held = []
    threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
    started = time.monotonic()
    result = fetch(
        f"http://127.0.0.1:{listener.getsockname()[1]}/feed",
        settings=FetchSettings(allowed_networks=("127.0.0.0/8",), read_timeout=1, deadline=3),
    )
    assert result.error_class == "timeout" and time.monotonic() - started < 3
    listener.close()


def test_trickling_server_is_cut_off_at_the_deadline(server):
    def trickle(req):
        return Response(200, {"Content-Type": "application/rss+xml"}, (b"<" for _ in range(1000)), chunk_delay=0.2)

    server.add_handler("/trickle", trickle)
    started = time.monotonic()
    result = fetch(
        server.url("/trickle"), settings=FetchSettings(allowed_networks=("127.0.0.0/8",), read_timeout=1, deadline=2)
    )
    assert result.error_class == "timeout" and "deadline" in result.error
    assert time.monotonic() - started < 3.5


def test_fifty_megabyte_body_is_refused_while_streaming(server):
    server.add_handler("/huge", lambda r: Response(200, {}, (b"x" * (1 << 20) for _ in range(50))))
    result = fetch(server.url("/huge"), settings=LOOPBACK_ONLY)
    assert result.error_class == "too_large" and result.body is None


def test_declared_content_length_over_the_cap_is_refused_before_reading(server):
    server.add_handler("/declared", lambda r: Response(200, {"Content-Length": str(50 << 20)}, b""))
    result = fetch(server.url("/declared"), settings=LOOPBACK_ONLY)
    assert result.error_class == "too_large"


def test_a_truncating_fetch_keeps_the_first_bytes_of_a_longer_body(server):
    from dataclasses import replace

    body = bytes(range(256)) * 4096  # 1 MiB
    server.add_handler("/long", lambda r: Response(200, {"Content-Length": str(len(body))}, body))
    settings = replace(LOOPBACK_ONLY, max_body_bytes=300_000, truncate_body=True)
    result = fetch(server.url("/long"), settings=settings)
    assert result.status == "ok" and result.body == body[:300_000]


def test_gzip_bomb_is_capped_on_decoded_size(server):
    bomb = gzip.compress(b"\0" * (30 << 20))
    server.add_handler("/bomb", lambda r: Response(200, {"Content-Encoding": "gzip"}, bomb))
    result = fetch(server.url("/bomb"), settings=LOOPBACK_ONLY)
    assert result.error_class == "too_large"


@pytest.mark.parametrize("encoding, compress", [("gzip", gzip.compress), ("deflate", zlib.compress)])
def test_compressed_bodies_are_decoded(server, encoding, compress):
    server.add_handler("/z", lambda r: Response(200, {"Content-Encoding": encoding}, compress(FEED)))
    result = fetch(server.url("/z"), settings=LOOPBACK_ONLY)
    assert result.status == "ok" and result.body == FEED
    assert "gzip" in server.requests_for("/z")[0].headers["accept-encoding"]


def test_loopback_is_refused_by_default(server):
    url = server.add_document("/f.xml", FEED)
    result = fetch(url, settings=FetchSettings())
    assert result.error_class == "blocked" and "loopback" in result.error
    assert server.requests_for("/f.xml") == []


def test_redirect_to_metadata_address_is_refused(server):
    server.add_handler("/evil", lambda r: Response(302, {"Location": "http://169.254.169.254/latest/meta-data/"}))
    server.add_handler("/evil2", lambda r: Response(301, {"Location": "http://10.0.0.1/feed"}))
    a = fetch(server.url("/evil"), settings=LOOPBACK_ONLY)
    b = fetch(server.url("/evil2"), settings=LOOPBACK_ONLY)
    assert a.error_class == b.error_class == "blocked"
    assert "link-local" in a.error and "private" in b.error


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/feed", "gopher://x/"])
def test_only_http_and_https(url):
    result = fetch(url, settings=FetchSettings())
    assert result.error_class == "blocked"


def test_dns_and_connection_failures_are_classified():
    assert fetch("http://no-such-host.invalid/feed", settings=FetchSettings()).error_class == "dns"
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert fetch(f"http://127.0.0.1:{port}/", settings=LOOPBACK_ONLY).error_class == "connect"


def test_tls_failure_is_classified(server):
    result = fetch(f"https://127.0.0.1:{server.port}/f.xml", settings=LOOPBACK_ONLY)
    assert result.error_class == "tls"


@pytest.mark.parametrize(
    "ip, why",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.16.5.5", "private"),
        ("100.64.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("fd00::1", "private"),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
        ("fec0::1", "site-local"),
        ("2002:a9fe:a9fe::1", "link-local (tunnelled in 2002:a9fe:a9fe::1)"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "private (tunnelled in 2001:0:4136:e378:8000:63bf:3fff:fdd2)"),
    ],
)
def test_address_policy(ip, why):
    assert address_refusal(ip) == why


def test_cache_control_max_age():
    assert parse_max_age("public, max-age=900") == 900
    assert parse_max_age("no-cache") == 0
    assert parse_max_age(None) is None


def test_the_connected_address_is_checked_even_when_dns_said_public(server, monkeypatch):
    """DNS rebinding: the lookup newswatch makes says public, the connection lands on loopback."""
    import newswatch.fetch as f

    url = server.add_document("/f.xml", FEED)
    monkeypatch.setattr(f, "resolve", lambda host, port, timeout: ["93.184.216.34"])
    result = fetch(url, settings=FetchSettings())
    assert result.error_class == "blocked" and "loopback" in result.error
    assert server.requests_for("/f.xml") == []


def test_proxy_settings_from_the_environment_are_ignored(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    url = server.add_document("/f.xml", FEED)
    assert fetch(url, settings=LOOPBACK_ONLY).status == "ok"
