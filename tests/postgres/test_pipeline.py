"""The whole pipeline (newswatch run's code path) against a real PostgreSQL and a local HTTP
server: idempotency, cross-feed dedupe, failing feeds, revisions, stories."""

import itertools
from pathlib import Path

import psycopg2
import pytest

from newswatch import warehouse
from newswatch.dev.feedserver import Response
from newswatch.pipeline import run_once
from tests.helpers import count, item, rows, rss, table_counts

DEMO = Path(__file__).resolve().parents[2] / "demo"
# a Reuters feed cut off by a server error, as served (tests/fixtures/realfeeds/SOURCES.md)
TRUNCATED = (Path(__file__).resolve().parents[1] / "fixtures" / "realfeeds" / "rss_2.0_invalid_1.xml").read_bytes()


_RUN_NUMBERS = itertools.count(1)


def run(settings, **kw):
    return run_once(settings, f"test-run-{next(_RUN_NUMBERS)}", **kw)


def test_demo_feeds_load_once_and_a_second_run_changes_nothing(feed_server, make_settings, db):
    urls = feed_server.add_directory(DEMO / "feeds")
    settings = make_settings({Path(name).stem: url for name, url in urls.items()})
    first = run(settings, force=True)
    assert first.feeds_ok == 8 and first.feeds_failed == 0
    assert first.entries_rejected == 2 and first.merge["new"] > 70
    before = table_counts(db)
    second = run(settings, force=True)
    assert second.feeds_not_modified == 8 and second.entries_staged == 0
    assert table_counts(db) == before
    # the AP wire story: one article per outlet, one story, the Google News pointer is a sighting
    story = rows(
        db,
        """SELECT s.story_id, s.article_count, s.outlet_count FROM news.stories s
                        JOIN news.articles a USING (story_id)
                        WHERE a.canonical_url LIKE 'https://apnews.com/article/blinken-%'""",
    )
    assert len(story) == 1 and story[0][1] >= 4 and story[0][2] >= 4
    assert (
        count(db, "rejects", "reason = 'missing_title'") == 1 and count(db, "rejects", "reason = 'missing_link'") == 1
    )
    # every entry ends in articles (as an article or a sighting) or in rejects
    assert count(db, "staged_entries", "merged_at IS NULL") == 0
    seen = rows(db, "SELECT sum(entries_seen), sum(entries_staged), sum(entries_rejected) FROM news.fetch_log")[0]
    assert seen[0] == seen[1] + seen[2]


def test_stories_do_not_depend_on_the_order_the_polls_finished(feed_server, make_settings, make_database):
    from dataclasses import replace

    from newswatch import pipeline

    urls = {Path(name).stem: url for name, url in feed_server.add_directory(DEMO / "feeds").items()}
    partitions = []
    for order in (sorted(urls), sorted(urls, reverse=True)):
        dsn = make_database()
        settings = replace(make_settings(urls), warehouse_dsn=dsn)
        pipeline.prepare(settings, f"order-{len(partitions)}", "test", force=True)
        for name in order:  # one at a time: staged in this order
            pipeline.poll_feed(settings, f"order-{len(partitions)}", name)
        pipeline.merge(settings)
        conn = warehouse.connect(dsn)
        stories = rows(
            conn, "SELECT array_agg(canonical_url ORDER BY canonical_url) FROM news.articles GROUP BY story_id"
        )
        conn.close()
        partitions.append(sorted(tuple(urls_) for (urls_,) in stories))
    assert partitions[0] == partitions[1]
    ap = [story for story in partitions[0] if any(u.startswith("https://apnews.com/article/blinken-") for u in story)]
    assert len(ap) == 1 and len(ap[0]) >= 4  # the wire story and its reprints, whichever came first
    nyt = [
        story
        for story in partitions[0]
        if any("nytimes.com/2026/11/24/world/asia/us-china-military" in u for u in story)
    ]
    assert len(nyt[0]) == 1  # an analysis of the same meeting is not a reprint of the wire report


def test_a_later_analysis_does_not_join_the_wire_story_through_a_headline(feed_server, make_settings, db):
    headline = "US and China agree to resume military maritime talks"
    wire = item(
        1,
        title=headline,
        link="https://apnews.com/article/us-china-military-maritime",
        summary="BEIJING (AP) — Negotiators from both governments spent two long days in Beijing hammering "
        "out the terms, officials said, describing hours of sessions over accidents at sea, unsafe "
        "intercepts of aircraft and the need for working level channels that survive political "
        "storms; the Pentagon welcomed the outcome while cautioning that implementation would be "
        "the real test of intentions.",
    )
    pointer = item(2, title=headline, link="https://reuters.com/world/china/us-china-resume-military-talks", summary="")
    # quotes the headline, otherwise a different text: it shares no LSH key with the wire report,
    # so only the warehouse can tell the merge what the pointer's story already holds
    analysis = item(
        3,
        title="Analysis: a hotline is not a relationship",
        link="https://nytimes.com/2026/11/24/world/asia/us-china-hotline-analysis.html",
        summary="Restoring the channel matters less than whether anyone answers it, former commanders "
        f"argue; {headline}, but the record of past crises, from the 2001 collision to the "
        "balloon affair, shows how quickly such mechanisms fall silent when leaders want leverage.",
    )
    urls = {
        "wire": feed_server.add_document("/wire.xml", rss([wire])),
        "pointers": feed_server.add_document("/pointers.xml", rss([pointer])),
    }
    run(make_settings(urls), force=True)
    assert rows(db, "SELECT count(DISTINCT story_id) FROM news.articles") == [(1,)]  # wire + its pointer
    urls["analysis"] = feed_server.add_document("/analysis.xml", rss([analysis]))
    run(make_settings(urls), force=True)
    stories = dict(rows(db, "SELECT canonical_url, story_id FROM news.articles"))
    assert stories[analysis["link"]] != stories[wire["link"]]


def test_forcing_a_rerun_of_unchanged_bodies_is_cheap_and_idempotent(feed_server, make_settings, db):
    # a server without validators: the second 200 carries the same body, which is skipped by hash
    body = rss([item(i) for i in range(5)])
    feed_server.add_handler("/novalidators", lambda r: Response(200, {"Content-Type": "application/rss+xml"}, body))
    settings = make_settings({"plain": feed_server.url("/novalidators")})
    run(settings, force=True)
    before = table_counts(db)
    second = run(settings, force=True)
    assert second.feeds_not_modified == 1 and second.entries_staged == 0
    assert rows(db, "SELECT body_unchanged, http_status FROM news.fetch_log ORDER BY fetch_id DESC LIMIT 1")[0] == (
        True,
        200,
    )
    assert table_counts(db) == before


def test_stale_etag_with_a_new_body_is_treated_as_new(feed_server, make_settings, db):
    state = {"body": rss([item(1)])}
    feed_server.add_handler("/stale", lambda r: Response(200, {"ETag": '"never-changes"'}, state["body"]))
    settings = make_settings({"stale": feed_server.url("/stale")})
    run(settings, force=True)
    state["body"] = rss([item(1), item(2)])
    summary = run(settings, force=True)
    assert summary.feeds_ok == 1 and summary.merge["new"] == 1
    assert count(db, "articles") == 2


def test_same_article_in_two_feeds_is_one_row_and_two_sightings(feed_server, make_settings, db):
    a = feed_server.add_document("/a.xml", rss([item(1, link="https://www.example.com/x?utm_source=a")]))
    b = feed_server.add_document("/b.xml", rss([item(1, link="http://example.com/x?fbclid=zz#top")]))
    run(make_settings({"feed_a": a, "feed_b": b}), force=True)
    assert count(db, "articles") == 1 and count(db, "article_sightings") == 2
    assert {r[0] for r in rows(db, "SELECT url FROM news.article_sightings")} == {
        "https://www.example.com/x?utm_source=a",
        "http://example.com/x?fbclid=zz#top",
    }


@pytest.mark.parametrize(
    "handler, error_class",
    [
        (lambda r: Response(500, {}, b"boom"), "http_5xx"),
        (lambda r: Response(200, {"Content-Type": "text/html"}, b"<html><body>Not a feed</body></html>"), "not_a_feed"),
        (lambda r: Response(200, {}, TRUNCATED), "parse_error"),
        (lambda r: Response(200, {}, (b"<" for _ in range(100)), chunk_delay=0.5), "timeout"),
    ],
    ids=["500", "html", "truncated", "trickle"],
)
def test_a_failing_feed_is_logged_and_the_others_still_load(feed_server, make_settings, db, handler, error_class):
    good = feed_server.add_document("/good.xml", rss([item(i) for i in range(3)]))
    bad = feed_server.add_handler("/bad", handler)
    summary = run(make_settings({"good": good, "bad": bad}, deadline=2, read_timeout=1), force=True)
    assert summary.feeds_ok == 1 and summary.feeds_failed == 1 and not summary.no_feed_reachable
    assert count(db, "articles") == 3
    status, cls = rows(db, "SELECT status, error_class FROM news.fetch_log WHERE feed_name = 'bad'")[0]
    assert (status, cls) == ("error", error_class)
    assert rows(db, "SELECT consecutive_failures, last_error_class FROM news.feeds WHERE name='bad'")[0] == (
        1,
        error_class,
    )
    assert "bad" in summary.text() and error_class in summary.text()


def test_when_every_feed_fails_the_summary_says_no_feed_was_reachable(make_settings, db):
    summary = run(
        make_settings({"a": "http://no-such-host.invalid/rss", "b": "http://also-missing.invalid/rss"}), force=True
    )
    assert summary.no_feed_reachable and summary.feeds_failed == 2
    assert "NO FEED WAS REACHABLE" in summary.text() and "dns" in summary.text()


def test_revision_across_two_runs_keeps_the_old_version(feed_server, make_settings, db):
    url = feed_server.add_document("/f.xml", rss([item(1, title="US weighs new chip curbs on China", guid="g1")]))
    settings = make_settings({"f": url})
    run(settings, force=True)
    feed_server.add_document("/f.xml", rss([item(1, title="US imposes new chip curbs on China", guid="g1")]))
    summary = run(settings, force=True)
    assert summary.merge["updated"] == 1 and summary.merge["new"] == 0
    title, revision = rows(db, "SELECT title, revision FROM news.articles")[0]
    assert (title, revision) == ("US imposes new chip curbs on China", 2)
    assert rows(db, "SELECT revision, title FROM news.article_revisions") == [(1, "US weighs new chip curbs on China")]


def test_guid_keeps_identity_when_the_link_changes(feed_server, make_settings, db):
    url = feed_server.add_document("/f.xml", rss([item(1, link="https://ex.com/draft-slug", guid="stable-1")]))
    settings = make_settings({"f": url})
    run(settings, force=True)
    feed_server.add_document("/f.xml", rss([item(1, link="https://ex.com/final-slug", guid="stable-1")]))
    run(settings, force=True)
    assert count(db, "articles") == 1
    assert rows(db, "SELECT url FROM news.article_sightings") == [("https://ex.com/final-slug",)]


WIRE_TITLE = "Blinken set to meet Chinese leaders as superpowers manage rivalry"
WIRE = (
    "U.S. Secretary of State Antony Blinken arrives in China this week for talks expected to cover Russia, "
    "fentanyl, Taiwan and export controls, as the two superpowers try to keep their rivalry from spilling "
    "into open conflict, officials said."
)


def test_a_reprint_in_a_later_run_joins_the_existing_story(feed_server, make_settings, db):
    ap = feed_server.add_document(
        "/ap.xml",
        rss([item(1, title=WIRE_TITLE, link="https://apnews.com/article/blinken-1", summary="BEIJING (AP) — " + WIRE)]),
    )
    run(make_settings({"ap": ap}), force=True)
    reprint = feed_server.add_document(
        "/pbs.xml",
        rss(
            [
                item(
                    1,
                    title="Blinken to meet Chinese leaders as superpowers manage rivalry",
                    link="https://www.pbs.org/newshour/world/blinken",
                    summary=WIRE + " The post Blinken appeared first on PBS.",
                ),
                item(
                    2,
                    title="Reuters: Blinken heads to Beijing with long list of grievances",
                    link="https://www.reuters.com/world/blinken-grievances",
                    summary="Secretary of State Antony Blinken will press Beijing over its support for Moscow, "
                    "a senior official told reporters, in a visit both sides hope will stabilise ties.",
                ),
            ]
        ),
    )
    summary = run(make_settings({"ap": ap, "pbs": reprint}), force=True)
    assert summary.merge["stories_joined"] == 1 and summary.merge["stories_new"] == 1
    stories = rows(db, "SELECT a.outlet, a.story_id FROM news.articles a ORDER BY a.article_id")
    assert stories[0][1] == stories[1][1] != stories[2][1]
    assert rows(db, "SELECT article_count, outlet_count FROM news.stories WHERE story_id = %s", (stories[0][1],)) == [
        (2, 2)
    ]
    reach = rows(db, "SELECT outlet FROM news.story_reach WHERE story_id = %s ORDER BY first_seen_at", (stories[0][1],))
    assert [r[0] for r in reach] == ["Outlet ap", "Outlet pbs"]


def test_a_google_news_pointer_joins_its_articles_story(feed_server, make_settings, db):
    ap = feed_server.add_document(
        "/ap.xml", rss([item(1, title=WIRE_TITLE, link="https://apnews.com/article/blinken-1", summary=WIRE)])
    )
    gn_item = item(
        2,
        title=WIRE_TITLE + " - The Associated Press",
        link="https://news.google.com/rss/articles/AU_yqLopaqueToken123?oc=5",
        summary=f'<a href="https://news.google.com/x">{WIRE_TITLE}</a>'
        '&nbsp;&nbsp;<font color="#6f6f6f">The Associated Press</font>',
    )
    gn = feed_server.add_document("/gn.xml", rss([gn_item], title="Google News"))
    settings = make_settings({"ap": ap})
    run(settings, force=True)
    run(make_settings({"ap": ap, "gnews": gn}), force=True)
    got = rows(db, "SELECT canonical_url, title, summary, story_id FROM news.articles ORDER BY article_id")
    assert len(got) == 2 and got[1][1] == WIRE_TITLE and got[1][2] == ""
    assert got[0][3] == got[1][3]


def test_sql_in_titles_is_stored_as_text(feed_server, make_settings, db):
    evil = "Robert'); DROP TABLE news.articles;--"
    url = feed_server.add_document("/f.xml", rss([item(1, title=evil)]))
    run(make_settings({"f": url}), force=True)
    assert rows(db, "SELECT title FROM news.articles") == [(evil,)]


def test_feed_removed_from_the_file_is_kept_but_not_polled(feed_server, make_settings, db):
    a = feed_server.add_document("/a.xml", rss([item(1)]))
    b = feed_server.add_document("/b.xml", rss([item(2)]))
    run(make_settings({"a": a, "b": b}), force=True)
    summary = run(make_settings({"a": a}), force=True)
    assert summary.feeds_polled == 1
    assert rows(db, "SELECT name, in_config FROM news.feeds ORDER BY name") == [("a", True), ("b", False)]


def test_410_disables_the_feed_and_says_so(feed_server, make_settings, db):
    good = feed_server.add_document("/good.xml", rss([item(1)]))
    gone = feed_server.add_handler("/gone", lambda r: Response(410, {}, b"gone"))
    settings = make_settings({"good": good, "gone": gone})
    run(settings, force=True)
    state, reason = rows(db, "SELECT state, disabled_reason FROM news.feed_health WHERE name = 'gone'")[0]
    assert state == "disabled" and "410" in reason
    second = run(settings)  # scheduled run: the disabled feed is not polled
    assert second.feeds_disabled == 1
    assert warehouse.set_feed_disabled(db, "gone", None)
    assert rows(db, "SELECT disabled_reason FROM news.feeds WHERE name='gone'") == [(None,)]


def test_scheduled_runs_poll_only_due_feeds(feed_server, make_settings, db):
    url = feed_server.add_document("/a.xml", rss([item(1)]))
    settings = make_settings({"a": url})
    run(settings)
    summary = run(settings)
    assert summary.feeds_polled == 0 and summary.feeds_not_due == 1
    assert "no feed was due" in summary.text()
    assert run(settings, only=["a"]).feeds_polled == 1


def test_polling_spread_over_processes_loads_the_same(feed_server, make_settings, db, monkeypatch):
    from dataclasses import replace

    from newswatch import pipeline

    monkeypatch.setattr(pipeline, "MIN_FEEDS_PER_PROCESS", 2)
    urls = {
        f"f{i}": feed_server.add_document(f"/f{i}.xml", rss([item(i * 10 + j) for j in range(5)])) for i in range(8)
    }
    settings = replace(make_settings(urls), processes=2, workers=4)
    summary = run(settings, force=True)
    assert summary.feeds_ok == 8 and summary.merge["new"] == 40
    assert count(db, "articles") == 40 and count(db, "article_sightings") == 40


def test_a_merge_failing_while_polling_loses_neither_entries_nor_counts(feed_server, make_settings, db, monkeypatch):
    import threading
    from dataclasses import replace

    from newswatch import pipeline
    from newswatch.warehouse import merge as wh

    monkeypatch.setattr(pipeline, "MIN_FEEDS_PER_PROCESS", 2)
    monkeypatch.setattr(pipeline, "MERGE_WHILE_POLLING_EVERY_S", 0.01)
    monkeypatch.setattr(wh, "MERGE_BATCH", 3)
    real_batch, in_thread = wh._merge_rows, []

    def second_batch_while_polling_fails(cur, *args, **kwargs):
        if threading.current_thread().name == "merge-while-polling":
            in_thread.append(1)
            if len(in_thread) == 2:  # after one batch was committed
                raise psycopg2.OperationalError("connection lost")
        return real_batch(cur, *args, **kwargs)

    monkeypatch.setattr(wh, "_merge_rows", second_batch_while_polling_fails)
    urls = {
        f"f{i}": feed_server.add_document(f"/f{i}.xml", rss([item(i * 10 + j) for j in range(3)])) for i in range(4)
    }
    # one feed trickles for about two seconds, so the others are staged and merged meanwhile
    slow = rss([item(100 + j) for j in range(3)])
    chunks = [slow[i : i + 200] for i in range(0, len(slow), 200)]
    urls["slow"] = feed_server.add_handler(
        "/slow.xml",
        lambda r: Response(200, {"Content-Type": "application/rss+xml"}, iter(chunks), chunk_delay=2.0 / len(chunks)),
    )
    summary = run(replace(make_settings(urls), processes=2, workers=2), force=True)
    assert len(in_thread) == 2  # one batch merged while polling, then the failure
    assert summary.feeds_ok == 5 and count(db, "articles") == 15
    assert summary.merge["new"] == 15  # the batch committed before the failure is counted
    assert rows(db, "SELECT count(*) FROM news.staged_entries WHERE merged_at IS NULL") == [(0,)]


def test_a_feed_failing_mid_transaction_does_not_spoil_the_next_feed_on_its_connection(
    feed_server, make_settings, db, monkeypatch
):
    from dataclasses import replace

    from newswatch import warehouse as wh

    real_record = wh.record_fetch

    def half_recorded(conn, record, *args, **kwargs):
        if record.feed_name == "a_bad":
            with conn.cursor() as cur:  # a statement, then a failure, no rollback
                cur.execute("UPDATE news.feeds SET last_status = 'half' WHERE name = 'a_bad'")
            raise ValueError("a bug while recording")
        return real_record(conn, record, *args, **kwargs)

    monkeypatch.setattr(wh, "record_fetch", half_recorded)
    urls = {
        "a_bad": feed_server.add_document("/bad.xml", rss([item(1)])),
        "b_good": feed_server.add_document("/good.xml", rss([item(2), item(3)])),
    }
    summary = run(replace(make_settings(urls), workers=1), force=True)  # one thread, one connection
    assert summary.feeds_ok == 1 and summary.feeds_failed == 1
    assert rows(db, "SELECT feed_name, status FROM news.fetch_log ORDER BY feed_name") == [
        ("a_bad", "error"),
        ("b_good", "ok"),
    ]
    assert count(db, "articles") == 2
    assert rows(db, "SELECT last_status FROM news.feeds WHERE name = 'a_bad'") != [("half",)]


def test_odd_text_loads_as_text(feed_server, make_settings, db):
    url = feed_server.add_document(
        "/f.xml",
        rss(
            [
                item(1, title="\\N"),
                item(2, title='Quote " and, comma'),
                item(3, summary=""),
                item(4, title="Nul\x00 in title"),
            ]
        ).replace(b"\x00", b"&#0;"),
    )
    run(make_settings({"f": url}), force=True)
    titles = {r[0] for r in rows(db, "SELECT title FROM news.articles")}
    assert {"\\N", 'Quote " and, comma'} <= titles and count(db, "articles") == 4
    assert rows(db, "SELECT count(*) FROM news.articles WHERE summary = ''") == [(1,)]


def test_a_url_change_in_the_feeds_file_during_a_poll_is_not_undone(feed_server, make_settings, db, monkeypatch):
    from newswatch import warehouse as wh
    from newswatch.config import FeedConfig

    old = feed_server.add_document("/old.xml", rss([item(1)]))
    new = feed_server.add_document("/new.xml", rss([item(2)]))
    settings = make_settings({"f": old})
    real_record = wh.record_fetch

    def record_after_a_sync(conn, *args, **kwargs):
        # the operator edits the feeds file while the poll is under way
        other = wh.connect(settings.warehouse_dsn)
        wh.sync_feeds(other, [FeedConfig(name="f", url=new)])
        other.close()
        return real_record(conn, *args, **kwargs)

    monkeypatch.setattr(wh, "record_fetch", record_after_a_sync)
    run(settings, force=True)
    assert rows(db, "SELECT url, config_url FROM news.feeds") == [(new, new)]
    assert count(db, "fetch_log") == 1 and count(db, "articles") == 1  # the poll itself is kept
