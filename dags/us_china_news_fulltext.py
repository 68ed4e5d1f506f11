"""
### us_china_news_fulltext — the full text of the articles that matter

Runs whenever the polling DAG publishes the `news_articles` asset (data-aware scheduling): for
the articles that need it (`NEWSWATCH_FULLTEXT`: relevant by default, all, or none) it fetches
each article's page politely (robots.txt, per-host back-off, the feed polls' per-host limit,
never waiting for a slot a poll might want), extracts the body (`news.article_texts`, one row per
attempt with its status) and scores the article again with it. Its fetches run in their own pool
(`newswatch_fulltext`), so the hourly polls never queue behind it; pages that must wait for
their host are taken by the next run. `newswatch fulltext --since ...` backfills.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, dag, task

from newswatch.airflow_support import FULLTEXT_POOL, fail_fast_on_config_errors, task_settings
from newswatch.config import AirflowSettings

ARTICLES = Asset(name="news_articles", uri=AirflowSettings.from_env().asset_uri)


@dag(
    dag_id="us_china_news_fulltext",
    schedule=[ARTICLES],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["newswatch", "us-china", "fulltext"],
    doc_md=__doc__,
    default_args={
        "owner": "newswatch",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(minutes=50),
    },
)
def us_china_news_fulltext():
    @task(pool=FULLTEXT_POOL)
    def fetch_texts() -> dict:
        """Fetch, extract and keep the pages of the articles that need them; score them again
        with their body. A page's failure is its own row in news.article_texts, never the task's."""
        from newswatch.pipeline import fulltext, log

        with fail_fast_on_config_errors():
            report = fulltext(task_settings(), raise_errors=True)
        log.info("%s", report["line"])
        return report

    fetch_texts()


us_china_news_fulltext()
