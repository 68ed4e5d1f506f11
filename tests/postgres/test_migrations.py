import shutil
import threading
from pathlib import Path

import pytest

from newswatch import warehouse
from newswatch.errors import MigrationError

SQL = Path(__file__).resolve().parents[2] / "sql"
CONTRACT = {
    "feeds": {
        "name",
        "url",
        "outlet",
        "language",
        "enabled",
        "etag",
        "last_modified",
        "last_status",
        "consecutive_failures",
        "last_success_at",
    },
    "fetch_log": {"feed_name", "run_id", "started_at", "status", "http_status", "error", "entries_seen", "entries_new"},
    "articles": {
        "article_id",
        "canonical_url",
        "title",
        "summary",
        "published_at",
        "first_seen_at",
        "outlet",
        "language",
        "relevance_score",
        "is_relevant",
        "topics",
        "story_id",
    },
    "article_sightings": {"article_id", "feed_name", "url", "guid"},
    "stories": {"story_id"},
    "rejects": {"reason", "raw_entry"},
}


@pytest.fixture
def migrated(dsn, tmp_path):
    """A migrated warehouse and an editable copy of sql/ to migrate it with next."""
    conn = warehouse.connect(dsn)
    warehouse.migrate(conn)
    copy = tmp_path / "sql"
    shutil.copytree(SQL, copy)
    yield conn, copy
    conn.close()


def columns(conn, table):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'news' AND table_name = %s",
            (table,),
        )
        return {r[0] for r in cur.fetchall()}


def test_migrate_creates_the_warehouse_contract(dsn):
    conn = warehouse.connect(dsn)
    applied = warehouse.migrate(conn)
    assert applied[0] == "0001_initial"
    for table, needed in CONTRACT.items():
        assert needed <= columns(conn, table), table
    with conn.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.views WHERE table_schema = 'news'")
        views = {r[0] for r in cur.fetchall()}
        cur.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_schema='news' "
            "AND table_name='articles' AND column_name='published_at'"
        )
        assert cur.fetchone()[0] == "timestamp with time zone"
    assert {"us_china_articles", "daily_topic_coverage", "story_reach", "feed_health"} <= views
    assert warehouse.migrate(conn) == []
    conn.close()


def test_concurrent_migrations_apply_once(dsn):
    results, errors = [], []

    def go():
        conn = warehouse.connect(dsn)
        try:
            results.append(warehouse.migrate(conn))
        except Exception as exc:  # noqa: BLE001 - reported below  # pragma: no cover
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(len(r) for r in results)[-1] >= 1 and sum(len(r) for r in results) == len(
        warehouse.discover_migrations(SQL / "migrations")
    )


def test_an_edited_migration_stops_everything(migrated):
    conn, copy = migrated
    first = sorted((copy / "migrations").glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match="forward-only"):
        warehouse.migrate(conn, copy)


def test_a_new_migration_is_applied_forward(migrated):
    conn, copy = migrated
    (copy / "migrations" / "9999_extra.sql").write_text("CREATE TABLE news.extra (x int);")
    assert warehouse.migrate(conn, copy) == ["9999_extra"]
    assert columns(conn, "extra") == {"x"}


def test_unchanged_views_are_not_recreated_while_an_analyst_reads_them(dsn):
    import psycopg2

    conn = warehouse.connect(dsn)
    warehouse.migrate(conn)
    reader = psycopg2.connect(dsn)
    with reader.cursor() as cur:  # an open transaction holding a lock on a view
        cur.execute("SELECT count(*) FROM news.us_china_articles")
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = '5s'")
    conn.commit()
    assert warehouse.migrate(conn) == []  # would wait behind the reader if it recreated the view
    reader.rollback()
    reader.close()
    conn.close()


def test_a_changed_view_is_recreated(migrated):
    conn, copy = migrated
    view = copy / "views" / "10_us_china_articles.sql"
    view.write_text(view.read_text().replace("AS outlet_type\n", "AS outlet_type,\n       a.revision\n"))
    warehouse.migrate(conn, copy)
    assert "revision" in columns(conn, "us_china_articles")
