"""Recording a fetch: its fetch_log row, its staged entries, its rejects and the feed's new
state, in one transaction."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from operator import attrgetter

import psycopg2.extras

from ..feedstate import Decision
from .db import PgConnection, connection, copy_rows

log = logging.getLogger("newswatch.warehouse")


@dataclass
class StagedRow:
    """One normalised, scored and fingerprinted entry, as news.staged_entries keeps it. Its
    fields are that table's columns (besides the fetch's ids), so this is the one column list."""

    position: int
    # the article (normalize.Article, same names)
    canonical_url: str
    url: str
    guid: str | None
    title: str
    title_raw: str | None
    summary: str
    published_at: datetime
    published_at_source: str
    outlet: str | None
    language: str | None
    content_hash: str
    normalizer_version: int
    # its relevance (relevance.Relevance)
    relevance_score: float
    is_relevant: bool
    topics: tuple[str, ...]
    relevance_terms: dict
    relevance_version: str
    # its fingerprint (fingerprints.Fingerprint)
    signature: bytes
    shingle_count: int
    title_key: int | None
    title_dates: str | None

    @classmethod
    def of(cls, position: int, article, relevance, fp) -> StagedRow:
        return cls(
            position,
            **{f.name: getattr(article, f.name) for f in fields(article)},
            relevance_score=relevance.score,
            is_relevant=relevance.is_relevant,
            topics=relevance.topics,
            relevance_terms=relevance.terms,
            relevance_version=relevance.version,
            signature=fp.signature,
            shingle_count=fp.shingle_count,
            title_key=fp.title_key,
            title_dates=fp.title_dates,
        )


ROW_FIELDS = tuple(f.name for f in fields(StagedRow))
STAGED_COLUMNS = ("fetch_id", "run_id", "feed_name", *ROW_FIELDS)
# what the merge reads back: the row without its position, plus the ids and when it was staged
PENDING_COLUMNS = ("staged_id", "fetch_id", "feed_name", *ROW_FIELDS[1:], "staged_at")


@dataclass
class RejectRow:
    reason: str
    detail: str
    raw_entry: dict


@dataclass
class FetchRecord:
    feed_name: str
    run_id: str
    started_at: datetime
    finished_at: datetime
    status: str
    url: str
    final_url: str | None = None
    http_status: int | None = None
    error_class: str | None = None
    error: str | None = None
    bytes: int | None = None
    body_unchanged: bool = False
    entries_seen: int = 0
    parse_warning: str | None = None
    timings: dict | None = None
    airflow_task: str | None = None  # the task instance that made it ("poll:3"), under Airflow


def _copy_staged(cur, fetch_id: int, run_id: str, feed_name: str, rows: list[StagedRow]) -> None:
    values = attrgetter(*ROW_FIELDS)
    copy_rows(cur, "news.staged_entries", STAGED_COLUMNS, ((fetch_id, run_id, feed_name, *values(r)) for r in rows))


def record_fetch(
    conn: PgConnection,
    record: FetchRecord,
    decision: Decision,
    staged: list[StagedRow],
    rejects: list[RejectRow],
    config_url: str | None = None,
) -> int:
    """Log the fetch, stage its entries, record rejects and move the feed's state, atomically:
    if any part fails, none of it happened, and the next poll fetches the same content again.

    The feed's state is written back only if the feeds file did not change the feed's URL while
    it was being polled (`config_url` as loaded), and the polled URL and the disabled reason only
    when this poll changed them, so a concurrent sync or `feeds enable` is never undone."""
    s = decision.state
    with conn, conn.cursor() as cur:
        cur.execute(
            """
            INSERT INTO news.fetch_log (feed_name, run_id, started_at, finished_at, duration_ms, status,
                http_status, error_class, error, url, final_url, bytes, body_unchanged, entries_seen,
                entries_staged, entries_rejected, parse_warning, timings, airflow_task)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            RETURNING fetch_id
            """,
            (
                record.feed_name,
                record.run_id,
                record.started_at,
                record.finished_at,
                int((record.finished_at - record.started_at).total_seconds() * 1000),
                record.status,
                record.http_status,
                record.error_class,
                record.error,
                record.url,
                record.final_url,
                record.bytes,
                record.body_unchanged,
                record.entries_seen,
                len(staged),
                len(rejects),
                record.parse_warning,
                json.dumps(record.timings) if record.timings else None,
                record.airflow_task,
            ),
        )
        fetch_id = cur.fetchone()[0]
        if staged:
            _copy_staged(cur, fetch_id, record.run_id, record.feed_name, staged)
        if rejects:
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO news.rejects (feed_name, run_id, fetch_id, reason, detail, raw_entry) VALUES %s",
                [
                    (
                        record.feed_name,
                        record.run_id,
                        fetch_id,
                        r.reason,
                        r.detail,
                        json.dumps(r.raw_entry, ensure_ascii=False, default=str),
                    )
                    for r in rejects
                ],
            )
        success = record.status != "error"
        cur.execute(
            """
            UPDATE news.feeds SET
                url = CASE WHEN %(moved)s THEN %(url)s ELSE url END,
                etag = %(etag)s, last_modified = %(last_modified)s, last_body_hash = %(body_hash)s,
                consecutive_failures = %(failures)s, poll_interval_seconds = %(interval)s,
                next_poll_at = %(next_poll)s, redirect_url = %(redirect)s, redirect_seen_count = %(redirect_count)s,
                disabled_reason = CASE WHEN %(disabled)s THEN %(reason)s
                                       WHEN %(success)s THEN NULL ELSE disabled_reason END,
                last_status = %(status)s, last_http_status = %(http_status)s,
                last_error_class = %(error_class)s, last_error = %(error)s,
                last_attempt_at = %(at)s,
                last_success_at = CASE WHEN %(success)s THEN %(at)s ELSE last_success_at END,
                last_new_entries_at = CASE WHEN %(staged)s THEN %(at)s ELSE last_new_entries_at END,
                updated_at = now()
            WHERE name = %(name)s AND (%(config_url)s::text IS NULL OR config_url = %(config_url)s)
            """,
            {
                "moved": decision.url_moved_to is not None,
                "url": s.url,
                "etag": s.etag,
                "last_modified": s.last_modified,
                "body_hash": s.last_body_hash,
                "failures": s.consecutive_failures,
                "interval": s.poll_interval_seconds,
                "next_poll": s.next_poll_at,
                "redirect": s.redirect_url,
                "redirect_count": s.redirect_seen_count,
                "disabled": decision.disabled,
                "reason": s.disabled_reason,
                "success": success,
                "status": record.status,
                "http_status": record.http_status,
                "error_class": None if success else record.error_class,
                "error": None if success else record.error,
                "at": record.finished_at,
                "staged": bool(staged),
                "name": record.feed_name,
                "config_url": config_url,
            },
        )
        if cur.rowcount == 0:
            log.warning(
                "feed %s: its URL changed in the feeds file during the poll; state left for the next poll",
                record.feed_name,
            )
    return fetch_id


def record_skip(
    conn: PgConnection, run_id: str, feed_name: str, url: str, reason: str, detail: str, task: str | None = None
) -> None:
    """A feed not fetched this run through no fault of its own (`reason`: claimed by another
    poll, or its host busy): logged as 'skipped'; its state is left for the next run."""
    now = datetime.now(UTC)
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO news.fetch_log (feed_name, run_id, started_at, finished_at, duration_ms,
                   status, error_class, error, url, airflow_task)
               VALUES (%s, %s, %s, %s, 0, 'skipped', %s, %s, %s, %s)""",
            (feed_name, run_id, now, now, reason, detail[:2000], url, task),
        )
    conn.commit()


def record_internal_failure(dsn: str, run_id: str, feed_name: str, error: str, task: str | None = None) -> None:
    """Best effort: a poll that failed inside newswatch (not the feed's fault) counts as the
    feed's failure like any other, in fetch_log, the failure streak and the back-off, so the run
    summary and feed health show it and a feed that keeps breaking newswatch is not hammered.
    Never raises."""
    from ..feedstate import Outcome, decide
    from .feeds import load_feed

    now = datetime.now(UTC)
    try:
        with connection(dsn) as conn:
            info = load_feed(conn, feed_name)
            decision = decide(info.state, Outcome(status="error", error_class="internal"), now)
            record = FetchRecord(
                feed_name=feed_name,
                run_id=run_id,
                started_at=now,
                finished_at=now,
                status="error",
                url=info.state.url,
                error_class="internal",
                error=error[:2000],
                airflow_task=task,
            )
            record_fetch(conn, record, decision, [], [], config_url=info.config_url)
    except Exception:  # the warehouse itself may be what failed
        log.exception("could not record the failure of feed %s", feed_name)
