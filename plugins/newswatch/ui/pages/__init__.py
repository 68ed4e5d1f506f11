"""The pages, server-rendered: data in (plain dicts from data.py), HTML out. No database, no
Airflow, no JavaScript; every value escaped (markup.e / attr), every link relative (links.py).

One module per page (coverage, story, articles, quality, digests, errors) and what they share
(common); every page's renderer is importable from here, as `pages.render_coverage`."""

from .articles import describe_filters, render_articles, render_filter_form
from .common import STATE_PILL, TITLE, score_text
from .coverage import (
    FEED_COLUMNS,
    FEED_WIDTHS,
    feed_table,
    render_banner,
    render_chart_panel,
    render_coverage,
    render_empty_warehouse,
    render_feed_health,
    render_quality_panel,
    render_top_outlets,
    render_top_stories,
)
from .digests import render_digest, render_digest_index, sanitize_digest
from .errors import ERROR_HINTS, render_error
from .quality import CHECK_TITLES, checks_table, render_quality
from .story import render_evidence, render_story

__all__ = [
    "CHECK_TITLES",
    "ERROR_HINTS",
    "FEED_COLUMNS",
    "FEED_WIDTHS",
    "STATE_PILL",
    "TITLE",
    "checks_table",
    "describe_filters",
    "feed_table",
    "render_articles",
    "render_banner",
    "render_chart_panel",
    "render_coverage",
    "render_digest",
    "render_digest_index",
    "render_empty_warehouse",
    "render_error",
    "render_evidence",
    "render_feed_health",
    "render_filter_form",
    "render_quality",
    "render_quality_panel",
    "render_story",
    "render_top_outlets",
    "render_top_stories",
    "sanitize_digest",
    "score_text",
]
