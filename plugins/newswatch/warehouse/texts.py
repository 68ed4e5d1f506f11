"""Full text in the warehouse: which articles still need their page, every attempt's record,
and the per-host politeness state (robots.txt, back-off, last fetch) shared by every worker."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import UnusableURL
from ..fingerprints import body_fingerprint
from ..urls import canonicalize_url
from .db import LOCK_NAMESPACE, MERGE_LOCK, PgConnection
from .stories import refresh_stories, regroup_family_by_bodies, store_body_fingerprint

# An attempt with one of these statuses is final for its URL; 'http_error' is retried (at most
# MAX_ATTEMPTS times, RETRY_AFTER apart): a timeout or a 503 today may be a page tomorrow.
RETRYABLE = "http_error"
MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(hours=1)
MAX_BODY_CHARS = 500_000


@dataclass(frozen=True)
class Job:
    article_id: int
    url: str  # the page to fetch: as a feed gave it (its canonical form may not be served)
    title: str
    summary: str
    requested: str  # what its attempts are recorded under: the first link, or the address moved to


@dataclass
class TextAttempt:
    article_id: int
    requested_url: str
    url: str
    status: str
    extractor: str
    fetched_at: datetime
    http_status: int | None = None
    detail: str | None = None
    text: str | None = None
    word_count: int | None = None
    language: str | None = None
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    duration_ms: int | None = None


def candidates(
    conn: PgConnection, *, everything: bool, since: datetime, limit: int, article_ids: list[int] | None = None
) -> list[Job]:
    """Articles whose page is still to be fetched, newest first: relevant ones (or all), first
    seen since `since`, with no final attempt at their current URL and no retryable one too
    recent or too often. The URL is the address a feed first gave (the canonical form is an
    identity, not always an address the site serves: it is https, without the session
    parameters some sites need), or, when the article moved to a new address under its GUID,
    the link a feed gave for that address (a sighting's raw URL), its canonical form otherwise."""
    with conn.cursor() as cur:
        cur.execute(
            """WITH c AS (
                   SELECT a.article_id, a.title, a.summary, a.first_seen_at, a.url,
                          (SELECT al.value FROM news.article_aliases al
                           WHERE al.article_id = a.article_id AND al.kind = 'url'
                             AND al.value <> a.canonical_url
                           ORDER BY al.last_seen_at DESC, al.first_seen_at DESC LIMIT 1) AS moved_to
                   FROM news.articles a
                   WHERE (%(everything)s OR a.is_relevant) AND a.first_seen_at >= %(since)s
                     AND (%(ids)s::bigint[] IS NULL OR a.article_id = ANY(%(ids)s::bigint[])))
               SELECT c.article_id, c.url, c.title, c.summary, c.moved_to,
                      CASE WHEN c.moved_to IS NOT NULL THEN
                          ARRAY(SELECT s.url FROM news.article_sightings s WHERE s.article_id = c.article_id
                                ORDER BY s.last_seen_at DESC) END AS links
               FROM c
               WHERE NOT EXISTS (SELECT 1 FROM news.article_texts t
                                 WHERE t.article_id = c.article_id AND t.requested_url = coalesce(c.moved_to, c.url)
                                   AND (t.status <> %(retryable)s OR t.fetched_at > now() - %(retry)s))
                 AND (SELECT count(*) FROM news.article_texts t
                      WHERE t.article_id = c.article_id AND t.requested_url = coalesce(c.moved_to, c.url))
                     < %(attempts)s
               ORDER BY c.first_seen_at DESC, c.article_id
               LIMIT %(limit)s""",
            {
                "everything": everything,
                "since": since,
                "ids": article_ids,
                "retryable": RETRYABLE,
                "retry": RETRY_AFTER,
                "attempts": MAX_ATTEMPTS,
                "limit": limit,
            },
        )
        rows = cur.fetchall()
    conn.rollback()
    return [
        Job(article_id, _address(url, moved_to, links), title, summary, moved_to or url)
        for article_id, url, title, summary, moved_to, links in rows
    ]


def _address(first_url: str, moved_to: str | None, links: list[str] | None) -> str:
    """Where to fetch an article: the link a feed last gave for its current address (the raw
    link, as the site serves it), else that address's canonical form."""
    if moved_to is None:
        return first_url
    for link in links or ():
        try:
            if canonicalize_url(link) == moved_to:
                return link
        except UnusableURL:
            continue
    return moved_to


@dataclass(frozen=True)
class Recorded:
    relabelled: bool = False  # the article's label or topics changed with its body
    moved: int = 0  # articles its story family's bodies moved to another story


def record(conn: PgConnection, attempt: TextAttempt, score) -> Recorded:
    """Keep an attempt; an 'ok' one also becomes the article's body, and the article is scored
    again with it (`score(title, summary, body)` -> Relevance), reading its title and summary
    under a row lock so a revision landing meanwhile is scored with its own text; its story
    family is then regrouped by body (stories.regroup_family_by_bodies)."""
    has_body = attempt.status == "ok" and bool(attempt.text)
    body = (attempt.text or "")[:MAX_BODY_CHARS]
    body_fp = body_fingerprint(body) if has_body else None
    with conn, conn.cursor() as cur:
        if has_body:
            # the merge's lock before any row lock (the INSERT below takes one on the article,
            # through its foreign key): a merge takes them in that order (it places new articles
            # in stories and revises articles), and the regrouping below moves articles
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, MERGE_LOCK))
        cur.execute(
            """INSERT INTO news.article_texts (article_id, requested_url, url, status, http_status, detail, text,
                   word_count, language, title, author, published_at, extractor, fetched_at, duration_ms)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                attempt.article_id,
                attempt.requested_url,
                attempt.url,
                attempt.status,
                attempt.http_status,
                attempt.detail,
                attempt.text,
                attempt.word_count,
                attempt.language,
                attempt.title,
                attempt.author,
                attempt.published_at,
                attempt.extractor,
                attempt.fetched_at,
                attempt.duration_ms,
            ),
        )
        if body_fp is None:
            return Recorded()
        cur.execute(
            "SELECT title, summary, is_relevant, topics, story_id FROM news.articles WHERE article_id = %s FOR UPDATE",
            (attempt.article_id,),
        )
        title, summary, was_relevant, old_topics, story_id = cur.fetchone()
        result = score(title, summary, body)
        changed = result.is_relevant != was_relevant or list(result.topics) != list(old_topics)
        cur.execute(
            """UPDATE news.articles SET body = %s, relevance_score = %s, is_relevant = %s, topics = %s,
                   relevance_terms = %s::jsonb, relevance_version = %s
               WHERE article_id = %s""",
            (
                body,
                result.score,
                result.is_relevant,
                list(result.topics),
                json.dumps(result.terms, ensure_ascii=False),
                result.version,
                attempt.article_id,
            ),
        )
        store_body_fingerprint(cur, attempt.article_id, body_fp)
        moved = regroup_family_by_bodies(cur, story_id) if story_id is not None else 0
        if changed and story_id is not None:
            refresh_stories(cur, [story_id])
    return Recorded(changed, moved)


# --- politeness state per host ----------------------------------------------------------------


@dataclass(frozen=True)
class RobotsRow:
    http_status: int | None
    body: str | None
    expires_at: datetime
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None


# a stored robots.txt that was read: a file (any body) or a missing one (4xx but 429)
_READ = "(r.body IS NOT NULL OR (r.http_status BETWEEN 400 AND 499 AND r.http_status <> 429))"


def robots_get(conn: PgConnection, origin: str) -> RobotsRow | None:
    """robots.txt of `origin` (scheme://host[:port]) as last fetched, when it has not expired."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT http_status, body, expires_at, fetched_at, etag, last_modified FROM news.robots_txt
               WHERE host = %s AND expires_at > now()""",
            (origin,),
        )
        row = cur.fetchone()
    conn.rollback()
    return RobotsRow(*row) if row else None


def robots_last_read(conn: PgConnection, origin: str, max_age: timedelta) -> RobotsRow | None:
    """The copy of `origin`'s robots.txt last read, expired or not, when not older than `max_age`."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT http_status, body, expires_at, fetched_at, etag, last_modified FROM news.robots_txt r
                WHERE host = %s AND {_READ} AND fetched_at > now() - %s""",
            (origin, max_age),
        )
        row = cur.fetchone()
    conn.rollback()
    return RobotsRow(*row) if row else None


def robots_unreadable(
    conn: PgConnection, origin: str, http_status: int | None, ttl: timedelta, max_age: timedelta
) -> None:
    """robots.txt could not be read now: ask again after `ttl`. A copy read in the last
    `max_age` is kept (with when it was read) to stand in meanwhile; otherwise the failure
    itself is what is cached."""
    keep = f"{_READ} AND r.fetched_at > now() - %(max_age)s"
    with conn, conn.cursor() as cur:
        cur.execute(
            f"""INSERT INTO news.robots_txt AS r (host, fetched_at, expires_at, http_status, body)
                VALUES (%(host)s, now(), now() + %(ttl)s, %(status)s, NULL)
                ON CONFLICT (host) DO UPDATE SET
                    expires_at = EXCLUDED.expires_at,
                    fetched_at = CASE WHEN {keep} THEN r.fetched_at ELSE EXCLUDED.fetched_at END,
                    http_status = CASE WHEN {keep} THEN r.http_status ELSE EXCLUDED.http_status END,
                    body = CASE WHEN {keep} THEN r.body ELSE NULL END,
                    etag = CASE WHEN {keep} THEN r.etag ELSE NULL END,
                    last_modified = CASE WHEN {keep} THEN r.last_modified ELSE NULL END""",
            {"host": origin, "ttl": ttl, "status": http_status, "max_age": max_age},
        )


def robots_put(
    conn: PgConnection,
    origin: str,
    http_status: int | None,
    body: str | None,
    ttl: timedelta,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> None:
    """robots.txt of `origin` as read now (or confirmed unchanged by a 304), with its validators."""
    with conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO news.robots_txt (host, fetched_at, expires_at, http_status, body, etag, last_modified)
               VALUES (%s, now(), now() + %s, %s, %s, %s, %s)
               ON CONFLICT (host) DO UPDATE SET fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at,
                   http_status = EXCLUDED.http_status, body = EXCLUDED.body, etag = EXCLUDED.etag,
                   last_modified = EXCLUDED.last_modified""",
            (origin, ttl, http_status, body, etag, last_modified),
        )


@dataclass(frozen=True)
class HostState:
    backoff_until: datetime | None = None
    failures: int = 0
    last_fetch_at: datetime | None = None

    def backing_off(self, now: datetime) -> bool:
        return self.backoff_until is not None and self.backoff_until > now

    def seconds_to_wait(self, gap: float, now: datetime) -> float:
        """How long until `gap` seconds have passed since the host's last fetch."""
        return max(0.0, gap - (now - self.last_fetch_at).total_seconds()) if self.last_fetch_at else 0.0


def host_state(conn: PgConnection, host: str) -> HostState:
    with conn.cursor() as cur:
        cur.execute("SELECT backoff_until, failures, last_fetch_at FROM news.page_hosts WHERE host = %s", (host,))
        row = cur.fetchone()
    conn.rollback()
    return HostState(*row) if row else HostState()


def host_fetched(conn: PgConnection, host: str, *, backoff: timedelta | None, reason: str | None) -> None:
    """A page was fetched from `host` now: a failure the host asked us to slow down for (429,
    5xx) backs the host off for `backoff`; anything else clears it."""
    with conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO news.page_hosts AS h (host, backoff_until, failures, reason, last_fetch_at)
               VALUES (%(host)s, CASE WHEN %(backoff)s::interval IS NULL THEN NULL ELSE now() + %(backoff)s END,
                       CASE WHEN %(backoff)s::interval IS NULL THEN 0 ELSE 1 END, %(reason)s, now())
               ON CONFLICT (host) DO UPDATE SET
                   backoff_until = EXCLUDED.backoff_until,
                   failures = CASE WHEN %(backoff)s::interval IS NULL THEN 0 ELSE h.failures + 1 END,
                   reason = EXCLUDED.reason, last_fetch_at = now()""",
            {"host": host, "backoff": backoff, "reason": reason},
        )
