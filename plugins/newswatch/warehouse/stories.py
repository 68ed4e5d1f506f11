"""Story clustering state in the warehouse: candidates by LSH key, story keys, story figures, and
stories regrouped by their articles' bodies once full text arrives."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from ..dedupe import StoryCandidate, StoryMember, regroup_by_body
from ..fingerprints import Fingerprint, body_fingerprint, comparable_body, keys_of

STORY_WINDOW = timedelta(days=7)


def copy_bands(cur, articles) -> None:
    """COPY story keys, given as (keys, article_id, story_id, seen_at) per article: about 50 rows
    an article and millions on a big first poll, so each article's row tail is formatted once and
    joined onto its keys rather than going through copy_rows' per-value conversion."""
    buffer = io.StringIO()
    for keys, article, story, seen in articles:
        tail = f"\t{article}\t{story}\t{seen.isoformat()}\n"
        buffer.write(tail.join(map(str, keys)) + tail)
    buffer.seek(0)
    cur.copy_expert("COPY news.story_bands (band_key, article_id, story_id, seen_at) FROM STDIN", buffer)


def story_candidates(cur, keys: set[int], since: datetime) -> list[StoryCandidate]:
    """Known articles sharing a band key with the new ones, within the clustering window, with
    the keys they matched on (so they need not be recomputed)."""
    if not keys:
        return []
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS merge_keys (band_key bigint) ON COMMIT DELETE ROWS")
    # ~50 keys per new article, hundreds of thousands on a first poll: plain integers need none of
    # copy_rows' per-value quoting
    cur.copy_expert("COPY merge_keys (band_key) FROM STDIN", io.StringIO("\n".join(map(str, keys)) + "\n"))
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
        StoryCandidate(
            r.article_id,
            matched[r.article_id][0],
            Fingerprint(bytes(r.signature), r.shingle_count, r.title_key, r.has_summary, r.title_dates),
            keys=matched[r.article_id][1],
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


def _move_bands(cur, moves: dict[int, int]) -> None:
    """Point the moved articles' story keys at their new stories, found through the keys' hash
    index (story_bands has no index on article_id: one per row would cost every merge's COPY).
    The keys are those of each article's current text; keys of a text it had before a revision
    keep pointing at the story it left, so they may still lead a later reprint of that old text
    there."""
    cur.execute(
        """SELECT article_id, signature, shingle_count, title_key, has_summary, title_dates
           FROM news.article_fingerprints WHERE article_id = ANY(%s)""",
        (list(moves),),
    )
    rows = cur.fetchall()
    fps = [Fingerprint(bytes(r[1]), r[2], r[3], r[4], r[5]) for r in rows]
    pairs = [(key, r[0]) for r, keys in zip(rows, keys_of(fps), strict=True) for key in keys]
    if pairs:
        cur.execute(
            """UPDATE news.story_bands b SET story_id = m.story_id
               FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS m(band_key, article_id, story_id)
               WHERE b.band_key = m.band_key AND b.article_id = m.article_id""",
            ([k for k, _ in pairs], [a for _, a in pairs], [moves[a] for _, a in pairs]),
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
    _move_bands(cur, moves)
    touched = sorted({m.story_id for m in members if m.article_id in moves} | set(moves.values()))
    refresh_stories(cur, touched)
    cur.execute(
        """DELETE FROM news.stories s WHERE s.story_id = ANY(%s)
           AND NOT EXISTS (SELECT 1 FROM news.articles a WHERE a.story_id = s.story_id)""",
        (touched,),
    )
    return len(moves)
