"""Story clustering state in the warehouse: the window's story keys (kept in memory, read from the
articles' fingerprints), candidates, story figures, and stories regrouped by their articles'
bodies once full text arrives."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..dedupe import StoryCandidate, StoryMember, regroup_by_body
from ..fingerprints import Fingerprint, body_fingerprint, comparable_body
from ..story_index import StoryKeyIndex

STORY_WINDOW = timedelta(days=7)


def update_story_keys(cur, index: StoryKeyIndex, since: datetime) -> None:
    """Bring the in-memory story keys up to date with the warehouse, under the merge's lock: on
    first use every article in the clustering window (first seen, or revised, since `since`),
    then only the articles other merges added meanwhile. (An article another process revises
    keeps its earlier keys here until the next process reads the window afresh; the candidates'
    fingerprints and stories are always read from the warehouse.)"""
    newest = None
    if index.loaded:
        cur.execute(
            f"""{_WINDOW_SELECT} WHERE a.article_id > %(after)s
                AND (a.first_seen_at >= %(since)s OR a.updated_at >= %(since)s)""",
            {"after": index.high_water, "since": since},
        )
    else:
        cur.execute("SELECT coalesce(max(article_id), 0) FROM news.articles")
        newest = cur.fetchone()[0]
        cur.execute(
            f"{_WINDOW_SELECT} WHERE a.first_seen_at >= %(since)s OR a.updated_at >= %(since)s", {"since": since}
        )
    rows = cur.fetchall()
    if rows:
        ids, seen, signatures, title_keys = zip(*rows, strict=True)
        index.add(ids, [bytes(s) for s in signatures], title_keys, seen)
    if newest is not None:  # only once the window is in: a read that failed is read again
        index.high_water, index.loaded = max(index.high_water, newest), True


_WINDOW_SELECT = """SELECT a.article_id, coalesce(a.updated_at, a.first_seen_at), f.signature, f.title_key
    FROM news.articles a JOIN news.article_fingerprints f USING (article_id)"""


def story_candidates(cur, index: StoryKeyIndex, keys: set[int], since: datetime) -> list[StoryCandidate]:
    """Known articles sharing a band key with the new ones, within the clustering window, with
    the keys they matched on (so they need not be recomputed), their story and fingerprint as
    the warehouse has them now."""
    if not keys:
        return []
    matched = index.matches(keys, since)
    if not matched:
        return []
    # in article order, so that equally good candidates are tried in the same order every time
    cur.execute(
        """SELECT f.article_id, a.story_id, f.signature, f.shingle_count, f.title_key, f.has_summary, f.title_dates
           FROM news.article_fingerprints f JOIN news.articles a USING (article_id)
           WHERE f.article_id = ANY(%s) AND a.story_id IS NOT NULL ORDER BY f.article_id""",
        (list(matched),),
    )
    return [
        StoryCandidate(
            r.article_id,
            r.story_id,
            Fingerprint(bytes(r.signature), r.shingle_count, r.title_key, r.has_summary, r.title_dates),
            keys=matched[r.article_id],
        )
        for r in cur.fetchall()
    ]


def texts_of_stories_with_headline_only_candidates(
    cur, candidates: list[StoryCandidate], since: datetime
) -> dict[int, list[Fingerprint]]:
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
            Fingerprint(bytes(r.signature), r.shingle_count, r.title_key, r.has_summary, r.title_dates)
        )
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
               first_published_at = f.published_at, topics = coalesce(tp.topics, '{}')
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
           -- grouped once, not a subquery per story: per story the planner combined the
           -- story index with the relevant-day index and read 35,000 entries each time
           LEFT JOIN (SELECT a.story_id, array_agg(DISTINCT t ORDER BY t) AS topics
                      FROM news.articles a, unnest(a.topics) AS t
                      WHERE a.is_relevant AND (%(all)s OR a.story_id = ANY(%(ids)s))
                      GROUP BY a.story_id) tp ON tp.story_id = x.story_id
           WHERE s.story_id = x.story_id""",
        {"all": story_ids is None, "ids": story_ids or []},
    )


def store_body_fingerprint(cur, article_id: int, fp: Fingerprint) -> None:
    cur.execute(
        "UPDATE news.article_fingerprints SET body_signature = %s, body_shingle_count = %s WHERE article_id = %s",
        (fp.signature, fp.shingle_count, article_id),
    )


def regroup_family_by_bodies(cur, story_id: int) -> int:
    """Regroup the family of `story_id` (the story it was split from, or itself, and every story
    split from that) by its articles' bodies (dedupe.regroup_by_body): move articles whose body
    is a different text into stories of their own, refresh the stories they left and joined, and
    drop stories left empty. Returns how many articles moved. The caller holds the merge's lock,
    since a merge may be placing new articles in these stories."""
    cur.execute("SELECT coalesce(split_from, story_id) FROM news.stories WHERE story_id = %s", (story_id,))
    row = cur.fetchone()
    if row is None:
        return 0
    family = row[0]
    # a body stored before bodies were fingerprinted (migration 0012) has no body signature: it
    # is fingerprinted here, from the same stored text a fetch today would fingerprint, and kept
    cur.execute(
        """SELECT a.article_id, a.story_id, a.first_seen_at, f.body_signature, f.body_shingle_count,
                  CASE WHEN f.body_signature IS NULL THEN a.body END
           FROM news.stories s JOIN news.articles a ON a.story_id = s.story_id
           LEFT JOIN news.article_fingerprints f ON f.article_id = a.article_id
           WHERE s.story_id = %(family)s OR s.split_from = %(family)s""",
        {"family": family},
    )
    members = []
    for article_id, story, seen, signature, shingles, unfingerprinted_body in cur.fetchall():
        body = Fingerprint(bytes(signature), shingles, None, True, None) if signature is not None else None
        if body is None and unfingerprinted_body:
            body = body_fingerprint(unfingerprinted_body)
            store_body_fingerprint(cur, article_id, body)
        members.append(StoryMember(article_id, story, seen, body))
    if sum(1 for m in members if comparable_body(m.body)) < 2:
        return 0
    plan = regroup_by_body(members, family)
    if not plan.moves:
        return 0
    new_ids = {}
    for ref in plan.new_stories:  # figures come from refresh_stories below
        cur.execute(
            """INSERT INTO news.stories (headline, first_seen_at, last_seen_at, split_from)
               VALUES ('', now(), now(), %s) RETURNING story_id""",
            (family,),
        )
        new_ids[ref] = cur.fetchone()[0]
    moves = {article: new_ids.get(story, story) for article, story in plan.moves.items()}
    cur.execute(
        """UPDATE news.articles a SET story_id = m.story_id
           FROM unnest(%s::bigint[], %s::bigint[]) AS m(article_id, story_id)
           WHERE a.article_id = m.article_id""",
        (list(moves), list(moves.values())),
    )
    touched = sorted({m.story_id for m in members if m.article_id in moves} | set(moves.values()))
    refresh_stories(cur, touched)
    cur.execute(
        """DELETE FROM news.stories s WHERE s.story_id = ANY(%s)
           AND NOT EXISTS (SELECT 1 FROM news.articles a WHERE a.story_id = s.story_id)""",
        (touched,),
    )
    return len(moves)
