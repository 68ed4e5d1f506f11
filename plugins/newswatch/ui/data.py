"""What each page reads: warehouse queries (warehouse/reports.py) assembled into the plain data
the render functions take, and what the pages need from Airflow (the next scheduled run).

Every `load_*` takes an open connection in a read-only transaction and the reader's access;
operations detail (feed errors, run and task references) is removed here for readers who do not
see operations, so neither the HTML nor the JSON carries it."""

from __future__ import annotations

import logging
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ..warehouse import reports
from .filters import CSV_MAX_ROWS, ArticleFilters
from .present import upcoming_runs

log = logging.getLogger("newswatch.ui")

CHART_DAYS = 30
TOP_STORIES = 10
TOP_OUTLETS = 10
QUALITY_DAYS = 14

_labels_cache: dict[tuple[str, float], dict[str, str]] = {}


def topic_labels() -> dict[str, str]:
    """Topic -> label from the relevance rules (config/topics.yaml), reloaded when the file changes."""
    from ..config import DailySettings
    from ..daily import topic_labels as load

    settings = DailySettings.from_env()
    path = Path(settings.topics_path)
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError:
        key = (str(path), 0.0)
    if key not in _labels_cache:
        _labels_cache.clear()
        _labels_cache[key] = load(settings)
    return dict(_labels_cache[key])


# --- the schedule ------------------------------------------------------------------------------


def schedule_from_settings(now: datetime, environ=os.environ) -> dict:
    """The polling DAG's next runs computed from NEWSWATCH_POLL_SCHEDULE (what the DAG file reads)."""
    from ..config import AirflowSettings
    from ..errors import ConfigError

    try:
        expression = AirflowSettings.from_env(environ).poll_schedule
    except ConfigError as exc:
        return {
            "source": "unknown",
            "schedule": None,
            "next_run_at": None,
            "paused": None,
            "upcoming": [],
            "error": str(exc),
        }
    upcoming = upcoming_runs(expression, now)
    return {
        "source": "schedule",
        "schedule": expression,
        "next_run_at": upcoming[0] if upcoming else None,
        "paused": None,
        "upcoming": upcoming,
    }


def schedule_from_airflow(now: datetime, dag_id: str = "us_china_news") -> dict | None:
    """The next run as Airflow's scheduler planned it (the DAG's row in the metadata database),
    when this process can read it (the api-server can); None otherwise."""
    try:
        from airflow.models.dag import DagModel
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            dag = session.scalar(select(DagModel).where(DagModel.dag_id == dag_id))
            if dag is None:
                return None
            nxt, paused, summary = dag.next_dagrun_create_after, dag.is_paused, dag.timetable_summary
    except Exception as exc:  # noqa: BLE001 - no metadata database here: compute it instead
        log.debug("next run from Airflow's metadata: %s", exc)
        return None
    fallback = schedule_from_settings(now)
    upcoming = fallback["upcoming"]
    if nxt is not None:
        nxt = nxt.astimezone(UTC)
        upcoming = [nxt] + [t for t in upcoming if t > nxt]
    return {
        "source": "airflow",
        "schedule": summary if summary not in (None, "None") else None,
        "next_run_at": nxt,
        "paused": bool(paused),
        "upcoming": upcoming,
    }


def polling_schedule(now: datetime) -> dict:
    return schedule_from_airflow(now) or schedule_from_settings(now)


# --- operations detail -------------------------------------------------------------------------

FEED_OPS_FIELDS = (
    "last_error",
    "last_error_class",
    "last_http_status",
    "last_fetch_http_status",
    "redirect_url",
    "disabled_reason",
    "last_fetch_run_id",
    "last_fetch_task",
    "url",
)
RUN_OPS_FIELDS = ("failures", "skipped")


def strip_operations(data: dict) -> dict:
    for feed in data.get("feeds") or []:
        for key in FEED_OPS_FIELDS:
            feed[key] = None
    for run in data.get("runs") or []:
        if isinstance(run.get("summary"), dict):
            for key in RUN_OPS_FIELDS:
                run["summary"].pop(key, None)
    return data


# --- the pages ---------------------------------------------------------------------------------


def load_coverage(conn, *, now: datetime, ops: bool, schedule: dict | None) -> dict:
    first_day = (now - timedelta(days=CHART_DAYS - 1)).date()
    since_first = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    labels = topic_labels()
    daily = reports.ui_daily_topics(conn, first_day=first_day, last_day=now.date())
    for topic in sorted({row["topic"] for row in daily} - set(labels)):
        labels[topic] = topic  # a topic no longer in the rules still has articles: show it
    data = {
        "generated_at": now,
        "warehouse": reports.ui_warehouse(conn),
        "runs": reports.ui_last_runs(conn),
        "schedule": schedule,
        "feeds": reports.ui_feed_health(conn),
        "stories": reports.ui_top_stories(conn, since=now - timedelta(hours=24), limit=TOP_STORIES),
        "daily": daily,
        "first_day": first_day,
        "last_day": now.date(),
        "outlets": reports.ui_top_outlets(conn, since=since_first, limit=TOP_OUTLETS),
        "quality": reports.ui_quality_latest(conn),
        "digests": reports.ui_digest_days(conn, limit=14),
        "labels": labels,
        "ops": ops,
    }
    return data if ops else strip_operations(data)


def load_story(conn, story_id: int, *, now: datetime) -> dict | None:
    found = reports.ui_story(conn, story_id)
    if found is None:
        return None
    labels = topic_labels()
    for a in found["articles"]:
        for t in a.get("topics") or ():
            labels.setdefault(t, t)
    return {**found, "generated_at": now, "labels": labels, "warehouse": reports.ui_warehouse(conn)}


def load_articles(conn, f: ArticleFilters, *, now: datetime, csv: bool = False) -> dict:
    labels = topic_labels()
    limit, offset = (CSV_MAX_ROWS, 0) if csv else (f.per, f.offset)
    total, rows = reports.ui_articles(conn, limit=limit, offset=offset, **f.sql_params(now))
    notices = []
    if f.topic and f.topic not in labels:
        notices.append(
            f"The topic {f.topic!r} is not in the relevance rules (config/topics.yaml); "
            "only articles tagged with it before it was removed can match."
        )
    data = {"generated_at": now, "filters": f, "total": total, "rows": rows, "labels": labels, "notices": notices}
    if not csv:
        data["warehouse"] = reports.ui_warehouse(conn)
        data["outlets"] = reports.ui_outlet_names(conn, since=now - timedelta(days=90))
        if not rows:
            data["latest"] = reports.ui_articles_latest(conn)
    return data


def load_quality(conn, *, now: datetime) -> dict:
    first_day = now.date() - timedelta(days=QUALITY_DAYS - 1)
    return {
        "generated_at": now,
        "first_day": first_day,
        "checks": reports.ui_quality(conn, first_day=first_day),
        "digests": reports.ui_digest_days(conn, limit=60),
        "warehouse": reports.ui_warehouse(conn),
    }


def load_digest(conn, day: date, *, now: datetime) -> dict:
    digest = reports.ui_digest(conn, day)
    return {
        "generated_at": now,
        "day": day,
        "digest": digest,
        "stories": reports.ui_day_stories(conn, day) if digest else [],
        "labels": topic_labels(),
        "days": reports.ui_digest_days(conn, limit=60),
        "warehouse": reports.ui_warehouse(conn),
    }


def load_digest_index(conn, *, now: datetime) -> dict:
    return {
        "generated_at": now,
        "days": reports.ui_digest_days(conn, limit=365),
        "warehouse": reports.ui_warehouse(conn),
    }
