"""The daily stage: rollups, data-quality checks, the digest, and retention, for one UTC day.

Every function takes the day explicitly (the DAG passes its data interval), and every write
first deletes that day's rows in the same transaction, so re-running or backfilling a past day
recomputes exactly that day. The checks and the digest are pure functions over the figures the
SQL in sql/daily/ returns.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from psycopg2.extras import RealDictCursor

from . import warehouse
from .config import ConfigError, env_number


def day_window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


def _sql(name: str) -> str:
    return (warehouse.sql_dir() / "daily" / f"{name}.sql").read_text(encoding="utf-8")


def _params(day: date, **extra) -> dict:
    start, end = day_window(day)
    return {"day": day, "start": start, "end": end, **extra}


# --- rollups --------------------------------------------------------------------------------

ROLLUPS = {"topics": "daily_topic_rollup", "outlets": "daily_outlet_rollup", "feeds": "daily_feed_rollup"}


def refresh_rollups(conn, day: date) -> dict[str, int]:
    """Recompute the day's rows of every rollup table; returns rows written per rollup."""
    written = {}
    with conn, conn.cursor() as cur:
        for name, table in ROLLUPS.items():
            cur.execute(f"DELETE FROM news.{table} WHERE day = %s", (day,))
            cur.execute(_sql(f"rollup_{name}"), _params(day))
            written[name] = cur.rowcount
    return written


# --- data quality ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Thresholds:
    min_relevant: int = 1
    duplicate_ratio: tuple[float, float] = (0.0, 0.99)
    max_lag_hours: float = 12.0

    @classmethod
    def from_env(cls, environ=os.environ) -> "Thresholds":
        raw = environ.get("NEWSWATCH_DQ_DUPLICATE_RATIO", "0.0,0.99")
        try:
            low, high = (float(x) for x in raw.split(","))
        except ValueError:
            raise ConfigError(f"NEWSWATCH_DQ_DUPLICATE_RATIO={raw!r}: expected two numbers like 0.0,0.99") from None
        return cls(
            min_relevant=env_number("NEWSWATCH_DQ_MIN_RELEVANT", 1, cast=int, environ=environ),
            duplicate_ratio=(low, high),
            max_lag_hours=env_number("NEWSWATCH_DQ_MAX_LAG_HOURS", 12, environ=environ),
        )


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    value: float | None
    threshold: str
    detail: str


CHECKS = ("feed_freshness", "relevant_volume", "duplicate_ratio", "ingest_lag")


def evaluate_checks(metrics: dict, thresholds: Thresholds) -> dict[str, CheckResult]:
    """Judge the day's figures. A check with nothing to judge passes and says so."""
    results = {}
    stale = list(metrics.get("stale_feeds") or [])
    results["feed_freshness"] = CheckResult(
        "feed_freshness", not stale, float(len(stale)), "0 feeds without a successful fetch in 24 h",
        (f"{len(stale)} of {metrics.get('active_feeds', 0)} feeds had no successful fetch in the 24 hours "
         f"before the day ended: {', '.join(stale[:20])}{' …' if len(stale) > 20 else ''}")
        if stale else f"all {metrics.get('active_feeds', 0)} active feeds fetched successfully",
    )
    relevant = int(metrics.get("relevant_articles") or 0)
    results["relevant_volume"] = CheckResult(
        "relevant_volume", relevant >= thresholds.min_relevant, float(relevant),
        f">= {thresholds.min_relevant} relevant articles",
        f"{relevant} relevant articles among {metrics.get('new_articles', 0)} new ones",
    )
    merged = int(metrics.get("merged_entries") or 0)
    low, high = thresholds.duplicate_ratio
    if merged:
        ratio = int(metrics.get("duplicate_entries") or 0) / merged
        results["duplicate_ratio"] = CheckResult(
            "duplicate_ratio", low <= ratio <= high, round(ratio, 4), f"between {low} and {high}",
            f"{ratio:.1%} of {merged} merged entries were already known "
            + ("(everything a duplicate: is canonicalisation collapsing distinct articles?)" if ratio > high else
               "(nothing a duplicate: is dedupe working?)" if ratio < low else ""),
        )
    else:
        results["duplicate_ratio"] = CheckResult("duplicate_ratio", True, None, f"between {low} and {high}",
                                                 "no entries were merged that day")
    lag = metrics.get("lag_median_hours")
    if lag is None:
        results["ingest_lag"] = CheckResult("ingest_lag", True, None, f"median <= {thresholds.max_lag_hours} h",
                                            "no article with a publication time was first seen that day")
    else:
        p90 = metrics.get("lag_p90_hours")
        results["ingest_lag"] = CheckResult(
            "ingest_lag", lag <= thresholds.max_lag_hours, round(float(lag), 2),
            f"median <= {thresholds.max_lag_hours} h",
            f"publish -> ingest lag: median {lag:.1f} h, p90 {float(p90 or 0):.1f} h",
        )
    return results


def collect_metrics(conn, day: date) -> dict:
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(_sql("metrics"), _params(day))
        row = dict(cur.fetchone())
    conn.rollback()
    return row


def record_checks(conn, day: date, results: dict[str, CheckResult]) -> None:
    with conn, conn.cursor() as cur:
        for r in results.values():
            cur.execute(
                """INSERT INTO news.quality_checks (day, check_name, passed, value, threshold, detail)
                   VALUES (%s, %s, %s, %s, %s, %s)
                   ON CONFLICT (day, check_name) DO UPDATE SET passed = EXCLUDED.passed,
                       value = EXCLUDED.value, threshold = EXCLUDED.threshold, detail = EXCLUDED.detail,
                       checked_at = now()""",
                (day, r.name, r.passed, r.value, r.threshold, r.detail),
            )


def run_checks(conn, day: date, thresholds: Thresholds | None = None) -> dict[str, CheckResult]:
    results = evaluate_checks(collect_metrics(conn, day), thresholds or Thresholds.from_env())
    record_checks(conn, day, results)
    return results


# --- digest ---------------------------------------------------------------------------------

def topic_labels() -> dict[str, str]:
    """Topic -> label, from the relevance rules (config/topics.yaml), in their order."""
    from .relevance import load_rules

    return dict(load_rules(os.environ.get("NEWSWATCH_TOPICS")).topic_labels)


def top_stories(conn, day: date, limit: int = 50) -> list[dict]:
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(_sql("top_stories"), _params(day, limit=limit))
        rows = [dict(r) for r in cur.fetchall()]
    conn.rollback()
    return rows


def render_digest(day: date, stories: list[dict], labels: dict[str, str], top: int = 10,
                  per_topic: int = 3) -> tuple[str, str]:
    """Markdown and HTML for the day: top stories by reach, then the leading stories per topic
    (`labels`: topic -> label, in the order the sections should come)."""
    title = f"US–China coverage, {day:%A %d %B %Y} (UTC)"
    md = [f"# {title}", ""]
    h = [f"<h1>{html.escape(title)}</h1>"]
    if not stories:
        md.append("No relevant story was first seen this day.")
        h.append("<p>No relevant story was first seen this day.</p>")
        return "\n".join(md) + "\n", "\n".join(h)

    def line_md(s):
        topics = ", ".join(labels.get(t, t) for t in s["topics"])
        link = f"[{s['headline']}]({s['url']})" if s.get("url") else s["headline"]
        return (f"- {link} — {s['outlet_count']} outlet{'s' if s['outlet_count'] != 1 else ''}, "
                f"{s['article_count']} article{'s' if s['article_count'] != 1 else ''}"
                f" (first: {s['first_outlet'] or 'unknown'}){'; ' + topics if topics else ''}")

    def line_html(s):
        topics = ", ".join(html.escape(labels.get(t, t)) for t in s["topics"])
        head = html.escape(s["headline"])
        link = f'<a href="{html.escape(s["url"], quote=True)}">{head}</a>' if s.get("url") else head
        return (f"<li>{link} — {s['outlet_count']} outlets, {s['article_count']} articles "
                f"(first: {html.escape(s['first_outlet'] or 'unknown')}){'; ' + topics if topics else ''}</li>")

    md += [f"## Top stories by reach ({min(top, len(stories))} of {len(stories)})", ""]
    md += [line_md(s) for s in stories[:top]]
    h += ["<h2>Top stories by reach</h2>", "<ol>"] + [line_html(s) for s in stories[:top]] + ["</ol>"]
    md += ["", "## By topic", ""]
    h += ["<h2>By topic</h2>"]
    for topic, label in labels.items():
        chosen = [s for s in stories if topic in s["topics"]][:per_topic]
        if not chosen:
            continue
        md += [f"### {label}", ""] + [line_md(s) for s in chosen] + [""]
        h += [f"<h3>{html.escape(label)}</h3>", "<ul>"] + [line_html(s) for s in chosen] + ["</ul>"]
    return "\n".join(md).rstrip() + "\n", "\n".join(h)


def write_digest(conn, day: date) -> int:
    stories = top_stories(conn, day)
    markdown, html_text = render_digest(day, stories, topic_labels())
    with conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO news.digests (day, stories, markdown, html) VALUES (%s, %s, %s, %s)
               ON CONFLICT (day) DO UPDATE SET stories = EXCLUDED.stories, markdown = EXCLUDED.markdown,
                   html = EXCLUDED.html, created_at = now()""",
            (day, len(stories), markdown, html_text),
        )
    return len(stories)


# --- retention ------------------------------------------------------------------------------

def apply_retention(conn, day: date, staging_days: int | None = None) -> dict[str, int]:
    """Delete merged staging rows older than `staging_days` before the day's end, and story band
    keys older than the clustering window (they can no longer match anything)."""
    staging_days = staging_days if staging_days is not None else env_number(
        "NEWSWATCH_STAGING_RETENTION_DAYS", 7, minimum=1, cast=int)
    _, end = day_window(day)
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM news.staged_entries WHERE merged_at IS NOT NULL AND merged_at < %s",
                    (end - timedelta(days=staging_days),))
        staged = cur.rowcount
        cur.execute("DELETE FROM news.story_bands WHERE seen_at < %s",
                    (end - warehouse.STORY_WINDOW - timedelta(days=1),))
        bands = cur.rowcount
    return {"staged_entries": staged, "story_bands": bands}
