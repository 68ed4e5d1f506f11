"""The pages, server-rendered: data in (plain dicts from data.py), HTML out. No database, no
Airflow, no JavaScript; every value escaped (markup.e / attr), every link relative (links.py)."""

from __future__ import annotations

from datetime import date, datetime
from html.parser import HTMLParser

from . import charts
from .filters import LANGUAGES, PER_PAGE, TYPE_LABELS, TYPES, WINDOW_LABELS, ArticleFilters
from .links import DAILY_DAG, Links
from .markup import (
    attr,
    e,
    empty,
    external_link,
    fmt_ago,
    fmt_day,
    fmt_time,
    layout,
    link,
    plural,
    safe_url,
    section,
    table,
    when,
)
from .present import evidence, feed_counts, feed_reason, group_failures, next_retry, run_state, text_status

TITLE = "US–China coverage"


def _topics(topics, labels: dict[str, str], links: Links | None = None, **params) -> str:
    if not topics:
        return '<span class="muted">—</span>'
    out = []
    for t in topics:
        label = labels.get(t, t)
        out.append(f'<a class="topic" href="{attr(links.articles(topic=t, **params))}">{e(label)}</a>' if links
                   else f'<span class="topic">{e(label)}</span>')
    return "".join(out)


def _type(outlet_type: str | None) -> str:
    return e(TYPE_LABELS.get(outlet_type or "other", outlet_type or "other"))


def _pill(text: str, kind: str = "") -> str:
    return f'<span class="pill {attr(kind)}">{e(text)}</span>'


STATE_PILL = {"ok": "ok", "failing": "bad", "disabled": "bad", "redirected": "warn", "never polled": "warn",
              "disabled in feeds file": ""}


# === the coverage page ==========================================================================

def _schedule_sentence(schedule: dict | None, now: datetime) -> str:
    schedule = schedule or {}
    if schedule.get("paused"):
        return "the DAG <code>us_china_news</code> is <strong>paused</strong>: no run until it is unpaused"
    nxt = schedule.get("next_run_at")
    source = {"airflow": "from Airflow's scheduler", "schedule": "from the schedule"}.get(schedule.get("source"), "")
    what = f" ({e(schedule['schedule'])})" if schedule.get("schedule") else ""
    if nxt:
        return f"{when(nxt, now)} UTC ({e(fmt_ago(nxt, now))}), {e(source)}{what}"
    if schedule.get("source") in ("airflow", "schedule") and not schedule.get("schedule"):
        return "none scheduled (NEWSWATCH_POLL_SCHEDULE=none): trigger <code>us_china_news</code> by hand"
    return "unknown (Airflow's scheduler has not planned one yet)"


def _feed_links(feeds: list[dict], links: Links, limit: int = 4) -> str:
    shown = []
    for feed in feeds[:limit]:
        name = e(feed.get("outlet") or feed["name"])
        log = links.task_log(feed.get("last_fetch_run_id"), feed.get("last_fetch_task"))
        shown.append(name + (f" ({link(log, 'task log', top=True)})" if log else ""))
    more = f" and {len(feeds) - limit} more" if len(feeds) > limit else ""
    return ", ".join(shown) + e(more)


def render_banner(data: dict, links: Links) -> str:
    now = data["generated_at"]
    runs = data.get("runs") or []
    feeds = data.get("feeds") or []
    ops = links.ops
    latest = run_state(runs[0], now) if runs else None
    counts = feed_counts(feeds)
    groups = group_failures(feeds, with_causes=ops)
    parts = []
    level = "ok"
    if latest is None:
        parts.append("<p><strong>Last run:</strong> none yet: the first poll has not run yet.</p>")
        level = "warn"
    else:
        run_link = links.dag_run(latest.run_id, latest.trigger)
        who = "by <code>newswatch run</code> on the command line" if latest.trigger == "cli" else \
            (f"Airflow run <code>{e(latest.run_id)}</code>" if ops else "by Airflow") if latest.trigger == "airflow" \
            else (f"run <code>{e(latest.run_id)}</code>" if ops else "")
        ref = link(run_link, "open the run in Airflow", top=True) if run_link else ""
        state = {"finished": _pill("finished", "ok"), "failed": _pill("failed", "bad"),
                 "running": _pill("running", "warn"), "unfinished": _pill("did not finish", "bad")}[latest.state]
        parts.append(
            f"<p><strong>Last run:</strong> {when(latest.started_at, now)} UTC, {e(fmt_ago(latest.started_at, now))}, "
            f"{who} {state} {ref}<br>{e(latest.sentence)}.</p>")
        if latest.state in ("failed", "unfinished"):
            level = "bad"
        elif latest.state == "running":
            level = "warn"
    if counts["total"]:
        line = f"{counts['reachable']} of {counts['total']} feeds reachable"
        extra = []
        if counts["failing"]:
            extra.append(f"{counts['failing']} failing")
        if counts["disabled"]:
            extra.append(f"{counts['disabled']} disabled")
        if counts["never_polled"]:
            extra.append(f"{counts['never_polled']} not polled yet")
        parts.append(f"<p><strong>Feeds:</strong> {e(line)}{e('; ' + ', '.join(extra)) if extra else ''}"
                     f"{':' if groups else '.'}</p>")
        if groups:
            items = "".join(f"<li>{e(g.sentence)} — {_feed_links(g.feeds, links)}</li>" for g in groups)
            parts.append(f'<ul class="failures">{items}</ul>'
                         f'<p class="sub">{link(links.coverage("feed-health"), "Feed health")} has every feed.</p>')
            level = "bad" if counts["reachable"] == 0 else ("warn" if level == "ok" else level)
    else:
        parts.append("<p><strong>Feeds:</strong> none configured in this warehouse yet (the first run syncs "
                     "the feeds file).</p>")
        level = "warn"
    parts.append(f"<p><strong>Next run:</strong> {_schedule_sentence(data.get('schedule'), now)}.</p>")
    return f'<div class="banner {level}" id="pipeline" role="status">{"".join(parts)}</div>'


def render_top_stories(data: dict, links: Links) -> str:
    now, labels = data["generated_at"], data["labels"]
    stories = data.get("stories") or []
    if not stories:
        last = data.get("warehouse", {}).get("last_relevant_seen_at")
        tail = (f" The newest relevant article was first seen {e(fmt_ago(last, now))} ({e(fmt_time(last))} UTC): "
                f"{link(links.articles(window='all'), 'see the article list')}." if last else "")
        return empty(f"No relevant story was seen in the last 24 hours.{tail}")
    rows = []
    for s in stories:
        outlets = ", ".join(s.get("outlets") or [])
        rows.append([
            f'{link(links.story(s["story_id"]), s["headline"])}<div class="sub">{e(outlets)}</div>',
            e(s["outlet_count"]), e(s["article_count"]), _topics(s.get("topics"), labels),
            when(s.get("first_seen_at"), now),
        ])
    return table(["Story", "Outlets", "Articles", "Topics", "First seen (UTC)"], rows, cls="stories", num=(1, 2))


def render_chart_panel(data: dict, links: Links) -> str:
    labels = data["labels"]
    colours = charts.topic_colours(list(labels))
    daily = [r for r in data.get("daily") or [] if r.get("articles")]
    first, last = data["first_day"], data["last_day"]
    if not daily:
        return empty(f"No relevant article was published between {e(fmt_day(first))} and {e(fmt_day(last))}. "
                     f"{link(links.articles(window='all'), 'All relevant articles')}.")
    present = charts.topics_present(daily, list(labels))
    counts: dict[str, int] = {}
    for r in daily:
        counts[r["topic"]] = counts.get(r["topic"], 0) + int(r["articles"])
    params = {"from": f"{first:%Y-%m-%d}", "to": f"{last:%Y-%m-%d}"}
    return (charts.daily_chart(daily, first, last, labels, colours, links)
            + charts.legend(present, labels, colours, links, counts, **params)
            + '<p class="sub">An article with two topics counts in both. Click a bar for that day\'s articles '
              "on the topic, a topic for all of them.</p>")


def render_top_outlets(data: dict, links: Links) -> str:
    outlets = data.get("outlets") or []
    now = data["generated_at"]
    if not outlets:
        return empty("No outlet published relevant coverage in this period.")
    rows = []
    for o in outlets:
        rows.append([
            link(links.articles(outlet=o["outlet"]), o["outlet"]),
            link(links.articles(type=o.get("outlet_type") or "other"), TYPE_LABELS.get(o.get("outlet_type") or "other",
                                                                                      o.get("outlet_type") or "other")),
            e(o["articles"]), e(o["stories"]), when(o.get("latest_published_at"), now),
        ])
    return table(["Outlet", "Type", "Articles", "Stories", "Latest (UTC)"], rows, cls="outlets", num=(2, 3))


FEED_COLUMNS = ["Outlet / feed", "State", "Streak", "Last success (UTC)", "Next retry (UTC)", "Reason"]
FEED_WIDTHS = ["24%", "9%", "6%", "14%", "14%", "33%"]


def feed_table(feeds: list[dict], links: Links, schedule: dict | None, now: datetime, *, retry: bool) -> str:
    """Feeds in the six aligned columns (the same widths in every group's table)."""
    rows, classes = [], []
    for f in feeds:
        outlet = f.get("outlet") or f["name"]
        reason = feed_reason(f, ops=links.ops)
        log = links.task_log(f.get("last_fetch_run_id"), f.get("last_fetch_task")) \
            if f.get("state") in ("failing", "disabled") else None
        reason_html = e(reason[:300]) + (" · " + link(log, "task log", top=True) if log else "")
        nxt = next_retry(f, schedule, now)
        rows.append([
            f'<strong>{e(outlet)}</strong><div class="sub">{e(f["name"])} · {_type(f.get("outlet_type"))}</div>',
            _pill(f.get("state") or "?", STATE_PILL.get(f.get("state"), "")),
            e(f.get("failure_streak") or 0),
            when(f.get("last_success_at"), now),
            when(nxt, now) if nxt else '<span class="muted">not polled</span>',
            reason_html or '<span class="muted">—</span>',
        ])
        classes.append("bad" if f.get("state") in ("failing", "disabled") else "")
    headers = list(FEED_COLUMNS)
    if not retry:
        headers[4] = "Next poll (UTC)"
    return table(headers, rows, cls="feeds fixed", num=(2,), widths=FEED_WIDTHS, row_classes=classes)


def _group_details(sentence: str, body: str, *, open_: bool, cls: str = "group") -> str:
    return f'<details class="{attr(cls)}"{" open" if open_ else ""}><summary>{e(sentence)}</summary>{body}</details>'


def render_feed_health(data: dict, links: Links) -> str:
    feeds = data.get("feeds") or []
    now, schedule = data["generated_at"], data.get("schedule")
    if not feeds:
        return empty("No feed in this warehouse yet: the first run syncs the feeds file (config/feeds.yaml).")
    counts = feed_counts(feeds)
    summary = [f"{counts['total']} feeds: {counts['reachable']} reachable"]
    for key, word in (("failing", "failing"), ("disabled", "disabled"), ("never_polled", "not polled yet"),
                      ("redirected", "redirected")):
        if counts[key]:
            summary.append(f"{counts[key]} {word}")
    out = [f'<p class="meta">{e(", ".join(summary))}.</p>']
    for group in group_failures(feeds, with_causes=links.ops):
        out.append(_group_details(group.sentence, feed_table(group.feeds, links, schedule, now, retry=True),
                                  open_=len(group.feeds) <= 5, cls="group failing"))
    others = [
        ("disabled", "disabled: not polled until re-enabled (`newswatch feeds enable NAME`)"),
        ("redirected", "permanently redirected: the address moves after 3 polls see the same redirect"),
        ("never polled", "not polled yet: polled at the next run"),
        ("ok", "ok"),
        ("disabled in feeds file", "switched off in the feeds file (enabled: false)"),
    ]
    for state, what in others:
        chosen = [f for f in feeds if f.get("state") == state]
        if not chosen:
            continue
        sentence = f"{len(chosen)} feed{'s' if len(chosen) != 1 else ''} {what}"
        out.append(_group_details(sentence, feed_table(chosen, links, schedule, now, retry=state != "ok"),
                                  open_=state != "ok" or len(chosen) <= 12, cls=f"group {state.replace(' ', '-')}"))
    return "".join(out)


CHECK_TITLES = {
    "feed_freshness": "Feed freshness", "relevant_volume": "Relevant volume", "duplicate_ratio": "Duplicate ratio",
    "ingest_lag": "Ingest lag", "merge_failures": "Merge failures",
}


def _check_value(value) -> str:
    if value is None:
        return "—"
    value = float(value)
    return f"{int(value)}" if value.is_integer() else f"{value:.3g}"


def checks_table(checks: list[dict]) -> str:
    rows, classes = [], []
    for c in checks:
        rows.append([e(CHECK_TITLES.get(c["check_name"], c["check_name"])),
                     _pill("passed", "ok") if c["passed"] else _pill("FAILED", "bad"),
                     e(_check_value(c.get("value"))), e(c.get("threshold") or "—"), e(c.get("detail") or "")])
        classes.append("" if c["passed"] else "bad")
    return table(["Check", "Result", "Value", "Threshold", "Detail"], rows, cls="checks", num=(2,),
                 row_classes=classes)


def render_quality_panel(data: dict, links: Links) -> str:
    checks = data.get("quality") or []
    digests = data.get("digests") or []
    digest_days = {d["day"] for d in digests}
    now = data["generated_at"]
    out = []
    if not checks:
        out.append(empty("No day has been checked yet. The daily DAG <code>us_china_news_daily</code> checks each "
                         "UTC day after it closes (06:00 UTC the next morning by default) and writes its digest."))
    else:
        day = checks[0]["day"]
        failed = [c for c in checks if not c["passed"]]
        verdict = (f"{len(failed)} of {len(checks)} checks failed" if failed else f"all {len(checks)} checks passed")
        out.append(f'<p class="meta">Checks of <strong>{e(fmt_day(day))}</strong> (UTC): {e(verdict)}; '
                   f"checked {when(max(c['checked_at'] for c in checks), now)} UTC. "
                   f"{link(links.quality(), 'The last 14 days')}.</p>")
        out.append(checks_table(checks))
    if digests:
        latest = digests[0]
        day_checked = checks[0]["day"] if checks else None
        chosen = next((d for d in digests if d["day"] == day_checked), latest) if day_checked in digest_days else latest
        label = "digest of " + fmt_day(chosen["day"])
        stories = plural(int(chosen.get("stories") or 0), "story", "stories")
        out.append(f"<p><strong>Digest:</strong> {link(links.digest(chosen['day']), label)} ({e(stories)}) · "
                   f"{link(links.digest(), 'all digests')}</p>")
    else:
        out.append('<p><strong>Digest:</strong> <span class="muted">none yet (the daily DAG writes one per day).</span></p>')
    return "".join(out)


def render_empty_warehouse(data: dict, links: Links) -> str:
    w = data.get("warehouse") or {}
    now = data["generated_at"]
    feeds = int(w.get("feeds") or 0)
    lines = [
        f"<p>This warehouse holds no article yet{' and no pipeline run has written to it' if not w.get('has_runs') else ''}.</p>",
        "<ul>",
        "<li><strong>Just set up?</strong> The first poll has not run yet. The DAG <code>us_china_news</code> polls "
        f"the feeds on its schedule; next run: {_schedule_sentence(data.get('schedule'), now)}. "
        + (f"To poll now, {link(links.dag(), 'open the DAG', top=True)} and trigger it with "
           "<code>{\"force\": true}</code>." if links.dag() else "An operator can trigger it now.") + "</li>",
        "<li><strong>No internet here, or just looking around?</strong> Run <code>make demo</code> (the same DAG "
        "on the bundled sample feeds), then <code>make up DEMO=1</code> to browse the demo's data here.</li>",
        "</ul>",
    ]
    if feeds:
        lines.append(f'<p class="meta">{e(plural(feeds, "feed"))} configured.</p>')
    return section("empty-warehouse", "Nothing here yet", "".join(lines))


def render_coverage(data: dict, links: Links) -> str:
    """The coverage page: the pipeline's state, today's top stories, daily coverage per topic, top
    outlets, feed health, daily quality and the digest; an explicit empty state for each."""
    now = data["generated_at"]
    w = data.get("warehouse") or {}
    head = f"<h1>{e(TITLE)}</h1>"
    if not w.get("has_articles") and not w.get("has_runs"):
        body = head + render_banner(data, links) + render_empty_warehouse(data, links)
        return layout(TITLE, body, links, here="coverage", warehouse=w, generated_at=now)
    first, last = data["first_day"], data["last_day"]
    body = [
        head,
        render_banner(data, links),
        section("top-stories", "Today's top stories, by reach", render_top_stories(data, links),
                sub="Relevant stories seen in the last 24 hours, by how many outlets carried them. "
                    f"{link(links.articles(window='24h'), 'All articles of the last 24 hours')}."),
        section("daily-coverage", "Daily coverage per topic", render_chart_panel(data, links),
                sub=f"Relevant articles by publication day (UTC), {e(fmt_day(first))} to {e(fmt_day(last))}."),
        '<div class="grid2">',
        section("top-outlets", "Top outlets", render_top_outlets(data, links),
                sub=f"Relevant articles published since {e(fmt_day(first))}."),
        section("daily-quality", "Daily quality", render_quality_panel(data, links)),
        "</div>",
        section("feed-health", "Feed health", render_feed_health(data, links)),
    ]
    return layout(TITLE, "".join(body), links, here="coverage", warehouse=w, generated_at=now)


# === the story page ============================================================================

def render_evidence(terms: dict | None, labels: dict[str, str]) -> str:
    lines = evidence(terms, labels)
    if not lines:
        return '<p class="muted">No evidence recorded.</p>'
    return '<dl class="evidence">' + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in lines) + "</dl>"


def _fulltext_block(a: dict, now: datetime) -> str:
    status = a.get("text_status")
    if a.get("body") and status == "ok":
        words = a.get("text_words") or len(a["body"].split())
        return (f"<details class=\"text\"><summary>Full text ({e(plural(int(words), 'word'))}, fetched "
                f"{e(fmt_time(a.get('text_fetched_at')))} UTC)</summary>"
                f'<div class="fulltext" lang="{attr(a.get("language") or "")}">{e(a["body"])}</div></details>')
    if status:
        detail = f": {a['text_detail']}" if a.get("text_detail") else ""
        older = " (an earlier attempt's text is kept)" if a.get("body") else ""
        return f'<p class="sub">Full text: {e(text_status(status))}{e(detail)}{e(older)}.</p>'
    return '<p class="sub">Full text: not fetched (only relevant articles\' pages are fetched, after each run).</p>'


def score_text(a: dict) -> str:
    return f"{float(a['relevance_score']):.2f}" if a.get("relevance_score") is not None else "—"


def render_story(data: dict, links: Links) -> str:
    story, articles, sightings = data["story"], data["articles"], data["sightings"]
    labels, now = data["labels"], data["generated_at"]
    outlets = sorted({a.get("outlet") or "(unknown)" for a in articles})
    meta = (f"Story {e(story['story_id'])} · carried by {e(plural(int(story['outlet_count']), 'outlet'))} in "
            f"{e(plural(int(story['article_count']), 'article'))} · first: {e(story.get('first_outlet') or 'unknown')}, "
            f"seen {when(story.get('first_seen_at'), now)} UTC · last seen {when(story.get('last_seen_at'), now)} UTC · "
            + ("relevant" if story.get("is_relevant") else "not judged relevant"))
    body = [
        f'<p class="sub">{link(links.coverage(), "← Coverage")} · {link(links.articles(), "Articles")}</p>',
        f"<h1>{e(story['headline'])}</h1>",
        f'<p class="meta">{meta}</p>',
        f"<p>{_topics(story.get('topics'), labels, links)}</p>",
    ]
    timeline = charts.reach_timeline(articles)
    body.append(section("reach", "Reach over time", timeline or empty("No times recorded."),
                        sub=f"{e(plural(len(outlets), 'outlet'))}, in the order they carried the story "
                            "(published, or first seen by newswatch when that is earlier)."))
    rows = []
    for a in articles:
        rows.append([
            f'<a href="#article-{attr(a["article_id"])}">{e(a.get("outlet") or "(unknown)")}</a>',
            _type(a.get("outlet_type")),
            e(a["title"]),
            when(a.get("first_seen_at"), now),
            when(a.get("published_at"), now),
            e(a.get("language") or "—"),
            _topics(a.get("topics"), labels),
            e(score_text(a)) + ("" if a.get("is_relevant") else " (not relevant)"),
            e(text_status(a.get("text_status"))),
            external_link(a.get("canonical_url")) or '<span class="muted">—</span>',
        ])
    items = []
    for a in articles:
        revision = f" · revision {e(a['revision'])}" if (a.get("revision") or 1) > 1 else ""
        source = "" if a.get("published_at_source") == "published" else \
            f" ({e(a.get('published_at_source') or '')} time: the feed gave no publication date)"
        items.append(
            f'<article class="item" id="article-{attr(a["article_id"])}">'
            f"<h3>{e(a.get('outlet') or '(unknown outlet)')} — {e(a['title'])}</h3>"
            f'<p class="sub">{_type(a.get("outlet_type"))} · {e(a.get("language") or "language unknown")} · '
            f"published {when(a.get('published_at'), now)} UTC{source} · first seen {when(a.get('first_seen_at'), now)} UTC "
            f"via feed {e(a.get('first_feed') or '?')}{revision} · {external_link(a.get('canonical_url'))}</p>"
            + (f"<p>{e(a['summary'])}</p>" if a.get("summary") else "")
            + f"<p>{_topics(a.get('topics'), labels, links)}</p>"
            f"<details class=\"evidence\"><summary>Relevance {e(score_text(a))} "
            f"({'relevant' if a.get('is_relevant') else 'not relevant'}, rules {e(a.get('relevance_version') or '?')}): "
            f"why</summary>{render_evidence(a.get('relevance_terms'), labels)}</details>"
            + _fulltext_block(a, now) + "</article>")
    body.append(section("articles", f"Articles and reprints ({len(articles)})",
                        table(["Outlet", "Type", "Headline", "First seen (UTC)", "Published (UTC)", "Lang", "Topics",
                               "Score", "Full text", "Original"], rows, cls="story-articles", num=(7,))
                        + "".join(items)))
    srows = []
    for s in sightings:
        srows.append([e(s["feed_name"]), e(s.get("feed_outlet") or "—"), e(s.get("outlet") or "—"),
                      when(s.get("first_seen_at"), now), when(s.get("last_seen_at"), now), e(s.get("times_seen") or 1),
                      external_link(s.get("url"), "link as given") or e(s.get("url") or "")])
    body.append(section("sightings", f"Sightings by feed ({len(sightings)})",
                        table(["Feed", "Feed's outlet", "Article's outlet", "First seen (UTC)", "Last seen (UTC)",
                               "Times seen", "Link"], srows, cls="sightings", num=(5,))
                        if srows else empty("No sighting recorded."),
                        sub="Every feed that carried one of the story's articles (an aggregator's pointer to an "
                            "article is a sighting of it, not another article)."))
    return layout(f"{story['headline']} — {TITLE}", "".join(body), links, warehouse=data.get("warehouse"),
                  generated_at=now)


# === the article list ==========================================================================

def _option(value: str, label: str, selected: bool) -> str:
    return f'<option value="{attr(value)}"{" selected" if selected else ""}>{e(label)}</option>'


def render_filter_form(f: ArticleFilters, labels: dict[str, str], links: Links, outlets: list[str] | None = None) -> str:
    custom = bool(f.day or f.date_from or f.date_to)
    window = "".join(_option(k, v, not custom and (f.window or "30d") == k) for k, v in WINDOW_LABELS.items())
    topics = _option("", "any topic", not f.topic) + "".join(
        _option(k, v, f.topic == k) for k, v in labels.items())
    if f.topic and f.topic not in labels:
        topics += _option(f.topic, f.topic, True)
    types = _option("", "any type", not f.outlet_type) + "".join(
        _option(t, TYPE_LABELS.get(t, t), f.outlet_type == t) for t in TYPES)
    langs = "".join(_option(k, v, (f.language or "any") == k) for k, v in LANGUAGES.items())
    if f.language and f.language not in LANGUAGES:
        langs += _option(f.language, f.language, True)
    scope = _option("relevant", "relevant only", f.relevant_only) + _option("all", "all articles", not f.relevant_only)
    per = "".join(_option(str(n), f"{n} per page", f.per == n) for n in PER_PAGE)
    datalist = ""
    if outlets:
        datalist = '<datalist id="outlets">' + "".join(f'<option value="{attr(o)}">' for o in outlets) + "</datalist>"
    return f"""<form class="filters" method="get" action="{attr(links.app('articles'))}">
<label>Search<input type="search" name="q" value="{attr(f.q or '')}" placeholder='e.g. export controls -tiktok'></label>
<label>Published<select name="window">{window}</select></label>
<label>or on day<input type="date" name="day" value="{attr(fmt_day(f.day) if f.day else '')}"></label>
<label>or from<input type="date" name="from" value="{attr(fmt_day(f.date_from) if f.date_from else '')}"></label>
<label>to<input type="date" name="to" value="{attr(fmt_day(f.date_to) if f.date_to else '')}"></label>
<label>Topic<select name="topic">{topics}</select></label>
<label>Outlet<input type="text" name="outlet" list="outlets" value="{attr(f.outlet or '')}" placeholder="any outlet"></label>{datalist}
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
    counts = (f'<p class="meta" id="counts"><strong>{e(f"{total:,}")}</strong> {e(describe_filters(f, labels))}'
              + (f"; showing {first:,}–{last:,}, {order}" if rows else "")
              + f'. Download: <a href="{attr(csv_href)}" download>CSV</a> (all {e(f"{total:,}")} rows) · '
              f'<a href="{attr(json_href)}">JSON</a> (this page)</p>')
    if rows:
        trs = []
        for r in rows:
            story = (link(links.story(r["story_id"]), plural(int(r.get("story_outlets") or 1), "outlet"))
                     if r.get("story_id") else "—")
            headline = (link(links.story(r["story_id"]), r["title"]) if r.get("story_id") else e(r["title"]))
            trs.append([
                when(r.get("published_at"), now),
                link(links.articles(**f.params(paging=False, outlet=r.get("outlet"), page=1)), r.get("outlet") or "—")
                if r.get("outlet") else "—",
                _type(r.get("outlet_type")),
                e(r.get("language") or "—"),
                f"{headline} {external_link(r.get('canonical_url'))}",
                _topics(r.get("topics"), labels),
                e(score_text(r)),
                story,
                e(text_status(r.get("text_status"), short=True)),
            ])
        listing = table(["Published (UTC)", "Outlet", "Type", "Lang", "Headline", "Topics", "Score", "Story",
                         "Full text"], trs, cls="articles", num=(6,))
    else:
        latest = data.get("latest") or {}
        hint = []
        if f.window != "all" or f.day or f.date_from or f.date_to:
            hint.append(link(links.articles(**dict(f.params(paging=False), window="all", day=None, **{"from": None, "to": None})),
                             "the same filters at any time"))
        if f.relevant_only:
            hint.append(link(links.articles(**dict(f.params(paging=False), scope="all")), "articles not judged relevant too"))
        newest = (f" The newest relevant article was published {e(fmt_time(latest['latest_published_at']))} UTC."
                  if latest.get("latest_published_at") else " The warehouse holds no relevant article yet.")
        listing = empty(f"No article matches.{newest}" + (f" Try {' or '.join(hint)}." if hint else ""))
    pager = []
    if f.page > 1:
        pager.append(link(links.articles(**f.params(page=f.page - 1)), "← newer" if not f.q else "← previous"))
    if last < total:
        pager.append(link(links.articles(**f.params(page=f.page + 1)), "older →" if not f.q else "next →"))
    if total > f.per:
        pager.append(f"<span>page {f.page:,} of {(total + f.per - 1) // f.per:,}</span>")
    body = (f"<h1>Articles</h1>{render_filter_form(f, labels, links, data.get('outlets'))}{notices}{counts}"
            f"{listing}<p class=\"pager\">{' '.join(pager)}</p>")
    return layout(f"Articles — {TITLE}", body, links, here="articles", warehouse=data.get("warehouse"),
                  generated_at=now)


# === quality and digests =======================================================================

def render_quality(data: dict, links: Links) -> str:
    checks, now = data.get("checks") or [], data["generated_at"]
    digest_days = {d["day"] for d in data.get("digests") or []}
    first_day = data["first_day"]
    body = [f"<h1>Daily quality</h1><p class=\"meta\">The daily DAG's data-quality checks, {e(fmt_day(first_day))} "
            f"to today (UTC), newest day first; each check judges the day it names.</p>"]
    if not checks:
        body.append(empty(f"No day since {e(fmt_day(first_day))} has been checked. The daily DAG "
                          f"<code>{e(DAILY_DAG)}</code> checks each UTC day after it closes (06:00 UTC the next "
                          "morning by default); it has not run yet, or is paused."))
        return layout(f"Daily quality — {TITLE}", "".join(body), links, here="quality",
                      warehouse=data.get("warehouse"), generated_at=now)
    by_day: dict[date, list[dict]] = {}
    for c in checks:
        by_day.setdefault(c["day"], []).append(c)
    names = []
    for c in checks:
        if c["check_name"] not in names:
            names.append(c["check_name"])
    rows = []
    for day, day_checks in by_day.items():
        results = {c["check_name"]: c for c in day_checks}
        cells = [f'<a href="#day-{attr(fmt_day(day))}">{e(fmt_day(day))}</a>']
        for name in names:
            c = results.get(name)
            cells.append("—" if c is None else (_pill("passed", "ok") if c["passed"] else _pill("FAILED", "bad")))
        cells.append(link(links.digest(day), "digest") if day in digest_days else '<span class="muted">no digest</span>')
        rows.append(cells)
    body.append(table(["Day (UTC)"] + [CHECK_TITLES.get(n, n) for n in names] + ["Digest"], rows, cls="quality-grid"))
    for day, day_checks in by_day.items():
        body.append(f'<section id="day-{attr(fmt_day(day))}"><h2>{e(fmt_day(day))}</h2>{checks_table(day_checks)}</section>')
    return layout(f"Daily quality — {TITLE}", "".join(body), links, here="quality", warehouse=data.get("warehouse"),
                  generated_at=now)


class _DigestSanitizer(HTMLParser):
    """The digest's HTML reduced to the few tags a digest uses; links only to http(s), opening
    in a new tab; anything else (scripts, styles, attributes, event handlers) dropped."""
    ALLOWED = {"h1", "h2", "h3", "h4", "p", "ol", "ul", "li", "a", "strong", "em", "b", "i", "br", "code",
               "blockquote"}
    DROP_CONTENT = {"script", "style", "iframe", "object", "template", "noscript", "svg", "math"}

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
            why = (f"{fmt_day(day)} is not over yet (UTC): the daily DAG <code>{DAILY_DAG}</code> writes a day's "
                   "digest after it closes, at 06:00 UTC the next morning by default.")
        else:
            why = (f"The daily DAG <code>{DAILY_DAG}</code> has not written one for this day: it had not run yet "
                   "(or was paused) then; clear or backfill that day in Airflow to write it.")
        body.append(f"<h1>{e(title)}</h1>")
        body.append(empty(f"No digest for {e(fmt_day(day))}. {why}"))
        if days:
            body.append("<p>Digests exist for: " + ", ".join(link(links.digest(d["day"]), fmt_day(d["day"]))
                                                          for d in days[:14]) + ".</p>")
    else:
        body.append(_digest_nav(day, days, links))
        body.append(f'<p class="meta">{e(plural(int(digest.get("stories") or 0), "story", "stories"))} first seen on '
                    f"{e(fmt_day(day))} (UTC); written {when(digest.get('created_at'), now)} UTC · "
                    f"{link(links.articles(day=fmt_day(day)), 'articles published that day')} · "
                    f"{link(links.quality() + '#day-' + fmt_day(day), 'quality checks of that day')}</p>")
        body.append(f'<div class="digest">{sanitize_digest(digest.get("html") or "")}</div>')
        stories = data.get("stories") or []
        if stories:
            labels = data.get("labels") or {}
            rows = [[link(links.story(s["story_id"]), s["headline"]), e(s["outlet_count"]), e(s["article_count"]),
                     _topics(s.get("topics"), labels)] for s in stories]
            body.append(section("day-stories", "The day's stories in newswatch",
                                table(["Story", "Outlets", "Articles", "Topics"], rows, cls="stories", num=(1, 2)),
                                sub="Every relevant story first seen that day, by reach, each opening its articles, "
                                    "evidence and sightings."))
    return layout(f"{title} — {TITLE}", "".join(body), links, here="digests", warehouse=data.get("warehouse"),
                  generated_at=now)


def render_digest_index(data: dict, links: Links) -> str:
    days, now = data.get("days") or [], data["generated_at"]
    body = ["<h1>Daily digests</h1>"]
    if not days:
        body.append(empty(f"No digest yet. The daily DAG <code>{DAILY_DAG}</code> writes one per UTC day after it "
                          "closes (06:00 UTC the next morning by default): the day's top stories by reach, and by "
                          "topic."))
    else:
        body.append(table(["Day (UTC)", "Stories", "Written (UTC)"],
                          [[link(links.digest(d["day"]), fmt_day(d["day"])), e(d.get("stories") or 0),
                            when(d.get("created_at"), now)] for d in days], cls="digests", num=(1,)))
    return layout(f"Digests — {TITLE}", "".join(body), links, here="digests", warehouse=data.get("warehouse"),
                  generated_at=now)


# === errors ====================================================================================

ERROR_HINTS = {
    403: "You are logged in to Airflow, but these pages are only for users the auth manager grants the "
         "“newswatch” view and, when NEWSWATCH_UI_ROLES is set, for the roles it lists. Ask an Airflow admin.",
    503: "The pages read the warehouse through the Airflow connection news_warehouse_readonly (else "
         "news_warehouse).",
}


def render_error(status: int, title: str, reason: str, links: Links, warehouse: dict | None = None) -> str:
    hint = f'<p class="meta">{e(ERROR_HINTS[status])}</p>' if status in ERROR_HINTS else ""
    nav = "" if status == 403 else f"<p>{link(links.coverage(), 'Coverage')} · {link(links.articles(), 'Articles')}</p>"
    body = f"<h1>{e(title)}</h1><p class=\"notice\">{e(reason)}</p>{hint}{nav}"
    return layout(f"{title} — {TITLE}", body, links, warehouse=warehouse)
