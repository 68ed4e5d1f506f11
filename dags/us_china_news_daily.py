"""
### us_china_news_daily — close the day: rollups, data-quality checks, digest, retention

Its data interval is exactly the previous UTC day (00:00 to 24:00). It waits until
`NEWSWATCH_DAILY_DELAY_HOURS` (default 6) after the day closes, so articles published late in
the day are in, then:

1. **refresh_rollups** — recomputes that day's rows in `news.daily_topic_rollup`,
   `news.daily_outlet_rollup` and `news.daily_feed_rollup` (by ingest day).
2. **evaluate_quality** computes the day's figures once; then **check_*** — data-quality checks,
   one task each, that turn red with the reason:
   *feed_freshness* (a feed without a successful fetch in the day's last 24 h),
   *relevant_volume* (no relevant article that day), *duplicate_ratio* (share of merged entries
   that were already known, outside `NEWSWATCH_DQ_DUPLICATE_RATIO`), *ingest_lag* (median
   publish→ingest lag above `NEWSWATCH_DQ_MAX_LAG_HOURS`), *merge_failures* (staged entries the
   merge could not load and moved to `news.rejects`). Results are kept in
   `news.quality_checks`.
3. **write_digest** — the day's top stories by reach and by topic, as Markdown and HTML, in
   `news.digests`.
4. **retention** — deletes merged staging rows older than 7 days and expired story keys
   (rows of the day being checked are never that old, so it runs beside the checks).

Re-running or backfilling a day recomputes exactly that day.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pendulum
from airflow.providers.standard.sensors.date_time import DateTimeSensor
from airflow.sdk import CronDataIntervalTimetable, dag, task
from airflow.sdk.exceptions import AirflowFailException

from newswatch.airflow_support import fail_fast_on_config_errors, task_settings
from newswatch.config import DailySettings

DELAY_HOURS = DailySettings.from_env().delay_hours
CHECKS = ("feed_freshness", "relevant_volume", "duplicate_ratio", "ingest_lag", "merge_failures")


def _report_day(data_interval_start):
    return pendulum.instance(data_interval_start).in_timezone("UTC").date()


@contextlib.contextmanager
def _warehouse():
    from newswatch import warehouse

    with fail_fast_on_config_errors():
        dsn = task_settings().warehouse_dsn
    with warehouse.connection(dsn) as conn:
        warehouse.migrate(conn)
        yield conn


@dag(
    dag_id="us_china_news_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["newswatch", "us-china", "daily", "data-quality"],
    doc_md=__doc__,
    default_args={
        "owner": "newswatch",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(minutes=30),
    },
)
def us_china_news_daily():
    wait = DateTimeSensor(
        task_id="wait_for_late_articles",
        target_time="{{ data_interval_end.add(hours=%d).isoformat() }}" % DELAY_HOURS,  # noqa: UP031 - Jinja braces
        mode="reschedule",
        poke_interval=600,
        timeout=int(timedelta(days=1).total_seconds()),
        doc_md="Waits, without holding a worker slot, until NEWSWATCH_DAILY_DELAY_HOURS after the day "
        "closes, so articles published late in the day are in before it is judged.",
    )

    @task
    def refresh_rollups(data_interval_start=None) -> dict:
        """Recompute the day's rows of the topic, outlet and feed rollups (by ingest day)."""
        from newswatch.daily import refresh_rollups as refresh

        with _warehouse() as conn:
            return refresh(conn, _report_day(data_interval_start))

    @task
    def evaluate_quality(data_interval_start=None) -> dict:
        """Compute the day's figures once, judge every check, keep the results."""
        from dataclasses import asdict

        from newswatch.daily import run_checks

        with _warehouse() as conn:
            return {name: asdict(r) for name, r in run_checks(conn, _report_day(data_interval_start)).items()}

    def make_check(name: str, results):
        @task(task_id=f"check_{name}")
        def check(results: dict) -> dict:
            """One data-quality check for the day: red, with the day and the reason, when it fails
            (a data problem: no retry)."""
            result = results[name]
            if not result["passed"]:
                # a data problem, not a flaky one: retrying would not change the answer
                raise AirflowFailException(f"{name} failed for {result['detail']} (expected {result['threshold']})")
            return result

        return check(results)

    @task
    def write_digest(data_interval_start=None) -> int:
        """The day's top stories by reach and by topic, as Markdown and HTML, in news.digests
        (readable on the analyst's page)."""
        from newswatch.daily import write_digest as write

        with _warehouse() as conn:
            return write(conn, _report_day(data_interval_start))

    @task
    def retention(data_interval_start=None) -> dict:
        """Delete merged staging rows past NEWSWATCH_STAGING_RETENTION_DAYS and story keys past
        the clustering window."""
        from newswatch.daily import apply_retention

        with _warehouse() as conn:
            return apply_retention(conn, _report_day(data_interval_start))

    rollups = refresh_rollups()
    wait >> rollups
    quality = evaluate_quality()
    rollups >> quality
    # newswatch.daily.CHECKS, named here so parsing the DAG file does not import the pipeline
    # (tests/dag/test_dagbag.py checks they agree)
    checks = [make_check(name, quality) for name in CHECKS]
    digest = write_digest()
    # The checks are leaves, so a failed check fails the DAG run (red in the grid), while the
    # digest and retention still run: they do not depend on the data being healthy.
    rollups >> [*checks, digest, retention()]


us_china_news_daily()
