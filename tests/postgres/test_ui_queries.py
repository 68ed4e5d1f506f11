"""The analyst's pages' queries (sql/queries/ui_*.sql through warehouse/reports.py) on a migrated
warehouse filled by running the pipeline on the demo feeds (plus a feed that 404s and one whose
host does not resolve), their full text fetched from the demo's pages, and one day checked and
digested: filters by topic, outlet type and language, full-text search over title, summary and
body, paging, stories, feed health; then the app itself over that warehouse."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest
from fastapi.testclient import TestClient
from psycopg2.extensions import make_dsn, parse_dsn

from newswatch import daily, warehouse
from newswatch.access import Access
from newswatch.config import FetchSettings, FulltextSettings, Settings
from newswatch.dev import local
from newswatch.dev.feedserver import FeedServer
from newswatch.pipeline import fulltext, run_once
from newswatch.ui import data as ui_data
from newswatch.ui.app import create_app
from newswatch.ui.present import group_failures
from newswatch.warehouse import reports
from tests.helpers import rows

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
RUN_ID = "cli__ui-test"


@pytest.fixture(scope="module")
def demo_dsn(pg_admin_url, tmp_path_factory):
    """One warehouse for the module: the demo feeds run once, full text fetched, today checked."""
    admin = psycopg2.connect(pg_admin_url)
    admin.autocommit = True
    name = f"nw_ui_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    dsn = make_dsn(**{**parse_dsn(pg_admin_url), "dbname": name})
    server = FeedServer().start()
    try:
        server.add_directory(ROOT / "demo" / "feeds")
        local.serve_demo_pages(server)
        feeds = tmp_path_factory.mktemp("ui") / "feeds.yaml"
        feeds.write_text(
            (ROOT / "demo" / "feeds.yaml").read_text().replace("{base}", server.base_url)
            + f'  - name: broken_404\n    url: "{server.base_url}/moved-away.xml"\n    outlet: Moved Times\n'
            + '  - name: broken_dns\n    url: "http://feeds.no-such-host.invalid/rss"\n    outlet: Nowhere Post\n'
        )
        settings = Settings(
            feeds_path=feeds,
            topics_path=ROOT / "config" / "topics.yaml",
            warehouse_dsn=dsn,
            fetch=FetchSettings(
                allow_private_networks=True, connect_timeout=2, read_timeout=2, deadline=5, max_per_host=4
            ),
            workers=4,
            fulltext=FulltextSettings(mode="none"),
        )
        summary = run_once(settings, RUN_ID, force=True)
        assert summary.feeds_ok == 8 and summary.feeds_failed == 2
        report = fulltext(
            replace(settings, fulltext=FulltextSettings(days=3650)),
            rewrite=lambda url: server.base_url + local.demo_page_path(url),
        )
        assert report["statuses"].get("ok", 0) > 20
    finally:
        server.stop()
    conn = warehouse.connect(dsn)
    today = datetime.now(UTC).date()
    daily.run_checks(conn, today)
    daily.write_digest(conn, today)
    conn.close()
    yield dsn
    with admin.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close()


@pytest.fixture
def conn(demo_dsn):
    c = warehouse.connect(demo_dsn)
    c.set_session(readonly=True)
    yield c
    c.rollback()
    c.close()


def now():
    return datetime.now(UTC)


def articles(conn, **kw):
    kw.setdefault("limit", 1000)
    kw.setdefault("since", None)
    return reports.ui_articles(conn, **kw)


# --- the warehouse, runs and feeds ------------------------------------------------------------------


def test_the_warehouse_names_itself_and_knows_it_has_data(conn, demo_dsn):
    w = reports.ui_warehouse(conn)
    assert w["database"] == parse_dsn(demo_dsn)["dbname"] and w["host"] == "127.0.0.1"
    assert w["has_runs"] and w["has_articles"] and w["feeds"] == 10 and w["last_relevant_seen_at"] is not None


def test_last_run_and_feed_health_with_the_failing_feeds_last_fetch(conn):
    runs = reports.ui_last_runs(conn)
    assert runs[0]["run_id"] == RUN_ID and runs[0]["summary"]["feeds_failed"] == 2
    feeds = reports.ui_feed_health(conn)
    assert {f["name"] for f in feeds[:2]} == {"broken_dns", "broken_404"}  # failing feeds first
    by_name = {f["name"]: f for f in feeds}
    assert by_name["broken_404"]["last_http_status"] == 404 and by_name["broken_404"]["last_fetch_run_id"] == RUN_ID
    assert by_name["broken_404"]["last_fetch_task"] is None  # newswatch run: no Airflow task to link
    assert by_name["demo_bbc_world_asia"]["state"] == "ok" and by_name["demo_bbc_world_asia"]["outlet"] == "BBC News"
    assert sorted(g.sentence for g in group_failures(feeds)) == [
        "1 feed: DNS failed — is the network up?",
        "1 feed: HTTP 404 — the feed moved?",
    ]


def test_top_stories_chart_and_outlets(conn):
    stories = reports.ui_top_stories(conn, since=now() - timedelta(hours=24))
    assert stories[0]["outlet_count"] >= 4 and "Blinken" in stories[0]["headline"]
    first_day = (now() - timedelta(days=60)).date()
    daily_rows = reports.ui_daily_topics(conn, first_day=first_day, last_day=now().date())
    total = rows(
        conn,
        "SELECT count(*) FROM news.articles, unnest(topics) t WHERE is_relevant AND published_at >= %s",
        (first_day,),
    )[0][0]
    assert sum(r["articles"] for r in daily_rows) == total > 30
    outlets = reports.ui_top_outlets(conn, since=now() - timedelta(days=60))
    by_outlet = {o["outlet"]: o for o in outlets}
    assert by_outlet["AP News"]["outlet_type"] == "wire" and by_outlet["新华网"]["outlet_type"] == "chinese_state_media"
    names = reports.ui_outlet_names(conn, since=now() - timedelta(days=60))
    assert set(by_outlet) <= set(names) and names[0] == outlets[0]["outlet"]


def test_quality_and_digest_of_the_checked_day(conn):
    today = now().date()
    checks = reports.ui_quality_latest(conn)
    assert {c["day"] for c in checks} == {today} and len(checks) == len(daily.CHECKS)
    assert all(c["detail"].startswith(f"{today:%Y-%m-%d}: ") for c in checks)
    assert reports.ui_quality(conn, first_day=today - timedelta(days=13)) == checks
    digest = reports.ui_digest(conn, today)
    assert digest["stories"] > 0 and "<h1>" in digest["html"]
    assert reports.ui_digest(conn, today - timedelta(days=400)) is None
    assert [d["day"] for d in reports.ui_digest_days(conn)] == [today]


# --- the article list's filters --------------------------------------------------------------------


def test_topic_filter(conn):
    total, found = articles(conn, topic="taiwan")
    expected = rows(conn, "SELECT count(*) FROM news.articles WHERE is_relevant AND 'taiwan' = ANY(topics)")[0][0]
    assert total == len(found) == expected > 5
    assert all("taiwan" in r["topics"] and r["is_relevant"] for r in found)
    stamps = [r["published_at"] for r in found]
    assert stamps == sorted(stamps, reverse=True)  # newest first


def test_outlet_type_filter(conn):
    total, found = articles(conn, outlet_type="chinese_state_media")
    assert total == len(found) > 0
    assert {r["outlet"] for r in found} <= {"新华网", "Global Times"} and "新华网" in {r["outlet"] for r in found}
    assert (
        total
        == rows(conn, "SELECT count(*) FROM news.us_china_articles WHERE outlet_type = 'chinese_state_media'")[0][0]
    )
    _, wires = articles(conn, outlet_type="wire")
    assert {r["outlet"] for r in wires} <= {"AP News", "Reuters"}


def test_language_filter(conn):
    total_zh, zh = articles(conn, language="zh")
    total_en, en = articles(conn, language="en")
    total_any, _ = articles(conn)
    assert total_zh > 0 and {r["language"] for r in zh} == {"zh"}
    assert {r["language"] for r in en} == {"en"} and total_zh + total_en == total_any


def test_outlet_and_day_filters(conn):
    _, found = articles(conn, outlet="BBC News")
    assert found and {r["outlet"] for r in found} == {"BBC News"}
    day = found[0]["published_at"].astimezone(UTC).date()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    _, on_day = articles(conn, since=start, until=start + timedelta(days=1))
    assert on_day and all(r["published_at"].astimezone(UTC).date() == day for r in on_day)


def test_full_text_search_is_ranked_and_covers_the_body(conn):
    total, found = articles(conn, q="rare earth")
    assert total == len(found) > 0
    ranks = [r["rank"] for r in found]
    assert ranks == sorted(ranks, reverse=True) and all(r > 0 for r in ranks)
    matches = {
        r[0]
        for r in rows(
            conn,
            "SELECT article_id FROM news.articles WHERE is_relevant AND "
            "search @@ websearch_to_tsquery('english', 'rare earth')",
        )
    }
    assert {r["article_id"] for r in found} == matches
    # a word found only in some article's fetched body, not in any title or summary
    bodies = rows(conn, "SELECT article_id, body FROM news.articles WHERE is_relevant AND body IS NOT NULL")
    for article_id, body in bodies:
        for word in sorted(set(re.findall(r"\b[a-z]{9,}\b", body))):
            in_head = rows(
                conn,
                "SELECT count(*) FROM news.articles WHERE to_tsvector('english', title || ' ' || "
                "summary) @@ plainto_tsquery('english', %s)",
                (word,),
            )[0][0]
            if in_head == 0:
                _, hits = articles(conn, q=word)
                assert article_id in {r["article_id"] for r in hits}, word
                return
    pytest.fail("no body-only word found in the demo's full texts")


def test_chinese_text_is_searchable_by_any_word_inside_a_sentence(conn):
    # PostgreSQL reads a run of Chinese characters as one word; the search must find one inside it
    texts = dict(rows(conn, "SELECT article_id, concat_ws(' ', title, summary, body) FROM news.articles"))
    total, found = articles(conn, q="台湾", relevant_only=False)
    assert total > 0 and any(r["language"] == "zh" for r in found)
    assert {r["article_id"] for r in found} == {a for a, text in texts.items() if "台湾" in text}
    _, phrase = articles(conn, q='"美国向台湾"', relevant_only=False)
    assert phrase and all("美国向台湾" in texts[r["article_id"]] for r in phrase)
    _, english = articles(conn, q="Taiwan", relevant_only=False)
    assert english and all("taiwan" in texts[r["article_id"]].lower() for r in english)
    # Japanese runs mix kanji and kana; both are read in pairs
    japanese = (
        "SELECT to_tsvector('english', news.search_text('日本の首相は台湾について語った')) @@ news.search_query(%s)"
    )
    assert [rows(conn, japanese, (q,))[0][0] for q in ("首相", "について", "首相は台湾", "台湾首相")] == [
        True,
        True,
        True,
        False,
    ]


def test_search_syntax_phrases_and_exclusions(conn):
    _, plain = articles(conn, q="Blinken")
    _, without = articles(conn, q="Blinken -Taiwan")
    assert plain and len(without) < len(plain)
    assert all("taiwan" not in (r["title"] + r["summary"]).lower() for r in without)
    assert articles(conn, q='"no such phrase anywhere"') == (0, [])


def test_all_articles_and_paging(conn):
    relevant, _ = articles(conn)
    everything, _ = articles(conn, relevant_only=False)
    assert everything == rows(conn, "SELECT count(*) FROM news.articles")[0][0] > relevant
    seen = []
    for page in range(0, everything, 7):
        total, found = reports.ui_articles(conn, limit=7, offset=page, relevant_only=False)
        assert total == everything
        seen += [r["article_id"] for r in found]
    assert len(seen) == len(set(seen)) == everything
    assert reports.ui_articles(conn, limit=7, offset=everything + 10, relevant_only=False) == (everything, [])


# --- a story --------------------------------------------------------------------------------------


def test_a_story_has_every_reprint_its_evidence_text_and_sightings(conn):
    story_id = rows(
        conn, "SELECT story_id FROM news.articles WHERE canonical_url LIKE 'https://apnews.com/article/blinken-%'"
    )[0][0]
    found = reports.ui_story(conn, story_id)
    assert found["story"]["outlet_count"] >= 4
    outlets = {a["outlet"]: a for a in found["articles"]}
    assert len(found["articles"]) == found["story"]["article_count"] >= 4
    assert outlets["AP News"]["outlet_type"] == "wire"
    assert all(a["relevance_terms"]["rules"] for a in found["articles"])
    assert any(a["text_status"] == "ok" and a["body"] for a in found["articles"])
    carried = [min(a["published_at"], a["first_seen_at"]) for a in found["articles"]]
    assert carried == sorted(carried) and found["articles"][0]["outlet"] == found["story"]["first_outlet"]
    feeds = {s["feed_name"] for s in found["sightings"]}
    assert "demo_google_news_china_us" in feeds and len(found["sightings"]) > len(found["articles"])
    assert reports.ui_story(conn, 10**12) is None


# --- the app over this warehouse --------------------------------------------------------------------


@pytest.fixture
def client(demo_dsn):
    app = create_app(
        lambda: demo_dsn,
        access=lambda request: Access(True, True),
        schedule=lambda now: ui_data.schedule_from_settings(now),
    )
    return TestClient(app, raise_server_exceptions=True)


def test_the_pages_render_over_the_warehouse(client, demo_dsn):
    page = client.get("/coverage")
    assert page.status_code == 200
    assert f"database <strong>{parse_dsn(demo_dsn)['dbname']}</strong>" in page.text
    assert "1 feed: HTTP 404 — the feed moved?" in page.text and "1 feed: DNS failed — is the network up?" in page.text
    assert "10 feeds polled: 8 ok, 0 not modified, 2 failed" in page.text
    story = re.search(r'<a href="stories/(\d+)">Blinken', page.text).group(1)
    story_page = client.get(f"/stories/{story}")
    assert story_page.status_code == 200 and "Sightings by feed" in story_page.text
    assert client.get("/quality").status_code == 200
    today = now().date()
    digest = client.get(f"/digests/{today:%Y-%m-%d}")
    assert digest.status_code == 200 and "<h1>US–China coverage" in digest.text
    assert re.search(r'<a href="\.\./stories/\d+">Blinken', digest.text)
    assert client.get("/digests/2001-01-01").status_code == 404
    assert client.get("/stories/999999999").status_code == 404
    data = client.get("/coverage.json").json()
    assert {g["summary"] for g in data["failing_groups"]} == {
        "1 feed: HTTP 404 — the feed moved?",
        "1 feed: DNS failed — is the network up?",
    }


def test_csv_has_the_same_rows_as_the_list(client):
    query = "window=all&lang=en&topic=diplomacy&per=200"
    listed = client.get(f"/articles.json?{query}").json()
    response = client.get(f"/articles.csv?{query}")
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="newswatch-articles_all-to-' in response.headers["content-disposition"]
    assert response.headers["content-disposition"].split('filename="')[1].split('"')[0].endswith("_diplomacy_en.csv")
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))
    assert [int(r["article_id"]) for r in table] == [r["article_id"] for r in listed["rows"]]
    assert len(table) == listed["total"] > 5
    page = client.get(f"/articles?{query}").text
    titles = [
        html.unescape(t) for t in re.findall(r'<a href="stories/\d+">([^<]*)</a> <a href="[^"]*" class="ext"', page)
    ]
    assert titles == [r["title"] for r in table]


def test_pages_read_in_a_read_only_transaction(client, monkeypatch):
    def write(conn, **kw):
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE news.not_allowed (i int)")

    monkeypatch.setattr(ui_data, "load_quality", write)
    with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
        client.get("/quality")


def test_an_empty_warehouse_says_what_to_do(dsn):
    """No schema yet (nothing has run against it): the coverage page says what to do; the other
    pages answer 503 with the reason. Migrated but empty: the same advice, and empty panels."""
    app = create_app(
        lambda: dsn,
        access=lambda request: Access(True, True),
        schedule=lambda now: ui_data.schedule_from_settings(now, {"NEWSWATCH_POLL_SCHEDULE": "@hourly"}),
    )
    client = TestClient(app, raise_server_exceptions=True)
    page = client.get("/coverage")
    assert page.status_code == 200
    assert f"database <strong>{parse_dsn(dsn)['dbname']}</strong>" in page.text
    assert "The first poll has not run yet" in page.text and "<code>make up DEMO=1</code>" in page.text
    articles_page = client.get("/articles")
    assert articles_page.status_code == 503 and "has no newswatch schema yet" in articles_page.text
    conn = warehouse.connect(dsn)
    warehouse.migrate(conn)
    conn.close()
    page = client.get("/coverage")
    assert page.status_code == 200 and "This warehouse holds no article yet" in page.text
    assert "(@hourly)" in page.text
    for path in ("/articles", "/quality", "/digests", "/digests/2026-11-27"):
        assert client.get(path).status_code in (200, 404), path
    assert "No article matches" in client.get("/articles").text
    assert "No digest yet" in client.get("/digests").text
