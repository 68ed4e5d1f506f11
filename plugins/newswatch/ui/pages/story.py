"""The story page: every article and reprint, its evidence and full text, and its sightings."""

from __future__ import annotations

from datetime import datetime

from .. import charts
from ..links import Links
from ..markup import attr, e, empty, external_link, fmt_time, layout, link, plural, section, table, when
from ..present import evidence, text_status
from .common import TITLE, score_text, topics_html, type_html


def render_evidence(terms: dict | None, labels: dict[str, str]) -> str:
    lines = evidence(terms, labels)
    if not lines:
        return '<p class="muted">No evidence recorded.</p>'
    return '<dl class="evidence">' + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in lines) + "</dl>"


def _fulltext_block(a: dict, now: datetime) -> str:
    status = a.get("text_status")
    if a.get("body") and status == "ok":
        words = a.get("text_words") or len(a["body"].split())
        return (
            f'<details class="text"><summary>Full text ({e(plural(int(words), "word"))}, fetched '
            f"{e(fmt_time(a.get('text_fetched_at')))} UTC)</summary>"
            f'<div class="fulltext" lang="{attr(a.get("language") or "")}">{e(a["body"])}</div></details>'
        )
    if status:
        detail = f": {a['text_detail']}" if a.get("text_detail") else ""
        older = " (an earlier attempt's text is kept)" if a.get("body") else ""
        return f'<p class="sub">Full text: {e(text_status(status))}{e(detail)}{e(older)}.</p>'
    return '<p class="sub">Full text: not fetched (only relevant articles\' pages are fetched, after each run).</p>'


def render_story(data: dict, links: Links) -> str:
    story, articles, sightings = data["story"], data["articles"], data["sightings"]
    labels, now = data["labels"], data["generated_at"]
    outlets = sorted({a.get("outlet") or "(unknown)" for a in articles})
    meta = (
        f"Story {e(story['story_id'])} · carried by {e(plural(int(story['outlet_count']), 'outlet'))} in "
        f"{e(plural(int(story['article_count']), 'article'))} · first: {e(story.get('first_outlet') or 'unknown')}, "
        f"seen {when(story.get('first_seen_at'), now)} UTC · last seen {when(story.get('last_seen_at'), now)} UTC · "
        + ("relevant" if story.get("is_relevant") else "not judged relevant")
    )
    body = [
        f'<p class="sub">{link(links.coverage(), "← Coverage")} · {link(links.articles(), "Articles")}</p>',
        f"<h1>{e(story['headline'])}</h1>",
        f'<p class="meta">{meta}</p>',
        f"<p>{topics_html(story.get('topics'), labels, links)}</p>",
    ]
    timeline = charts.reach_timeline(articles)
    body.append(
        section(
            "reach",
            "Reach over time",
            timeline or empty("No times recorded."),
            sub=f"{e(plural(len(outlets), 'outlet'))}, in the order they carried the story "
            "(published, or first seen by newswatch when that is earlier).",
        )
    )
    rows = []
    for a in articles:
        rows.append(
            [
                f'<a href="#article-{attr(a["article_id"])}">{e(a.get("outlet") or "(unknown)")}</a>',
                type_html(a.get("outlet_type")),
                e(a["title"]),
                when(a.get("first_seen_at"), now),
                when(a.get("published_at"), now),
                e(a.get("language") or "—"),
                topics_html(a.get("topics"), labels),
                e(score_text(a)) + ("" if a.get("is_relevant") else " (not relevant)"),
                e(text_status(a.get("text_status"))),
                external_link(a.get("canonical_url")) or '<span class="muted">—</span>',
            ]
        )
    items = []
    for a in articles:
        revision = f" · revision {e(a['revision'])}" if (a.get("revision") or 1) > 1 else ""
        source = (
            ""
            if a.get("published_at_source") == "published"
            else f" ({e(a.get('published_at_source') or '')} time: the feed gave no publication date)"
        )
        items.append(
            f'<article class="item" id="article-{attr(a["article_id"])}">'
            f"<h3>{e(a.get('outlet') or '(unknown outlet)')} — {e(a['title'])}</h3>"
            f'<p class="sub">{type_html(a.get("outlet_type"))} · {e(a.get("language") or "language unknown")} · '
            f"published {when(a.get('published_at'), now)} UTC{source} · "
            f"first seen {when(a.get('first_seen_at'), now)} UTC "
            f"via feed {e(a.get('first_feed') or '?')}{revision} · {external_link(a.get('canonical_url'))}</p>"
            + (f"<p>{e(a['summary'])}</p>" if a.get("summary") else "")
            + f"<p>{topics_html(a.get('topics'), labels, links)}</p>"
            f'<details class="evidence"><summary>Relevance {e(score_text(a))} '
            f"({'relevant' if a.get('is_relevant') else 'not relevant'}, "
            f"rules {e(a.get('relevance_version') or '?')}): "
            f"why</summary>{render_evidence(a.get('relevance_terms'), labels)}</details>"
            + _fulltext_block(a, now)
            + "</article>"
        )
    body.append(
        section(
            "articles",
            f"Articles and reprints ({len(articles)})",
            table(
                [
                    "Outlet",
                    "Type",
                    "Headline",
                    "First seen (UTC)",
                    "Published (UTC)",
                    "Lang",
                    "Topics",
                    "Score",
                    "Full text",
                    "Original",
                ],
                rows,
                cls="story-articles",
                num=(7,),
            )
            + "".join(items),
        )
    )
    srows = []
    for s in sightings:
        srows.append(
            [
                e(s["feed_name"]),
                e(s.get("feed_outlet") or "—"),
                e(s.get("outlet") or "—"),
                when(s.get("first_seen_at"), now),
                when(s.get("last_seen_at"), now),
                e(s.get("times_seen") or 1),
                external_link(s.get("url"), "link as given") or e(s.get("url") or ""),
            ]
        )
    body.append(
        section(
            "sightings",
            f"Sightings by feed ({len(sightings)})",
            table(
                [
                    "Feed",
                    "Feed's outlet",
                    "Article's outlet",
                    "First seen (UTC)",
                    "Last seen (UTC)",
                    "Times seen",
                    "Link",
                ],
                srows,
                cls="sightings",
                num=(5,),
            )
            if srows
            else empty("No sighting recorded."),
            sub="Every feed that carried one of the story's articles (an aggregator's pointer to an "
            "article is a sighting of it, not another article).",
        )
    )
    return layout(
        f"{story['headline']} — {TITLE}", "".join(body), links, warehouse=data.get("warehouse"), generated_at=now
    )
