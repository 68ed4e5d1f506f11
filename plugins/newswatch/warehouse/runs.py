"""Pipeline runs and their summaries, and re-scoring stored articles."""

from __future__ import annotations

import json

import psycopg2.extras

from .db import LOCK_NAMESPACE, MERGE_LOCK, PgConnection, pg_array
from .stories import refresh_stories


def rescore(conn: PgConnection, score, version: str, batch_size: int = 5000) -> tuple[int, int]:
    """Re-apply the relevance rules to every stored article (and story), batch by batch, with
    `score(title, summary, body)` -> Relevance (the body where the page was fetched).
    Returns (articles whose label or topics changed, articles scored)."""
    last, changed, total = 0, 0, 0
    while True:
        with conn, conn.cursor() as cur:
            # the merge's lock: a revision landing between this batch's read and write would
            # otherwise be scored with its old text
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, MERGE_LOCK))
            cur.execute(
                "SELECT article_id, title, summary, body, is_relevant, topics FROM news.articles "
                "WHERE article_id > %s ORDER BY article_id LIMIT %s",
                (last, batch_size),
            )
            rows = cur.fetchall()
            if not rows:
                break
            ids, scores, relevant, topics, terms = [], [], [], [], []
            for article_id, title, summary, body, was_relevant, old_topics in rows:
                result = score(title, summary, body)
                ids.append(article_id)
                scores.append(result.score)
                relevant.append(result.is_relevant)
                topics.append(pg_array(result.topics))
                terms.append(json.dumps(result.terms, ensure_ascii=False))
                if result.is_relevant != was_relevant or list(result.topics) != list(old_topics):
                    changed += 1
            cur.execute(
                """UPDATE news.articles a SET relevance_score = k.score, is_relevant = k.relevant,
                       topics = k.topics::text[], relevance_terms = k.terms::jsonb, relevance_version = %s
                   FROM unnest(%s::bigint[], %s::real[], %s::boolean[], %s::text[], %s::text[])
                        AS k(article_id, score, relevant, topics, terms)
                   WHERE a.article_id = k.article_id""",
                (version, ids, scores, relevant, topics, terms),
            )
            total += len(rows)
            last = ids[-1]
    with conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, MERGE_LOCK))
        refresh_stories(cur, None)
    return changed, total


def start_run(conn: PgConnection, run_id: str, trigger: str) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO news.pipeline_runs (run_id, trigger) VALUES (%s, %s) ON CONFLICT (run_id) DO NOTHING",
            (run_id, trigger),
        )


def finish_run(conn: PgConnection, run_id: str, summary: dict) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO news.pipeline_runs (run_id, trigger, finished_at, summary)
               VALUES (%s, 'unknown', now(), %s::jsonb)
               ON CONFLICT (run_id) DO UPDATE SET finished_at = now(), summary = EXCLUDED.summary""",
            (run_id, json.dumps(summary, default=str)),
        )


def fetch_outcomes(conn: PgConnection, run_id: str) -> list[dict]:
    """The last fetch attempt of each feed in this run (a retried task logs several)."""
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(
            """SELECT DISTINCT ON (feed_name) feed_name, status, http_status, error_class, error,
                      entries_seen, entries_staged, entries_rejected, entries_new, body_unchanged,
                      duration_ms, parse_warning, timings
               FROM news.fetch_log WHERE run_id = %s
               ORDER BY feed_name, fetch_id DESC""",
            (run_id,),
        )
        rows = [dict(r) for r in cur.fetchall()]
    conn.rollback()
    return rows


def latest_run(conn: PgConnection, since: float | None = None) -> tuple[str, dict] | None:
    """The most recent finished run (with a summary), optionally only one started after `since`
    (a Unix time)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT run_id, summary FROM news.pipeline_runs WHERE summary IS NOT NULL "
            "AND (%s::float8 IS NULL OR started_at >= to_timestamp(%s::float8)) "
            "ORDER BY finished_at DESC NULLS LAST LIMIT 1",
            (since, since),
        )
        row = cur.fetchone()
    conn.rollback()
    return (row[0], row[1]) if row else None
