"""The daily stage: rollups, data-quality checks, the digest, and retention, for one UTC day.

Every function takes the day explicitly (the DAG passes its data interval), and every write
first deletes that day's rows in the same transaction, so re-running or backfilling a past day
recomputes exactly that day. The checks and the digest are pure functions over the figures the
SQL in sql/daily/ returns.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from .config import DailySettings, Thresholds
from .warehouse import daily as store
from .warehouse.daily import day_window, refresh_rollups

__all__ = [
    "CHECKS",
    "CheckResult",
    "Thresholds",
    "apply_retention",
    "day_window",
    "evaluate_checks",
    "refresh_rollups",
    "render_digest",
    "run_checks",
    "topic_labels",
    "write_digest",
]


# --- data quality ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    value: float | None
    threshold: str
    detail: str


CHECKS = ("feed_freshness", "relevant_volume", "duplicate_ratio", "ingest_lag", "merge_failures")


def evaluate_checks(metrics: dict, thresholds: Thresholds, day: date | None = None) -> dict[str, CheckResult]:
    """Judge one day's figures; every detail names the day. A check with nothing to judge passes
    and says so; a day on which nothing was fetched is reported as that, not as a volume
    problem, and a day before newswatch ran at all has nothing to judge."""
    on = f"{day:%Y-%m-%d}: " if day else ""
    active, fetches = int(metrics.get("active_feeds") or 0), metrics.get("fetches")
    if active == 0 and not fetches:
        why = f"{on}nothing to judge: no feed was configured before the day ended (newswatch was not running yet)"
        return {name: CheckResult(name, True, None, "", why) for name in CHECKS}
    results = {}
    stale = list(metrics.get("stale_feeds") or [])
    results["feed_freshness"] = CheckResult(
        "feed_freshness",
        not stale,
        float(len(stale)),
        "0 feeds without a successful fetch in 24 h",
        (
            f"{on}{len(stale)} of {active} active feeds had no successful fetch in the day's last 24 hours: "
            f"{', '.join(stale[:20])}{' …' if len(stale) > 20 else ''}"
        )
        if stale
        else f"{on}all {active} active feeds fetched successfully",
    )
    relevant = int(metrics.get("relevant_articles") or 0)
    results["relevant_volume"] = CheckResult(
        "relevant_volume",
        relevant >= thresholds.min_relevant,
        float(relevant),
        f">= {thresholds.min_relevant} relevant articles",
        f"{on}no feed was fetched that day, so nothing was loaded (is the polling DAG running? see feed_freshness)"
        if fetches == 0
        else f"{on}{relevant} relevant articles among {metrics.get('new_articles', 0)} new ones",
    )
    merged = int(metrics.get("merged_entries") or 0)
    low, high = thresholds.duplicate_ratio
    if merged:
        ratio = int(metrics.get("duplicate_entries") or 0) / merged
        results["duplicate_ratio"] = CheckResult(
            "duplicate_ratio",
            low <= ratio <= high,
            round(ratio, 4),
            f"between {low} and {high}",
            f"{on}{ratio:.1%} of {merged} merged entries were already known "
            + (
                "(everything a duplicate: is canonicalisation collapsing distinct articles?)"
                if ratio > high
                else "(nothing a duplicate: is dedupe working?)"
                if ratio < low
                else ""
            ),
        )
    else:
        results["duplicate_ratio"] = CheckResult(
            "duplicate_ratio", True, None, f"between {low} and {high}", f"{on}no entries were merged that day"
        )
    failed = int(metrics.get("failed_entries") or 0)
    results["merge_failures"] = CheckResult(
        "merge_failures",
        failed == 0,
        float(failed),
        "0 staged entries the merge could not load",
        (
            f"{on}{failed} staged entries could not be loaded and are in news.rejects (reason merge_failed), "
            "with the database's error"
        )
        if failed
        else f"{on}every merged entry loaded",
    )
    lag = metrics.get("lag_median_hours")
    if lag is None:
        results["ingest_lag"] = CheckResult(
            "ingest_lag",
            True,
            None,
            f"median <= {thresholds.max_lag_hours} h",
            f"{on}no article with a publication time was first seen that day",
        )
    else:
        p90 = metrics.get("lag_p90_hours")
        results["ingest_lag"] = CheckResult(
            "ingest_lag",
            lag <= thresholds.max_lag_hours,
            round(float(lag), 2),
            f"median <= {thresholds.max_lag_hours} h",
            f"{on}publish -> ingest lag: median {lag:.1f} h, p90 {float(p90 or 0):.1f} h",
        )
    return results


def run_checks(conn, day: date, thresholds: Thresholds | None = None) -> dict[str, CheckResult]:
    results = evaluate_checks(store.collect_metrics(conn, day), thresholds or Thresholds.from_env(), day)
    store.record_checks(conn, day, results.values())
    return results


# --- digest ---------------------------------------------------------------------------------


def topic_labels(settings: DailySettings | None = None) -> dict[str, str]:
    """Topic -> label, from the relevance rules (config/topics.yaml), in their order."""
    from .relevance import load_rules

    return dict(load_rules((settings or DailySettings.from_env()).topics_path).topic_labels)


# the characters that mean something inside a Markdown line (what only matters at a line's start,
# like "#" or "1.", cannot occur there: every headline follows "- " or "[")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()|<>~&])")


def md_text(text: str) -> str:
    """Text that Markdown shows as it is: every character with a meaning there escaped, so a
    headline cannot open a link, an image, a heading or raw HTML."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def md_url(url: str | None) -> str | None:
    """A link target Markdown cannot misread: http(s) only, with spaces, brackets and angle
    brackets percent-encoded; anything else (javascript:, data:) is no link at all."""
    if not url or not re.match(r"(?i)^https?://", url):
        return None
    return (
        quote(url, safe="/:?#[]@!$&'*+,;=%~-._")
        .replace("(", "%28")
        .replace(")", "%29")
        .replace("[", "%5B")
        .replace("]", "%5D")
    )


def render_digest(
    day: date, stories: list[dict], labels: dict[str, str], top: int = 10, per_topic: int = 3
) -> tuple[str, str]:
    """Markdown and HTML for the day: top stories by reach, then the leading stories per topic
    (`labels`: topic -> label, in the order the sections should come)."""
    title = f"US–China coverage, {day:%A %d %B %Y} (UTC)"
    md = [f"# {title}", ""]
    h = [f"<h1>{html.escape(title)}</h1>"]
    if not stories:
        md.append("No relevant story was first seen this day.")
        h.append("<p>No relevant story was first seen this day.</p>")
        return "\n".join(md) + "\n", "\n".join(h)

    def reach(s):
        return (
            f"{s['outlet_count']} outlet{'s' if s['outlet_count'] != 1 else ''}, "
            f"{s['article_count']} article{'s' if s['article_count'] != 1 else ''}"
        )

    def line_md(s):
        topics = ", ".join(md_text(labels.get(t, t)) for t in s["topics"])
        url = md_url(s.get("url"))
        link = f"[{md_text(s['headline'])}](<{url}>)" if url else md_text(s["headline"])
        return (
            f"- {link} — {reach(s)} (first: {md_text(s['first_outlet'] or 'unknown')}){'; ' + topics if topics else ''}"
        )

    def line_html(s):
        topics = ", ".join(html.escape(labels.get(t, t)) for t in s["topics"])
        head = html.escape(s["headline"])
        url = md_url(s.get("url"))
        link = f'<a href="{html.escape(url, quote=True)}">{head}</a>' if url else head
        return (
            f"<li>{link} — {reach(s)} "
            f"(first: {html.escape(s['first_outlet'] or 'unknown')}){'; ' + topics if topics else ''}</li>"
        )

    md += [f"## Top stories by reach ({min(top, len(stories))} of {len(stories)})", ""]
    md += [line_md(s) for s in stories[:top]]
    h += ["<h2>Top stories by reach</h2>", "<ol>"] + [line_html(s) for s in stories[:top]] + ["</ol>"]
    md += ["", "## By topic", ""]
    h += ["<h2>By topic</h2>"]
    for topic, label in labels.items():
        chosen = [s for s in stories if topic in s["topics"]][:per_topic]
        if not chosen:
            continue
        md += [f"### {md_text(label)}", ""] + [line_md(s) for s in chosen] + [""]
        h += [f"<h3>{html.escape(label)}</h3>", "<ul>"] + [line_html(s) for s in chosen] + ["</ul>"]
    return "\n".join(md).rstrip() + "\n", "\n".join(h)


def write_digest(conn, day: date) -> int:
    stories = store.top_stories(conn, day)
    markdown, html_text = render_digest(day, stories, topic_labels())
    store.store_digest(conn, day, len(stories), markdown, html_text)
    return len(stories)


# --- retention ------------------------------------------------------------------------------


def apply_retention(conn, day: date, staging_days: int | None = None) -> dict[str, int]:
    """Delete merged staging rows older than `staging_days` (NEWSWATCH_STAGING_RETENTION_DAYS)
    before the day's end."""
    if staging_days is None:
        staging_days = DailySettings.from_env().staging_retention_days
    return store.apply_retention(conn, day, staging_days)
