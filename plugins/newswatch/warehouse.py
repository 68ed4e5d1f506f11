"""PostgreSQL: migrations, feed sync and state, staging, the merge, run summaries.

This is the only module that talks to the warehouse. Decisions come from the pure modules
(feedstate.decide, dedupe.plan_merge, dedupe.plan_stories); this module reads what they need,
asks them, and applies the answer in one transaction. All SQL is parameterised.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import threading
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
    keys_of,
    KnownArticle,
    NewForClustering,
    StagedEntry,
    StoryCandidate,
    plan_merge,
    plan_stories,
)
from .feedstate import Decision, FeedState
from .stopwatch import Stopwatch, add_up

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
        _apply_views(cur, root / "views")
    return applied_now


def _apply_views(cur, directory: Path) -> None:
    """(Re)create the analyst views whose file changed since they were last created.

    CREATE OR REPLACE VIEW takes an exclusive lock on the view; doing it on every run would
    queue the pipeline behind any long analyst query, and every later reader behind the
    pipeline. Unchanged views are left alone; a changed one waits at most lock_timeout."""
    cur.execute(
        """CREATE TABLE IF NOT EXISTS news.schema_views (
               name       text PRIMARY KEY,
               checksum   text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    cur.execute("SELECT name, checksum FROM news.schema_views")
    applied = dict(cur.fetchall())
    for view in sorted(directory.glob("*.sql")):
        text = view.read_text(encoding="utf-8")
        checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if applied.get(view.name) == checksum:
            continue
        cur.execute("SET LOCAL lock_timeout = '30s'")
        cur.execute(text)
        cur.execute(
            """INSERT INTO news.schema_views (name, checksum) VALUES (%s, %s)
               ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()""",
            (view.name, checksum),
        )


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
    config_url: str | None = None   # as loaded: the state is written back only if it is unchanged


def load_feed(conn: PgConnection, name: str) -> FeedInfo:
    with conn.cursor() as cur:
        cur.execute(f"SELECT {_STATE_COLUMNS}, outlet, language, config_url FROM news.feeds WHERE name = %s",
                    (name,))
        row = cur.fetchone()
    conn.rollback()
    if row is None:
        raise KeyError(f"feed {name!r} is not in news.feeds (is it in the feeds file?)")
    return FeedInfo(name=name, outlet=row[-3], language=row[-2], state=FeedState(*row[:-3]), config_url=row[-1])


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
    timings: dict | None = None


_STAGED_COLUMNS = (
    "fetch_id", "run_id", "feed_name", "position", "canonical_url", "url", "guid", "title",
    "title_raw", "summary", "published_at", "published_at_source", "outlet", "language",
    "content_hash", "normalizer_version", "relevance_score", "is_relevant", "topics",
    "relevance_terms", "relevance_version", "signature", "shingle_count", "title_key", "title_dates",
)


def _pg_array(values) -> str:
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _copy_staged(cur, fetch_id: int, run_id: str, feed_name: str, rows: list[StagedRow]) -> None:
    copy_rows(cur, "news.staged_entries", _STAGED_COLUMNS, (
        (fetch_id, run_id, feed_name, r.position, r.canonical_url, r.url, r.guid, r.title, r.title_raw,
         r.summary, r.published_at, r.published_at_source, r.outlet, r.language, r.content_hash,
         r.normalizer_version, r.relevance_score, r.is_relevant, r.topics, r.relevance_terms,
         r.relevance_version, r.signature, r.shingle_count, r.title_key, r.title_dates)
        for r in rows
    ))

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
                entries_staged, entries_rejected, parse_warning, timings)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            RETURNING fetch_id
            """,
            (record.feed_name, record.run_id, record.started_at, record.finished_at,
             int((record.finished_at - record.started_at).total_seconds() * 1000), record.status,
             record.http_status, record.error_class, record.error, record.url, record.final_url,
             record.bytes, record.body_unchanged, record.entries_seen, len(staged), len(rejects),
             record.parse_warning, json.dumps(record.timings) if record.timings else None),
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
            {"moved": decision.url_moved_to is not None, "url": s.url, "etag": s.etag,
             "last_modified": s.last_modified, "body_hash": s.last_body_hash, "failures": s.consecutive_failures,
             "interval": s.poll_interval_seconds, "next_poll": s.next_poll_at, "redirect": s.redirect_url,
             "redirect_count": s.redirect_seen_count, "disabled": decision.disabled, "reason": s.disabled_reason,
             "success": success, "status": record.status, "http_status": record.http_status,
             "error_class": None if success else record.error_class, "error": None if success else record.error,
             "at": record.finished_at, "staged": bool(staged), "name": record.feed_name, "config_url": config_url},
        )
        if cur.rowcount == 0:
            log.warning("feed %s: its URL changed in the feeds file during the poll; state left for the "
                        "next poll", record.feed_name)
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
    # one 32-bit advisory-lock key per (host, slot), in its own namespace (the first key)
    return int.from_bytes(hashlib.blake2b(host.encode(), digest_size=4).digest(), "big", signed=True)


@contextlib.contextmanager
def host_slot(conn: PgConnection, host: str, slots: int, wait_seconds: float = 600):
    """Hold one of `slots` advisory locks for `host` while fetching from it, so at most `slots`
    requests go to one host at once across every worker process and machine that shares the
    warehouse. Free slots are tried first; when all are busy the poll waits in PostgreSQL on one
    of them (no polling loop). `conn` must be in autocommit mode: the lock is session-level."""
    base = _host_key(host)
    keys = [(base + slot) & 0x7FFFFFFF for slot in range(slots)]
    held = None
    with conn.cursor() as cur:
        for key in keys:
            cur.execute("SELECT pg_try_advisory_lock(%s, %s)", (HOST_SLOT_NAMESPACE, key))
            if cur.fetchone()[0]:
                held = key
                break
        if held is None:
            key = keys[hash(threading.get_ident()) % len(keys)]
            cur.execute("SET lock_timeout = %s", (f"{int(wait_seconds * 1000)}ms",))
            try:
                cur.execute("SELECT pg_advisory_lock(%s, %s)", (HOST_SLOT_NAMESPACE, key))
            finally:
                cur.execute("RESET lock_timeout")
            held = key
    try:
        yield held
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", (HOST_SLOT_NAMESPACE, held))


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
    timings: dict = field(default_factory=dict)   # seconds per merge stage

    def add(self, other: "MergeResult") -> None:
        for key, value in asdict(other).items():
            if key == "timings":
                add_up(self.timings, value)
            else:
                setattr(self, key, getattr(self, key) + value)


_PENDING_SQL = """
    SELECT staged_id, fetch_id, feed_name, canonical_url, url, guid, title, title_raw, summary,
           published_at, published_at_source, outlet, language, content_hash, normalizer_version,
           relevance_score, is_relevant, topics, relevance_terms, relevance_version, signature,
           shingle_count, title_key, title_dates, staged_at
    FROM news.staged_entries
    WHERE merged_at IS NULL
    ORDER BY staged_id
    LIMIT %s
"""


def merge_pending(conn: PgConnection, batch_size: int | None = None, window: timedelta = STORY_WINDOW,
                  now: datetime | None = None, into: MergeResult | None = None) -> MergeResult:
    """Merge every staged entry not yet merged, batch by batch, each batch one transaction under
    an advisory lock.

    A batch commits its articles together with marking its staged entries merged, so a crash or
    a dropped connection loses nothing: what was committed is done, the rest stays pending for
    the next merge. Committing per batch (rather than the whole backlog at once) means a backlog
    after an outage is worked off step by step instead of being rolled back and retried whole.
    Two merges at once take turns batch by batch and never handle the same entry twice.
    Each committed batch is added to `into` (when given) as soon as it commits, so a caller that
    catches a failure still counts the batches that were loaded before it.
    """
    total = into if into is not None else MergeResult()
    batch_size = batch_size or MERGE_BATCH
    while True:
        with conn, conn.cursor(cursor_factory=psycopg2.extras.NamedTupleCursor) as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, MERGE_LOCK))
            cur.execute("SELECT now() AS now")
            batch_now = now or cur.fetchone().now
            started = time.perf_counter()
            cur.execute(_PENDING_SQL, (batch_size,))
            rows = cur.fetchall()
            if not rows:
                break
            read_s = time.perf_counter() - started
            batch = _merge_batch(cur, rows, batch_now, window)
            batch.timings["read_staged"] = round(read_s, 4)
        total.add(batch)
        total.batches += 1
    return total


def _copy_value(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return _pg_array(value)
    return str(value)


def _csv_line(values) -> str:
    # Every value is quoted and NULL is the bare empty field (COPY's CSV default), so no text,
    # not even an empty string or a literal \N, can be read back as NULL.
    out = []
    for value in values:
        text = _copy_value(value)
        out.append("" if text is None else '"' + text.replace('"', '""') + '"')
    return ",".join(out) + "\n"


def copy_rows(cur, table: str, columns: tuple[str, ...], rows) -> None:
    """COPY rows (tuples in `columns` order) into `table`: several times faster than INSERTs."""
    buffer = io.StringIO()
    buffer.writelines(_csv_line(row) for row in rows)
    buffer.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)


def _known_articles(cur, entries: list[StagedEntry]):
    """What the warehouse already knows about these entries: articles by canonical URL and by
    (feed, GUID), and what each feed last said about them."""
    article_columns = ("article_id, canonical_url, title, summary, content_hash, revision, "
                       "coalesce(updated_at, first_seen_at) AS changed_at")
    cur.execute(f"SELECT {article_columns} FROM news.articles WHERE canonical_url = ANY(%s)",
                (sorted({e.canonical_url for e in entries}),))
    known_by_url = {r.canonical_url: KnownArticle(*r) for r in cur.fetchall()}
    pairs = sorted({(e.feed_name, e.guid) for e in entries if e.guid})
    known_by_guid: dict[tuple[str, str], int] = {}
    if pairs:
        cur.execute(
            """SELECT s.feed_name, s.guid, max(s.article_id) AS article_id
               FROM news.article_sightings s
               JOIN unnest(%s::text[], %s::text[]) AS k(feed_name, guid)
                 ON s.feed_name = k.feed_name AND s.guid = k.guid
               GROUP BY s.feed_name, s.guid""",
            ([p[0] for p in pairs], [p[1] for p in pairs]),
        )
        known_by_guid = {(r.feed_name, r.guid): r.article_id for r in cur.fetchall()}
    known_by_id = {a.article_id: a for a in known_by_url.values()}
    missing = sorted(set(known_by_guid.values()) - set(known_by_id))
    if missing:
        cur.execute(f"SELECT {article_columns} FROM news.articles WHERE article_id = ANY(%s)", (missing,))
        known_by_id.update({r.article_id: KnownArticle(*r) for r in cur.fetchall()})
    known_sightings: dict[tuple[int, str], str | None] = {}
    if known_by_id:
        cur.execute(
            "SELECT article_id, feed_name, content_hash FROM news.article_sightings WHERE article_id = ANY(%s)",
            (sorted(known_by_id),),
        )
        known_sightings = {(r.article_id, r.feed_name): r.content_hash for r in cur.fetchall()}
    return known_by_url, known_by_guid, known_sightings, known_by_id


def _next_ids(cur, sequence_of: str, count: int) -> list[int]:
    if not count:
        return []
    cur.execute(f"SELECT nextval(pg_get_serial_sequence('{sequence_of}')) AS id FROM generate_series(1, %s)",
                (count,))
    return [r.id for r in cur.fetchall()]


_ARTICLE_COLUMNS = (
    "article_id", "canonical_url", "url", "title", "title_raw", "summary", "published_at",
    "published_at_source", "first_seen_at", "last_seen_at", "outlet", "language", "first_feed",
    "relevance_score", "is_relevant", "topics", "relevance_terms", "relevance_version", "story_id",
    "content_hash", "normalizer_version",
)


def _merge_batch(cur, rows, now: datetime, window: timedelta) -> MergeResult:
    watch = Stopwatch()
    staged = {r.staged_id: r for r in rows}
    entries = [
        StagedEntry(staged_id=r.staged_id, fetch_id=r.fetch_id, feed_name=r.feed_name,
                    canonical_url=r.canonical_url, url=r.url, guid=r.guid, title=r.title, summary=r.summary,
                    content_hash=r.content_hash, seen_at=r.staged_at)
        for r in rows
    ]
    with watch("read_known"):
        known_by_url, known_by_guid, known_sightings, known_by_id = _known_articles(cur, entries)
    with watch("plan_merge"):
        plan = plan_merge(entries, known_by_url, known_by_guid, known_sightings, known_by_id)
    result = MergeResult(entries=len(entries))

    refs = sorted(plan.new_articles, reverse=True)  # -1, -2, ... in arrival order
    article_id = dict(zip(refs, _next_ids(cur, "news.articles', 'article_id", len(refs))))

    def resolve(ref: int) -> int:
        return article_id[ref] if ref < 0 else ref

    # stories: cluster the new articles against the window's candidates and each other
    new_rows = {ref: staged[plan.new_articles[ref]] for ref in refs}    # identity: URL, first sighting
    text_rows = {ref: staged[plan.text_of[ref]] for ref in refs}        # the text it carries
    fingerprints = {
        ref: Fingerprint(bytes(t.signature), t.shingle_count, t.title_key, bool(t.summary), t.title_dates)
        for ref, t in text_rows.items()
    }
    new_keys = dict(zip(refs, keys_of([fingerprints[ref] for ref in refs])))
    with watch("candidates"):
        candidates = _story_candidates(cur, {k for ks in new_keys.values() for k in ks}, now - window)
        story_texts = _texts_of_stories_with_headline_only_candidates(cur, candidates, now - window)
    with watch("plan_stories"):
        # Clustering is greedy (an article joins the best story formed before it), so the batch
        # goes in a fixed order, not in the order the polls happened to finish: articles with
        # text before headline-only ones (which then join the article they point at rather than
        # found a story), then by publication, so an original founds its story and its reprints
        # join it, then by URL.
        clustering_order = sorted(refs, key=lambda ref: (not fingerprints[ref].has_summary,
                                                         new_rows[ref].published_at, new_rows[ref].canonical_url))
        story_plan = plan_stories([NewForClustering(ref, fingerprints[ref], new_keys[ref]) for ref in clustering_order],
                                  candidates, story_texts)
    story_id = dict(zip(story_plan.new_stories,
                        _next_ids(cur, "news.stories', 'story_id", len(story_plan.new_stories))))

    def story_for(ref: int) -> int:
        s = story_plan.story_of[ref]
        return story_id[s] if s < 0 else s

    with watch("write_stories"):
        # A new story is its founding article until others join: write its figures directly,
        # so only stories that gained members below need recomputing from their articles.
        copy_rows(cur, "news.stories",
                  ("story_id", "headline", "first_article_id", "first_seen_at", "first_published_at",
                   "first_outlet", "last_seen_at", "article_count", "outlet_count", "is_relevant", "topics"),
                  ((story_id[ref], t.title, article_id[ref], r.staged_at, r.published_at, r.outlet, r.staged_at,
                    1, 1 if r.outlet else 0, t.is_relevant, sorted(t.topics) if t.is_relevant else [])
                   for ref in story_plan.new_stories for r, t in ((new_rows[ref], text_rows[ref]),)))
    result.stories_new = len(story_plan.new_stories)
    result.stories_joined = len(refs) - len(story_plan.new_stories)

    first_feed = {}
    for e in entries:
        first_feed.setdefault(plan.article_of[e.staged_id], e.feed_name)
    with watch("write_articles"):
        copy_rows(cur, "news.articles", _ARTICLE_COLUMNS, (
            (article_id[ref], r.canonical_url, r.url, t.title, t.title_raw, t.summary, r.published_at,
             r.published_at_source, r.staged_at, r.staged_at, r.outlet, r.language, first_feed[ref],
             t.relevance_score, t.is_relevant, list(t.topics), t.relevance_terms, t.relevance_version,
             story_for(ref), t.content_hash, t.normalizer_version)
            for ref, r in new_rows.items() for t in (text_rows[ref],)
        ))
    with watch("write_fingerprints"):
        copy_rows(cur, "news.article_fingerprints",
                  ("article_id", "signature", "shingle_count", "title_key", "has_summary", "title_dates"),
                  ((article_id[ref], fp.signature, fp.shingle_count, fp.title_key, fp.has_summary,
                    fp.title_dates) for ref, fp in fingerprints.items()))
    with watch("write_bands"):
        _copy_bands(cur, ((new_keys[ref], article_id[ref], story_for(ref), new_rows[ref].staged_at)
                          for ref in refs if new_keys[ref]))
    result.new = len(refs)

    with watch("revisions"):
        _apply_updates(cur, plan, staged)
    result.updated = len(plan.updates)

    sightings = list(plan.sightings.values())
    with watch("write_sightings"):
        _upsert_sightings(cur, sightings, staged, resolve, max(e.seen_at for e in entries))
    result.sightings = sum(1 for o in plan.outcomes.values() if o == "sighting")
    result.relevant = (sum(1 for t in text_rows.values() if t.is_relevant)
                       + sum(1 for u in plan.updates if staged[u.staged_id].is_relevant))

    # stories that gained an article, and those whose article was revised (relevance, topics
    # and maybe the headline moved with the text)
    grown = {story_for(ref) for ref in refs if story_plan.story_of[ref] != ref}
    if plan.updates:
        cur.execute("SELECT DISTINCT story_id FROM news.articles WHERE article_id = ANY(%s) AND story_id IS NOT NULL",
                    ([u.article_id for u in plan.updates],))
        grown.update(r.story_id for r in cur.fetchall())
    grown = sorted(grown)
    if grown:
        with watch("refresh_stories"):
            refresh_stories(cur, grown)
    with watch("mark_staged"):
        _mark_staged(cur, entries, plan, now)
    result.timings = watch.as_dict()
    return result


def _copy_bands(cur, articles) -> None:
    """COPY story keys, given as (keys, article_id, story_id, seen_at) per article: about 50 rows
    an article and millions on a big first poll, so each article's row tail is formatted once and
    joined onto its keys rather than going through copy_rows' per-value conversion."""
    buffer = io.StringIO()
    for keys, article, story, seen in articles:
        tail = f"\t{article}\t{story}\t{seen.isoformat()}\n"
        buffer.write(tail.join(map(str, keys)) + tail)
    buffer.seek(0)
    cur.copy_expert("COPY news.story_bands (band_key, article_id, story_id, seen_at) FROM STDIN", buffer)


def _apply_updates(cur, plan, staged) -> None:
    """Revisions: keep the old text in article_revisions, put the new one in place."""
    for update in plan.updates:
        r = staged[update.staged_id]
        prev = update.previous
        cur.execute(
            """INSERT INTO news.article_revisions (article_id, revision, title, summary, content_hash,
                   valid_from, valid_to, feed_name)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (article_id, revision) DO NOTHING""",
            (update.article_id, prev.revision, prev.title, prev.summary, prev.content_hash,
             prev.valid_from, prev.valid_to, r.feed_name),
        )
        cur.execute(
            """UPDATE news.articles SET title = %s, title_raw = %s, summary = %s, content_hash = %s,
                   revision = %s, updated_at = %s, relevance_score = %s, is_relevant = %s, topics = %s,
                   relevance_terms = %s::jsonb, relevance_version = %s
               WHERE article_id = %s""",
            (r.title, r.title_raw, r.summary, r.content_hash, update.new_revision, r.staged_at,
             r.relevance_score, r.is_relevant, list(r.topics), json.dumps(r.relevance_terms, ensure_ascii=False),
             r.relevance_version, update.article_id),
        )


def _upsert_sightings(cur, sightings, staged, resolve, latest_seen) -> None:
    """COPY the batch's sightings into a scratch table, then upsert them in one statement."""
    cur.execute("""CREATE TEMP TABLE IF NOT EXISTS merge_sightings
                   (LIKE news.article_sightings INCLUDING DEFAULTS) ON COMMIT DELETE ROWS""")
    copy_rows(cur, "merge_sightings",
              ("sighting_id", "article_id", "feed_name", "url", "guid", "outlet", "first_seen_at", "last_seen_at",
               "times_seen", "content_hash"),
              ((0, resolve(s.article_ref), s.feed_name, s.url, s.guid, staged[s.staged_id].outlet, s.seen_at,
                s.seen_at, 1, s.content_hash) for s in sightings))
    cur.execute(
        """INSERT INTO news.article_sightings AS s (article_id, feed_name, url, guid, outlet, first_seen_at,
               last_seen_at, content_hash)
           SELECT article_id, feed_name, url, guid, outlet, first_seen_at, last_seen_at, content_hash
           FROM merge_sightings
           ON CONFLICT (article_id, feed_name) DO UPDATE SET
               url = EXCLUDED.url,
               guid = coalesce(EXCLUDED.guid, s.guid),
               last_seen_at = greatest(s.last_seen_at, EXCLUDED.last_seen_at),
               times_seen = s.times_seen + 1,
               content_hash = EXCLUDED.content_hash"""
    )
    seen_again = sorted({s.article_ref for s in sightings if s.article_ref > 0})
    if seen_again:
        cur.execute(
            "UPDATE news.articles SET last_seen_at = greatest(last_seen_at, %s) WHERE article_id = ANY(%s)",
            (latest_seen, seen_again),
        )


def _mark_staged(cur, entries, plan, now) -> None:
    """Record each staged entry's outcome, and each fetch's count of new articles."""
    staged_ids = [e.staged_id for e in entries]
    cur.execute(
        """UPDATE news.staged_entries se SET merged_at = %s, outcome = k.outcome
           FROM unnest(%s::bigint[], %s::text[]) AS k(staged_id, outcome)
           WHERE se.staged_id = k.staged_id""",
        (now, staged_ids, [plan.outcomes[s] for s in staged_ids]),
    )
    new_by_fetch: dict[int, int] = {}
    for e in entries:
        new_by_fetch[e.fetch_id] = new_by_fetch.get(e.fetch_id, 0) + (plan.outcomes[e.staged_id] == "new")
    cur.execute(
        """UPDATE news.fetch_log f SET entries_new = coalesce(f.entries_new, 0) + k.n
           FROM unnest(%s::bigint[], %s::int[]) AS k(fetch_id, n) WHERE f.fetch_id = k.fetch_id""",
        (list(new_by_fetch), list(new_by_fetch.values())),
    )


def _story_candidates(cur, keys: set[int], since: datetime) -> list[StoryCandidate]:
    """Known articles sharing a band key with the new ones, within the clustering window, with
    the keys they matched on (so they need not be recomputed)."""
    if not keys:
        return []
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS merge_keys (band_key bigint) ON COMMIT DELETE ROWS")
    copy_rows(cur, "merge_keys", ("band_key",), ((k,) for k in keys))
    cur.execute("ANALYZE merge_keys")
    cur.execute(
        """SELECT b.band_key, b.article_id, b.story_id
           FROM merge_keys k JOIN news.story_bands b ON b.band_key = k.band_key
           WHERE b.seen_at >= %s""",
        (since,),
    )
    matched: dict[int, tuple[int, list[int]]] = {}
    for r in cur.fetchall():
        matched.setdefault(r.article_id, (r.story_id, []))[1].append(r.band_key)
    if not matched:
        return []
    # in article order, so that equally good candidates are tried in the same order every time
    cur.execute(
        """SELECT article_id, signature, shingle_count, title_key, has_summary, title_dates
           FROM news.article_fingerprints WHERE article_id = ANY(%s) ORDER BY article_id""",
        (list(matched),),
    )
    return [
        StoryCandidate(r.article_id, matched[r.article_id][0],
                       Fingerprint(bytes(r.signature), r.shingle_count, r.title_key, r.has_summary, r.title_dates),
                       keys=matched[r.article_id][1])
        for r in cur.fetchall()
    ]


def _texts_of_stories_with_headline_only_candidates(cur, candidates: list[StoryCandidate],
                                                     since: datetime) -> dict[int, list[Fingerprint]]:
    """The members with text of every story a headline-only candidate belongs to (within the
    window), so plan_stories can tell when joining through the headline would bridge two
    different texts: the text they would be bridged to rarely shares a band key with the new
    article, so it is usually not among the candidates themselves."""
    stories = sorted({c.story_id for c in candidates if not c.fingerprint.has_summary})
    if not stories:
        return {}
    cur.execute(
        """SELECT a.story_id, f.signature, f.shingle_count, f.title_key, f.has_summary, f.title_dates
           FROM news.articles a JOIN news.article_fingerprints f USING (article_id)
           WHERE a.story_id = ANY(%s) AND f.has_summary AND a.first_seen_at >= %s
           ORDER BY a.article_id""",
        (stories, since),
    )
    texts: dict[int, list[Fingerprint]] = {}
    for r in cur.fetchall():
        texts.setdefault(r.story_id, []).append(
            Fingerprint(bytes(r.signature), r.shingle_count, r.title_key, r.has_summary, r.title_dates))
    return texts


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
            # the merge's lock: a revision landing between this batch's read and write would
            # otherwise be scored with its old text
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, MERGE_LOCK))
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
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, MERGE_LOCK))
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
