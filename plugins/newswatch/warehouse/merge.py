"""The merge: staged entries -> articles, sightings, revisions and stories, batch by batch.

Decisions come from the pure modules (dedupe.plan_merge, dedupe.plan_stories); this module reads
what they need, asks them, and applies the answer in one transaction per batch."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import psycopg2.extras

from ..dedupe import Fingerprint, KnownArticle, NewForClustering, StagedEntry, keys_of, plan_merge, plan_stories
from ..stopwatch import Stopwatch, add_up
from .staging import PENDING_COLUMNS
from .db import LOCK_NAMESPACE, MERGE_LOCK, PgConnection, copy_rows, next_ids
from .stories import STORY_WINDOW, copy_bands, refresh_stories, story_candidates, texts_of_stories_with_headline_only_candidates

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
    batches: int = 0
    timings: dict = field(default_factory=dict)   # seconds per merge stage

    def add(self, other: "MergeResult") -> None:
        for key, value in asdict(other).items():
            if key == "timings":
                add_up(self.timings, value)
            else:
                setattr(self, key, getattr(self, key) + value)


_PENDING_SQL = f"""
    SELECT {", ".join(PENDING_COLUMNS)}
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
    article_id = dict(zip(refs, next_ids(cur, "news.articles', 'article_id", len(refs))))

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
        candidates = story_candidates(cur, {k for ks in new_keys.values() for k in ks}, now - window)
        story_texts = texts_of_stories_with_headline_only_candidates(cur, candidates, now - window)
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
                        next_ids(cur, "news.stories', 'story_id", len(story_plan.new_stories))))

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
        copy_bands(cur, ((new_keys[ref], article_id[ref], story_for(ref), new_rows[ref].staged_at)
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

