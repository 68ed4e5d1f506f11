"""The warehouse (PostgreSQL, schema `news`): the only package that talks to it.

One module per concern, behind the names callers use:

    db          connections, advisory-lock ids, COPY
    migrations  numbered forward-only migrations and the analyst views
    feeds       the feeds table: sync, polling state, per-host fetch slots
    staging     recording a fetch: fetch_log, staged entries, rejects, feed state
    merge       staged entries -> articles, sightings, revisions, stories (decided in dedupe.py),
                batch by batch; quarantine
    articles    the merge's articles: known state, new articles' rows, revisions
    sightings   the merge's sightings and URL/GUID aliases
    stories     clustering candidates, story keys, story figures
    runs        pipeline runs, summaries, rescoring
    reports     the SELECTs the command line, the coverage page and the daily stage show

All SQL is parameterised; long report queries live in sql/queries/.
"""

from .db import LOCK_NAMESPACE, MERGE_LOCK, MIGRATION_LOCK, PgConnection, connect, connection, copy_rows
from .feeds import (
    FeedInfo,
    claim,
    host_slot,
    load_feed,
    load_feed_states,
    set_feed_disabled,
    spare_host_slot,
    sync_feeds,
    sync_outlet_types,
)
from .merge import MERGE_BATCH, MergeResult, merge_pending
from .migrations import Migration, discover_migrations, migrate
from .runs import fetch_outcomes, finish_run, latest_run, rescore, start_run
from .staging import FetchRecord, RejectRow, StagedRow, record_fetch, record_internal_failure, record_skip
from .stories import STORY_WINDOW, refresh_stories

__all__ = [
    "LOCK_NAMESPACE",
    "MERGE_BATCH",
    "MERGE_LOCK",
    "MIGRATION_LOCK",
    "STORY_WINDOW",
    "FeedInfo",
    "FetchRecord",
    "MergeResult",
    "Migration",
    "PgConnection",
    "RejectRow",
    "StagedRow",
    "claim",
    "connect",
    "connection",
    "copy_rows",
    "discover_migrations",
    "fetch_outcomes",
    "finish_run",
    "host_slot",
    "latest_run",
    "load_feed",
    "load_feed_states",
    "merge_pending",
    "migrate",
    "record_fetch",
    "record_internal_failure",
    "record_skip",
    "refresh_stories",
    "rescore",
    "set_feed_disabled",
    "spare_host_slot",
    "start_run",
    "sync_feeds",
    "sync_outlet_types",
]
