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

from ..dedupe import MergePlan, NewForClustering, StagedEntry, clustering_order, plan_merge, plan_stories
from ..stopwatch import Stopwatch, add_up
from ..story_index import StoryKeyIndex
from .articles import BodyScorer, NewArticles, apply_updates, fingerprint_of, read_known
from .db import LOCK_NAMESPACE, MERGE_LOCK, PgConnection, blames_the_data
from .sightings import write_identity
from .staging import PENDING_COLUMNS
from .stories import (
    STORY_WINDOW,
    refresh_stories,
    story_candidates,
    texts_of_stories_with_headline_only_candidates,
    update_story_keys,
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
# The oldest pending rows, through the partial index in staging order. Before autovacuum has
# analysed a freshly staged first poll, the planner guesses a handful of pending rows and reads
# them all with a bitmap scan and a sort: 0.6 s a batch at 100,000 pending, every batch. Bitmap
# scans are off for this one statement only.
_PENDING_SQL = f"""SET LOCAL enable_bitmapscan = off;
    {_SELECT_STAGED} WHERE merged_at IS NULL ORDER BY staged_id LIMIT %s"""
_PLANNER_DEFAULTS = "RESET enable_bitmapscan"
_PENDING_BY_ID_SQL = f"{_SELECT_STAGED} WHERE merged_at IS NULL AND staged_id = ANY(%s) ORDER BY staged_id"


def merge_pending(
    conn: PgConnection,
    batch_size: int | None = None,
    window: timedelta = STORY_WINDOW,
    now: datetime | None = None,
    into: MergeResult | None = None,
    score_with_body: BodyScorer | None = None,
    story_keys: StoryKeyIndex | None = None,
) -> MergeResult:
    """Merge every staged entry not yet merged, batch by batch, each batch one transaction under
    an advisory lock.

    A batch commits its articles together with marking its staged entries merged, so a crash or
    a dropped connection loses nothing: what was committed is done, the rest stays pending for
    the next merge. Two merges at once take turns batch by batch and never handle the same entry
    twice. A batch that fails on its data is merged again in halves, down to single rows; a row
    that fails alone is quarantined, so it is never retried forever nor holds back newer rows.
    Each committed batch (or part of one) is added to `into` (when given) as soon as it commits,
    so a caller that catches a failure still counts what was loaded before it. A revised article
    whose page was already fetched is scored again with its body by `score_with_body`
    (articles.apply_updates); without it, with its feed text only.

    `story_keys` holds the clustering window's story keys between calls (a caller that merges
    again and again, as a poll merging while it stages, saves reading the window each time);
    without it the window is read once for this call.
    """
    total = into if into is not None else MergeResult()
    merging = _Merging(now, window, score_with_body, story_keys if story_keys is not None else StoryKeyIndex())
    while True:
        read: list[int] = []
        try:
            batch = merging.batch(conn, _PENDING_SQL, (batch_size or MERGE_BATCH,), read)
        except Exception as exc:
            if not read or not blames_the_data(exc):
                raise
            log.warning(
                "merge: a batch of %d entries failed on its data (%s); isolating the rows at fault",
                len(read),
                _short(exc),
            )
            total.batches += 1
            _merge_isolating(conn, read, merging, total)
            continue
        if batch is None:
            return total
        total.add(batch)  # committed
        total.batches += 1


@dataclass
class _Merging:
    """What every batch of one merge_pending call shares."""

    now: datetime | None
    window: timedelta
    score_with_body: BodyScorer | None
    story_keys: StoryKeyIndex

    def batch(self, conn: PgConnection, select: str, params: tuple, read: list[int]) -> MergeResult | None:
        """One transaction under the merge lock: the pending rows `select` picks, merged. None when
        none was pending. The ids read are appended to `read` (so a caller whose batch failed knows
        them); the story keys the batch adds count only if it commits."""
        self.story_keys.discard()
        try:
            with conn, conn.cursor(cursor_factory=psycopg2.extras.NamedTupleCursor) as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, MERGE_LOCK))
                cur.execute("SELECT now() AS now")
                batch_now = self.now or cur.fetchone().now
                started = time.perf_counter()
                cur.execute(select, params)
                rows = cur.fetchall()  # by id: another merge may have taken some meanwhile
                cur.execute(_PLANNER_DEFAULTS)
                if not rows:
                    return None
                read += [r.staged_id for r in rows]
                read_s = time.perf_counter() - started
                result = _merge_rows(cur, rows, batch_now, self)
                result.timings["read_staged"] = round(read_s, 4)
        except BaseException:
            self.story_keys.discard()
            raise
        self.story_keys.commit()
        return result


def _merge_isolating(conn: PgConnection, ids: list[int], merging: _Merging, result: MergeResult) -> None:
    """Merge `ids` in ever smaller parts, in staging order, until every part either commits or is
    a single row that fails alone (quarantined). Each part is added to `result` as it commits."""
    parts = [ids]
    while parts:
        part = parts.pop()
        try:
            part_result = merging.batch(conn, _PENDING_BY_ID_SQL, (part,), [])
        except Exception as exc:
            if not blames_the_data(exc):
                raise
            if len(part) == 1:
                result.quarantined += quarantine(conn, part[0], exc)
            else:
                half = len(part) // 2
                parts += [part[half:], part[:half]]  # the first half is merged first
            continue
        if part_result is not None:
            result.add(part_result)


def quarantine(conn: PgConnection, staged_id: int, exc: BaseException) -> bool:
    """Take one staged entry out of the merge for good: mark it failed and keep it, with the
    error, in news.rejects. False when another merge already took the entry."""
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
        return cur.rowcount > 0


def _short(exc: BaseException, limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {str(exc).strip()}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- one batch: read, decide, apply ------------------------------------------------------------


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
        fingerprint=fingerprint_of(row),
    )


def _merge_rows(cur, rows, now: datetime, merging: _Merging) -> MergeResult:
    watch = Stopwatch()
    staged = {r.staged_id: r for r in rows}
    entries = [_entry(r) for r in rows]
    with watch("read_known"):
        known = read_known(cur, entries)
    with watch("plan_merge"):
        plan = plan_merge(entries, *known)
    new = NewArticles(cur, plan, staged)
    with watch("candidates"):
        since = now - merging.window
        update_story_keys(cur, merging.story_keys, since)
        candidates = story_candidates(cur, merging.story_keys, new.all_keys(), since)
        story_texts = texts_of_stories_with_headline_only_candidates(cur, candidates, since)
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
    new.index_keys(merging.story_keys)
    with watch("revisions"):
        revised_stories, relevant_updates = apply_updates(
            cur, plan, staged, merging.story_keys, merging.score_with_body
        )
    with watch("write_sightings"):
        write_identity(cur, plan, staged, new, max(e.seen_at for e in entries))
    grown = sorted(new.grown_stories() | revised_stories)
    if grown:
        with watch("refresh_stories"):
            refresh_stories(cur, grown)
    with watch("mark_staged"):
        _mark_staged(cur, entries, plan, now)
    result = _result(plan, new, relevant_updates)
    result.timings = watch.as_dict()
    return result


def _result(plan: MergePlan, new: NewArticles, relevant_updates: set[int]) -> MergeResult:
    outcomes = list(plan.outcomes.values())
    return MergeResult(
        entries=len(outcomes),
        new=len(new.refs),
        updated=outcomes.count("updated"),  # entries, like `new` and `sightings`
        sightings=outcomes.count("sighting"),
        relevant=sum(1 for t in new.texts.values() if t.is_relevant) + len(relevant_updates),
        stories_new=len(new.stories.new_stories),
        stories_joined=len(new.refs) - len(new.stories.new_stories),
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
