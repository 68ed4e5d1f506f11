"""The article list: the filter form, what the filters select, the rows and the pager."""

from __future__ import annotations

from ..filters import LANGUAGES, PER_PAGE, TYPE_LABELS, TYPES, WINDOW_LABELS, ArticleFilters
from ..links import Links
from ..markup import attr, e, empty, external_link, fmt_day, fmt_time, layout, link, plural, table, when
from ..present import text_status
from .common import TITLE, score_text, topics_html, type_html


def _option(value: str, label: str, selected: bool) -> str:
    return f'<option value="{attr(value)}"{" selected" if selected else ""}>{e(label)}</option>'


def render_filter_form(
    f: ArticleFilters, labels: dict[str, str], links: Links, outlets: list[str] | None = None
) -> str:
    custom = bool(f.day or f.date_from or f.date_to)
    window = "".join(_option(k, v, not custom and (f.window or "30d") == k) for k, v in WINDOW_LABELS.items())
    topics = _option("", "any topic", not f.topic) + "".join(_option(k, v, f.topic == k) for k, v in labels.items())
    if f.topic and f.topic not in labels:
        topics += _option(f.topic, f.topic, True)
    types = _option("", "any type", not f.outlet_type) + "".join(
        _option(t, TYPE_LABELS.get(t, t), f.outlet_type == t) for t in TYPES
    )
    langs = "".join(_option(k, v, (f.language or "any") == k) for k, v in LANGUAGES.items())
    if f.language and f.language not in LANGUAGES:
        langs += _option(f.language, f.language, True)
    scope = _option("relevant", "relevant only", f.relevant_only) + _option("all", "all articles", not f.relevant_only)
    per = "".join(_option(str(n), f"{n} per page", f.per == n) for n in PER_PAGE)
    datalist = ""
    if outlets:
        datalist = '<datalist id="outlets">' + "".join(f'<option value="{attr(o)}">' for o in outlets) + "</datalist>"
    outlet = (
        f'<label>Outlet<input type="text" name="outlet" list="outlets" value="{attr(f.outlet or "")}" '
        'placeholder="any outlet"></label>'
    )
    return f"""<form class="filters" method="get" action="{attr(links.app("articles"))}">
<label>Search<input type="search" name="q" value="{attr(f.q or "")}" placeholder='e.g. export controls -tiktok'></label>
<label>Published<select name="window">{window}</select></label>
<label>or on day<input type="date" name="day" value="{attr(fmt_day(f.day) if f.day else "")}"></label>
<label>or from<input type="date" name="from" value="{attr(fmt_day(f.date_from) if f.date_from else "")}"></label>
<label>to<input type="date" name="to" value="{attr(fmt_day(f.date_to) if f.date_to else "")}"></label>
<label>Topic<select name="topic">{topics}</select></label>
{outlet}{datalist}
<label>Outlet type<select name="type">{types}</select></label>
<label>Language<select name="lang">{langs}</select></label>
<label>Show<select name="scope">{scope}</select></label>
<label>Page size<select name="per">{per}</select></label>
<button type="submit">Apply</button> <a href="{attr(links.articles())}">reset</a>
</form>"""


def describe_filters(f: ArticleFilters, labels: dict[str, str]) -> str:
    parts = ["relevant articles" if f.relevant_only else "articles (relevant or not)", f.period_text()]
    if f.topic:
        parts.append(f"on {labels.get(f.topic, f.topic)}")
    if f.outlet:
        parts.append(f"from {f.outlet}")
    if f.outlet_type:
        parts.append(f"from {TYPE_LABELS.get(f.outlet_type, f.outlet_type)} outlets")
    if f.language:
        parts.append(f"in {LANGUAGES.get(f.language, f.language)}")
    if f.q:
        parts.append(f"matching “{f.q}”")
    return ", ".join(parts)


def render_articles(data: dict, links: Links) -> str:
    f: ArticleFilters = data["filters"]
    rows, total, labels, now = data["rows"], data["total"], data["labels"], data["generated_at"]
    notices = "".join(f'<p class="notice">{e(n)}</p>' for n in data.get("notices") or [])
    first = f.offset + 1
    last = f.offset + len(rows)
    order = "best match first" if f.q else "newest first"
    csv_href = links.app("articles.csv", f.params(paging=False))
    json_href = links.app("articles.json", f.params())
    counts = (
        f'<p class="meta" id="counts"><strong>{e(f"{total:,}")}</strong> {e(describe_filters(f, labels))}'
        + (f"; showing {first:,}–{last:,}, {order}" if rows else "")
        + f'. Download: <a href="{attr(csv_href)}" download>CSV</a> (all {e(f"{total:,}")} rows) · '
        f'<a href="{attr(json_href)}">JSON</a> (this page)</p>'
    )
    if rows:
        trs = []
        for r in rows:
            story = (
                link(links.story(r["story_id"]), plural(int(r.get("story_outlets") or 1), "outlet"))
                if r.get("story_id")
                else "—"
            )
            headline = link(links.story(r["story_id"]), r["title"]) if r.get("story_id") else e(r["title"])
            trs.append(
                [
                    when(r.get("published_at"), now),
                    link(
                        links.articles(**f.params(paging=False, outlet=r.get("outlet"), page=1)), r.get("outlet") or "—"
                    )
                    if r.get("outlet")
                    else "—",
                    type_html(r.get("outlet_type")),
                    e(r.get("language") or "—"),
                    f"{headline} {external_link(r.get('canonical_url'))}",
                    topics_html(r.get("topics"), labels),
                    e(score_text(r)),
                    story,
                    e(text_status(r.get("text_status"), short=True)),
                ]
            )
        listing = table(
            ["Published (UTC)", "Outlet", "Type", "Lang", "Headline", "Topics", "Score", "Story", "Full text"],
            trs,
            cls="articles",
            num=(6,),
        )
    else:
        latest = data.get("latest") or {}
        hint = []
        if f.window != "all" or f.day or f.date_from or f.date_to:
            hint.append(
                link(
                    links.articles(
                        **dict(f.params(paging=False), window="all", day=None, **{"from": None, "to": None})
                    ),
                    "the same filters at any time",
                )
            )
        if f.relevant_only:
            hint.append(
                link(links.articles(**dict(f.params(paging=False), scope="all")), "articles not judged relevant too")
            )
        newest = (
            f" The newest relevant article was published {e(fmt_time(latest['latest_published_at']))} UTC."
            if latest.get("latest_published_at")
            else " The warehouse holds no relevant article yet."
        )
        listing = empty(f"No article matches.{newest}" + (f" Try {' or '.join(hint)}." if hint else ""))
    pager = []
    if f.page > 1:
        pager.append(link(links.articles(**f.params(page=f.page - 1)), "← newer" if not f.q else "← previous"))
    if last < total:
        pager.append(link(links.articles(**f.params(page=f.page + 1)), "older →" if not f.q else "next →"))
    if total > f.per:
        pager.append(f"<span>page {f.page:,} of {(total + f.per - 1) // f.per:,}</span>")
    body = (
        f"<h1>Articles</h1>{render_filter_form(f, labels, links, data.get('outlets'))}{notices}{counts}"
        f'{listing}<p class="pager">{" ".join(pager)}</p>'
    )
    return layout(
        f"Articles — {TITLE}", body, links, here="articles", warehouse=data.get("warehouse"), generated_at=now
    )
