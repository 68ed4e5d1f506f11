"""The daily digests: one day's digest (sanitised) with its stories, and the index of days."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

from ..links import DAILY_DAG, Links
from ..markup import attr, e, empty, fmt_day, layout, link, plural, safe_url, section, table, when
from .common import TITLE, topics_html


class _DigestSanitizer(HTMLParser):
    """The digest's HTML reduced to the few tags a digest uses; links only to http(s), opening
    in a new tab; anything else (scripts, styles, attributes, event handlers) dropped."""

    ALLOWED = frozenset(
        {"h1", "h2", "h3", "h4", "p", "ol", "ul", "li", "a", "strong", "em", "b", "i", "br", "code", "blockquote"}
    )
    DROP_CONTENT = frozenset({"script", "style", "iframe", "object", "template", "noscript", "svg", "math"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.DROP_CONTENT:
            self.skip += 1
            return
        if self.skip or tag not in self.ALLOWED:
            return
        if tag == "a":
            href = safe_url(dict(attrs).get("href"))
            self.out.append(f'<a href="{attr(href)}" target="_blank" rel="noopener noreferrer">' if href else "<a>")
        elif tag == "br":
            self.out.append("<br>")
            return
        else:
            self.out.append(f"<{tag}>")
        self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.DROP_CONTENT:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip or tag not in self.ALLOWED or tag == "br" or tag not in self.open:
            return
        while self.open:
            top = self.open.pop()
            self.out.append(f"</{top}>")
            if top == tag:
                break

    def handle_data(self, data):
        if not self.skip:
            self.out.append(e(data))

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{t}>" for t in reversed(self.open))


def sanitize_digest(html_text: str) -> str:
    parser = _DigestSanitizer()
    parser.feed(html_text or "")
    return parser.result()


def _digest_nav(day: date | None, days: list[dict], links: Links) -> str:
    if not days:
        return ""
    ordered = sorted(d["day"] for d in days)
    parts = []
    if day is not None:
        earlier = [d for d in ordered if d < day]
        later = [d for d in ordered if d > day]
        if earlier:
            parts.append(link(links.digest(earlier[-1]), f"← {fmt_day(earlier[-1])}"))
        if later:
            parts.append(link(links.digest(later[0]), f"{fmt_day(later[0])} →"))
    parts.append(link(links.digest(), "all digests"))
    return f'<p class="pager">{" ".join(parts)}</p>'


def render_digest(data: dict, links: Links) -> str:
    day, digest, days, now = data["day"], data.get("digest"), data.get("days") or [], data["generated_at"]
    title = f"Digest of {fmt_day(day)}"
    body = [f'<p class="sub">{link(links.coverage(), "← Coverage")}</p>']
    if digest is None:
        today = now.date()
        if day >= today:
            why = (
                f"{fmt_day(day)} is not over yet (UTC): the daily DAG <code>{DAILY_DAG}</code> writes a day's "
                "digest after it closes, at 06:00 UTC the next morning by default."
            )
        else:
            why = (
                f"The daily DAG <code>{DAILY_DAG}</code> has not written one for this day: it had not run yet "
                "(or was paused) then; clear or backfill that day in Airflow to write it."
            )
        body.append(f"<h1>{e(title)}</h1>")
        body.append(empty(f"No digest for {e(fmt_day(day))}. {why}"))
        if days:
            body.append(
                "<p>Digests exist for: "
                + ", ".join(link(links.digest(d["day"]), fmt_day(d["day"])) for d in days[:14])
                + ".</p>"
            )
    else:
        body.append(_digest_nav(day, days, links))
        body.append(
            f'<p class="meta">{e(plural(int(digest.get("stories") or 0), "story", "stories"))} first seen on '
            f"{e(fmt_day(day))} (UTC); written {when(digest.get('created_at'), now)} UTC · "
            f"{link(links.articles(day=fmt_day(day)), 'articles published that day')} · "
            f"{link(links.quality() + '#day-' + fmt_day(day), 'quality checks of that day')}</p>"
        )
        body.append(f'<div class="digest">{sanitize_digest(digest.get("html") or "")}</div>')
        stories = data.get("stories") or []
        if stories:
            labels = data.get("labels") or {}
            rows = [
                [
                    link(links.story(s["story_id"]), s["headline"]),
                    e(s["outlet_count"]),
                    e(s["article_count"]),
                    topics_html(s.get("topics"), labels),
                ]
                for s in stories
            ]
            body.append(
                section(
                    "day-stories",
                    "The day's stories in newswatch",
                    table(["Story", "Outlets", "Articles", "Topics"], rows, cls="stories", num=(1, 2)),
                    sub="Every relevant story first seen that day, by reach, each opening its articles, "
                    "evidence and sightings.",
                )
            )
    return layout(
        f"{title} — {TITLE}", "".join(body), links, here="digests", warehouse=data.get("warehouse"), generated_at=now
    )


def render_digest_index(data: dict, links: Links) -> str:
    days, now = data.get("days") or [], data["generated_at"]
    body = ["<h1>Daily digests</h1>"]
    if not days:
        body.append(
            empty(
                f"No digest yet. The daily DAG <code>{DAILY_DAG}</code> writes one per UTC day after it "
                "closes (06:00 UTC the next morning by default): the day's top stories by reach, and by "
                "topic."
            )
        )
    else:
        body.append(
            table(
                ["Day (UTC)", "Stories", "Written (UTC)"],
                [
                    [
                        link(links.digest(d["day"]), fmt_day(d["day"])),
                        e(d.get("stories") or 0),
                        when(d.get("created_at"), now),
                    ]
                    for d in days
                ],
                cls="digests",
                num=(1,),
            )
        )
    return layout(
        f"Digests — {TITLE}", "".join(body), links, here="digests", warehouse=data.get("warehouse"), generated_at=now
    )
