"""The daily stage against a real warehouse: rollups recompute a day exactly, checks are
recorded, the digest is stored, retention prunes only what it should."""

from datetime import UTC, date, datetime, timedelta

from newswatch import daily, warehouse
from newswatch.pipeline import run_once
from tests.helpers import count, item, rows, rss

DAY = date(2026, 11, 27)


def load_day(feed_server, make_settings, db):
    url = feed_server.add_document("/f.xml", rss([item(i) for i in range(6)]))
    run_once(make_settings({"f": url}), "daily-setup", force=True)
    # pretend the run happened on DAY at noon
    noon = datetime(2026, 11, 27, 12, tzinfo=UTC)
    with db, db.cursor() as cur:
        cur.execute("UPDATE news.articles SET first_seen_at = %s, last_seen_at = %s", (noon, noon))
        cur.execute("UPDATE news.stories SET first_seen_at = %s, last_seen_at = %s", (noon, noon))
        cur.execute("UPDATE news.fetch_log SET started_at = %s, finished_at = %s", (noon, noon))
        cur.execute("UPDATE news.staged_entries SET merged_at = %s", (noon,))
        cur.execute("UPDATE news.feeds SET created_at = %s", (noon - timedelta(days=1),))


def test_rollups_recompute_the_day_exactly(feed_server, make_settings, db):
    load_day(feed_server, make_settings, db)
    first = daily.refresh_rollups(db, DAY)
    assert first["outlets"] == 1 and first["feeds"] == 1 and first["topics"] >= 1
    snapshot = rows(db, "SELECT topic, articles FROM news.daily_topic_rollup WHERE day = %s ORDER BY topic", (DAY,))
    assert daily.refresh_rollups(db, DAY) == first
    assert (
        rows(db, "SELECT topic, articles FROM news.daily_topic_rollup WHERE day = %s ORDER BY topic", (DAY,))
        == snapshot
    )
    assert rows(db, "SELECT articles, relevant FROM news.daily_outlet_rollup WHERE day = %s", (DAY,)) == [(6, 6)]
    assert rows(db, "SELECT fetches, ok, entries_new FROM news.daily_feed_rollup WHERE day = %s", (DAY,)) == [(1, 1, 6)]
    # the next day is empty and does not touch this one
    assert daily.refresh_rollups(db, DAY + timedelta(days=1)) == {"topics": 0, "outlets": 0, "feeds": 0}
    assert count(db, "daily_outlet_rollup") == 1


def test_checks_are_recorded_and_a_stale_feed_fails(feed_server, make_settings, db):
    load_day(feed_server, make_settings, db)
    results = daily.run_checks(db, DAY)
    assert results["feed_freshness"].passed and results["relevant_volume"].passed
    assert results["duplicate_ratio"].value == 0.0 and results["duplicate_ratio"].passed
    later = daily.run_checks(db, DAY + timedelta(days=2))
    assert not later["feed_freshness"].passed and "f" in later["feed_freshness"].detail
    assert not later["relevant_volume"].passed
    assert count(db, "quality_checks") == 2 * len(daily.CHECKS)


def test_freshness_counts_only_fetches_the_feed_answered(feed_server, make_settings, db):
    """A day whose only fetch of a feed was 'skipped' (another poll held it, its host stayed
    busy) never reached the feed: it is stale. A 304 is an answer: fresh."""
    load_day(feed_server, make_settings, db)  # feed f answered on DAY; nothing on the day after
    next_day, noon = DAY + timedelta(days=1), datetime(2026, 11, 28, 12, tzinfo=UTC)
    url = rows(db, "SELECT url FROM news.feeds WHERE name = 'f'")[0][0]
    warehouse.record_skip(db, "busy-run", "f", url, "claimed", "another run is polling it")
    with db, db.cursor() as cur:
        cur.execute(
            "UPDATE news.fetch_log SET started_at = %s, finished_at = %s WHERE status = 'skipped'", (noon, noon)
        )
    freshness = daily.run_checks(db, next_day)["feed_freshness"]
    assert not freshness.passed and freshness.detail.endswith(
        "active feeds had no successful fetch in the day's last 24 hours: f"
    )
    with db, db.cursor() as cur:
        cur.execute("UPDATE news.fetch_log SET status = 'not_modified', http_status = 304 WHERE status = 'skipped'")
    assert daily.run_checks(db, next_day)["feed_freshness"].passed


def test_digest_is_stored_once_per_day(feed_server, make_settings, db):
    load_day(feed_server, make_settings, db)
    assert daily.write_digest(db, DAY) == 6
    assert daily.write_digest(db, DAY) == 6
    md, stories = rows(db, "SELECT markdown, stories FROM news.digests WHERE day = %s", (DAY,))[0]
    assert stories == 6 and md.startswith("# US–China coverage, Friday 27 November 2026")


def test_retention_prunes_old_staging_only(feed_server, make_settings, db):
    load_day(feed_server, make_settings, db)
    assert daily.apply_retention(db, DAY, staging_days=7) == {"staged_entries": 0}
    later = DAY + timedelta(days=10)
    assert daily.apply_retention(db, later, staging_days=7) == {"staged_entries": 6}
    assert count(db, "articles") == 6 and count(db, "article_fingerprints") == 6
