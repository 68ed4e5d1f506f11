"""Feed polling in whole runs: every misbehaving server is recorded with its reason while a good
feed in the same run still loads; state (validators, redirects, back-off) moves as documented."""

import gzip
import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from newswatch.dev.feedserver import Response
from newswatch.pipeline import run_once
from tests.helpers import count, item, rows, rss

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "realfeeds"
GOOD = rss([item(i) for i in range(3)])
XXE = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>US and China &xxe; talk</title>
<link>https://ex.com/xxe</link><description>&xxe;</description></item></channel></rss>"""
LOL = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(1, 10))
    + ']><rss version="2.0"><channel><title>&lol9;</title><item><title>US, China &lol9;</title>'
    "<link>https://ex.com/lol</link></item></channel></rss>"
).encode()
GBK = (
    '<?xml version="1.0" encoding="gbk"?><rss version="2.0"><channel><title>新华</title><item>'
    "<title>外交部发言人就美方对华芯片出口管制答记者问</title><link>https://ex.com/gbk</link></item>"
    "</channel></rss>"
).encode("gbk")
JSONFEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [
            {
                "id": "j1",
                "url": "https://ex.com/json",
                "title": "Rubio and Wang Yi discuss fentanyl",
                "content_text": "x",
            }
        ],
    }
).encode()

_counter = [0]


def run(settings, **kw):
    _counter[0] += 1
    return run_once(settings, f"poll-{_counter[0]}", **kw)


def silent_server():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held = []

    def accept():
        while True:
            try:
                held.append(listener.accept())
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}/feed"


BEHAVIOURS = {
    "http_500": (lambda r: Response(500, {}, b"oops"), "error", "http_5xx"),
    "http_404": (lambda r: Response(404, {}, b"missing"), "error", "http_4xx"),
    "http_410": (lambda r: Response(410, {}, b"gone"), "error", "gone"),
    "http_429": (lambda r: Response(429, {"Retry-After": "7200"}, b""), "error", "rate_limited"),
    "trickle": (lambda r: Response(200, {}, (b" " for _ in range(200)), chunk_delay=0.3), "error", "timeout"),
    "fifty_mb": (lambda r: Response(200, {}, (b"x" * (1 << 20) for _ in range(50))), "error", "too_large"),
    "html": (
        lambda r: Response(200, {"Content-Type": "text/html"}, b"<!doctype html><html><p>hi</p></html>"),
        "error",
        "not_a_feed",
    ),
    "truncated": (lambda r: Response(200, {}, (REAL / "rss_2.0_invalid_1.xml").read_bytes()), "error", "parse_error"),
    "redirect_to_metadata": (
        lambda r: Response(302, {"Location": "http://169.254.169.254/latest/meta-data/"}),
        "error",
        "blocked",
    ),
    "gzip": (lambda r: Response(200, {"Content-Encoding": "gzip"}, gzip.compress(rss([item(50)]))), "ok", None),
    "gbk": (lambda r: Response(200, {"Content-Type": "application/xml"}, GBK), "ok", None),
    "xxe": (lambda r: Response(200, {}, XXE), "ok", None),
    "billion_laughs": (lambda r: Response(200, {}, LOL), "ok", None),
    "json_feed": (lambda r: Response(200, {"Content-Type": "application/feed+json"}, JSONFEED), "ok", None),
}


@pytest.mark.parametrize("name", sorted(BEHAVIOURS))
def test_each_behaviour_is_recorded_and_the_good_feed_still_loads(feed_server, make_settings, db, name):
    handler, status, error_class = BEHAVIOURS[name]
    good = feed_server.add_document("/good.xml", GOOD)
    bad = feed_server.add_handler("/bad", handler)
    started = time.monotonic()
    summary = run(
        make_settings(
            {"good": good, "bad": bad},
            allow_private_networks=False,
            allowed_networks=("127.0.0.0/8",),
            deadline=3,
            read_timeout=2,
        ),
        force=True,
    )
    assert time.monotonic() - started < 20
    assert count(db, "articles", "first_feed = 'good'") == 3
    got = rows(db, "SELECT status, error_class FROM news.fetch_log WHERE feed_name = 'bad'")
    assert got == [(status, error_class)], summary.text()
    if status == "ok":
        text = " ".join(
            r[0] + r[1] for r in rows(db, "SELECT title, summary FROM news.articles WHERE first_feed='bad'")
        )
        assert text and "root:" not in text and len(text) < 5000
    if name == "gbk":
        assert rows(db, "SELECT title, is_relevant FROM news.articles WHERE first_feed='bad'") == [
            ("外交部发言人就美方对华芯片出口管制答记者问", True)
        ]


def test_server_that_never_answers(feed_server, make_settings, db):
    listener, url = silent_server()
    good = feed_server.add_document("/good.xml", GOOD)
    run(make_settings({"good": good, "silent": url}, read_timeout=1, deadline=3), force=True)
    assert rows(db, "SELECT error_class FROM news.fetch_log WHERE feed_name = 'silent'") == [("timeout",)]
    assert count(db, "articles") == 3
    listener.close()


def test_304_after_etag_and_after_last_modified_only(feed_server, make_settings, db):
    etag_url = feed_server.add_document("/etag.xml", GOOD)
    body = rss([item(9)])
    lm = "Mon, 23 Nov 2026 10:00:00 GMT"

    def last_modified_only(req):
        if req.headers.get("if-modified-since") == lm:
            return Response(304, {"Last-Modified": lm})
        return Response(200, {"Last-Modified": lm}, body)

    lm_url = feed_server.add_handler("/lm", last_modified_only)
    settings = make_settings({"etag": etag_url, "lm": lm_url})
    run(settings, force=True)
    second = run(settings, force=True)
    assert second.feeds_not_modified == 2
    assert rows(
        db, "SELECT feed_name, http_status FROM news.fetch_log WHERE run_id = %s ORDER BY 1", (second.run_id,)
    ) == [("etag", 304), ("lm", 304)]
    assert rows(db, "SELECT etag IS NULL, last_modified FROM news.feeds WHERE name = 'lm'") == [(True, lm)]


def test_301_chain_moves_the_url_only_after_three_polls_and_302_never(feed_server, make_settings, db):
    new_home = feed_server.add_document("/new-home.xml", GOOD)
    feed_server.add_handler("/old", lambda r: Response(301, {"Location": "/middle"}))
    feed_server.add_handler("/middle", lambda r: Response(308, {"Location": new_home}))
    temp_target = feed_server.add_document("/temp-target.xml", rss([item(20)]))
    feed_server.add_handler("/temp", lambda r: Response(302, {"Location": temp_target}))
    settings = make_settings({"moved": feed_server.url("/old"), "temp": feed_server.url("/temp")})
    for n in range(1, 4):
        run(settings, force=True)
        url, redirect, seen = rows(
            db, "SELECT url, redirect_url, redirect_seen_count FROM news.feeds WHERE name='moved'"
        )[0]
        if n < 3:
            assert (url, redirect, seen) == (feed_server.url("/old"), new_home, n)
            assert rows(db, "SELECT state FROM news.feed_health WHERE name='moved'") == [("redirected",)]
        else:
            assert (url, redirect, seen) == (new_home, None, 0)
    assert rows(db, "SELECT url, redirect_url FROM news.feeds WHERE name='temp'") == [(feed_server.url("/temp"), None)]


def test_429_and_failures_back_off(feed_server, make_settings, db):
    feed_server.add_handler("/busy", lambda r: Response(429, {"Retry-After": "7200"}))
    feed_server.add_handler("/down", lambda r: Response(503, {}, b""))
    settings = make_settings({"busy": feed_server.url("/busy"), "down": feed_server.url("/down")})
    before = datetime.now(UTC)
    run(settings, force=True)
    run(settings, force=True)
    busy, down = rows(db, "SELECT next_poll_at, consecutive_failures FROM news.feeds ORDER BY name")
    assert busy[0] - before >= timedelta(hours=2) - timedelta(seconds=5)
    assert down[1] == 2 and timedelta(hours=1.9) < down[0] - before < timedelta(hours=2.1)
    third = run(settings)  # scheduled: neither is due
    assert third.feeds_polled == 0 and third.feeds_not_due == 2


def test_at_most_n_requests_per_host_at_once(feed_server, make_settings, db):
    in_flight, peak, lock = [0], [0], threading.Lock()

    def slow(req):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.4)
        with lock:
            in_flight[0] -= 1
        return Response(200, {}, rss([item(int(req.path.strip("/s")))]))

    feeds = {f"f{i}": feed_server.add_handler(f"/s{i}", slow) for i in range(6)}
    settings = make_settings(feeds, max_per_host=2)
    run(settings, force=True)
    assert peak[0] == 2 and count(db, "articles") == 6


def test_every_real_publisher_feed_loads_or_is_recorded_with_a_reason(feed_server, make_settings, db):
    docs = sorted(p for p in REAL.iterdir() if p.suffix in (".xml", ".rss"))
    urls = {p.stem.lower().replace(".", "_")[:60]: feed_server.add_document("/" + p.name, p.read_bytes()) for p in docs}
    summary = run(make_settings(urls), force=True)
    assert summary.feeds_polled == len(docs)
    outcomes = {
        r[0]: r[1:] for r in rows(db, "SELECT feed_name, status, error_class, entries_seen FROM news.fetch_log")
    }
    for path in docs:
        status, error_class, seen = outcomes[path.stem.lower().replace(".", "_")[:60]]
        expected = len(feedparser.parse(path.read_bytes()).entries)
        if path.name == "rss_2.0_invalid_1.xml":
            assert (status, error_class) == ("error", "parse_error")
        else:
            assert status == "ok" and seen == expected, path.name
    # everything seen is an article, a sighting or a reject
    staged, rejected = rows(db, "SELECT sum(entries_staged), sum(entries_rejected) FROM news.fetch_log")[0]
    assert staged + rejected == sum(r[2] for r in outcomes.values())
    assert count(db, "staged_entries", "merged_at IS NULL") == 0


def test_a_chinese_outlets_local_dates_land_on_the_right_day(feed_server, make_settings, db, tmp_path):
    items = "".join(
        f"<item><title>US and China trade envoys meet, round {i}</title><link>https://cn.example/{i}</link>"
        f"<pubDate>{when}</pubDate><description>Envoys from Washington and Beijing met.</description></item>"
        for i, when in enumerate(["Mon, 04 Mar 2024 08:00:00 CST", "2024年03月04日 08:00", "2024-03-04 08:00:00"])
    )
    url = feed_server.add_document(
        "/cn.xml",
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>CN</title>{items}</channel></rss>".encode(),
    )
    settings = make_settings()
    settings.feeds_path.write_text(f'feeds:\n  - name: cn\n    url: "{url}"\n    timezone: Asia/Shanghai\n')
    run_once(settings, "tz-run", force=True)
    assert rows(db, "SELECT DISTINCT published_at, published_at_source FROM news.articles") == [
        (datetime(2024, 3, 4, tzinfo=UTC), "published")
    ]
