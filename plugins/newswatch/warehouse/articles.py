"""The merge's articles: what the warehouse knows about a batch's entries, the batch's new
articles (ids, rows, fingerprints, story keys, COPY), and revisions of known articles."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..dedupe import KnownArticle, MergePlan, StagedEntry, StoryPlan
from ..fingerprints import Fingerprint, keys_of
from ..story_index import StoryKeyIndex
from .db import copy_rows, next_ids


def fingerprint_of(row) -> Fingerprint:
    return Fingerprint(bytes(row.signature), row.shingle_count, row.title_key, bool(row.summary), row.title_dates)


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
        # one index probe per pair: joined as sets, a planner misled by a freshly loaded table's
        # statistics read and sorted every GUID alias in the warehouse for each batch
        cur.execute(
            """SELECT k.feed_name, k.value, a.article_id
               FROM unnest(%s::text[], %s::text[]) AS k(feed_name, value)
               CROSS JOIN LATERAL (
                   SELECT article_id FROM news.article_aliases a
                   WHERE a.kind = 'guid' AND a.feed_name = k.feed_name AND a.value = k.value
                   ORDER BY a.last_seen_at DESC, a.article_id DESC LIMIT 1) a""",
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


ARTICLE_COLUMNS = (
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


class NewArticles:
    """The batch's new articles: their ids, the staged rows that give their identity and their
    text, their fingerprints and story keys, and (once clustered) their stories."""

    def __init__(self, cur, plan: MergePlan, staged: dict):
        self.plan = plan
        self.refs = sorted(plan.new_articles, reverse=True)  # -1, -2, ... in arrival order
        self.ids = dict(zip(self.refs, next_ids(cur, "news.articles', 'article_id", len(self.refs)), strict=True))
        self.rows = {ref: staged[plan.new_articles[ref]] for ref in self.refs}  # URL, first sighting
        self.texts = {ref: staged[plan.text_of[ref]] for ref in self.refs}  # the text it carries
        self.fingerprints = {ref: fingerprint_of(t) for ref, t in self.texts.items()}
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
            ARTICLE_COLUMNS,
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

    def index_keys(self, index: StoryKeyIndex) -> None:
        """Stage the new articles' story keys in the merge's index (they count once the batch
        commits)."""
        index.add(
            [self.ids[ref] for ref in self.refs],
            [self.fingerprints[ref].signature for ref in self.refs],
            [self.fingerprints[ref].title_key for ref in self.refs],
            [self.rows[ref].staged_at for ref in self.refs],
            staged=True,
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


# (title, summary, body) -> relevance.Relevance: how a revised article that already has its full
# text is scored (relevance.score_with_body with the run's rules)
BodyScorer = Callable[[str, str, str], Any]


def apply_updates(
    cur, plan: MergePlan, staged: dict, index: StoryKeyIndex, score_with_body: BodyScorer | None = None
) -> tuple[set[int], set[int]]:
    """Revisions: keep the old text in article_revisions, put the new one in place with its
    relevance and fingerprint, and stage its story keys in `index` (so clustering sees the new
    text). An article whose
    page was already fetched is scored with its new headline and summary and its stored body
    (when `score_with_body` is given), so a revision does not throw away what the body taught.
    Returns the stories of the revised articles (their relevance, topics and headline may have
    moved with the text) and the revised articles that are now relevant."""
    if not plan.updates:
        return set(), set()
    relevant: dict[int, bool] = {}
    bodies: dict[int, str] = {}
    if score_with_body is not None:
        # locked, so a body the full-text step commits meanwhile is either seen here or
        # written after this revision (texts.record scores it with the new text), never lost
        cur.execute(
            "SELECT article_id, body FROM news.articles WHERE article_id = ANY(%s) ORDER BY article_id FOR UPDATE",
            (sorted({u.article_id for u in plan.updates}),),
        )
        bodies = {row[0]: row[1] for row in cur.fetchall() if row[1] is not None}
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
        relevance = (r.relevance_score, r.is_relevant, list(r.topics), r.relevance_terms, r.relevance_version)
        if update.article_id in bodies and score_with_body is not None:
            scored = score_with_body(r.title, r.summary, bodies[update.article_id])
            relevance = (
                scored.score,
                scored.is_relevant,
                list(scored.topics),
                json.dumps(scored.terms, ensure_ascii=False),
                scored.version,
            )
        relevant[update.article_id] = relevance[1]
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
                *relevance,
                update.text_feed,
                update.article_id,
            ),
        )
    latest = {u.article_id: staged[u.staged_id] for u in plan.updates}  # the last revision of each
    replace_fingerprints(cur, ((a, fingerprint_of(r)) for a, r in latest.items()))
    cur.execute("SELECT article_id, story_id FROM news.articles WHERE article_id = ANY(%s)", (sorted(latest),))
    story = {r.article_id: r.story_id for r in cur.fetchall()}
    in_stories = [a for a in latest if story.get(a)]
    fingerprints = [fingerprint_of(latest[a]) for a in in_stories]
    index.add(
        in_stories,
        [fp.signature for fp in fingerprints],
        [fp.title_key for fp in fingerprints],
        [latest[a].staged_at for a in in_stories],
        staged=True,
    )
    return {s for s in story.values() if s is not None}, {a for a, is_relevant in relevant.items() if is_relevant}
