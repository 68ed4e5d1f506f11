"""The merge's identity writes: sightings (which feed carried which article), URL and GUID
aliases (every name an article went by), and feeds caught recycling GUIDs."""

from __future__ import annotations

import logging
from datetime import datetime

from ..dedupe import MergePlan
from .articles import NewArticles
from .db import copy_rows

log = logging.getLogger("newswatch.warehouse")


def write_identity(cur, plan: MergePlan, staged: dict, new: NewArticles, latest_seen: datetime) -> None:
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
SIGHTING_COLUMNS = (
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
        SIGHTING_COLUMNS,
        (
            (
                resolve(s.article_ref),
                s.feed_name,
                s.url,
                s.guid,
                staged[s.staged_id].outlet,
                s.first_seen_at or s.seen_at,
                s.seen_at,
                s.times,
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
               last_seen_at, times_seen, content_hash)
           SELECT article_id, feed_name, url, guid, outlet, first_seen_at, last_seen_at, times_seen, content_hash
           FROM merge_sightings
           ON CONFLICT (article_id, feed_name) DO UPDATE SET
               url = EXCLUDED.url,
               guid = coalesce(EXCLUDED.guid, s.guid),
               last_seen_at = greatest(s.last_seen_at, EXCLUDED.last_seen_at),
               times_seen = s.times_seen + EXCLUDED.times_seen,
               content_hash = EXCLUDED.content_hash"""
    )
    cur.execute(
        "UPDATE news.articles SET last_seen_at = greatest(last_seen_at, %s) WHERE article_id = ANY(%s)",
        (latest_seen, sorted({s.article_ref for s in sightings})),
    )
