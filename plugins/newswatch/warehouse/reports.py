"""The SELECTs people read: the command line's tables, the analyst's pages (newswatch.ui), the demo's examples.

The long ones are files in sql/queries/, so an analyst can read and reuse them as they are."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
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
    _, rows = table(
        conn,
        "SELECT status, count(*) FROM news.article_texts WHERE fetched_at >= to_timestamp(%s) "
        "GROUP BY status ORDER BY count(*) DESC, status",
        (since,),
    )
    if not rows:
        return "full text: no article page needed fetching"
    return f"full text: {sum(n for _, n in rows)} pages fetched (" + ", ".join(f"{n} {s}" for s, n in rows) + ")"


# --- the analyst's pages in the Airflow UI (newswatch.ui) ----------------------------------
# Each reads inside the caller's transaction (the pages open one read-only, repeatable-read
# transaction per request, so every panel of a page sees the same snapshot) and leaves it open.


def _rows(conn: PgConnection, name: str, params: dict | None = None) -> list[dict]:
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(query_text(name), params or None)
        return [dict(r) for r in cur.fetchall()]


def ui_warehouse(conn: PgConnection) -> dict:
    """Which warehouse this is (database, server, login) and whether it holds anything yet."""
    row = _rows(conn, "ui_warehouse")[0]
    row["host"] = conn.info.host
    row["port"] = conn.info.port
    return row


def ui_last_runs(conn: PgConnection, limit: int = 5) -> list[dict]:
    return _rows(conn, "ui_last_runs", {"limit": limit})


def ui_feed_health(conn: PgConnection) -> list[dict]:
    return _rows(conn, "ui_feed_health")


def ui_top_stories(conn: PgConnection, *, since: datetime, limit: int = 10) -> list[dict]:
    return _rows(conn, "coverage_top_stories", {"since": since, "limit": limit})


def ui_daily_topics(conn: PgConnection, *, first_day: date, last_day: date) -> list[dict]:
    return _rows(conn, "coverage_daily", {"first_day": first_day, "last_day": last_day})


def ui_top_outlets(conn: PgConnection, *, since: datetime, limit: int = 10) -> list[dict]:
    return _rows(conn, "ui_top_outlets", {"since": since, "limit": limit})


def ui_outlet_names(conn: PgConnection, *, since: datetime, limit: int = 300) -> list[str]:
    return [r["outlet"] for r in _rows(conn, "ui_outlet_names", {"since": since, "limit": limit})]


def ui_quality(conn: PgConnection, *, first_day: date) -> list[dict]:
    return _rows(conn, "ui_quality", {"first_day": first_day})


def ui_quality_latest(conn: PgConnection) -> list[dict]:
    return _rows(conn, "ui_quality_latest")


def ui_digest(conn: PgConnection, day: date) -> dict | None:
    rows = _rows(conn, "ui_digest", {"day": day})
    return rows[0] if rows else None


def ui_day_stories(conn: PgConnection, day: date, limit: int = 50) -> list[dict]:
    """The relevant stories first seen on a UTC day, by reach: the ones the day's digest lists
    (sql/daily/top_stories.sql, the daily stage's own query)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(
            query_text("top_stories", "daily"), {"start": start, "end": start + timedelta(days=1), "limit": limit}
        )
        return [dict(r) for r in cur.fetchall()]


def ui_digest_days(conn: PgConnection, limit: int = 60) -> list[dict]:
    return _rows(conn, "ui_digest_days", {"limit": limit})


def ui_story(conn: PgConnection, story_id: int) -> dict | None:
    """The story, its articles (with evidence and full text) and its sightings; None if unknown."""
    rows = _rows(conn, "ui_story", {"story_id": story_id})
    if not rows:
        return None
    return {
        "story": rows[0],
        "articles": _rows(conn, "ui_story_articles", {"story_id": story_id}),
        "sightings": _rows(conn, "ui_story_sightings", {"story_id": story_id}),
    }


ARTICLE_FILTERS = ("relevant_only", "since", "until", "topic", "outlet", "outlet_type", "language", "q")


def ui_articles(
    conn: PgConnection,
    *,
    limit: int,
    offset: int = 0,
    relevant_only: bool = True,
    since: datetime | None = None,
    until: datetime | None = None,
    topic: str | None = None,
    outlet: str | None = None,
    outlet_type: str | None = None,
    language: str | None = None,
    q: str | None = None,
) -> tuple[int, list[dict]]:
    """(how many articles match, the page of them): sql/queries/ui_articles.sql. Filters left
    None do not apply; `q` is a websearch query over title, summary and body, ranked."""
    rows = _rows(
        conn,
        "ui_articles",
        {
            "limit": limit,
            "offset": offset,
            "relevant_only": relevant_only,
            "since": since,
            "until": until,
            "topic": topic,
            "outlet": outlet,
            "outlet_type": outlet_type,
            "language": language,
            "q": q,
        },
    )
    total = rows[0]["total"] if rows else 0
    return total, [{k: v for k, v in r.items() if k != "total"} for r in rows if r["article_id"] is not None]


def ui_articles_latest(conn: PgConnection) -> dict:
    return _rows(conn, "ui_articles_latest")[0]
