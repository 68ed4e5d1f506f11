"""The SELECTs people read: the command line's tables, the coverage page, the demo's examples.

The long ones are files in sql/queries/, so an analyst can read and reuse them as they are."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path

from psycopg2.extras import RealDictCursor

from ..config import sql_dir_from_env
from .db import PgConnection


@cache
def _query_text(directory: Path, name: str) -> str:
    return (directory / f"{name}.sql").read_text(encoding="utf-8")


def query_text(name: str, folder: str = "queries") -> str:
    """sql/<folder>/<name>.sql, read once per process."""
    return _query_text(sql_dir_from_env() / folder, name)


def table(conn: PgConnection, sql: str, params: dict | tuple = ()) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of one read-only query, for printing as a table."""
    with conn.cursor() as cur:
        cur.execute(sql, params or None)
        rows = cur.fetchall()
        names = [d[0] for d in cur.description]
    conn.rollback()
    return names, rows


def dicts(conn: PgConnection, sql: str, params: dict | tuple = ()) -> list[dict]:
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(sql, params or None)
        rows = [dict(r) for r in cur.fetchall()]
    conn.rollback()
    return rows


def feed_health_table(conn: PgConnection) -> tuple[list[str], list[tuple]]:
    return table(conn, query_text("feed_health_table"))


STATS = (
    ("Articles per day (all / relevant)", "stats_per_day"),
    ("Relevant articles per outlet", "stats_per_outlet"),
    ("Relevant articles per topic", "stats_per_topic"),
)


def stats_tables(conn: PgConnection, days: int) -> list[tuple[str, list[str], list[tuple]]]:
    return [(title, *table(conn, query_text(name), {"days": days})) for title, name in STATS]


def coverage(conn: PgConnection, *, since: datetime, first_day: date, last_day: date, top: int) -> dict:
    """The coverage page's three panels, as rows."""
    return {
        "stories": dicts(conn, query_text("coverage_top_stories"), {"since": since, "limit": top}),
        "daily": dicts(conn, query_text("coverage_daily"), {"first_day": first_day, "last_day": last_day}),
        "feeds": dicts(conn, query_text("coverage_feed_health")),
    }


def fulltext_line(conn: PgConnection, since: float) -> str:
    """One line on the article pages attempted since `since` (a Unix time)."""
    _, rows = table(conn, "SELECT status, count(*) FROM news.article_texts WHERE fetched_at >= to_timestamp(%s) "
                          "GROUP BY status ORDER BY count(*) DESC, status", (since,))
    if not rows:
        return "full text: no article page needed fetching"
    return f"full text: {sum(n for _, n in rows)} pages fetched (" + ", ".join(f"{n} {s}" for s, n in rows) + ")"
