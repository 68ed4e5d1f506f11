"""Faults in the warehouse: a connection killed in the middle of the merge, and runs that start
at the same time. Afterwards nothing is lost, nothing is doubled, and the next run finishes."""

import threading
import time

import psycopg2
import pytest

from newswatch import pipeline, warehouse
from tests.helpers import count, item, rows, rss


def stage_only(settings, run_id):
    plan = pipeline.prepare(settings, run_id, "test", force=True)
    pipeline.poll_feeds(settings, run_id, plan.due)


@pytest.fixture
def three_feeds(feed_server, make_settings):
    urls = {}
    for f in range(3):
        # overlapping items across feeds: the same article in several feeds
        urls[f"feed{f}"] = feed_server.add_document(f"/f{f}.xml", rss([item(i) for i in range(f * 20, f * 20 + 40)]))
    return make_settings(urls)


def test_connection_killed_mid_merge_loses_nothing_and_the_next_merge_completes(three_feeds, dsn, pg_admin_url):
    settings = three_feeds
    stage_only(settings, "staging-run")
    conn = warehouse.connect(dsn)
    staged = count(conn, "staged_entries")
    assert staged == 120

    errors, backend = [], []

    def slow_merge():
        merge_conn = warehouse.connect(dsn)
        backend.append(merge_conn.get_backend_pid())
        try:
            warehouse.merge_pending(merge_conn, batch_size=1)
        except psycopg2.Error as exc:
            errors.append(exc)
        finally:
            merge_conn.close()

    thread = threading.Thread(target=slow_merge)
    thread.start()
    admin = psycopg2.connect(pg_admin_url)
    admin.autocommit = True
    killed = False
    deadline = time.monotonic() + 30
    with admin.cursor() as cur:
        while time.monotonic() < deadline and not killed:
            # kill the merge's connection once a few batches have committed and more are running
            if backend and count(conn, "staged_entries", "merged_at IS NOT NULL") >= 20:
                cur.execute("SELECT pg_terminate_backend(%s)", (backend[0],))
                killed = True
            else:
                time.sleep(0.01)
    thread.join(30)
    admin.close()
    assert killed and errors, "the merge finished before it could be interrupted"

    # the interrupted batch rolled back; the batches before it are complete: every staged entry
    # is either merged (and its article and sighting are there) or still pending, never half
    merged = count(conn, "staged_entries", "merged_at IS NOT NULL")
    pending = count(conn, "staged_entries", "merged_at IS NULL")
    assert merged + pending == staged and pending > 0
    assert count(conn, "article_sightings") == merged  # each merged entry here is one (article, feed)
    orphans = rows(
        conn,
        """SELECT count(*) FROM news.staged_entries se
                            WHERE se.merged_at IS NOT NULL AND NOT EXISTS (
                                SELECT 1 FROM news.articles a WHERE a.canonical_url = se.canonical_url)""",
    )
    assert orphans == [(0,)]

    result = warehouse.merge_pending(conn)
    assert result.entries == pending
    assert count(conn, "articles") == 80  # items 0..79, overlapping across the three feeds
    assert count(conn, "article_sightings") == 120
    assert count(conn, "staged_entries", "merged_at IS NULL") == 0
    conn.close()


def test_two_runs_at_once_neither_lose_nor_double(three_feeds, dsn):
    errors = []

    def go(run_id):
        try:
            pipeline.run_once(three_feeds, run_id, force=True)
        except Exception as exc:  # noqa: BLE001 - reported below  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(f"parallel-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    conn = warehouse.connect(dsn)
    assert count(conn, "articles") == 80
    assert count(conn, "article_sightings") == 120
    assert count(conn, "staged_entries", "merged_at IS NULL") == 0
    dupes = rows(conn, "SELECT canonical_url FROM news.articles GROUP BY 1 HAVING count(*) > 1")
    assert dupes == []
    # every staged entry was decided exactly once
    outcomes = dict(rows(conn, "SELECT outcome, count(*) FROM news.staged_entries GROUP BY 1"))
    assert outcomes.get("new") == 80
    # a third run finds nothing new
    summary = pipeline.run_once(three_feeds, "after", force=True)
    assert summary.merge.get("new", 0) == 0 and count(conn, "articles") == 80
    conn.close()


def test_two_merges_at_once_take_turns_and_never_share_an_entry(three_feeds, dsn):
    stage_only(three_feeds, "staged")
    results = []

    def merge():
        c = warehouse.connect(dsn)
        try:
            results.append(warehouse.merge_pending(c, batch_size=10))
        finally:
            c.close()

    threads = [threading.Thread(target=merge) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # batch by batch under the lock: between them every entry was merged exactly once
    assert sum(r.entries for r in results) == 120
    conn = warehouse.connect(dsn)
    assert count(conn, "articles") == 80
    conn.close()
