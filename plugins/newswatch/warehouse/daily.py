"""The daily stage's reads and writes: rollups, data-quality figures and results, digests,
retention. Every write for a day first deletes that day's rows in the same transaction, so a
re-run or backfill recomputes exactly that day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from .db import PgConnection
from .reports import dicts, query_text

ROLLUPS = {"topics": "daily_topic_rollup", "outlets": "daily_outlet_rollup", "feeds": "daily_feed_rollup"}


def day_window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def _params(day: date, **extra) -> dict:
    start, end = day_window(day)
    return {"day": day, "start": start, "end": end, **extra}


def refresh_rollups(conn: PgConnection, day: date) -> dict[str, int]:
    """Recompute the day's rows of every rollup table; returns rows written per rollup."""
    written = {}
    with conn, conn.cursor() as cur:
        for name, table in ROLLUPS.items():
            cur.execute(f"DELETE FROM news.{table} WHERE day = %s", (day,))
            cur.execute(query_text(f"rollup_{name}", "daily"), _params(day))
            written[name] = cur.rowcount
    return written


def collect_metrics(conn: PgConnection, day: date) -> dict:
    return dicts(conn, query_text("metrics", "daily"), _params(day))[0]


def record_checks(conn: PgConnection, day: date, results) -> None:
    with conn, conn.cursor() as cur:
        for r in results:
            cur.execute(
                """INSERT INTO news.quality_checks (day, check_name, passed, value, threshold, detail)
                   VALUES (%s, %s, %s, %s, %s, %s)
                   ON CONFLICT (day, check_name) DO UPDATE SET passed = EXCLUDED.passed,
                       value = EXCLUDED.value, threshold = EXCLUDED.threshold, detail = EXCLUDED.detail,
                       checked_at = now()""",
                (day, r.name, r.passed, r.value, r.threshold, r.detail),
            )


def top_stories(conn: PgConnection, day: date, limit: int = 50) -> list[dict]:
    return dicts(conn, query_text("top_stories", "daily"), _params(day, limit=limit))


def store_digest(conn: PgConnection, day: date, stories: int, markdown: str, html_text: str) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO news.digests (day, stories, markdown, html) VALUES (%s, %s, %s, %s)
               ON CONFLICT (day) DO UPDATE SET stories = EXCLUDED.stories, markdown = EXCLUDED.markdown,
                   html = EXCLUDED.html, created_at = now()""",
            (day, stories, markdown, html_text),
        )


def apply_retention(conn: PgConnection, day: date, staging_days: int) -> dict[str, int]:
    """Delete merged staging rows older than `staging_days` before the day's end."""
    _, end = day_window(day)
    with conn, conn.cursor() as cur:
        cur.execute(
            "DELETE FROM news.staged_entries WHERE merged_at IS NOT NULL AND merged_at < %s",
            (end - timedelta(days=staging_days),),
        )
        staged = cur.rowcount
    return {"staged_entries": staged}
