"""The review's findings, one test each: nothing stops ingestion and nothing corrupts an article.

Each test reproduces what a real feed (or a real deployment) does, against a real PostgreSQL."""

from __future__ import annotations

import itertools
import json
import secrets
import threading
from datetime import UTC

import psycopg2
import pytest

from newswatch import pipeline, warehouse
from newswatch.dev.feedserver import Response
from newswatch.pipeline import run_once
from tests.helpers import count, fingerprint_fails_on, item, rows, rss

pytestmark = pytest.mark.postgres

LONG_SUMMARY = (
    "Negotiators from Washington and Beijing met for two days of closed-door talks in Geneva and "
    "agreed to keep working on tariff exclusions, export licences for chips and a schedule for "
    "further meetings, according to a joint statement released on Friday evening by both "
    "delegations, which described the exchanges as candid, substantive and constructive overall, "
    "and said working groups would meet again before the end of the month."
)


_RUN_NUMBERS = itertools.count(1)


def run(settings, **kw):
    return run_once(settings, f"rel-run-{next(_RUN_NUMBERS)}", force=True, **kw)


# 1. One long URL stops every later merge ------------------------------------------------------


def test_a_3000_character_link_is_rejected_at_the_door_and_later_merges_go_on(feed_server, make_settings, db):
    long_link = "https://news.example.com/story?" + "&".join(f"p{i}=" + "x" * 20 for i in range(130))
    assert len(long_link) > 3000
    url = feed_server.add_document("/f.xml", rss([item(1, link=long_link), item(2)]))
    summary = run(make_settings({"f": url}))
    assert summary.entries_rejected == 1 and summary.merge["new"] == 1
    assert rows(db, "SELECT reason FROM news.rejects") == [("url_too_long",)]
    feed_server.add_document("/f.xml", rss([item(3)]))
    assert run(make_settings({"f": url})).merge["new"] == 1


def stage_with_poison(feed_server, make_settings, db, entries: int, position: int, run_id: str = "direct"):
    """Stage `entries` entries of feed "f" as a poll would, then make the one at `position`
    poisonous behind the door's back: a canonical URL over the ~2.7 KB a btree key may hold,
    even compressed. Returns (settings, the poisoned staged_id)."""
    url = feed_server.add_document("/f.xml", rss([item(i) for i in range(entries)]))
    settings = make_settings({"f": url})
    pipeline.prepare(settings, run_id, "test", force=True)
    pipeline.poll_feeds(settings, run_id, ["f"])
    with db, db.cursor() as cur:
        cur.execute(
            "UPDATE news.staged_entries SET canonical_url = %s WHERE position = %s RETURNING staged_id",
            ("https://news.example.com/" + secrets.token_urlsafe(4500), position),
        )
        ((bad_id,),) = cur.fetchall()
    return settings, bad_id


def test_a_row_the_database_refuses_is_quarantined_and_the_rest_of_its_batch_loads(feed_server, make_settings, db):
    settings, bad_id = stage_with_poison(feed_server, make_settings, db, entries=7, position=3)
    result = warehouse.merge_pending(db)
    assert result.new == 6 and result.quarantined == 1
    assert count(db, "staged_entries", "merged_at IS NULL") == 0
    reject = rows(db, "SELECT reason, detail, staged_id, raw_entry->>'feed_name' FROM news.rejects")
    assert reject[0][0] == "merge_failed" and reject[0][2] == bad_id and reject[0][3] == "f"
    assert "index row size" in reject[0][1] or "ProgramLimitExceeded" in reject[0][1]
    assert rows(db, "SELECT outcome FROM news.staged_entries WHERE staged_id = %s", (bad_id,)) == [("failed",)]
    # never retried, never in the way of newer rows
    feed_server.add_document("/f.xml", rss([item(i) for i in range(7, 9)]))
    later = run(settings)
    assert later.merge["new"] == 2 and later.merge.get("quarantined", 0) == 0


def test_quarantined_rows_are_counted_in_the_summary_and_the_daily_check(feed_server, make_settings, db):
    from datetime import datetime

    from newswatch import daily

    settings, _ = stage_with_poison(feed_server, make_settings, db, entries=3, position=0, run_id="q")
    merged = pipeline.merge(settings)
    summary = pipeline.finish(settings, "q", {**vars(merged)}, None)
    assert "1 staged entries could not be loaded" in summary.text()
    results = daily.run_checks(db, datetime.now(UTC).date())
    assert not results["merge_failures"].passed and results["merge_failures"].value == 1


def test_the_daily_check_still_counts_quarantined_rows_after_retention_deleted_their_staging(
    feed_server, make_settings, db
):
    """A backfill or re-run of the day after retention must see the same failures."""
    from datetime import datetime, timedelta

    from newswatch import daily
    from newswatch.warehouse.daily import apply_retention

    stage_with_poison(feed_server, make_settings, db, entries=3, position=1)
    assert warehouse.merge_pending(db).quarantined == 1
    today = datetime.now(UTC).date()
    apply_retention(db, today + timedelta(days=30), staging_days=1)
    assert count(db, "staged_entries") == 0
    assert daily.run_checks(db, today)["merge_failures"].value == 1


def test_parts_isolated_before_an_outage_are_counted_and_the_rest_stays_pending(
    feed_server, make_settings, db, monkeypatch
):
    """A batch split to find its bad row commits part by part; if the database then goes away,
    the caller's running total still holds the parts that committed."""
    from newswatch.warehouse import merge as merge_module

    stage_with_poison(feed_server, make_settings, db, entries=7, position=3)

    def outage(*args, **kwargs):
        raise psycopg2.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(merge_module, "quarantine", outage)
    total = warehouse.MergeResult()
    with pytest.raises(psycopg2.OperationalError):
        warehouse.merge_pending(db, into=total)
    loaded = count(db, "articles")
    assert loaded == total.new and 0 < loaded < 7
    assert count(db, "staged_entries", "merged_at IS NULL") == 7 - loaded


def test_a_revision_of_an_article_with_its_full_text_is_scored_with_that_body(feed_server, make_settings, db):
    """The feed edits its teaser; the body fetched earlier still counts (it made the label)."""
    headline = "Officials hold a closed-door meeting on shipping rules"
    teaser = "The talks went on for several hours."
    body = (
        "Officials from the United States and China met in Geneva to discuss export controls on "
        "advanced chips and tariffs on Chinese goods, the State Department said. Secretary Blinken "
        "and Foreign Minister Wang Yi agreed to keep talking."
    )
    url = feed_server.add_document("/f.xml", rss([item(1, title=headline, summary=teaser)]))
    settings = make_settings({"f": url})
    run(settings)
    [(article_id, was_relevant)] = rows(db, "SELECT article_id, is_relevant FROM news.articles")
    assert not was_relevant  # the headline and teaser alone say nothing about the US and China
    scored = pipeline.body_scorer(settings)(headline, teaser, body)
    assert scored.is_relevant
    with db, db.cursor() as cur:  # what the full-text step leaves behind
        cur.execute(
            "UPDATE news.articles SET body = %s, is_relevant = true, topics = %s WHERE article_id = %s",
            (body, list(scored.topics), article_id),
        )
    feed_server.add_document("/f.xml", rss([item(1, title=headline, summary=teaser + " They resume on Monday.")]))
    summary = run(settings)
    assert summary.merge["updated"] == 1 and summary.merge["relevant"] == 1
    [(revision, is_relevant, text)] = rows(
        db,
        "SELECT revision, is_relevant, relevance_terms->>'text' FROM news.articles WHERE article_id = %s",
        (article_id,),
    )
    assert revision == 2 and is_relevant and "body" in text


def test_a_merge_backlog_counts_every_poll_as_a_sighting(feed_server, make_settings, db):
    """Polls staged while the merge was behind are merged in one batch: each is still a sighting,
    and the sighting dates from the first."""
    url = feed_server.add_document("/f.xml", rss([item(1)]))
    settings = make_settings({"f": url})
    for n in range(3):
        feed_server.add_document("/f.xml", rss([item(1), item(10 + n)]))
        pipeline.prepare(settings, f"backlog-{n}", "test", force=True)
        pipeline.poll_feeds(settings, f"backlog-{n}", ["f"])
    assert warehouse.merge_pending(db).new == 4
    first_staged = rows(db, "SELECT min(staged_at) FROM news.staged_entries WHERE title LIKE '%%(1)'")[0][0]
    sighting = """SELECT s.times_seen, s.first_seen_at FROM news.article_sightings s
                  JOIN news.articles a USING (article_id) WHERE a.title LIKE '%%(1)'"""
    assert rows(db, sighting) == [(3, first_staged)]
    feed_server.add_document("/f.xml", rss([item(1), item(20)]))
    run(settings)
    assert rows(db, sighting)[0][0] == 4


# 2. A reused GUID overwrites a different article ------------------------------------------


def test_a_guid_recycled_for_another_story_makes_a_new_article_and_marks_the_feed(feed_server, make_settings, db):
    story_a = item(
        1,
        guid="1",
        link="https://cms.example.com/a",
        title="US and China agree to resume trade talks",
        summary=LONG_SUMMARY,
    )
    url = feed_server.add_document("/x.xml", rss([story_a]))
    settings = make_settings({"x": url})
    run(settings)
    story_b = item(
        2,
        guid="1",
        link="https://cms.example.com/b",
        title="Panda cub born at National Zoo",
        summary="Keepers in Washington said the cub, whose parents came from Chengdu, is healthy.",
    )
    feed_server.add_document("/x.xml", rss([story_b]))
    summary = run(settings)
    assert summary.merge["new"] == 1 and summary.merge["updated"] == 0
    titles = dict(rows(db, "SELECT canonical_url, title FROM news.articles"))
    assert titles == {"https://cms.example.com/a": story_a["title"], "https://cms.example.com/b": story_b["title"]}
    assert count(db, "article_revisions") == 0
    assert rows(db, "SELECT guid_reuse_count > 0 FROM news.feeds WHERE name = 'x'") == [(True,)]
    sighting = rows(
        db,
        """SELECT a.canonical_url FROM news.article_sightings s JOIN news.articles a USING (article_id)
                           WHERE s.feed_name = 'x' ORDER BY s.last_seen_at DESC LIMIT 1""",
    )
    assert sighting == [("https://cms.example.com/b",)]


# 3. A link changed under a GUID later becomes a duplicate -----------------------------------


def test_a_link_changed_under_a_guid_is_remembered_for_other_feeds_later(feed_server, make_settings, db):
    first = item(1, guid="g-7", link="https://site.example/draft-slug", summary=LONG_SUMMARY)
    x = feed_server.add_document("/x.xml", rss([first]))
    run(make_settings({"x": x}))
    moved = dict(first, link="https://site.example/final-slug")
    feed_server.add_document("/x.xml", rss([moved]))
    run(make_settings({"x": x}))
    assert count(db, "articles") == 1
    y = feed_server.add_document("/y.xml", rss([dict(moved, guid=None)]))
    run(make_settings({"x": x, "y": y}))
    assert count(db, "articles") == 1 and count(db, "article_sightings") == 2
    assert rows(db, "SELECT canonical_url FROM news.articles") == [("https://site.example/draft-slug",)]
    aliases = {r[0] for r in rows(db, "SELECT value FROM news.article_aliases WHERE kind = 'url'")}
    assert aliases == {"https://site.example/draft-slug", "https://site.example/final-slug"}


# 4. A short excerpt replaces the fullest text; revisions do not refresh clustering -------------


def test_another_feeds_short_excerpt_never_replaces_the_fuller_text(feed_server, make_settings, db):
    link = "https://wire.example/us-china-talks"
    full = item(1, link=link, title="US and China agree to keep talking on tariffs", summary=LONG_SUMMARY)
    short = dict(full, summary="Talks continue.")
    a = feed_server.add_document("/a.xml", rss([full]))
    b = feed_server.add_document("/b.xml", rss([short]))
    settings = make_settings({"a": a, "b": b})
    run(settings)
    assert rows(db, "SELECT length(summary), text_feed FROM news.articles") == [(len(LONG_SUMMARY), "a")]
    feed_server.add_document("/b.xml", rss([dict(short, summary="Talks continue, officials said.")]))
    assert run(settings).merge["updated"] == 0
    assert rows(db, "SELECT summary FROM news.articles") == [(LONG_SUMMARY,)]


def test_a_later_feeds_clearly_fuller_text_is_adopted_as_a_revision(feed_server, make_settings, db):
    link = "https://wire.example/fuller"
    b = feed_server.add_document("/b.xml", rss([item(1, link=link, summary="Talks continue.")]))
    run(make_settings({"b": b}))
    a = feed_server.add_document("/a.xml", rss([item(1, link=link, summary=LONG_SUMMARY)]))
    assert run(make_settings({"a": a, "b": b})).merge["updated"] == 1
    assert rows(db, "SELECT summary, text_feed, revision FROM news.articles") == [(LONG_SUMMARY, "a", 2)]
    assert rows(db, "SELECT summary FROM news.article_revisions") == [("Talks continue.",)]


def test_a_revision_refreshes_the_fingerprint_and_story_keys(feed_server, make_settings, db):
    link = "https://wire.example/revised"
    a = feed_server.add_document("/a.xml", rss([item(1, link=link, summary="First draft of the story.")]))
    settings = make_settings({"a": a})
    run(settings)
    before = rows(db, "SELECT signature, shingle_count FROM news.article_fingerprints")[0]
    feed_server.add_document("/a.xml", rss([item(1, link=link, summary=LONG_SUMMARY)]))
    assert run(settings).merge["updated"] == 1
    after = rows(db, "SELECT signature, shingle_count FROM news.article_fingerprints")[0]
    assert bytes(after[0]) != bytes(before[0]) and after[1] > before[1]
    # a reprint of the revised text now finds the story
    c = feed_server.add_document(
        "/c.xml", rss([item(9, link="https://reprint.example/x", summary=LONG_SUMMARY, title=item(1)["title"])])
    )
    run(make_settings({"a": a, "c": c}))
    assert rows(db, "SELECT count(DISTINCT story_id) FROM news.articles") == [(1,)]


# 5. One bad entry loses its whole feed; internal failures never back off -----------------------


def test_a_json_feed_item_of_the_wrong_types_costs_only_that_item(feed_server, make_settings, db):
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [
            {"id": 1, "url": "https://j.example/1", "title": 12345, "summary": ["x"]},
            {
                "id": "2",
                "url": "https://j.example/2",
                "title": "US and China talk trade",
                "summary": "Officials from Washington and Beijing met.",
            },
            {"id": {"odd": True}, "url": 7, "title": "No link"},
        ],
    }
    url = feed_server.add_document("/j.json", json.dumps(doc).encode(), "application/feed+json")
    summary = run(make_settings({"j": url}))
    assert summary.feeds_ok == 1 and summary.merge["new"] == 1 and summary.entries_rejected == 2
    assert sorted(r[0] for r in rows(db, "SELECT reason FROM news.rejects")) == ["missing_link", "missing_title"]


def test_an_entry_that_breaks_processing_becomes_a_reject_and_its_siblings_load(
    feed_server, make_settings, db, monkeypatch
):
    fingerprint_fails_on(monkeypatch, "(2)", ValueError("boom in fingerprinting"))
    url = feed_server.add_document("/f.xml", rss([item(i) for i in range(4)]))
    summary = run(make_settings({"f": url}))
    assert summary.feeds_ok == 1 and summary.merge["new"] == 3
    assert rows(db, "SELECT reason, detail FROM news.rejects") == [
        ("entry_error", "ValueError: boom in fingerprinting")
    ]


def test_a_feed_that_fails_inside_newswatch_backs_off_like_any_failure(feed_server, make_settings, db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(pipeline, "_process", broken)
    url = feed_server.add_document("/f.xml", rss([item(1)]))
    settings = make_settings({"f": url})
    for _ in range(3):
        summary = run(settings)
        assert summary.feeds_failed == 1 and summary.failures[0]["error_class"] == "internal"
    state = rows(
        db,
        """SELECT state, failure_streak, last_error_class, next_poll_at > now() + interval '3 hours'
                        FROM news.feed_health WHERE name = 'f'""",
    )
    assert state == [("failing", 3, "internal", True)]


# 6. A busy host reads as "warehouse down" -----------------------------------------------------


def test_a_host_whose_slots_stay_busy_is_skipped_not_a_warehouse_outage(feed_server, make_settings, db, dsn):
    url = feed_server.add_document("/f.xml", rss([item(1)]))
    settings = make_settings({"f": url}, max_per_host=1, host_slot_wait=0.5)
    pipeline.prepare(settings, "busy", "test", force=True)
    holder = warehouse.connect(dsn, autocommit=True)
    with warehouse.host_slot(holder, "127.0.0.1", 1):
        reports = pipeline.poll_feeds(settings, "busy", ["f"])
    holder.close()
    assert [(r.status, r.error_class) for r in reports] == [("skipped", "busy")]
    summary = pipeline.finish(settings, "busy", {}, None)
    assert summary.feeds_skipped == 1 and not summary.nothing_loaded and "skipped (busy)" not in summary.text()
    assert "busy" in summary.text()
    assert rows(db, "SELECT consecutive_failures, etag IS NULL FROM news.feeds") == [(0, True)]
    assert len(feed_server.requests_for("/f.xml")) == 0


# 7. Two runs at once fetch the same feed -----------------------------------------------------


def test_two_runs_at_once_fetch_each_feed_once(feed_server, make_settings, db):
    body = rss([item(i) for i in range(5)])
    one_run_done = threading.Event()

    def slow(request):
        # the fetch lasts until the other run has finished, however late that run started: it
        # must have found the feed claimed (with no claim, both wait here and both fetch)
        one_run_done.wait(timeout=20)
        return Response(200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, body)

    url = feed_server.add_handler("/slow.xml", slow)
    settings = make_settings({"slow": url})
    results = []

    def twin(i: int) -> None:
        try:
            results.append(run_once(settings, f"twin-{i}", force=True))
        finally:
            one_run_done.set()

    threads = [threading.Thread(target=twin, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(feed_server.requests_for("/slow.xml")) == 1
    outcomes = sorted((s.feeds_ok, s.feeds_skipped) for s in results)
    assert outcomes == [(0, 1), (1, 0)]
    assert count(db, "articles") == 5


# 8. The embedded warehouse can lose data ----------------------------------------------------


def test_the_embedded_warehouse_syncs_to_disk_and_asks_for_a_password(tmp_path):
    from newswatch.dev.localpg import LocalPostgres

    pg = LocalPostgres(tmp_path / "pg", preferred_port=0)
    pg.start()
    try:
        conn = psycopg2.connect(pg.uri())
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('fsync'), current_setting('synchronous_commit')")
            assert cur.fetchone() == ("on", "on")
        conn.close()
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(host="127.0.0.1", port=pg.port, user="postgres", dbname="postgres")
        assert oct(pg.password_file.stat().st_mode & 0o777) == "0o600"
    finally:
        pg.stop()


def test_an_old_trust_cluster_is_moved_to_passwords(tmp_path):
    from newswatch.dev.localpg import LocalPostgres

    pg = LocalPostgres(tmp_path / "pg", preferred_port=0)
    pg.root.mkdir(parents=True)
    pg.pgdata.mkdir()
    pg.logfile.touch()
    pg._prepare_permissions()
    assert pg._pg("initdb", "-D", str(pg.pgdata), "--auth=trust", "-U", "postgres", "--locale=C").returncode == 0
    pg.start()
    try:
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(host="127.0.0.1", port=pg.port, user="postgres", dbname="postgres")
        psycopg2.connect(pg.uri()).close()
    finally:
        pg.stop()


# 9. The analysts' login can read and cannot write -------------------------------------------


def test_the_reader_role_reads_everything_and_writes_nothing(db, dsn):
    from psycopg2 import sql
    from psycopg2.extensions import parse_dsn

    name = f"reader_{parse_dsn(dsn)['dbname'][-8:]}"
    with db, db.cursor() as cur:
        cur.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'r' IN ROLE newswatch_reader").format(sql.Identifier(name)))
    try:
        params = dict(parse_dsn(dsn), user=name, password="r")
        reader = psycopg2.connect(**params)
        with reader.cursor() as cur:
            cur.execute("SELECT count(*) FROM news.us_china_articles")
            cur.execute("SELECT count(*) FROM news.feed_health")
        reader.rollback()
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), reader.cursor() as cur:
            cur.execute("INSERT INTO news.rejects (feed_name, run_id, reason, raw_entry) VALUES ('x', 'x', 'x', '{}')")
        reader.close()
    finally:
        with db, db.cursor() as cur:
            cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
