"""dag.test() of us_china_news end to end: Airflow runs the real tasks against fixture feeds
served locally and a real PostgreSQL warehouse."""

import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest

from newswatch import warehouse
from newswatch.dev.feedserver import Response
from tests.conftest import sqlalchemy_url
from tests.helpers import count, item, rows, rss

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def airflow_db():
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())
    yield


@pytest.fixture
def dag_env(monkeypatch, dsn, tmp_path, feed_server):
    def configure(feeds: dict[str, str]):
        path = tmp_path / "feeds.yaml"
        path.write_text("feeds:\n" + "".join(f'  - name: {n}\n    url: "{u}"\n' for n, u in feeds.items()))
        monkeypatch.setenv("AIRFLOW_CONN_NEWS_WAREHOUSE", sqlalchemy_url(dsn))
        monkeypatch.setenv("NEWSWATCH_FEEDS", str(path))
        monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE_NETWORKS", "true")
        monkeypatch.setenv("NEWSWATCH_FETCH_DEADLINE", "3")
        monkeypatch.setenv("NEWSWATCH_READ_TIMEOUT", "2")

    return configure


def get_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.get_dag("us_china_news")


def states(dagrun):
    return {(ti.task_id, ti.map_index): ti.state for ti in dagrun.get_task_instances()}


def test_dag_run_loads_articles_and_isolates_a_failing_feed(airflow_db, dag_env, feed_server, dsn):
    good = feed_server.add_document("/good.xml", rss([item(i) for i in range(6)]))
    also = feed_server.add_document("/also.xml", rss([item(i) for i in range(4, 9)]))
    broken = feed_server.add_handler("/broken", lambda r: Response(500, {}, b"down"))
    dag_env({"good": good, "also": also, "broken": broken})

    dagrun = get_dag().test(run_conf={"force": True})

    got = states(dagrun)
    assert got[("prepare", -1)] == "success"
    poll_states = sorted(state for (task, _), state in got.items() if task == "poll")
    assert poll_states == ["failed", "success", "success"]
    assert got[("merge", -1)] == "success" and got[("summarize", -1)] == "success"
    assert got[("publish", -1)] == "success"
    assert dagrun.state == "success"

    conn = warehouse.connect(dsn)
    assert count(conn, "articles") == 9
    assert count(conn, "article_sightings") == 11
    assert rows(conn, "SELECT feed_name, status, error_class FROM news.fetch_log ORDER BY feed_name") == [
        ("also", "ok", None),
        ("broken", "error", "http_5xx"),
        ("good", "ok", None),
    ]
    summary = rows(conn, "SELECT summary FROM news.pipeline_runs WHERE run_id = %s", (dagrun.run_id,))[0][0]
    assert summary["feeds_ok"] == 2 and summary["feeds_failed"] == 1 and summary["merge"]["new"] == 9
    # map indexes are named after the feeds
    names = {ti.rendered_map_index for ti in dagrun.get_task_instances() if ti.task_id == "poll"}
    assert names == {"good", "also", "broken"}
    conn.close()


def test_dag_run_fails_when_no_feed_is_reachable(airflow_db, dag_env, dsn):
    dag_env({"nowhere": "http://no-such-host.invalid/rss"})
    dagrun = get_dag().test(run_conf={"force": True})
    got = states(dagrun)
    assert got[("summarize", -1)] == "failed" and dagrun.state == "failed"
    conn = warehouse.connect(dsn)
    assert rows(conn, "SELECT error_class FROM news.fetch_log") == [("dns",)]
    conn.close()


def test_dag_run_with_a_bad_feeds_file_stops_before_any_fetch(airflow_db, dag_env, tmp_path, dsn, monkeypatch):
    dag_env({"a": "https://example.com/a"})
    bad = tmp_path / "bad.yaml"
    bad.write_text("feeds:\n  - name: a\n  - name: a\n    url: https://example.com/a\n")
    monkeypatch.setenv("NEWSWATCH_FEEDS", str(bad))
    dagrun = get_dag().test(run_conf={"force": True})
    got = states(dagrun)
    assert got[("prepare", -1)] == "failed" and dagrun.state == "failed"
    conn = warehouse.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('news.fetch_log')")
        exists = cur.fetchone()[0]
    assert exists is None or count(conn, "fetch_log") == 0
    conn.close()


def test_daily_dag_recomputes_a_past_day_and_fails_loudly_on_bad_data(airflow_db, dag_env, feed_server, dsn):
    from datetime import datetime

    from airflow.dag_processing.dagbag import DagBag

    from newswatch.config import Settings
    from newswatch.pipeline import run_once

    url = feed_server.add_document("/f.xml", rss([item(i) for i in range(5)]))
    dag_env({"f": url})
    run_once(Settings.from_env(), "daily-dag-setup", force=True)
    noon = datetime(2026, 11, 20, 12, tzinfo=UTC)
    conn = warehouse.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE news.articles SET first_seen_at = %s", (noon,))
        cur.execute("UPDATE news.stories SET first_seen_at = %s", (noon,))
        cur.execute("UPDATE news.fetch_log SET started_at = %s", (noon,))
        cur.execute("UPDATE news.staged_entries SET merged_at = %s", (noon,))
        cur.execute("UPDATE news.feeds SET created_at = %s", (noon,))

    dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag("us_china_news_daily")
    # a manual run at midnight covers the UTC day that just closed
    good = dag.test(logical_date=datetime(2026, 11, 21, tzinfo=UTC))
    got = states(good)
    assert good.data_interval_start.isoformat().startswith("2026-11-20T00:00:00")
    assert good.data_interval_end.isoformat().startswith("2026-11-21T00:00:00")
    assert all(state == "success" for state in got.values()), got
    assert rows(conn, "SELECT stories FROM news.digests") == [(5,)]
    from newswatch.daily import CHECKS

    assert rows(conn, "SELECT day, count(*) FROM news.quality_checks WHERE passed GROUP BY day") == [
        (datetime(2026, 11, 20).date(), len(CHECKS))
    ]

    empty = dag.test(logical_date=datetime(2026, 11, 23, tzinfo=UTC))
    got = states(empty)
    assert got[("check_relevant_volume", -1)] == "failed" and got[("check_feed_freshness", -1)] == "failed"
    assert got[("write_digest", -1)] == "success" and got[("retention", -1)] == "success"
    assert empty.state == "failed"
    conn.close()


def test_a_failed_merge_fails_the_run(airflow_db, dag_env, feed_server, dsn, monkeypatch):
    import newswatch.pipeline

    def broken_merge(*args, **kwargs):
        raise RuntimeError("warehouse went away")

    monkeypatch.setattr(newswatch.pipeline, "merge", broken_merge)
    dag_env({"good": feed_server.add_document("/good.xml", rss([item(i) for i in range(3)]))})
    dag = get_dag()
    dag.get_task("merge").retries = 0  # its retries (with back-off) would only make the test slow
    dagrun = dag.test(run_conf={"force": True})
    got = states(dagrun)
    assert got[("merge", -1)] == "failed" and got[("summarize", -1)] == "failed"
    assert dagrun.state == "failed"
    conn = warehouse.connect(dsn)
    assert count(conn, "staged_entries", "merged_at IS NULL") == 3  # nothing lost: waiting for a merge
    summary = rows(conn, "SELECT summary FROM news.pipeline_runs WHERE run_id = %s", (dagrun.run_id,))[0][0]
    assert summary["merge"] == {"failed": True}
    conn.close()
