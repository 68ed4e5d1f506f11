"""`newswatch run --force` (the CLI) and an Airflow DAG run (`airflow dags test us_china_news`)
at once, against the same warehouse and the same slow feeds.

The feeds hold their responses until the test releases them. The CLI starts first and claims
every feed (it is fetching all of them); the DAG run starts while those fetches hang, and must
find each feed claimed and record it as skipped (error_class `claimed`) instead of fetching it a
second time. Then the feeds answer, and both runs end. Each feed was fetched once in total,
every entry is in articles or rejects once, and both commands exit 0.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from newswatch.dev.feedserver import Response
from tests.chaos.support import ROOT, account_for_runs, assert_texts_as_served, query, scalar, wait_until
from tests.conftest import sqlalchemy_url
from tests.helpers import item, rss

pytestmark = [pytest.mark.chaos, pytest.mark.postgres, pytest.mark.airflow]
CHAOS_KIND = "two runs at once"

BIN = Path(sys.executable).parent
FEEDS = ("alpha", "bravo", "charlie")


class HeldFeed:
    """Answers only once released: until then the poll that requested it is mid-fetch and
    holds the feed's claim."""

    def __init__(self, body: bytes):
        self.body = body
        self.release = threading.Event()

    def __call__(self, request) -> Response:
        self.release.wait(240)
        return Response(200, {"Content-Type": "application/rss+xml", "ETag": '"held"'}, self.body)


def entries_of(feed: int) -> list[dict]:
    return [item(n, link=f"https://{FEEDS[feed]}.example.com/story-{n}") for n in range(feed * 10, feed * 10 + 4)]


def newswatch_env(dsn: str, feeds_file: Path) -> dict:
    """What both commands share: the warehouse, the feeds, and timeouts longer than the wait for
    the other run (a held fetch must not time out before the test releases it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_CONN_NEWS_WAREHOUSE": sqlalchemy_url(dsn),
            "NEWSWATCH_FEEDS": str(feeds_file),
            "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "true",
            "NEWSWATCH_READ_TIMEOUT": "300",
            "NEWSWATCH_FETCH_DEADLINE": "300",
            # every feed is on 127.0.0.1: with the default 2 slots per host the third would wait
            # for a slot instead of being fetched
            "NEWSWATCH_MAX_PER_HOST": "8",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), str(ROOT)]),
            "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
        }
    )
    return env


def airflow_env(base: dict, home: Path) -> dict:
    """A throwaway Airflow home with SQLite metadata, this project's dags/ and plugins/ (as
    newswatch.dev.local.airflow_env sets up `make run`, without touching .newswatch/)."""
    home.mkdir(parents=True, exist_ok=True)
    return dict(
        base,
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
    )


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def claimed_skips(dsn: str) -> list[str]:
    return [
        name
        for (name,) in query(
            dsn, "SELECT feed_name FROM news.fetch_log WHERE status = 'skipped' AND error_class = 'claimed'"
        )
    ]


def test_a_cli_run_and_a_dag_run_at_once_fetch_each_feed_once(feed_server, dsn, tmp_path, figures):
    figures.what = "`newswatch run --force` and `airflow dags test us_china_news` on 3 held feeds at once"
    held = {
        name: HeldFeed(rss(entries_of(i) + ([item(99, link="javascript:void(0)")] if name == "charlie" else [])))
        for i, name in enumerate(FEEDS)
    }
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(
        "feeds:\n"
        + "".join(
            f'  - name: {name}\n    url: "{feed_server.add_handler(f"/{name}.xml", handler)}"\n'
            for name, handler in held.items()
        )
    )
    env = newswatch_env(dsn, feeds_file)
    dag_env = airflow_env(env, tmp_path / "airflow")
    migrate = subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=dag_env, capture_output=True, text=True, timeout=300, check=False
    )
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]

    cli_log, dag_log = tmp_path / "cli.log", tmp_path / "dag.log"
    processes: list[subprocess.Popen] = []
    try:
        cli = start([str(BIN / "newswatch"), "run", "--force"], env, cli_log)
        processes.append(cli)
        wait_until(
            lambda: all(feed_server.requests_for(f"/{name}.xml") for name in FEEDS) or cli.poll() is not None,
            timeout=120,
            what="the CLI to request every feed",
        )
        assert cli.poll() is None, f"the CLI ended before fetching:\n{tail(cli_log)}"

        dag = start(
            [str(BIN / "airflow"), "dags", "test", "us_china_news", "--conf", json.dumps({"force": True})],
            dag_env,
            dag_log,
        )
        processes.append(dag)
        wait_until(
            lambda: len(claimed_skips(dsn)) == len(FEEDS) or dag.poll() is not None,
            timeout=240,
            what="the DAG run to find every feed claimed",
        )
        assert sorted(claimed_skips(dsn)) == sorted(FEEDS), f"DAG run:\n{tail(dag_log)}"

        for handler in held.values():
            handler.release.set()
        cli_code, dag_code = cli.wait(timeout=240), dag.wait(timeout=240)
    finally:
        for handler in held.values():
            handler.release.set()
        for proc in processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: the command and its children

    assert cli_code == 0, f"newswatch run exited {cli_code}:\n{tail(cli_log)}"
    assert dag_code == 0, f"airflow dags test exited {dag_code}:\n{tail(dag_log)}"
    for name in FEEDS:
        assert len(feed_server.requests_for(f"/{name}.xml")) == 1, f"{name} was fetched more than once"
    runs = dict(query(dsn, "SELECT trigger, run_id FROM news.pipeline_runs"))
    assert set(runs) == {"cli", "airflow"}, runs
    by_feed = query(
        dsn,
        """SELECT feed_name, array_agg(status || ':' || coalesce(error_class, '') || ':' ||
                                                   (SELECT trigger FROM news.pipeline_runs r WHERE r.run_id = f.run_id)
                                                   ORDER BY status)
                            FROM news.fetch_log f GROUP BY feed_name ORDER BY feed_name""",
    )
    assert by_feed == [(name, ["ok::cli", "skipped:claimed:airflow"]) for name in FEEDS]

    # every entry in articles or in rejects, once; each text under its own URL
    totals = account_for_runs(dsn, list(runs.values()))
    served = [e for i in range(len(FEEDS)) for e in entries_of(i)]
    assert totals.pending == 0 and totals.fetched == len(served) + 1
    assert (totals.in_articles, totals.in_rejects) == (len(served), 1)
    assert scalar(dsn, "SELECT count(*) FROM news.articles") == len(served)
    assert scalar(dsn, "SELECT count(*) FROM news.article_sightings") == len(served)
    assert_texts_as_served(dsn, {e["link"]: (e["title"], e["summary"]) for e in served})
    summaries = dict(query(dsn, "SELECT trigger, summary FROM news.pipeline_runs"))
    assert summaries["cli"]["feeds_ok"] == 3 and summaries["airflow"]["feeds_skipped"] == 3
    figures.count(totals)
    figures.checked = "each feed fetched once; DAG logged 3 skipped/claimed; both exited 0"
