"""
### us_china_news — poll the feeds, load US–China coverage into the warehouse

Every hour (`NEWSWATCH_POLL_SCHEDULE` to change it; feeds keep only their latest items, so
polling less often loses coverage):

1. **prepare** — validates the feeds file (a bad file fails here, before any fetch), migrates
   the warehouse, syncs `news.feeds`, and picks the feeds that are due. Trigger with
   `{"force": true}` to poll every feed now, or `{"feeds": ["name", ...]}` for some.
2. **poll** — one mapped task per feed (named after it; feeds are grouped when there are more
   than `NEWSWATCH_MAX_FETCH_TASKS`): conditional GET, parse, normalise, score relevance,
   fingerprint, stage in Postgres. A feed that fails turns its task red without retrying (the
   feed is backed off instead) and never stops the others; read its log for the reason.
3. **merge** — batch by batch, each one transaction under an advisory lock: dedupe, revisions, story clustering,
   load `news.articles`, `news.article_sightings`, `news.stories`.
4. **summarize** — the run's summary in the log and in `news.pipeline_runs`; fails the run only
   when no feed at all was reachable.
5. **publish** — emits the `news_articles` asset when articles changed (skipped otherwise).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from newswatch.airflow_support import (
    FETCH_POOL,
    ExpectedFailure,
    expected_failure_policy,
    fail_fast_on_config_errors,
    group_feeds,
    group_label,
    task_settings,
)
from newswatch.config import AirflowSettings

SETTINGS = AirflowSettings.from_env()
ARTICLES = Asset(name="news_articles", uri=SETTINGS.asset_uri)


@dag(
    dag_id="us_china_news",
    schedule=SETTINGS.poll_schedule,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    tags=["newswatch", "us-china", "ingest"],
    doc_md=__doc__,
    default_args={
        "owner": "newswatch",
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(minutes=20),
    },
    user_defined_filters={"feed_label": group_label},
    params={
        "force": Param(False, type="boolean", description="Poll every enabled feed, due or not"),
        "feeds": Param([], type="array", description="Poll only these feeds (names from the feeds file)"),
    },
)
def us_china_news():
    @task
    def prepare(params=None, run_id=None) -> list[list[str]]:
        """Validate the feeds file (a bad one fails here, before any fetch, without retries),
        migrate the warehouse, sync news.feeds and pick the feeds that are due (all with
        {"force": true}, some with {"feeds": [...]}), grouped for the poll tasks."""
        from dataclasses import asdict

        from newswatch.pipeline import prepare as prepare_run

        params = params or {}
        with fail_fast_on_config_errors():
            plan = prepare_run(
                task_settings(),
                run_id,
                "airflow",
                force=bool(params.get("force")),
                only=list(params.get("feeds") or []) or None,
            )
            get_current_context()["ti"].xcom_push(key="plan", value=asdict(plan))
            return group_feeds(plan.due, SETTINGS.max_fetch_tasks)

    # named after its feeds before it starts (the label survives however the task ends)
    @task(
        pool=FETCH_POOL,
        map_index_template="{{ task.op_kwargs['feeds'] | feed_label }}",
        execution_timeout=timedelta(minutes=15),
        retry_policy=expected_failure_policy(),
    )
    def poll(feeds: list[str], run_id=None, ti=None) -> dict:
        """Fetch, parse, normalise, score, fingerprint and stage the feeds of this group; each
        feed's outcome is logged in one line and kept in news.fetch_log with this task's name,
        so the analyst's page links a failing feed to this log."""
        from newswatch.pipeline import poll_feeds

        with fail_fast_on_config_errors():
            reports = poll_feeds(task_settings(), run_id, feeds, task=f"poll:{ti.map_index}")
        failed = [r for r in reports if r.status == "error"]
        if failed and len(failed) == len(reports):
            # The feed's failure is recorded and backed off; a retry now would only hammer it.
            raise ExpectedFailure("; ".join(r.line() for r in failed))
        return {"feeds": len(reports), "failed": len(failed), "staged": sum(r.staged for r in reports)}

    @task(trigger_rule="all_done")
    def merge() -> dict:
        """Merge what the polls staged, batch by batch: dedupe, identity, revisions, stories. Runs
        even when polls failed; a batch failing on its data is split and the rows at fault go to
        news.rejects, so one odd entry never blocks the rest."""
        from dataclasses import asdict

        from newswatch.pipeline import merge as merge_staged

        return asdict(merge_staged(task_settings()))

    @task(trigger_rule="all_done", retry_policy=expected_failure_policy())
    def summarize(merged: dict, run_id=None, ti=None) -> dict:
        """Sum the run up (feeds ok / not modified / failed / skipped, entries, articles, stories,
        full text) in the log and news.pipeline_runs; red only when the merge failed or no feed
        at all could be loaded."""
        from newswatch.pipeline import finish, log

        plan = ti.xcom_pull(task_ids="prepare", key="plan")
        if plan is None:
            raise AirflowFailException("prepare did not finish (see its log): nothing was polled")
        summary = finish(task_settings(), run_id, merged if merged is not None else {"failed": True}, plan)
        for line in summary.text().splitlines():
            log.info("%s", line)
        if merged is None:
            # the merge failed (its log says why); what the polls staged waits for the next merge
            raise AirflowFailException("the merge failed: staged entries stay pending for the next run")
        if summary.nothing_loaded:
            reason = "no feed was reachable" if summary.no_feed_reachable else "no feed could be loaded"
            raise ExpectedFailure(f"{reason}: all {summary.feeds_polled} fetches failed (see the poll task logs)")
        return summary.to_dict()

    @task(outlets=[ARTICLES])
    def publish(summary: dict) -> dict:
        """Emit the news_articles asset when articles changed (the full-text DAG runs on it);
        skipped otherwise."""
        merged = summary.get("merge") or {}
        if not (merged.get("new") or merged.get("updated")):
            raise AirflowSkipException("no article changed in this run")
        return {"new": merged.get("new", 0), "updated": merged.get("updated", 0)}

    groups = prepare()
    polled = poll.expand(feeds=groups)
    merged = merge()
    polled >> merged
    publish(summarize(merged))


us_china_news()
