"""The merge: staged entries -> articles, aliases, sightings, revisions and stories, batch by batch.

Each batch is read, decided in pure code (dedupe.plan_merge, dedupe.plan_stories) and applied
in one transaction under an advisory lock. A batch that fails on its data is split until the
rows at fault are found; those are quarantined (marked failed, written to news.rejects with the
database's error) and the rest commits, so one odd entry never blocks any later merge."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import psycopg2
import psycopg2.extras

from ..dedupe import (
    Fingerprint,
    KnownArticle,
    MergePlan,
    NewForClustering,
    StagedEntry,
    StoryPlan,
    clustering_order,
    keys_of,
    plan_merge,
    plan_stories,
)
from ..stopwatch import Stopwatch, add_up
from .db import LOCK_NAMESPACE, MERGE_LOCK, PgConnection, copy_rows, next_ids
from .staging import PENDING_COLUMNS
from .stories import (
    STORY_WINDOW,
    copy_bands,
    refresh_stories,
    story_candidates,
    texts_of_stories_with_headline_only_candidates,
)

log = logging.getLogger("newswatch.warehouse")

MERGE_BATCH = 5000


@dataclass
class MergeResult:
    entries: int = 0
    new: int = 0
    updated: int = 0
    sightings: int = 0
    relevant: int = 0
    stories_new: int = 0
    stories_joined: int = 0
    quarantined: int = 0  # staged entries that could not be loaded: in news.rejects with the error
    batches: int = 0
    timings: dict = field(default_factory=dict)  # seconds per merge stage

    def add(self, other: MergeResult) -> None:
        for key, value in asdict(other).items():
            if key == "timings":
                add_up(self.timings, value)
            else:
                setattr(self, key, getattr(self, key) + value)


# relevance_terms is read as its JSON text and written back as it is: parsing and re-encoding
# every entry's evidence was a visible share of the merge
_SELECT_STAGED = "SELECT {} FROM news.staged_entries".format(
    ", ".join("relevance_terms::text AS relevance_terms" if c == "relevance_terms" else c for c in PENDING_COLUMNS)
)
_PENDING_SQL = f"{_SELECT_STAGED} WHERE merged_at IS NULL ORDER BY staged_id LIMIT %s"
_PENDING_BY_ID_SQL = f"{_SELECT_STAGED} WHERE merged_at IS NULL AND staged_id = ANY(%s) ORDER BY staged_id"

# Errors that a row's data can cause (and that will recur with the same rows): SQLSTATE classes
# 22 data exception, 23 integrity constraint, 54 program limit exceeded (an index key or a
# tsvector too large); and the Python errors bad values raise. Connection loss, lock timeouts
# and the like are not the data's fault: they propagate and the rows stay pending.
_DATA_SQLSTATE_CLASSES = ("22", "23", "54")
_DATA_PYTHON_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError)


def blames_the_data(exc: BaseException) -> bool:
    if isinstance(exc, psycopg2.Error):
        return (exc.pgcode or "")[:2] in _DATA_SQLSTATE_CLASSES
    return isinstance(exc, _DATA_PYTHON_ERRORS)


def merge_pending(
    conn: PgConnection,
    batch_size: int | None = None,
    window: timedelta = STORY_WINDOW,
    now: datetime | None = None,
    into: MergeResult | None = None,
) -> MergeResult:
    """Merge every staged entry not yet merged, batch by batch, each batch one transaction under
    an advisory lock.

    A batch commits its articles together with marking its staged entries merged, so a crash or
    a dropped connection loses nothing: what was committed is done, the rest stays pending for
    the next merge. Two merges at once take turns batch by batch and never handle the same entry
    twice. A batch that fails on its data is merged again in halves, down to single rows; a row
    that fails alone is quarantined, so it is never retried forever nor holds back newer rows.
    Each committed batch is added to `into` (when given) as soon as it commits, so a caller that
    catches a failure still counts the batches that were loaded before it.
    """
    total = into if into is not None else MergeResult()
    batch_size = batch_size or MERGE_BATCH
    while True:
        ids: list[int] = []
        try:
            with conn, conn.cursor(cursor_factory=psycopg2.extras.NamedTupleCursor) as cur:
                batch_now = _lock(cur, now)
                started = time.perf_counter()
                cur.execute(_PENDING_SQL, (batch_size,))
                rows = cur.fetchall()
                if not rows:
                    break
                ids = [r.staged_id for r in rows]
                read_s = time.perf_counter() - started
                batch = _merge_rows(cur, rows, batch_now, window)
                batch.timings["read_staged"] = round(read_s, 4)
        except Exception as exc:
            if not ids or not blames_the_data(exc):
                raise
            log.warning(
                "merge: a batch of %d entries failed on its data (%s); isolating the rows at fault",
                len(ids),
                _short(exc),
            )
            batch = _merge_isolating(conn, ids, now, window)
        total.add(batch)
        total.batches += 1
    return total


def _lock(cur, now: datetime | None) -> datetime:
    cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, MERGE_LOCK))
    cur.execute("SELECT now() AS now")
    return now or cur.fetchone().now


def _merge_isolating(conn: PgConnection, ids: list[int], now: datetime | None, window: timedelta) -> MergeResult:
    """Merge `ids` in ever smaller parts, in staging order, until every part either commits or is
    a single row that fails alone (quarantined)."""
    result = MergeResult()
    parts = [ids]
    while parts:
        part = parts.pop()
        try:
            with conn, conn.cursor(cursor_factory=psycopg2.extras.NamedTupleCursor) as cur:
                batch_now = _lock(cur, now)
                cur.execute(_PENDING_BY_ID_SQL, (part,))
                rows = cur.fetchall()  # another merge may have taken some meanwhile
                if rows:
                    result.add(_merge_rows(cur, rows, batch_now, window))
        except Exception as exc:
            if not blames_the_data(exc):
                raise
            if len(part) == 1:
                quarantine(conn, part[0], exc)
                result.quarantined += 1
            else:
                half = len(part) // 2
                parts += [part[half:], part[:half]]  # the first half is merged first
    return result


def quarantine(conn: PgConnection, staged_id: int, exc: BaseException) -> None:
    """Take one staged entry out of the merge for good: mark it failed and keep it, with the
    error, in news.rejects."""
    error = _short(exc, 2000)
    log.error("merge: staged entry %d cannot be loaded, moved to news.rejects: %s", staged_id, error)
    with conn, conn.cursor() as cur:
        cur.execute(
            """WITH failed AS (
                   UPDATE news.staged_entries SET merged_at = now(), outcome = 'failed', merge_error = %(error)s
                   WHERE staged_id = %(id)s AND merged_at IS NULL
                   RETURNING *)
               INSERT INTO news.rejects (feed_name, run_id, fetch_id, reason, detail, raw_entry, staged_id)
               SELECT feed_name, run_id, fetch_id, 'merge_failed', %(error)s,
                      to_jsonb(failed) - 'signature' - 'merge_error', staged_id
               FROM failed""",
            {"error": error, "id": staged_id},
        )


def _short(exc: BaseException, limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {str(exc).strip()}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- one batch: read, decide, apply ------------------------------------------------------------


def _fingerprint(row) -> Fingerprint:
    return Fingerprint(bytes(row.signature), row.shingle_count, row.title_key, bool(row.summary), row.title_dates)


def _entry(row) -> StagedEntry:
    return StagedEntry(
        staged_id=row.staged_id,
        fetch_id=row.fetch_id,
        feed_name=row.feed_name,
        canonical_url=row.canonical_url,
        url=row.url,
        guid=row.guid,
        title=row.title,
        summary=row.summary,
        content_hash=row.content_hash,
        seen_at=row.staged_at,
        fingerprint=_fingerprint(row),
    )


def _merge_rows(cur, rows, now: datetime, window: timedelta) -> MergeResult:
    watch = Stopwatch()
    staged = {r.staged_id: r for r in rows}
    entries = [_entry(r) for r in rows]
    with watch("read_known"):
        known = read_known(cur, entries)
    with watch("plan_merge"):
        plan = plan_merge(entries, *known)
    new = _NewArticles(cur, plan, staged)
    with watch("candidates"):
        candidates = story_candidates(cur, new.all_keys(), now - window)
        story_texts = texts_of_stories_with_headline_only_candidates(cur, candidates, now - window)
    with watch("plan_stories"):
        order = clustering_order(
            new.refs,
            new.fingerprints,
            {r: new.rows[r].published_at for r in new.refs},
            {r: new.rows[r].canonical_url for r in new.refs},
        )
        stories = plan_stories(
            [NewForClustering(r, new.fingerprints[r], new.keys[r]) for r in order], candidates, story_texts
        )
    new.place_in(cur, stories)
    with watch("write_stories"):
        new.write_stories(cur)
    with watch("write_articles"):
        new.write_articles(cur, entries)
    with watch("write_bands"):
        new.write_bands(cur)
    with watch("revisions"):
        revised_stories = _apply_updates(cur, plan, staged)
    with watch("write_sightings"):
        _write_identity(cur, plan, staged, new, max(e.seen_at for e in entries))
    grown = sorted(new.grown_stories() | revised_stories)
    if grown:
        with watch("refresh_stories"):
            refresh_stories(cur, grown)
    with watch("mark_staged"):
        _mark_staged(cur, entries, plan, now)
    result = _result(plan, staged, new)
    result.timings = watch.as_dict()
    return result


def _result(plan: MergePlan, staged: dict, new: _NewArticles) -> MergeResult:
    return MergeResult(
        entries=len(plan.outcomes),
        new=len(new.refs),
        updated=len(plan.updates),
        sightings=sum(1 for o in plan.outcomes.values() if o == "sighting"),
        relevant=(
            sum(1 for t in new.texts.values() if t.is_relevant)
            + sum(1 for u in plan.updates if staged[u.staged_id].is_relevant)
        ),
        stories_new=len(new.stories.new_stories),
        stories_joined=len(new.refs) - len(new.stories.new_stories),
    )


_KNOWN_COLUMNS = """a.article_id, a.canonical_url, a.title, a.summary, a.content_hash, a.revision,
    coalesce(a.updated_at, a.first_seen_at) AS changed_at, a.text_feed,
    f.signature, f.shingle_count, f.title_key, f.has_summary, f.title_dates"""


def read_known(cur, entries: list[StagedEntry]):
    """What the warehouse knows about these entries, in plan_merge's terms: articles by every URL
    and (feed, GUID) that ever named them (news.article_aliases; the most recent article a GUID
    named), and what each feed last said about them."""
    cur.execute(
        "SELECT value, article_id FROM news.article_aliases WHERE kind = 'url' AND value = ANY(%s)",
        (sorted({e.canonical_url for e in entries}),),
    )
    by_url = {r.value: r.article_id for r in cur.fetchall()}
    pairs = sorted({(e.feed_name, e.guid) for e in entries if e.guid})
    by_guid: dict[tuple[str, str], int] = {}
    if pairs:
        cur.execute(
            """SELECT DISTINCT ON (a.feed_name, a.value) a.feed_name, a.value, a.article_id
               FROM news.article_aliases a
               JOIN unnest(%s::text[], %s::text[]) AS k(feed_name, value)
                 ON a.kind = 'guid' AND a.feed_name = k.feed_name AND a.value = k.value
               ORDER BY a.feed_name, a.value, a.last_seen_at DESC, a.article_id DESC""",
            ([p[0] for p in pairs], [p[1] for p in pairs]),
        )
        by_guid = {(r.feed_name, r.value): r.article_id for r in cur.fetchall()}
    articles = _known_articles(cur, set(by_url.values()) | set(by_guid.values()))
    sightings: dict[tuple[int, str], str | None] = {}
    if articles:
        cur.execute(
            "SELECT article_id, feed_name, content_hash FROM news.article_sightings WHERE article_id = ANY(%s)",
            (sorted(articles),),
        )
        sightings = {(r.article_id, r.feed_name): r.content_hash for r in cur.fetchall()}
    known_by_url = {url: articles[i] for url, i in by_url.items() if i in articles}
    return known_by_url, by_guid, sightings, articles


def _known_articles(cur, ids: set[int]) -> dict[int, KnownArticle]:
    if not ids:
        return {}
    cur.execute(
        f"""SELECT {_KNOWN_COLUMNS} FROM news.articles a
                    LEFT JOIN news.article_fingerprints f USING (article_id)
                    WHERE a.article_id = ANY(%s)""",
        (sorted(ids),),
    )
    return {
        r.article_id: KnownArticle(
            r.article_id,
            r.canonical_url,
            r.title,
            r.summary,
            r.content_hash,
            r.revision,
            r.changed_at,
            r.text_feed,
            Fingerprint(bytes(r.signature), r.shingle_count, r.title_key, r.has_summary, r.title_dates)
            if r.signature is not None
            else None,
        )
        for r in cur.fetchall()
    }


_ARTICLE_COLUMNS = (
    "article_id",
    "canonical_url",
    "url",
    "title",
    "title_raw",
    "summary",
    "published_at",
    "published_at_source",
    "first_seen_at",
    "last_seen_at",
    "outlet",
    "language",
    "first_feed",
    "text_feed",
    "relevance_score",
    "is_relevant",
    "topics",
    "relevance_terms",
    "relevance_version",
    "story_id",
    "content_hash",
    "normalizer_version",
)
_STORY_COLUMNS = (
    "story_id",
    "headline",
    "first_article_id",
    "first_seen_at",
    "first_published_at",
    "first_outlet",
    "last_seen_at",
    "article_count",
    "outlet_count",
    "is_relevant",
    "topics",
)


class _NewArticles:
    """The batch's new articles: their ids, the staged rows that give their identity and their
    text, their fingerprints and story keys, and (once clustered) their stories."""

    def __init__(self, cur, plan: MergePlan, staged: dict):
        self.plan = plan
        self.refs = sorted(plan.new_articles, reverse=True)  # -1, -2, ... in arrival order
        self.ids = dict(zip(self.refs, next_ids(cur, "news.articles', 'article_id", len(self.refs)), strict=True))
        self.rows = {ref: staged[plan.new_articles[ref]] for ref in self.refs}  # URL, first sighting
        self.texts = {ref: staged[plan.text_of[ref]] for ref in self.refs}  # the text it carries
        self.fingerprints = {ref: _fingerprint(t) for ref, t in self.texts.items()}
        self.keys = dict(zip(self.refs, keys_of([self.fingerprints[ref] for ref in self.refs]), strict=True))
        self.stories = StoryPlan()
        self.story_ids: dict[int, int] = {}

    def all_keys(self) -> set[int]:
        return {k for ks in self.keys.values() for k in ks}

    def resolve(self, ref: int) -> int:
        return self.ids[ref] if ref < 0 else ref

    def place_in(self, cur, stories: StoryPlan) -> None:
        self.stories = stories
        self.story_ids = dict(
            zip(stories.new_stories, next_ids(cur, "news.stories', 'story_id", len(stories.new_stories)), strict=True)
        )

    def story_of(self, ref: int) -> int:
        s = self.stories.story_of[ref]
        return self.story_ids[s] if s < 0 else s

    def grown_stories(self) -> set[int]:
        """Stories that gained an article (a new story is its founder until others join)."""
        return {self.story_of(ref) for ref in self.refs if self.stories.story_of[ref] != ref}

    def write_stories(self, cur) -> None:
        # A new story is its founding article until others join: its figures are written
        # directly, so only stories that gained members need recomputing from their articles.
        copy_rows(
            cur,
            "news.stories",
            _STORY_COLUMNS,
            (
                (
                    self.story_ids[ref],
                    t.title,
                    self.ids[ref],
                    r.staged_at,
                    r.published_at,
                    r.outlet,
                    r.staged_at,
                    1,
                    1 if r.outlet else 0,
                    t.is_relevant,
                    sorted(t.topics) if t.is_relevant else [],
                )
                for ref in self.stories.new_stories
                for r, t in ((self.rows[ref], self.texts[ref]),)
            ),
        )

    def write_articles(self, cur, entries: list[StagedEntry]) -> None:
        first_feed: dict[int, str] = {}
        for e in entries:
            first_feed.setdefault(self.plan.article_of[e.staged_id], e.feed_name)
        copy_rows(
            cur,
            "news.articles",
            _ARTICLE_COLUMNS,
            (
                (
                    self.ids[ref],
                    r.canonical_url,
                    r.url,
                    t.title,
                    t.title_raw,
                    t.summary,
                    r.published_at,
                    r.published_at_source,
                    r.staged_at,
                    r.staged_at,
                    r.outlet,
                    r.language,
                    first_feed[ref],
                    t.feed_name,
                    t.relevance_score,
                    t.is_relevant,
                    list(t.topics),
                    t.relevance_terms,
                    t.relevance_version,
                    self.story_of(ref),
                    t.content_hash,
                    t.normalizer_version,
                )
                for ref, r in self.rows.items()
                for t in (self.texts[ref],)
            ),
        )
        copy_rows(
            cur,
            "news.article_fingerprints",
            _FINGERPRINT_COLUMNS,
            ((self.ids[ref], *_fingerprint_values(fp)) for ref, fp in self.fingerprints.items()),
        )

    def write_bands(self, cur) -> None:
        copy_bands(
            cur,
            (
                (self.keys[ref], self.ids[ref], self.story_of(ref), self.rows[ref].staged_at)
                for ref in self.refs
                if self.keys[ref]
            ),
        )


_FINGERPRINT_COLUMNS = ("article_id", "signature", "shingle_count", "title_key", "has_summary", "title_dates")


def _fingerprint_values(fp: Fingerprint) -> tuple:
    return fp.signature, fp.shingle_count, fp.title_key, fp.has_summary, fp.title_dates


def replace_fingerprints(cur, fingerprints) -> None:
    """(article_id, Fingerprint) pairs of revised articles: their new text's fingerprint."""
    for article_id, fp in fingerprints:
        cur.execute(
            """UPDATE news.article_fingerprints SET signature = %s, shingle_count = %s, title_key = %s,
                           has_summary = %s, title_dates = %s WHERE article_id = %s""",
            (*_fingerprint_values(fp), article_id),
        )


def _apply_updates(cur, plan: MergePlan, staged: dict) -> set[int]:
    """Revisions: keep the old text in article_revisions, put the new one in place with its
    relevance, fingerprint and story keys (so clustering sees the new text). Returns the stories
    of the revised articles: their relevance, topics and headline may have moved with the text."""
    if not plan.updates:
        return set()
    for update in plan.updates:
        r, prev = staged[update.staged_id], update.previous
        cur.execute(
            """INSERT INTO news.article_revisions (article_id, revision, title, summary, content_hash,
                   valid_from, valid_to, feed_name)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (article_id, revision) DO NOTHING""",
            (
                update.article_id,
                prev.revision,
                prev.title,
                prev.summary,
                prev.content_hash,
                prev.valid_from,
                prev.valid_to,
                r.feed_name,
            ),
        )
        cur.execute(
            """UPDATE news.articles SET title = %s, title_raw = %s, summary = %s, content_hash = %s,
                   revision = %s, updated_at = %s, relevance_score = %s, is_relevant = %s, topics = %s,
                   relevance_terms = %s::jsonb, relevance_version = %s, text_feed = %s
               WHERE article_id = %s""",
            (
                r.title,
                r.title_raw,
                r.summary,
                r.content_hash,
                update.new_revision,
                r.staged_at,
                r.relevance_score,
                r.is_relevant,
                list(r.topics),
                r.relevance_terms,
                r.relevance_version,
                update.text_feed,
                update.article_id,
            ),
        )
    latest = {u.article_id: staged[u.staged_id] for u in plan.updates}  # the last revision of each
    replace_fingerprints(cur, ((a, _fingerprint(r)) for a, r in latest.items()))
    cur.execute("SELECT article_id, story_id FROM news.articles WHERE article_id = ANY(%s)", (sorted(latest),))
    story = {r.article_id: r.story_id for r in cur.fetchall()}
    fingerprints = [_fingerprint(latest[a]) for a in latest]
    copy_bands(
        cur,
        (
            (keys, a, story[a], latest[a].staged_at)
            for a, keys in zip(latest, keys_of(fingerprints), strict=True)
            if keys and story.get(a)
        ),
    )
    return {s for s in story.values() if s is not None}


def _write_identity(cur, plan: MergePlan, staged: dict, new: _NewArticles, latest_seen: datetime) -> None:
    """The batch's sightings, the names it taught us (URL and GUID aliases), and the feeds
    caught recycling GUIDs. A new article's rows cannot conflict with anything: they are COPYed
    straight in; only those of known articles go through an upsert."""
    sightings = list(plan.sightings.values())
    _copy_sightings(cur, "news.article_sightings", [s for s in sightings if s.article_ref < 0], staged, new.resolve)
    _upsert_sightings(cur, [s for s in sightings if s.article_ref > 0], staged, latest_seen)
    aliases = [("url", "", url, ref) for url, ref in plan.url_aliases.items()] + [
        ("guid", feed, guid, ref) for (feed, guid), ref in plan.guid_aliases.items()
    ]
    copy_rows(
        cur,
        "news.article_aliases",
        _ALIAS_COLUMNS,
        (
            (kind, feed, value, new.resolve(ref), latest_seen, latest_seen)
            for kind, feed, value, ref in aliases
            if ref < 0
        ),
    )
    _add_aliases(cur, [a for a in aliases if a[3] > 0], latest_seen)
    if plan.guid_reusers:
        log.warning(
            "merge: feed(s) %s gave an old GUID to a different story; taken as new articles",
            ", ".join(sorted(plan.guid_reusers)),
        )
        cur.execute(
            """UPDATE news.feeds SET guid_reuse_count = guid_reuse_count + 1, guid_reuse_seen_at = %s
                       WHERE name = ANY(%s)""",
            (latest_seen, sorted(plan.guid_reusers)),
        )


_ALIAS_COLUMNS = ("kind", "feed_name", "value", "article_id", "first_seen_at", "last_seen_at")
_SIGHTING_COLUMNS = (
    "article_id",
    "feed_name",
    "url",
    "guid",
    "outlet",
    "first_seen_at",
    "last_seen_at",
    "times_seen",
    "content_hash",
)


def _add_aliases(cur, aliases: list[tuple[str, str, str, int]], seen: datetime) -> None:
    """Names of known articles: a URL names one article for good (the first); a GUID names the
    article a feed gave it to most recently (seen again: its last_seen_at moves)."""
    if not aliases:
        return
    cur.execute("""CREATE TEMP TABLE IF NOT EXISTS merge_aliases
                   (LIKE news.article_aliases) ON COMMIT DELETE ROWS""")
    copy_rows(cur, "merge_aliases", _ALIAS_COLUMNS, ((*alias, seen, seen) for alias in aliases))
    cur.execute("""INSERT INTO news.article_aliases SELECT * FROM merge_aliases WHERE kind = 'url'
                   ON CONFLICT (value) WHERE kind = 'url' DO NOTHING""")
    cur.execute("""INSERT INTO news.article_aliases AS a SELECT * FROM merge_aliases WHERE kind = 'guid'
                   ON CONFLICT (feed_name, value, article_id) WHERE kind = 'guid'
                   DO UPDATE SET last_seen_at = greatest(a.last_seen_at, EXCLUDED.last_seen_at)""")


def _copy_sightings(cur, table: str, sightings, staged, resolve) -> None:
    copy_rows(
        cur,
        table,
        _SIGHTING_COLUMNS,
        (
            (
                resolve(s.article_ref),
                s.feed_name,
                s.url,
                s.guid,
                staged[s.staged_id].outlet,
                s.seen_at,
                s.seen_at,
                1,
                s.content_hash,
            )
            for s in sightings
        ),
    )


def _upsert_sightings(cur, sightings, staged, latest_seen) -> None:
    """Sightings of known articles: COPYed into a scratch table, then upserted in one statement."""
    if not sightings:
        return
    cur.execute("""CREATE TEMP TABLE IF NOT EXISTS merge_sightings ON COMMIT DELETE ROWS AS
                   SELECT article_id, feed_name, url, guid, outlet, first_seen_at, last_seen_at, times_seen,
                          content_hash
                   FROM news.article_sightings WITH NO DATA""")
    _copy_sightings(cur, "merge_sightings", sightings, staged, lambda ref: ref)
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
    cur.execute(
        "UPDATE news.articles SET last_seen_at = greatest(last_seen_at, %s) WHERE article_id = ANY(%s)",
        (latest_seen, sorted({s.article_ref for s in sightings})),
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
