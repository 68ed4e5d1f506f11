"""PostgreSQL: migrations, feed sync and state, staging, the merge, run summaries.

This is the only module that talks to the warehouse. Decisions come from the pure modules
(feedstate.decide, dedupe.plan_merge, dedupe.plan_stories); this module reads what they need,
asks them, and applies the answer in one transaction. All SQL is parameterised.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg2
import psycopg2.extras
from psycopg2.extensions import connection as PgConnection

from .config import PROJECT_ROOT, FeedConfig
from .dedupe import (
    Fingerprint,
    KnownArticle,
    NewForClustering,
    StagedEntry,
    StoryCandidate,
    plan_merge,
    plan_stories,
)
from .feedstate import Decision, FeedState

log = logging.getLogger(__name__)

# Advisory lock ids (two int4 keys: project, purpose).
LOCK_NAMESPACE = 0x6E77  # "nw"
MIGRATION_LOCK = 1
MERGE_LOCK = 2
HOST_SLOT_NAMESPACE = 0x6E78

STORY_WINDOW = timedelta(days=7)
MERGE_BATCH = 5000


def sql_dir() -> Path:
    return Path(os.environ.get("NEWSWATCH_SQL_DIR") or PROJECT_ROOT / "sql")


def connect(dsn: str, *, autocommit: bool = False) -> PgConnection:
    conn = psycopg2.connect(
        dsn, connect_timeout=10, keepalives=1, keepalives_idle=30, keepalives_interval=10,
        keepalives_count=3,
    )
    conn.autocommit = autocommit
    return conn


@contextlib.contextmanager
def connection(dsn: str, *, autocommit: bool = False):
    """A connection for the length of a `with` block, closed however the block ends."""
    conn = connect(dsn, autocommit=autocommit)
    try:
        yield conn
    finally:
        conn.close()


# --- migrations -----------------------------------------------------------------------------

class MigrationError(RuntimeError):
    pass


@dataclass
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def discover_migrations(directory: Path | None = None) -> list[Migration]:
    directory = directory or sql_dir() / "migrations"
    found = []
    for path in sorted(directory.glob("*.sql")):
        head = path.name.split("_", 1)[0]
        if not head.isdigit():
            raise MigrationError(f"{path.name}: migration files must start with a number (0001_name.sql)")
        found.append(Migration(int(head), path.stem, path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a number in {directory}")
    return found


def migrate(conn: PgConnection, directory: Path | None = None) -> list[str]:
    """Apply pending migrations, then (re)create the views; returns what was applied.

    Safe when several runs start at once: a transaction-scoped advisory lock serialises them and
    the loser finds nothing left to do. A migration that was applied and has since been edited
    stops everything: migrations are forward-only.
    """
    root = directory or sql_dir()
    migrations = discover_migrations(root / "migrations")
    applied_now = []
    with conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, MIGRATION_LOCK))
        cur.execute("CREATE SCHEMA IF NOT EXISTS news")
        cur.execute(
            """CREATE TABLE IF NOT EXISTS news.schema_migrations (
                   version    integer PRIMARY KEY,
                   name       text NOT NULL,
                   checksum   text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        cur.execute("SELECT version, name, checksum FROM news.schema_migrations")
        applied = {v: (n, c) for v, n, c in cur.fetchall()}
        for migration in migrations:
            if migration.version in applied:
                name, checksum = applied[migration.version]
                if checksum != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.name} was changed after it was applied "
                        "(migrations are forward-only: add a new numbered file instead)"
                    )
                continue
            log.info("applying migration %s", migration.name)
            cur.execute(migration.sql)
            cur.execute(
                "INSERT INTO news.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            applied_now.append(migration.name)
        unknown = set(applied) - {m.version for m in migrations}
        if unknown:
            raise MigrationError(
                f"the warehouse has migrations this code does not know ({sorted(unknown)}): "
                "it was migrated by a newer newswatch"
            )
        for view in sorted((root / "views").glob("*.sql")):
            cur.execute(view.read_text(encoding="utf-8"))
    return applied_now


# --- feeds ----------------------------------------------------------------------------------

def sync_feeds(conn: PgConnection, feeds: list[FeedConfig]) -> None:
    """Make news.feeds match the feeds file. A feed removed from the file is kept (its history
    stays queryable) but marked `in_config = false` and no longer polled; a changed URL in the
    file resets the polled URL and any redirect or 410 state."""
    with conn, conn.cursor() as cur:
        for feed in feeds:
            cur.execute(
                """
                INSERT INTO news.feeds AS f (name, url, config_url, outlet, language, enabled, in_config)
                VALUES (%(name)s, %(url)s, %(url)s, %(outlet)s, %(language)s, %(enabled)s, true)
                ON CONFLICT (name) DO UPDATE SET
                    outlet = EXCLUDED.outlet,
                    language = EXCLUDED.language,
                    enabled = EXCLUDED.enabled,
                    in_config = true,
                    url = CASE WHEN f.config_url IS DISTINCT FROM EXCLUDED.config_url
                               THEN EXCLUDED.url ELSE f.url END,
                    redirect_url = CASE WHEN f.config_url IS DISTINCT FROM EXCLUDED.config_url
                                        THEN NULL ELSE f.redirect_url END,
                    redirect_seen_count = CASE WHEN f.config_url IS DISTINCT FROM EXCLUDED.config_url
                                               THEN 0 ELSE f.redirect_seen_count END,
                    disabled_reason = CASE WHEN f.config_url IS DISTINCT FROM EXCLUDED.config_url
                                           THEN NULL ELSE f.disabled_reason END,
                    etag = CASE WHEN f.config_url IS DISTINCT FROM EXCLUDED.config_url
                                THEN NULL ELSE f.etag END,
                    last_modified = CASE WHEN f.config_url IS DISTINCT FROM EXCLUDED.config_url
                                         THEN NULL ELSE f.last_modified END,
                    config_url = EXCLUDED.config_url,
                    updated_at = now()
                """,
                {"name": feed.name, "url": feed.url, "outlet": feed.outlet,
                 "language": feed.language, "enabled": feed.enabled},
            )
        cur.execute(
            "UPDATE news.feeds SET in_config = false, updated_at = now() "
            "WHERE in_config AND NOT (name = ANY(%s))",
            ([f.name for f in feeds],),
        )


_STATE_COLUMNS = (
    "name, url, enabled AND in_config, etag, last_modified, last_body_hash, consecutive_failures, "
    "poll_interval_seconds, next_poll_at, redirect_url, redirect_seen_count, disabled_reason, "
    "last_success_at"
)


def load_feed_states(conn: PgConnection, names: list[str] | None = None) -> list[FeedState]:
    with conn.cursor() as cur:
        if names is None:
            cur.execute(f"SELECT {_STATE_COLUMNS} FROM news.feeds WHERE in_config ORDER BY name")
        else:
            cur.execute(f"SELECT {_STATE_COLUMNS} FROM news.feeds WHERE name = ANY(%s) ORDER BY name", (names,))
        rows = cur.fetchall()
    conn.rollback()
    return [FeedState(*row) for row in rows]


@dataclass
class FeedInfo:
    name: str
    outlet: str | None
    language: str | None
    state: FeedState


def load_feed(conn: PgConnection, name: str) -> FeedInfo:
    with conn.cursor() as cur:
        cur.execute(f"SELECT {_STATE_COLUMNS}, outlet, language FROM news.feeds WHERE name = %s", (name,))
        row = cur.fetchone()
    conn.rollback()
    if row is None:
        raise KeyError(f"feed {name!r} is not in news.feeds (is it in the feeds file?)")
    return FeedInfo(name=name, outlet=row[-2], language=row[-1], state=FeedState(*row[:-2]))


def set_feed_disabled(conn: PgConnection, name: str, reason: str | None) -> bool:
    with conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE news.feeds SET disabled_reason = %s, next_poll_at = NULL, "
            "consecutive_failures = CASE WHEN %s IS NULL THEN 0 ELSE consecutive_failures END, "
            "updated_at = now() WHERE name = %s",
            (reason, reason, name),
        )
        return cur.rowcount == 1


# --- recording a fetch ----------------------------------------------------------------------

@dataclass
class StagedRow:
    position: int
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
    relevance_score: float
    is_relevant: bool
    topics: tuple[str, ...]
    relevance_terms: dict
    relevance_version: str
    signature: bytes
    shingle_count: int
    title_key: int | None
    title_dates: str | None


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


_STAGED_COLUMNS = (
    "fetch_id", "run_id", "feed_name", "position", "canonical_url", "url", "guid", "title",
    "title_raw", "summary", "published_at", "published_at_source", "outlet", "language",
    "content_hash", "normalizer_version", "relevance_score", "is_relevant", "topics",
    "relevance_terms", "relevance_version", "signature", "shingle_count", "title_key", "title_dates",
)


def _pg_array(values) -> str:
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _copy_staged(cur, fetch_id: int, run_id: str, feed_name: str, rows: list[StagedRow]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    null = "\\N"  # written for None; '' stays an empty string
    for r in rows:
        writer.writerow([
            fetch_id, run_id, feed_name, r.position, r.canonical_url, r.url,
            r.guid if r.guid is not None else null, r.title, r.title_raw if r.title_raw is not None else null,
            r.summary,
            r.published_at.isoformat(), r.published_at_source,
            r.outlet if r.outlet is not None else null, r.language if r.language is not None else null,
            r.content_hash, r.normalizer_version, r.relevance_score, "t" if r.is_relevant else "f",
            _pg_array(r.topics), json.dumps(r.relevance_terms, ensure_ascii=False),
            r.relevance_version, "\\x" + r.signature.hex(), r.shingle_count,
            r.title_key if r.title_key is not None else null,
            r.title_dates if r.title_dates is not None else null,
        ])
    buffer.seek(0)
    cur.copy_expert(
        f"COPY news.staged_entries ({', '.join(_STAGED_COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
        buffer,
    )


def record_fetch(
    conn: PgConnection,
    record: FetchRecord,
    decision: Decision,
    staged: list[StagedRow],
    rejects: list[RejectRow],
) -> int:
    """Log the fetch, stage its entries, record rejects and move the feed's state, atomically:
    if any part fails, none of it happened, and the next poll fetches the same content again."""
    s = decision.state
    with conn, conn.cursor() as cur:
        cur.execute(
            """
            INSERT INTO news.fetch_log (feed_name, run_id, started_at, finished_at, duration_ms, status,
                http_status, error_class, error, url, final_url, bytes, body_unchanged, entries_seen,
                entries_staged, entries_rejected, parse_warning)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            RETURNING fetch_id
            """,
            (record.feed_name, record.run_id, record.started_at, record.finished_at,
             int((record.finished_at - record.started_at).total_seconds() * 1000), record.status,
             record.http_status, record.error_class, record.error, record.url, record.final_url,
             record.bytes, record.body_unchanged, record.entries_seen, len(staged), len(rejects),
             record.parse_warning),
        )
        fetch_id = cur.fetchone()[0]
        if staged:
            _copy_staged(cur, fetch_id, record.run_id, record.feed_name, staged)
        if rejects:
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO news.rejects (feed_name, run_id, fetch_id, reason, detail, raw_entry) VALUES %s",
                [(record.feed_name, record.run_id, fetch_id, r.reason, r.detail,
                  json.dumps(r.raw_entry, ensure_ascii=False, default=str)) for r in rejects],
            )
        success = record.status != "error"
        cur.execute(
            """
            UPDATE news.feeds SET
                url = %s, etag = %s, last_modified = %s, last_body_hash = %s,
                consecutive_failures = %s, poll_interval_seconds = %s, next_poll_at = %s,
                redirect_url = %s, redirect_seen_count = %s, disabled_reason = %s,
                last_status = %s, last_http_status = %s,
                last_error_class = %s, last_error = %s,
                last_attempt_at = %s,
                last_success_at = CASE WHEN %s THEN %s ELSE last_success_at END,
                last_new_entries_at = CASE WHEN %s THEN %s ELSE last_new_entries_at END,
                updated_at = now()
            WHERE name = %s
            """,
            (s.url, s.etag, s.last_modified, s.last_body_hash, s.consecutive_failures,
             s.poll_interval_seconds, s.next_poll_at, s.redirect_url, s.redirect_seen_count,
             s.disabled_reason, record.status, record.http_status,
             None if success else record.error_class, None if success else record.error,
             record.finished_at, success, record.finished_at, bool(staged), record.finished_at,
             record.feed_name),
        )
    return fetch_id


def record_internal_failure(dsn: str, run_id: str, feed_name: str, url: str, error: str) -> None:
    """Best effort: log a fetch that failed inside newswatch (not the feed's fault) so the run
    summary and feed health show it. Never raises."""
    now = datetime.now(timezone.utc)
    try:
        conn = connect(dsn)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(
                    """INSERT INTO news.fetch_log (feed_name, run_id, started_at, finished_at, duration_ms,
                           status, error_class, error, url)
                       VALUES (%s, %s, %s, %s, 0, 'error', 'internal', %s, %s)""",
                    (feed_name, run_id, now, now, error[:2000], url),
                )
        finally:
            conn.close()
    except Exception:  # the warehouse itself may be what failed
        log.exception("could not record the failure of feed %s", feed_name)


# --- per-host politeness --------------------------------------------------------------------

def _host_key(host: str) -> int:
    return int.from_bytes(hashlib.blake2b(host.encode(), digest_size=4).digest(), "big", signed=True)


@contextlib.contextmanager
def host_slot(conn: PgConnection, host: str, slots: int, wait: float = 120.0):
    """Hold one of `slots` session advisory locks for `host` while fetching from it, so at most
    `slots` requests go to one host at once across every worker process and machine that
    shares the warehouse. After `wait` seconds we fetch anyway (and say so) rather than lose
    the poll."""
    key = _host_key(host)
    deadline = time.monotonic() + wait
    held = None
    with conn.cursor() as cur:
        while held is None:
            for slot in range(slots):
                cur.execute("SELECT pg_try_advisory_lock(%s, %s)", (key, slot))
                if cur.fetchone()[0]:
                    held = slot
                    break
            if held is None:
                if time.monotonic() > deadline:
                    log.warning("no free request slot for %s after %.0fs; fetching anyway", host, wait)
                    break
                time.sleep(0.1)
    try:
        yield held
    finally:
        if held is not None:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s, %s)", (key, held))


# --- the merge ------------------------------------------------------------------------------

@dataclass
class MergeResult:
    entries: int = 0
    new: int = 0
    updated: int = 0
    sightings: int = 0
    relevant: int = 0
    stories_new: int = 0
    stories_joined: int = 0
    batches: int = 0

    def add(self, other: "MergeResult") -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)


_PENDING_SQL = """
    SELECT staged_id, fetch_id, feed_name, canonical_url, url, guid, title, title_raw, summary,
           published_at, published_at_source, outlet, language, content_hash, normalizer_version,
           relevance_score, is_relevant, topics, relevance_terms, relevance_version, signature,
           shingle_count, title_key, staged_at, title_dates
    FROM news.staged_entries
    WHERE merged_at IS NULL
    ORDER BY staged_id
    LIMIT %s
"""


def merge_pending(conn: PgConnection, batch_size: int = MERGE_BATCH, window: timedelta = STORY_WINDOW,
                  now: datetime | None = None) -> MergeResult:
    """Merge every staged entry not yet merged, in one transaction under an advisory lock.

    A crash or a dropped connection rolls the whole merge back: the staged entries stay pending
    and the next merge does the work. Two merges at once queue on the lock; the second finds
    what the first left.
    """
    total = MergeResult()
    with conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, MERGE_LOCK))
        cur.execute("SELECT now()")
        now = now or cur.fetchone()[0]
        while True:
            cur.execute(_PENDING_SQL, (batch_size,))
            rows = cur.fetchall()
            if not rows:
                break
            total.add(_merge_batch(cur, rows, now, window))
            total.batches += 1
    return total


def _merge_batch(cur, rows, now: datetime, window: timedelta) -> MergeResult:
    by_staged = {row[0]: row for row in rows}
    entries = [
        StagedEntry(staged_id=r[0], fetch_id=r[1], feed_name=r[2], canonical_url=r[3], url=r[4],
                    guid=r[5], title=r[6], summary=r[8], content_hash=r[13], seen_at=r[23])
        for r in rows
    ]
    urls = sorted({e.canonical_url for e in entries})
    cur.execute(
        """SELECT article_id, canonical_url, title, summary, content_hash, revision,
                  coalesce(updated_at, first_seen_at)
           FROM news.articles WHERE canonical_url = ANY(%s)""",
        (urls,),
    )
    known_by_url = {r[1]: KnownArticle(*r) for r in cur.fetchall()}
    pairs = sorted({(e.feed_name, e.guid) for e in entries if e.guid})
    known_by_guid: dict[tuple[str, str], int] = {}
    if pairs:
        cur.execute(
            """SELECT s.feed_name, s.guid, max(s.article_id)
               FROM news.article_sightings s
               JOIN unnest(%s::text[], %s::text[]) AS k(feed_name, guid)
                 ON s.feed_name = k.feed_name AND s.guid = k.guid
               GROUP BY s.feed_name, s.guid""",
            ([p[0] for p in pairs], [p[1] for p in pairs]),
        )
        known_by_guid = {(r[0], r[1]): r[2] for r in cur.fetchall()}
    known_by_id = {a.article_id: a for a in known_by_url.values()}
    missing = sorted(set(known_by_guid.values()) - set(known_by_id))
    if missing:
        cur.execute(
            """SELECT article_id, canonical_url, title, summary, content_hash, revision,
                      coalesce(updated_at, first_seen_at)
               FROM news.articles WHERE article_id = ANY(%s)""",
            (missing,),
        )
        known_by_id.update({r[0]: KnownArticle(*r) for r in cur.fetchall()})
    known_sightings: dict[tuple[int, str], str | None] = {}
    if known_by_id:
        cur.execute(
            "SELECT article_id, feed_name, content_hash FROM news.article_sightings WHERE article_id = ANY(%s)",
            (sorted(known_by_id),),
        )
        known_sightings = {(r[0], r[1]): r[2] for r in cur.fetchall()}

    plan = plan_merge(entries, known_by_url, known_by_guid, known_sightings, known_by_id)
    result = MergeResult(entries=len(entries))

    # ids for new articles
    refs = sorted(plan.new_articles, reverse=True)  # -1, -2, ... in arrival order
    article_id: dict[int, int] = {}
    if refs:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('news.articles', 'article_id')) FROM generate_series(1, %s)",
            (len(refs),),
        )
        for ref, (new_id,) in zip(refs, cur.fetchall()):
            article_id[ref] = new_id

    def resolve(ref: int) -> int:
        return article_id[ref] if ref < 0 else ref

    # stories for new articles
    fingerprints = {
        ref: Fingerprint(bytes(by_staged[sid][20]), by_staged[sid][21], by_staged[sid][22],
                         bool(by_staged[sid][8]), by_staged[sid][24])
        for ref, sid in plan.new_articles.items()
    }
    candidates = _story_candidates(cur, fingerprints.values(), now - window)
    story_plan = plan_stories(
        [NewForClustering(ref, fingerprints[ref]) for ref in refs], candidates
    )
    story_id: dict[int, int] = {}
    if story_plan.new_stories:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('news.stories', 'story_id')) FROM generate_series(1, %s)",
            (len(story_plan.new_stories),),
        )
        for ref, (sid,) in zip(story_plan.new_stories, cur.fetchall()):
            story_id[ref] = sid

    def story_for(ref: int) -> int:
        s = story_plan.story_of[ref]
        return story_id[s] if s < 0 else s

    if story_plan.new_stories:
        psycopg2.extras.execute_values(
            cur,
            """INSERT INTO news.stories (story_id, headline, first_article_id, first_seen_at,
                   first_published_at, first_outlet, last_seen_at)
               OVERRIDING SYSTEM VALUE VALUES %s""",
            [
                (story_id[ref], by_staged[plan.new_articles[ref]][6], article_id[ref],
                 by_staged[plan.new_articles[ref]][23], by_staged[plan.new_articles[ref]][9],
                 by_staged[plan.new_articles[ref]][11], by_staged[plan.new_articles[ref]][23])
                for ref in story_plan.new_stories
            ],
            page_size=1000,
        )
    result.stories_new = len(story_plan.new_stories)
    result.stories_joined = len(refs) - len(story_plan.new_stories)

    if refs:
        first_feed = {}
        for e in sorted(entries, key=lambda e: e.staged_id):
            ref = plan.article_of[e.staged_id]
            first_feed.setdefault(ref, e.feed_name)
        psycopg2.extras.execute_values(
            cur,
            """INSERT INTO news.articles (article_id, canonical_url, url, title, title_raw, summary,
                   published_at, published_at_source, first_seen_at, last_seen_at, outlet, language,
                   first_feed, relevance_score, is_relevant, topics, relevance_terms, relevance_version,
                   story_id, content_hash, normalizer_version, revision, updated_at)
               OVERRIDING SYSTEM VALUE VALUES %s""",
            [_article_values(article_id[ref], by_staged[plan.new_articles[ref]], story_for(ref),
                             first_feed[ref], plan, ref) for ref in refs],
            template="(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s::jsonb,%s,%s,%s,%s,%s,%s)",
            page_size=1000,
        )
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO news.article_fingerprints (article_id, signature, shingle_count, title_key, "
            "has_summary, title_dates) VALUES %s",
            [(article_id[ref], psycopg2.Binary(fp.signature), fp.shingle_count, fp.title_key, fp.has_summary,
              fp.title_dates) for ref, fp in fingerprints.items()],
            page_size=1000,
        )
        band_rows = []
        for ref, fp in fingerprints.items():
            seen = by_staged[plan.new_articles[ref]][23]
            for _, key in fp.band_keys():
                band_rows.append((key, article_id[ref], story_for(ref), seen))
        psycopg2.extras.execute_values(
            cur, "INSERT INTO news.story_bands (band_key, article_id, story_id, seen_at) VALUES %s",
            band_rows, page_size=5000,
        )
    result.new = len(refs)

    for update in plan.updates:
        row = by_staged[update.staged_id]
        prev = update.previous
        cur.execute(
            """INSERT INTO news.article_revisions (article_id, revision, title, summary, content_hash,
                   valid_from, valid_to, feed_name)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (article_id, revision) DO NOTHING""",
            (update.article_id, prev.revision, prev.title, prev.summary, prev.content_hash,
             prev.valid_from, prev.valid_to, row[2]),
        )
        cur.execute(
            """UPDATE news.articles SET title = %s, title_raw = %s, summary = %s, content_hash = %s,
                   revision = %s, updated_at = %s, relevance_score = %s, is_relevant = %s, topics = %s,
                   relevance_terms = %s::jsonb, relevance_version = %s
               WHERE article_id = %s""",
            (row[6], row[7], row[8], row[13], update.new_revision, row[23], row[15], row[16],
             list(row[17]), json.dumps(row[18], ensure_ascii=False), row[19], update.article_id),
        )
    result.updated = len(plan.updates)

    sightings = list(plan.sightings.values())
    psycopg2.extras.execute_values(
        cur,
        """INSERT INTO news.article_sightings AS s (article_id, feed_name, url, guid, outlet,
               first_seen_at, last_seen_at, content_hash)
           VALUES %s
           ON CONFLICT (article_id, feed_name) DO UPDATE SET
               url = EXCLUDED.url,
               guid = coalesce(EXCLUDED.guid, s.guid),
               last_seen_at = greatest(s.last_seen_at, EXCLUDED.last_seen_at),
               times_seen = s.times_seen + 1,
               content_hash = EXCLUDED.content_hash""",
        [(resolve(s.article_ref), s.feed_name, s.url, s.guid, by_staged[s.staged_id][11], s.seen_at,
          s.seen_at, s.content_hash) for s in sightings],
        page_size=1000,
    )
    seen_again = sorted({resolve(s.article_ref) for s in sightings if s.article_ref > 0})
    if seen_again:
        cur.execute(
            "UPDATE news.articles SET last_seen_at = greatest(last_seen_at, %s) WHERE article_id = ANY(%s)",
            (max(e.seen_at for e in entries), seen_again),
        )
    result.sightings = sum(1 for o in plan.outcomes.values() if o == "sighting")
    result.relevant = sum(
        1 for ref in refs if by_staged[plan.new_articles[ref]][16]
    ) + sum(1 for u in plan.updates if by_staged[u.staged_id][16])

    touched_stories = sorted({story_for(ref) for ref in refs})
    if touched_stories:
        refresh_stories(cur, touched_stories)

    staged_ids = [e.staged_id for e in entries]
    cur.execute(
        """UPDATE news.staged_entries se SET merged_at = %s, outcome = k.outcome
           FROM unnest(%s::bigint[], %s::text[]) AS k(staged_id, outcome)
           WHERE se.staged_id = k.staged_id""",
        (now, staged_ids, [plan.outcomes[s] for s in staged_ids]),
    )
    new_by_fetch: dict[int, int] = {}
    for e in entries:
        new_by_fetch.setdefault(e.fetch_id, 0)
        if plan.outcomes[e.staged_id] == "new":
            new_by_fetch[e.fetch_id] += 1
    cur.execute(
        """UPDATE news.fetch_log f SET entries_new = coalesce(f.entries_new, 0) + k.n
           FROM unnest(%s::bigint[], %s::int[]) AS k(fetch_id, n) WHERE f.fetch_id = k.fetch_id""",
        (list(new_by_fetch), list(new_by_fetch.values())),
    )
    return result


def _article_values(new_id, row, story, first_feed, plan, ref):
    return (
        new_id, row[3], row[4], row[6], row[7], row[8], row[9], row[10], row[23], row[23], row[11],
        row[12], first_feed, row[15], row[16], list(row[17]),
        json.dumps(row[18], ensure_ascii=False), row[19], story, row[13], row[14], 1, None,
    )


def _story_candidates(cur, fingerprints, since: datetime) -> list[StoryCandidate]:
    keys = sorted({key for fp in fingerprints for _, key in fp.band_keys()})
    if not keys:
        return []
    cur.execute(
        """SELECT DISTINCT ON (f.article_id) f.article_id, a.story_id, f.signature, f.shingle_count,
                  f.title_key, f.has_summary, f.title_dates
           FROM news.story_bands b
           JOIN news.article_fingerprints f ON f.article_id = b.article_id
           JOIN news.articles a ON a.article_id = b.article_id
           WHERE b.band_key = ANY(%s) AND b.seen_at >= %s""",
        (keys, since),
    )
    return [
        StoryCandidate(r[0], r[1], Fingerprint(bytes(r[2]), r[3], r[4], r[5], r[6]))
        for r in cur.fetchall()
    ]


def refresh_stories(cur, story_ids: list[int] | None) -> None:
    """Recompute stories from their articles (all stories when None): counts, relevance,
    topics, and the headline and first outlet, taken from the earliest-published member so they
    do not depend on which feed happened to be merged first."""
    cur.execute(
        """UPDATE news.stories s SET
               article_count = x.n, outlet_count = x.outlets, first_seen_at = x.first_seen,
               last_seen_at = x.last_seen, is_relevant = x.relevant,
               headline = f.title, first_outlet = f.outlet, first_article_id = f.article_id,
               first_published_at = f.published_at,
               topics = ARRAY(SELECT DISTINCT t FROM news.articles a2, unnest(a2.topics) AS t
                              WHERE a2.story_id = s.story_id AND a2.is_relevant ORDER BY t)
           FROM (SELECT story_id, count(*) AS n, count(DISTINCT outlet) AS outlets,
                        min(first_seen_at) AS first_seen, max(first_seen_at) AS last_seen,
                        bool_or(is_relevant) AS relevant
                 FROM news.articles
                 WHERE %(all)s OR story_id = ANY(%(ids)s)
                 GROUP BY story_id) x
           JOIN (SELECT DISTINCT ON (story_id) story_id, title, outlet, article_id, published_at
                 FROM news.articles
                 WHERE %(all)s OR story_id = ANY(%(ids)s)
                 ORDER BY story_id, published_at, article_id) f ON f.story_id = x.story_id
           WHERE s.story_id = x.story_id""",
        {"all": story_ids is None, "ids": story_ids or []},
    )


# --- rescoring ------------------------------------------------------------------------------

def rescore(conn: PgConnection, rules, batch_size: int = 5000) -> tuple[int, int]:
    """Re-apply the relevance rules to every stored article (and story), batch by batch.
    Returns (articles whose label or topics changed, articles scored)."""
    last, changed, total = 0, 0, 0
    while True:
        with conn, conn.cursor() as cur:
            cur.execute(
                "SELECT article_id, title, summary, is_relevant, topics FROM news.articles "
                "WHERE article_id > %s ORDER BY article_id LIMIT %s",
                (last, batch_size),
            )
            rows = cur.fetchall()
            if not rows:
                break
            ids, scores, relevant, topics, terms = [], [], [], [], []
            for article_id, title, summary, was_relevant, old_topics in rows:
                result = rules.score(title, summary)
                ids.append(article_id)
                scores.append(result.score)
                relevant.append(result.is_relevant)
                topics.append(_pg_array(result.topics))
                terms.append(json.dumps(result.terms, ensure_ascii=False))
                if result.is_relevant != was_relevant or list(result.topics) != list(old_topics):
                    changed += 1
            cur.execute(
                """UPDATE news.articles a SET relevance_score = k.score, is_relevant = k.relevant,
                       topics = k.topics::text[], relevance_terms = k.terms::jsonb, relevance_version = %s
                   FROM unnest(%s::bigint[], %s::real[], %s::boolean[], %s::text[], %s::text[])
                        AS k(article_id, score, relevant, topics, terms)
                   WHERE a.article_id = k.article_id""",
                (rules.version, ids, scores, relevant, topics, terms),
            )
            total += len(rows)
            last = ids[-1]
    with conn, conn.cursor() as cur:
        refresh_stories(cur, None)
    return changed, total


# --- runs and summaries ---------------------------------------------------------------------

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
                      duration_ms, parse_warning
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


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
