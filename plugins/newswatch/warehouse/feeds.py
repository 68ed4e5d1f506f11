"""The feeds table: sync with the feeds file, polling state, and per-host fetch slots."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from dataclasses import dataclass

import psycopg2.errors

from ..config import FeedConfig
from ..errors import HostBusy
from ..feedstate import FeedState
from .db import FEED_CLAIM_NAMESPACE, HOST_SLOT_NAMESPACE, PgConnection


def sync_feeds(conn: PgConnection, feeds: list[FeedConfig]) -> None:
    """Make news.feeds match the feeds file. A feed removed from the file is kept (its history
    stays queryable) but marked `in_config = false` and no longer polled; a changed URL in the
    file resets the polled URL and any redirect or 410 state."""
    with conn, conn.cursor() as cur:
        for feed in feeds:
            cur.execute(
                """
                INSERT INTO news.feeds AS f (name, url, config_url, outlet, outlet_type, language, timezone,
                                             enabled, in_config)
                VALUES (%(name)s, %(url)s, %(url)s, %(outlet)s, %(outlet_type)s, %(language)s, %(timezone)s,
                        %(enabled)s, true)
                ON CONFLICT (name) DO UPDATE SET
                    outlet = EXCLUDED.outlet,
                    outlet_type = EXCLUDED.outlet_type,
                    language = EXCLUDED.language,
                    timezone = EXCLUDED.timezone,
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
                {
                    "name": feed.name,
                    "url": feed.url,
                    "outlet": feed.outlet,
                    "outlet_type": feed.outlet_type,
                    "language": feed.language,
                    "timezone": feed.timezone,
                    "enabled": feed.enabled,
                },
            )
        cur.execute(
            "UPDATE news.feeds SET in_config = false, updated_at = now() WHERE in_config AND NOT (name = ANY(%s))",
            ([f.name for f in feeds],),
        )


def sync_outlet_types(conn: PgConnection, types: dict[str, str]) -> None:
    """Make news.outlet_types the publisher -> type mapping of config/outlets.yaml."""
    with conn, conn.cursor() as cur:
        keys = {name.lower(): (name, kind) for name, kind in types.items()}
        cur.execute("DELETE FROM news.outlet_types WHERE NOT (outlet_key = ANY(%s))", (sorted(keys),))
        for key, (name, kind) in sorted(keys.items()):
            cur.execute(
                """INSERT INTO news.outlet_types (outlet_key, outlet, outlet_type) VALUES (%s, %s, %s)
                           ON CONFLICT (outlet_key) DO UPDATE SET outlet = EXCLUDED.outlet,
                               outlet_type = EXCLUDED.outlet_type
                           WHERE (news.outlet_types.outlet, news.outlet_types.outlet_type)
                                 IS DISTINCT FROM (EXCLUDED.outlet, EXCLUDED.outlet_type)""",
                (key, name, kind),
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
    config_url: str | None = None  # as loaded: the state is written back only if it is unchanged
    timezone: str | None = None


def load_feed(conn: PgConnection, name: str) -> FeedInfo:
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT {_STATE_COLUMNS}, outlet, language, config_url, timezone FROM news.feeds WHERE name = %s", (name,)
        )
        row = cur.fetchone()
    conn.rollback()
    if row is None:
        raise KeyError(f"feed {name!r} is not in news.feeds (is it in the feeds file?)")
    return FeedInfo(
        name=name, outlet=row[-4], language=row[-3], state=FeedState(*row[:-4]), config_url=row[-2], timezone=row[-1]
    )


def set_feed_disabled(conn: PgConnection, name: str, reason: str | None) -> bool:
    with conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE news.feeds SET disabled_reason = %s, next_poll_at = NULL, "
            "consecutive_failures = CASE WHEN %s IS NULL THEN 0 ELSE consecutive_failures END, "
            "updated_at = now() WHERE name = %s",
            (reason, reason, name),
        )
        return cur.rowcount == 1


# --- per-host politeness --------------------------------------------------------------------


def _host_key(host: str) -> int:
    # one 32-bit advisory-lock key per (host, slot), in its own namespace (the first key)
    return int.from_bytes(hashlib.blake2b(host.encode(), digest_size=4).digest(), "big", signed=True)


@contextlib.contextmanager
def host_slot(conn: PgConnection, host: str, slots: int, wait_seconds: float = 600):
    """Hold one of `slots` advisory locks for `host` while fetching from it, so at most `slots`
    requests go to one host at once across every worker process and machine that shares the
    warehouse. Free slots are tried first; when all are busy the poll waits in PostgreSQL on one
    of them (no polling loop), and raises HostBusy when that takes longer than `wait_seconds`.
    `conn` must be in autocommit mode: the lock is session-level."""
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
            except psycopg2.errors.LockNotAvailable:
                raise HostBusy(
                    f"all {slots} fetch slot(s) for {host} stayed busy for "
                    f"{wait_seconds:.0f}s; the feed is polled next run"
                ) from None
            finally:
                cur.execute("RESET lock_timeout")
            held = key
    try:
        yield held
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", (HOST_SLOT_NAMESPACE, held))


@contextlib.contextmanager
def spare_host_slot(conn: PgConnection, host: str, slots: int):
    """The last of `host`'s fetch slots, only if it is free right now (yields False otherwise):
    article pages are fetched in the slot feed polls reach for last and never wait for one, so
    full-text fetching cannot hold up a poll by more than one page fetch. Autocommit `conn`."""
    key = (_host_key(host) + slots - 1) & 0x7FFFFFFF
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", (HOST_SLOT_NAMESPACE, key))
        held = cur.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with contextlib.suppress(psycopg2.Error), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s, %s)", (HOST_SLOT_NAMESPACE, key))


@contextlib.contextmanager
def claim(conn: PgConnection, name: str):
    """Claim feed `name` for the length of a poll: yields True when this connection holds it,
    False when another poll (another run, another worker) does. The claim is a session-level
    advisory lock on the feed's id, so it ends with the poll or with its connection, however
    either ends, and never outlives a crashed worker."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT feed_id, pg_try_advisory_lock(%s, feed_id::int) FROM news.feeds WHERE name = %s",
            (FEED_CLAIM_NAMESPACE, name),
        )
        row = cur.fetchone()
    conn.rollback()
    held = bool(row and row[1])
    try:
        yield held
    finally:
        if held:
            # a connection that broke meanwhile released the claim with its session
            with contextlib.suppress(psycopg2.Error), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s, %s)", (FEED_CLAIM_NAMESPACE, int(row[0])))
            with contextlib.suppress(psycopg2.Error):
                conn.rollback()
