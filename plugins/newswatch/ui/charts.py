"""Inline SVG charts: no script, no assets, every label escaped, every bar a link.

- `daily_chart`: relevant articles per day, stacked by topic, on an integer axis with round
  steps; each bar segment links to the article list for that day and topic.
- `reach_timeline`: a story's reach over time, one row per outlet, in the order they carried it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from .links import Links
from .markup import attr, e, utc

# Tableau 20: distinguishable colours, given to topics in the order topics.yaml lists them, so a
# topic keeps its colour whichever topics a chart shows
PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#86bc86",
    "#d37295",
    "#a0cbe8",
    "#ffbe7d",
    "#8cd17d",
    "#b6992d",
    "#499894",
    "#fabfd2",
    "#d4a6c8",
    "#79706e",
]


def topic_colours(topics) -> dict[str, str]:
    return {topic: PALETTE[i % len(PALETTE)] for i, topic in enumerate(topics)}


def nice_axis(peak: float, max_ticks: int = 5) -> tuple[int, list[int]]:
    """An integer axis from 0 that covers `peak` in at most `max_ticks` round steps (1, 2, 5 × 10^k):
    (top, ticks). Counts are whole numbers: an axis never reads 0.5, nor '1 / 0 / 0'."""
    peak = max(math.ceil(peak), 1)
    step = 1
    magnitude = 1
    while True:
        for m in (1, 2, 5):
            step = m * magnitude
            if math.ceil(peak / step) <= max_ticks:
                top = step * math.ceil(peak / step)
                return top, list(range(0, top + 1, step))
        magnitude *= 10


def topics_present(daily: list[dict], order) -> list[str]:
    """The topics that have articles in the rows, in the rules' order (others after, by name)."""
    present = {r["topic"] for r in daily if r.get("articles")}
    ordered = [t for t in order if t in present]
    return ordered + sorted(present - set(ordered))


def daily_chart(
    daily: list[dict],
    first_day: date,
    last_day: date,
    labels: dict[str, str],
    colours: dict[str, str],
    links: Links,
    *,
    width: int = 960,
    height: int = 270,
) -> str:
    """Stacked bars: relevant articles per publication day (UTC), one colour per topic."""
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    by_day: dict[date, dict[str, int]] = defaultdict(dict)
    for row in daily:
        if first_day <= row["day"] <= last_day and row.get("articles"):
            by_day[row["day"]][row["topic"]] = int(row["articles"])
    order = topics_present(daily, list(colours))
    peak = max([sum(v.values()) for v in by_day.values()] + [0])
    top, ticks = nice_axis(peak)
    left, right, bottom, top_pad = 44, 12, 34, 12
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    bar_w = plot_w / max(len(days), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" role="img" '
        f'aria-label="{attr(f"Relevant articles per day and topic, {first_day} to {last_day}")}">'
    ]
    for value in ticks:
        y = top_pad + plot_h * (1 - value / top)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{"#999" if value == 0 else "#e3e3e3"}"/>'
        )
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{value}</text>'
        )
    label_every = max(1, math.ceil(len(days) / 10))
    for i, day in enumerate(days):
        x = left + i * bar_w
        y = top_pad + plot_h
        for topic in order:
            value = by_day.get(day, {}).get(topic, 0)
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            label = labels.get(topic, topic)
            href = links.articles(day=f"{day:%Y-%m-%d}", topic=topic)
            parts.append(
                f'<a href="{attr(href)}"><rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                f'height="{h:.1f}" fill="{attr(colours.get(topic, "#888"))}">'
                f"<title>{e(f'{day:%Y-%m-%d}: {label}: {value} article' + ('s' if value != 1 else ''))}</title>"
                f"</rect></a>"
            )
        if (len(days) - 1 - i) % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - 14}" font-size="10" text-anchor="middle">'
                f"{day:%m-%d}</text>"
            )
    parts.append(f'<text x="{left}" y="{height - 1}" font-size="10" fill="#666">publication day (UTC)</text>')
    parts.append("</svg>")
    return "".join(parts)


def legend(
    topics: list[str],
    labels: dict[str, str],
    colours: dict[str, str],
    links: Links,
    counts: dict[str, int] | None = None,
    **params,
) -> str:
    """One entry per topic shown (none for topics without articles), each linking to the article
    list for the topic (`params`: the chart's period)."""
    items = []
    for topic in topics:
        count = f" ({counts[topic]})" if counts and topic in counts else ""
        items.append(
            f'<a href="{attr(links.articles(topic=topic, **params))}">'
            f'<i style="background:{attr(colours.get(topic, "#888"))}"></i>'
            f"{e(labels.get(topic, topic))}{e(count)}</a>"
        )
    return f'<div class="legend">{"".join(items)}</div>' if items else ""


_STEPS = (
    [timedelta(minutes=m) for m in (5, 10, 15, 30)]
    + [timedelta(hours=h) for h in (1, 2, 3, 6, 12)]
    + [timedelta(days=d) for d in (1, 2, 7, 14, 30, 91, 365)]
)


def _time_ticks(start: datetime, end: datetime, max_ticks: int = 6) -> list[datetime]:
    span = end - start
    step = next((s for s in _STEPS if span / s <= max_ticks), _STEPS[-1])
    epoch = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday: weekly ticks fall on Mondays
    first = epoch + step * math.ceil((start - epoch) / step)
    ticks = []
    while first <= end:
        ticks.append(first)
        first += step
    return ticks


def reach_timeline(articles: list[dict], *, width: int = 960, row_h: int = 22) -> str:
    """A story's reach: one row per outlet, in the order they carried it: the outlet's publication
    time (hollow dot) and when newswatch first saw it there (filled dot)."""
    outlets: dict[str, dict] = {}
    for a in articles:
        name = a.get("outlet") or "(unknown outlet)"
        seen, published = utc(a.get("first_seen_at")), utc(a.get("published_at"))
        o = outlets.setdefault(name, {"seen": seen, "published": published, "articles": 0})
        o["articles"] += 1
        if seen and (o["seen"] is None or seen < o["seen"]):
            o["seen"] = seen
        if published and (o["published"] is None or published < o["published"]):
            o["published"] = published
    never = datetime.max.replace(tzinfo=UTC)
    # in the order the outlets carried it: their publication time, or when first seen if earlier
    # (one poll sees a wire story and its reprints at once; the outlets' own times tell them apart)
    rows = sorted(
        outlets.items(),
        key=lambda kv: (min(t for t in (kv[1]["published"], kv[1]["seen"], never) if t), kv[1]["seen"] or never, kv[0]),
    )
    times = [t for _, o in rows for t in (o["seen"], o["published"]) if t]
    if not times:
        return ""
    start, end = min(times), max(times)
    if end - start < timedelta(hours=1):
        start, end = start - timedelta(minutes=30), end + timedelta(minutes=30)
    pad = (end - start) * 0.04
    start, end = start - pad, end + pad
    left, right, top_pad = 210, 70, 10
    plot_w = width - left - right
    height = top_pad + row_h * len(rows) + 34

    def x(t: datetime) -> float:
        return left + plot_w * ((t - start) / (end - start))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" role="img" '
        f'aria-label="{attr(f"Outlets carrying the story over time: {len(rows)} outlets")}">'
    ]
    ticks = _time_ticks(start, end)
    fmt = "%m-%d %H:%M" if end - start < timedelta(days=3) else "%m-%d"
    axis_y = top_pad + row_h * len(rows) + 4
    for t in ticks:
        parts.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top_pad}" y2="{axis_y}" stroke="#eee"/>')
        parts.append(
            f'<text x="{x(t):.1f}" y="{axis_y + 14}" font-size="10" text-anchor="middle">{e(t.strftime(fmt))}</text>'
        )
    for i, (name, o) in enumerate(rows):
        y = top_pad + row_h * i + row_h / 2
        short = name if len(name) <= 30 else name[:29] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" font-size="12" text-anchor="end">{e(short)}'
            f"<title>{e(name)}</title></text>"
        )
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#f3f3f3"/>')
        if o["published"] and o["seen"] and o["published"] < o["seen"]:
            parts.append(
                f'<line x1="{x(o["published"]):.1f}" x2="{x(o["seen"]):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="#9ab" stroke-width="2"/>'
            )
        if o["published"]:
            parts.append(
                f'<circle cx="{x(o["published"]):.1f}" cy="{y:.1f}" r="5" fill="#fff" stroke="#4e79a7" '
                f'stroke-width="2"><title>{e(name)}: published {e(o["published"].strftime("%Y-%m-%d %H:%M"))} UTC'
                f"</title></circle>"
            )
        if o["seen"]:
            parts.append(
                f'<circle cx="{x(o["seen"]):.1f}" cy="{y:.1f}" r="5" fill="#4e79a7">'
                f"<title>{e(name)}: first seen {e(o['seen'].strftime('%Y-%m-%d %H:%M'))} UTC</title></circle>"
            )
        parts.append(
            f'<text x="{width - right + 8}" y="{y + 4:.1f}" font-size="11" fill="#666">'
            f"{i + 1} outlet{'s' if i else ''}</text>"
        )
    parts.append(
        f'<text x="{left}" y="{height - 2}" font-size="10" fill="#666">'
        "● first seen by newswatch   ○ published (UTC)</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
