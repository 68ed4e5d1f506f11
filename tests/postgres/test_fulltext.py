"""Full text: every page a relevant article points to is fetched politely and ends in a status,
and nothing a page does affects polling. Pages are served locally; the real ones are read from
../shared/articles when it is there."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from newswatch import pipeline, warehouse
from newswatch.config import DevSettings, FulltextSettings
from newswatch.dev.feedserver import Response
from newswatch.warehouse import texts
from tests.helpers import count, item, rows, rss

pytestmark = pytest.mark.postgres

ARTICLES = DevSettings.from_env().articles_dir
BODY = [
    "Negotiators from Washington and Beijing met for a second day in Geneva on Tuesday, officials said, "
    "as both governments tried to keep talks on tariffs and export controls from stalling again.",
    "The US trade representative told reporters the meetings had been candid and that both sides "
    "had agreed on a schedule for working groups on semiconductors and farm purchases.",
    "China's commerce ministry said in a statement that the talks were constructive and that Beijing "
    "expected Washington to lift the latest entity-list additions before the next round.",
    "Analysts said the outcome would depend on whether the two sides could agree on verification, "
    "an issue that derailed a similar effort two years ago.",
]


def page(title: str, paragraphs: list[str], charset: str = "utf-8", extra: str = "") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html><head><meta charset="{charset}"><title>{title}</title></head><body>'
        f'<nav><a href="/">Home</a> <a href="/world">World</a></nav>{extra}<article><h1>{title}</h1>{body}'
        f"</article><footer>© 2026 Example News</footer></body></html>"
    ).encode(charset)


@pytest.fixture
def site(feed_server):
    """A feed of relevant items, each linking to a page on the local server."""

    def build(pages: dict[str, object]) -> str:
        items = []
        for n, path in enumerate(pages):
            items.append(item(n, link=feed_server.url(path), summary="US and China negotiators met in Geneva."))
            handler = pages[path]
            if isinstance(handler, bytes):
                feed_server.add_document(path, handler, "text/html; charset=utf-8")
            else:
                feed_server.add_handler(path, handler)
        return feed_server.add_document("/feed.xml", rss(items))

    return build


def statuses(db) -> dict[str, str]:
    return dict(rows(db, """SELECT t.requested_url, t.status FROM news.article_texts t"""))


def test_each_kind_of_page_ends_in_its_status_and_polling_is_unaffected(site, feed_server, make_settings, db):
    feed_server.add_document("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
    big = b"<html><body>" + b"<p>padding</p>" * (30 * 1024 * 1024 // 14) + b"</body></html>"

    def slow(request):
        return Response(200, {"Content-Type": "text/html"}, iter([b"<html><body><p>", b"late"]), chunk_delay=10)

    url = site(
        {
            "/ok.html": page("US and China resume talks", BODY),
            "/gb.html": page(
                "中美经贸磋商在日内瓦举行",
                ["中美两国经贸团队周二在日内瓦举行第二天磋商，双方就关税和出口管制问题交换了意见。" * 3] * 4,
                charset="gb18030",
            ),
            "/private/briefing.html": page("Private", BODY),
            "/paywall.html": page(
                "US and China resume talks",
                ["Negotiators met again on Tuesday."],
                extra="<div class='paywall'>Subscribe to continue reading. Already a subscriber? Sign in.</div>",
            ),
            "/report.pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
            "/huge.html": big,
            "/to-metadata.html": lambda r: Response(302, {"Location": "http://169.254.169.254/latest/meta-data/"}),
            "/slow.html": slow,
            "/gone.html": lambda r: Response(500, {"Content-Type": "text/html"}, b"oops"),
        }
    )
    feed_server.add_document("/report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "application/pdf")
    settings = make_settings(
        {"site": url}, allow_private_networks=False, allowed_networks=("127.0.0.1/32",), read_timeout=2, deadline=4
    )
    summary = pipeline.run_once(settings, "ft-1", force=True)
    assert summary.feeds_ok == 1 and summary.merge["new"] == 9  # polling did its work regardless
    got = {path.rsplit("/", 1)[-1]: status for path, status in statuses(db).items()}
    assert got == {
        "ok.html": "ok",
        "gb.html": "ok",
        "briefing.html": "robots_disallowed",
        "paywall.html": "paywalled",
        "report.pdf": "not_html",
        "huge.html": "too_large",
        "to-metadata.html": "blocked",
        "slow.html": "http_error",
        "gone.html": "http_error",
    }
    texts = dict(
        rows(
            db,
            "SELECT right(t.requested_url, 8), a.body FROM news.article_texts t "
            "JOIN news.articles a USING (article_id) WHERE t.status = 'ok'",
        )
    )
    assert texts["/ok.html"].startswith(BODY[0]) and "Home" not in texts["/ok.html"]
    assert "中美两国经贸团队" in texts["/gb.html"]
    # neither page declares its language: the script tells Chinese, the identifier English
    languages = dict(rows(db, "SELECT right(requested_url, 8), language FROM news.article_texts WHERE status = 'ok'"))
    assert languages == {"/ok.html": "en", "/gb.html": "zh"}
    assert "full text:" in summary.text()
    # the private page was never requested, robots.txt once
    assert feed_server.requests_for("/private/briefing.html") == []
    assert len(feed_server.requests_for("/robots.txt")) == 1


def test_a_page_is_fetched_once_and_a_failure_is_retried_later(site, feed_server, make_settings, db):
    url = site(
        {
            "/ok.html": page("US and China resume talks", BODY),
            "/down.html": lambda r: Response(503, {"Content-Type": "text/html"}, b"busy"),
        }
    )
    settings = make_settings({"site": url})
    pipeline.run_once(settings, "ft-a", force=True)
    pipeline.run_once(settings, "ft-b", force=True)
    assert len(feed_server.requests_for("/ok.html")) == 1
    # the 503 put the host in back-off; its page waits rather than being hammered
    assert len(feed_server.requests_for("/down.html")) == 1
    assert count(db, "article_texts") == 2
    assert rows(db, "SELECT failures > 0, backoff_until > now() FROM news.page_hosts") == [(True, True)]


def test_the_body_searches_and_rescoring_reads_a_teasers_page(site, feed_server, make_settings, db):
    teaser = item(0, title="Talks resume in Geneva", link=feed_server.url("/t.html"), summary="Talks resumed.")
    feed_server.add_document("/t.html", page("Talks resume in Geneva", BODY), "text/html")
    url = feed_server.add_document("/f.xml", rss([teaser]))
    settings = make_settings({"f": url})
    summary = pipeline.run_once(settings, "ft-t", force=True)
    # the feed's teaser names neither side: not relevant, so not fetched by default
    assert summary.merge["relevant"] == 0 and count(db, "article_texts") == 0
    report = pipeline.fulltext(settings, everything=True)
    assert report["statuses"] == {"ok": 1} and report["relabelled"] == 1
    assert rows(db, "SELECT is_relevant, relevance_terms->>'text' FROM news.articles") == [
        (True, "headline, summary and the body's opening")
    ]
    hits = rows(
        db,
        "SELECT count(*) FROM news.articles WHERE search @@ websearch_to_tsquery('english', 'verification derailed')",
    )
    assert hits == [(1,)]


@pytest.mark.skipif(not (ARTICLES / "ground-truth.json").exists(), reason="../shared/articles is absent")
def test_real_pages_through_the_pipeline_keep_their_body(site, feed_server, make_settings, db):
    from newswatch.dev.extraction_eval import score_page

    truth = json.loads((ARTICLES / "ground-truth.json").read_text())
    chosen = sorted(truth)[:12]
    pages = {
        f"/real/{key}.html": gzip.decompress((ARTICLES / "html" / f"{key}.html.gz").read_bytes()) for key in chosen
    }
    url = site(pages)
    settings = make_settings({"site": url})
    pipeline.run_once(settings, "ft-real", force=True)
    pipeline.fulltext(settings, everything=True)
    stored = dict(rows(db, "SELECT t.requested_url, t.text FROM news.article_texts t WHERE t.status = 'ok'"))
    f1s = []
    for key in chosen:
        text = stored.get(feed_server.url(f"/real/{key}.html"))
        assert text, key
        p, r = score_page(text, truth[key]["articleBody"])
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    assert sum(f1s) / len(f1s) > 0.9


def test_the_dags_step_fails_on_an_unreachable_warehouse_and_the_runs_step_reports_it(make_settings):
    """In a poll run the step only reports (the articles are in); as the full-text DAG's task it
    must fail, so Airflow retries it and shows it red."""
    from dataclasses import replace

    import psycopg2

    settings = replace(make_settings({}), warehouse_dsn="postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "FAILED" in pipeline.fulltext(settings)["line"]
    with pytest.raises(psycopg2.OperationalError):
        pipeline.fulltext(settings, raise_errors=True)


def test_a_bug_in_the_full_text_step_is_logged_once_and_the_run_is_still_summarised(
    site, make_settings, db, monkeypatch, caplog
):
    """Full text runs after the merge; an exception nobody expected there is a bug, but it must
    not cost the run its summary (a failure never affects polling)."""
    from newswatch import fulltext

    def broken(*args, **kwargs):
        raise ValueError("unexpected page shape")

    monkeypatch.setattr(fulltext, "run_fulltext", broken)
    url = site({"/ok.html": page("US and China resume talks", BODY)})
    with caplog.at_level("ERROR", logger="newswatch"):
        summary = pipeline.run_once(make_settings({"site": url}), "ft-bug", force=True)
    assert summary.feeds_ok == 1 and summary.merge["new"] == 1  # polling's work is in
    assert summary.fulltext["failed"] and "ValueError: unexpected page shape" in summary.text()
    recorded = rows(db, "SELECT finished_at IS NOT NULL, summary->'fulltext'->>'error' FROM news.pipeline_runs")
    assert recorded == [(True, "ValueError: unexpected page shape")]
    tracebacks = [r for r in caplog.records if r.exc_info and r.exc_info[0] is ValueError]
    assert len(tracebacks) == 1  # logged once, with its traceback


def test_an_unreadable_robots_txt_makes_pages_wait_and_the_copy_last_read_stands_in(
    site, feed_server, make_settings, db
):
    """RFC 9309: a robots.txt that answers 5xx (or 429) means 'do not crawl for now', not 'this
    page failed': nothing is recorded against the pages, so they keep all their attempts."""
    feed_server.add_handler("/robots.txt", lambda r: Response(503, {"Content-Type": "text/plain"}, b"busy"))
    url = site({"/a.html": page("US and China resume talks", BODY)})
    settings = make_settings({"site": url})
    pipeline.run_once(settings, "rb-1", force=True)
    assert count(db, "article_texts") == 0 and feed_server.requests_for("/a.html") == []
    # robots.txt becomes readable, and is read; then it breaks again with a 429 an hour later
    feed_server.add_document("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
    with db, db.cursor() as cur:
        cur.execute("UPDATE news.robots_txt SET expires_at = now() - interval '1 minute'")
    pipeline.fulltext(settings)
    assert statuses(db) == {feed_server.url("/a.html"): "ok"}
    feed_server.add_handler("/robots.txt", lambda r: Response(429, {"Content-Type": "text/plain"}, b"slow down"))
    with db, db.cursor() as cur:
        cur.execute("UPDATE news.robots_txt SET expires_at = now() - interval '1 minute'")
    read_before = rows(db, "SELECT fetched_at FROM news.robots_txt")
    feed_server.add_document(
        "/feed.xml", rss([item(7, link=feed_server.url("/private/b.html")), item(8, link=feed_server.url("/b.html"))])
    )
    feed_server.add_document("/b.html", page("US and China talk again", BODY), "text/html; charset=utf-8")
    feed_server.add_document("/private/b.html", page("Private", BODY), "text/html; charset=utf-8")
    pipeline.run_once(settings, "rb-2", force=True)
    got = {u.removeprefix(feed_server.url("")): s for u, s in statuses(db).items()}
    assert got == {"/a.html": "ok", "/b.html": "ok", "/private/b.html": "robots_disallowed"}
    # the copy that stood in keeps the time it was read; the failure is asked again in an hour
    assert rows(db, "SELECT fetched_at, expires_at < now() + interval '61 minutes' FROM news.robots_txt") == [
        (read_before[0][0], True)
    ]


def test_robots_txt_is_asked_again_with_its_validators_and_a_304_keeps_the_copy(site, feed_server, make_settings, db):
    feed_server.add_document("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
    url = site({"/a.html": page("US and China resume talks", BODY)})
    settings = make_settings({"site": url})
    pipeline.run_once(settings, "rv-1", force=True)
    first = rows(db, "SELECT fetched_at, etag, last_modified FROM news.robots_txt")[0]
    assert first[1] and first[2]  # the validators the server sent are kept
    with db, db.cursor() as cur:
        cur.execute("UPDATE news.robots_txt SET expires_at = now() - interval '1 minute'")
    feed_server.add_document(
        "/feed.xml", rss([item(7, link=feed_server.url("/private/b.html")), item(8, link=feed_server.url("/b.html"))])
    )
    feed_server.add_document("/b.html", page("US and China talk again", BODY), "text/html; charset=utf-8")
    pipeline.run_once(settings, "rv-2", force=True)
    again = feed_server.requests_for("/robots.txt")[-1]
    assert again.headers.get("if-none-match") == first[1]  # asked conditionally: the server answered 304
    got = {u.removeprefix(feed_server.url("")): s for u, s in statuses(db).items()}
    assert got == {"/a.html": "ok", "/b.html": "ok", "/private/b.html": "robots_disallowed"}  # the copy still rules
    now = rows(
        db, "SELECT fetched_at > %s, expires_at > now() + interval '23 hours', etag FROM news.robots_txt", (first[0],)
    )
    assert now == [(True, True, first[1])]


def test_a_huge_robots_txt_is_read_up_to_its_first_500_kib_and_nul_bytes_do_not_break_it(
    site, feed_server, make_settings, db
):
    rules = b"User-agent: *\x00\nDisallow: /private/\n"
    feed_server.add_document("/robots.txt", rules + b"# padding\n" * 100_000 + b"Disallow: /\n", "text/plain")
    url = site({"/a.html": page("US and China resume talks", BODY), "/private/p.html": page("Private", BODY)})
    pipeline.run_once(make_settings({"site": url}), "rb-3", force=True)
    got = {u.rsplit("/", 1)[-1]: s for u, s in statuses(db).items()}
    assert got == {"a.html": "ok", "p.html": "robots_disallowed"}  # the late "Disallow: /" was never read


def test_a_page_that_trips_a_bug_is_recorded_once_and_its_neighbours_load(
    site, feed_server, make_settings, db, monkeypatch
):
    from newswatch import fulltext

    real = fulltext.extract_article

    def extract(body, **kw):
        if "bug" in kw["url"]:
            raise RuntimeError("extractor bug")
        return real(body, **kw)

    monkeypatch.setattr(fulltext, "extract_article", extract)
    url = site({"/bug.html": page("US and China resume talks", BODY), "/ok.html": page("US and China meet", BODY)})
    settings = make_settings({"site": url})
    pipeline.run_once(settings, "bug-1", force=True)
    got = {u.rsplit("/", 1)[-1]: s for u, s in statuses(db).items()}
    assert got == {"bug.html": "extract_failed", "ok.html": "ok"}
    assert "RuntimeError: extractor bug" in rows(db, "SELECT detail FROM news.article_texts WHERE status <> 'ok'")[0][0]
    pipeline.fulltext(settings)
    assert len(feed_server.requests_for("/bug.html")) == 1  # final: not hit again every run


def test_an_article_that_moved_under_its_guid_is_fetched_at_the_link_the_feed_gave(
    site, feed_server, make_settings, db
):
    feed_server.add_document("/old.html", page("US and China resume talks", BODY), "text/html; charset=utf-8")
    feed_server.add_document("/new.html", page("US and China resume talks", BODY), "text/html; charset=utf-8")
    first = [item(1, link=feed_server.url("/old.html"), guid="g-1")]
    url = feed_server.add_document("/feed.xml", rss(first))
    settings = make_settings({"site": url})
    pipeline.run_once(settings, "mv-1", force=True)
    # the link moves, with a parameter the site needs (a canonical form would drop it)
    moved = feed_server.url("/new.html") + "?utm_source=rss&session=abc"
    feed_server.add_document("/feed.xml", rss([item(1, link=moved, guid="g-1")]))
    pipeline.run_once(settings, "mv-2", force=True)
    requests = feed_server.requests_for("/new.html")
    assert len(requests) == 1 and "session=abc" in requests[0].path and "utm_source=rss" in requests[0].path
    assert count(db, "article_texts") == 2 and count(db, "articles") == 1


def test_a_redirect_is_followed_only_where_robots_txt_allows_the_target(site, feed_server, make_settings, db):
    feed_server.add_document("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
    feed_server.add_document("/private/x.html", page("Private", BODY), "text/html; charset=utf-8")
    feed_server.add_document("/public/y.html", page("US and China resume talks", BODY), "text/html; charset=utf-8")
    url = site(
        {
            "/r1.html": lambda r: Response(301, {"Location": "/private/x.html"}),
            "/r2.html": lambda r: Response(302, {"Location": "/public/y.html"}),
        }
    )
    pipeline.run_once(make_settings({"site": url}), "redir-1", force=True)
    got = {u.rsplit("/", 1)[-1]: s for u, s in statuses(db).items()}
    assert got == {"r1.html": "robots_disallowed", "r2.html": "ok"}
    assert feed_server.requests_for("/private/x.html") == []
    assert "which robots.txt disallows" in rows(db, "SELECT detail FROM news.article_texts WHERE status <> 'ok'")[0][0]


def test_a_redirect_to_a_host_that_cannot_be_asked_now_defers_only_that_page(site, feed_server, make_settings, db):
    """The target's robots.txt is unreadable: the page waits, its own host's other pages go on."""

    def robots(request):
        if request.headers.get("host", "").startswith("localhost"):
            return Response(503, {"Content-Type": "text/plain"}, b"busy")
        return Response(200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n")

    feed_server.add_handler("/robots.txt", robots)
    elsewhere = feed_server.url("/x.html").replace("127.0.0.1", "localhost")
    url = site(
        {
            "/r.html": lambda r: Response(302, {"Location": elsewhere}),
            "/a.html": page("US and China resume talks", BODY),
            "/b.html": page("US and China meet again", BODY),
        }
    )
    pipeline.run_once(make_settings({"site": url}), "defer-1", force=True)
    got = {u.rsplit("/", 1)[-1]: s for u, s in statuses(db).items()}
    assert got == {"a.html": "ok", "b.html": "ok"}
    assert feed_server.requests_for("/x.html") == []
    again = pipeline.fulltext(make_settings({"site": url}))
    assert again["waiting"] == 1 and again["candidates"] == 1


def test_a_robots_copy_older_than_30_days_no_longer_stands_in(db):
    from datetime import timedelta

    from newswatch.fulltext import ROBOTS_STALE_MAX
    from newswatch.warehouse import texts

    with db, db.cursor() as cur:
        cur.execute(
            """INSERT INTO news.robots_txt (host, fetched_at, expires_at, http_status, body) VALUES
               ('https://recent.example', now() - interval '29 days', now() - interval '1 hour', 200, 'Disallow: /x'),
               ('https://old.example', now() - interval '31 days', now() - interval '1 hour', 200, 'Disallow: /x')"""
        )
    for origin in ("https://recent.example", "https://old.example"):
        texts.robots_unreadable(db, origin, 503, timedelta(hours=1), ROBOTS_STALE_MAX)
    assert rows(db, "SELECT host, http_status, body FROM news.robots_txt ORDER BY host") == [
        ("https://old.example", 503, None),
        ("https://recent.example", 200, "Disallow: /x"),
    ]
    assert texts.robots_get(db, "https://old.example").body is None


OTHER_BODY = [
    "China's commerce ministry announced new licensing rules for gallium and germanium exports on Monday, "
    "saying the measures were needed to protect national security and interests.",
    "Analysts in Tokyo and Seoul said chipmakers had stockpiled supplies of both metals for months, and "
    "prices jumped in early trading in Shanghai after the announcement.",
    "Industry groups in Europe asked Brussels to seek clarification, while American officials said they "
    "were studying the rules and would consult allies before responding.",
    "Exporters will need to report the end users of the metals, the ministry said, and licences could take "
    "up to 45 working days to be approved.",
]


def test_copies_grouped_by_their_feed_text_are_regrouped_by_their_bodies(feed_server, make_settings, db):
    """Three feeds carry one headline and teaser; two pages are one text (one trimmed), the third
    page is another article: it leaves for a story of its own, split from the first."""
    teaser = "US and China negotiators met in Geneva for a second day of talks on trade and chips."
    pages = {
        "/a/story.html": page("US and China resume talks", BODY),
        "/b/story.html": page("US and China resume talks", OTHER_BODY),
        "/c/story.html": page("US and China resume talks", [*BODY[:3], "Reporting by our Geneva bureau."]),
    }
    feeds = {}
    for n, (path, html) in enumerate(pages.items()):
        feed_server.add_document(path, html, "text/html; charset=utf-8")
        entry = item(1, title="US and China resume talks in Geneva", link=feed_server.url(path), summary=teaser)
        feeds[f"f{n}"] = feed_server.add_document(f"/feed{n}.xml", rss([entry]))
    summary = pipeline.run_once(make_settings(feeds), "regroup-1", force=True)
    assert summary.merge["new"] == 3
    # how many moves it took depends on the order the pages came in; where they end does not
    assert re.search(r"; [1-9]\d* moved to another story by it", summary.text())
    story_of = dict(rows(db, "SELECT right(url, 12), story_id FROM news.articles"))
    assert story_of["a/story.html"] == story_of["c/story.html"] != story_of["b/story.html"]
    # the three feeds are polled at once, so which article was seen first varies: its text keeps
    # the story the merge made, and the other text's story is split from that one
    first_seen = rows(db, "SELECT right(url, 12) FROM news.articles ORDER BY first_seen_at, article_id LIMIT 1")[0][0]
    kept = story_of[first_seen]
    split = ({story_of["a/story.html"], story_of["b/story.html"]} - {kept}).pop()
    assert dict(rows(db, "SELECT story_id, split_from FROM news.stories")) == {kept: None, split: kept}
    counts = dict(rows(db, "SELECT story_id, article_count FROM news.stories"))
    assert counts == {story_of["a/story.html"]: 2, story_of["b/story.html"]: 1}


def test_bodies_stored_before_body_fingerprints_are_fingerprinted_when_their_family_is_regrouped(
    feed_server, make_settings, db, dsn
):
    """Bodies kept before migration 0012 have no body signature. When a new text arrives in
    their story, they are fingerprinted from the stored body and compared like any other: the
    different article leaves, and the signatures are kept."""
    teaser = "US and China negotiators met in Geneva for a second day of talks on trade and chips."
    feeds = {}
    for n, path in enumerate(("/a/story.html", "/b/story.html", "/c/story.html")):
        entry = item(1, title="US and China resume talks in Geneva", link=feed_server.url(path), summary=teaser)
        feeds[f"f{n}"] = feed_server.add_document(f"/feed{n}.xml", rss([entry]))
    settings = replace(make_settings(feeds), fulltext=FulltextSettings(mode="none"))
    pipeline.run_once(settings, "legacy-1", force=True)
    ids = dict(rows(db, "SELECT right(url, 12), article_id FROM news.articles"))
    assert len(rows(db, "SELECT DISTINCT story_id FROM news.articles")) == 1
    # a and b as an older version left them: a body and its attempt, no body signature
    for name, paragraphs in (("a/story.html", BODY), ("b/story.html", OTHER_BODY)):
        with db.cursor() as cur:
            cur.execute("UPDATE news.articles SET body = %s WHERE article_id = %s", ("\n".join(paragraphs), ids[name]))
            cur.execute(
                """INSERT INTO news.article_texts (article_id, requested_url, url, status, text, extractor, fetched_at)
                   VALUES (%s, 'https://example.com/', 'https://example.com/', 'ok', %s, 'test', now())""",
                (ids[name], "\n".join(paragraphs)),
            )
    db.commit()
    assert rows(db, "SELECT count(*) FROM news.article_fingerprints WHERE body_signature IS NOT NULL") == [(0,)]

    with warehouse.connection(dsn) as conn:
        recorded = texts.record(
            conn,
            texts.TextAttempt(
                article_id=ids["c/story.html"],
                requested_url="https://example.com/c",
                url="https://example.com/c",
                status="ok",
                extractor="test",
                fetched_at=datetime.now(UTC),
                text="\n".join([*BODY[:3], "Reporting by our Geneva bureau."]),
            ),
            pipeline.body_scorer(settings),
        )
    assert recorded.moved >= 1
    story_of = dict(rows(db, "SELECT right(url, 12), story_id FROM news.articles"))
    assert story_of["a/story.html"] == story_of["c/story.html"] != story_of["b/story.html"]
    assert rows(db, "SELECT count(*) FROM news.article_fingerprints WHERE body_signature IS NOT NULL") == [(3,)]


def test_an_opaque_google_news_link_is_resolved_through_google_to_the_publishers_page(feed_server, make_settings, db):
    from newswatch.fulltext import run_fulltext
    from tests.unit.test_google_news import GID, PAGE, answer

    publisher = "https://apnews.com/article/us-china-talks-geneva"
    gids = [GID] + [f"CBMiWkFVX3lxTE{tail}" for tail in ("5vdGtub3du", "ZGVmZXJyZWQx", "ZGVmZXJyZWQy", "cmF0ZWxpbWl0")]
    unknown, deferred, refused = gids[1], gids[2:4], gids[4]
    html = {"Content-Type": "text/html"}
    for gid in gids[:4]:
        feed_server.add_handler(f"/rss/articles/{gid}", lambda r: Response(200, html, PAGE))
    feed_server.add_handler(f"/rss/articles/{unknown}", lambda r: Response(404))
    feed_server.add_handler(f"/rss/articles/{refused}", lambda r: Response(429, {"Retry-After": "3600"}, b""))
    posts = "/_/DotsSplashUi/data/batchexecute"
    feed_server.add_handler(posts, lambda r: Response(200, {"Content-Type": "application/json"}, answer(publisher)))
    feed_server.add_document("/apnews.com/article/us-china-talks-geneva", page("US and China resume talks", BODY))
    links = {gid: f"https://news.google.com/rss/articles/{gid}?oc=5" for gid in gids}
    feed = [item(n, link=links[gid], summary="") for n, gid in enumerate(gids)]
    settings = make_settings({"gn": feed_server.add_document("/gn.xml", rss(feed[:2]))})
    polling = replace(settings, fulltext=replace(settings.fulltext, mode="none"))

    def local(address: str) -> str:  # Google and the publisher, both served here
        host, _, path = address.split("://", 1)[1].partition("/")
        return feed_server.url(("/" if host == "news.google.com" else f"/{host}/") + path)

    def fetch_pages(run: str, items: int) -> object:
        feed_server.add_document("/gn.xml", rss(feed[:items]))
        pipeline.run_once(polling, run, force=True)
        return run_fulltext(settings, settings.warehouse_dsn, rewrite=local)

    report = fetch_pages("ft-gn-1", 2)
    assert report.statuses == {"ok": 1, "blocked": 1}
    got = {link: rest for link, *rest in rows(db, "SELECT requested_url, status, url, detail FROM news.article_texts")}
    assert got[links[GID]][:2] == ["ok", feed_server.url("/apnews.com/article/us-china-talks-geneva")]
    assert got[links[unknown]][0] == "blocked" and "does not know this article id" in got[links[unknown]][2]
    body = rows(
        db, "SELECT a.body FROM news.articles a JOIN news.article_texts t USING (article_id) WHERE t.status = 'ok'"
    )
    assert body[0][0].startswith(BODY[0])

    # the publisher's host backs off: each link is still resolved, and only its own page waits
    run_sql(db, "UPDATE news.page_hosts SET backoff_until = now() + interval '1 hour' WHERE host = '127.0.0.1'")
    asked = len(feed_server.requests_for(posts))
    report = fetch_pages("ft-gn-2", 4)
    assert report.statuses == {} and report.waiting == 2
    assert len(feed_server.requests_for(posts)) == asked + 2 and count(db, "article_texts") == 2

    # Google asks us to slow down: it is backed off like any host, and its links wait unrecorded
    run_sql(db, "UPDATE news.page_hosts SET backoff_until = NULL")
    feed_server.add_handler(f"/rss/articles/{deferred[0]}", lambda r: Response(429, {"Retry-After": "3600"}, b""))
    report = fetch_pages("ft-gn-3", 5)
    assert report.statuses == {} and report.waiting == 3
    backoff = "SELECT backoff_until > now() + interval '50 minutes' FROM news.page_hosts WHERE host = 'news.google.com'"
    assert rows(db, backoff) == [(True,)]
    assert count(db, "article_texts") == 2


def run_sql(conn, sql: str) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(sql)
