"""The coverage page: the pipeline's state, today's top stories, daily coverage per topic, top
outlets, feed health, daily quality and the digest."""

from __future__ import annotations

from datetime import datetime

from ...config import DEMO_DATABASE
from .. import charts
from ..filters import TYPE_LABELS
from ..links import Links
from ..markup import attr, e, empty, fmt_ago, fmt_day, fmt_time, layout, link, plural, section, table, when
from ..present import feed_counts, feed_reason, group_failures, next_retry, run_state
from .common import STATE_PILL, TITLE, pill, topics_html, type_html
from .quality import checks_table


def _schedule_sentence(schedule: dict | None, now: datetime, demo: bool = False) -> str:
    schedule = schedule or {}
    if schedule.get("paused") and demo:
        return (
            "the DAG <code>us_china_news</code> is <strong>paused</strong>: this is the demo's warehouse, a "
            "snapshot of the bundled sample feeds, and <code>make up</code> keeps the DAGs paused on it so "
            "polls of the real feeds never mix into it (<code>make run</code> fills the real warehouse, "
            "which <code>make up</code> then shows)"
        )
    if schedule.get("paused"):
        return "the DAG <code>us_china_news</code> is <strong>paused</strong>: no run until it is unpaused"
    nxt = schedule.get("next_run_at")
    source = {"airflow": "from Airflow's scheduler", "schedule": "from the schedule"}.get(
        schedule.get("source") or "", ""
    )
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
        who = (
            "by <code>newswatch run</code> on the command line"
            if latest.trigger == "cli"
            else (f"Airflow run <code>{e(latest.run_id)}</code>" if ops else "by Airflow")
            if latest.trigger == "airflow"
            else (f"run <code>{e(latest.run_id)}</code>" if ops else "")
        )
        ref = link(run_link, "open the run in Airflow", top=True) if run_link else ""
        state = {
            "finished": pill("finished", "ok"),
            "failed": pill("failed", "bad"),
            "running": pill("running", "warn"),
            "unfinished": pill("did not finish", "bad"),
        }[latest.state]
        parts.append(
            f"<p><strong>Last run:</strong> {when(latest.started_at, now)} UTC, {e(fmt_ago(latest.started_at, now))}, "
            f"{who} {state} {ref}<br>{e(latest.sentence)}.</p>"
        )
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
        parts.append(
            f"<p><strong>Feeds:</strong> {e(line)}{e('; ' + ', '.join(extra)) if extra else ''}"
            f"{':' if groups else '.'}</p>"
        )
        if groups:
            items = "".join(f"<li>{e(g.sentence)} — {_feed_links(g.feeds, links)}</li>" for g in groups)
            parts.append(
                f'<ul class="failures">{items}</ul>'
                f'<p class="sub">{link(links.coverage("feed-health"), "Feed health")} has every feed.</p>'
            )
            level = "bad" if counts["reachable"] == 0 else ("warn" if level == "ok" else level)
    else:
        parts.append(
            "<p><strong>Feeds:</strong> none configured in this warehouse yet (the first run syncs the feeds file).</p>"
        )
        level = "warn"
    parts.append(_next_run_line(data, links))
    return f'<div class="banner {level}" id="pipeline" role="status">{"".join(parts)}</div>'


def _next_run_line(data: dict, links: Links) -> str:
    """When the polling DAG runs next, linking to the DAG in the Airflow UI (where it is triggered,
    paused or unpaused) for those who see operations."""
    demo = (data.get("warehouse") or {}).get("database") == DEMO_DATABASE
    sentence = _schedule_sentence(data.get("schedule"), data["generated_at"], demo)
    dag = links.dag()
    ref = " " + link(dag, "Open the DAG in Airflow", top=True) + "." if dag else ""
    return f"<p><strong>Next run:</strong> {sentence}.{ref}</p>"


def render_top_stories(data: dict, links: Links) -> str:
    now, labels = data["generated_at"], data["labels"]
    stories = data.get("stories") or []
    if not stories:
        last = data.get("warehouse", {}).get("last_relevant_seen_at")
        tail = (
            f" The newest relevant article was first seen {e(fmt_ago(last, now))} ({e(fmt_time(last))} UTC): "
            f"{link(links.articles(window='all'), 'see the article list')}."
            if last
            else ""
        )
        return empty(f"No relevant story was seen in the last 24 hours.{tail}")
    rows = []
    for s in stories:
        outlets = ", ".join(s.get("outlets") or [])
        rows.append(
            [
                f'{link(links.story(s["story_id"]), s["headline"])}<div class="sub">{e(outlets)}</div>',
                e(s["outlet_count"]),
                e(s["article_count"]),
                topics_html(s.get("topics"), labels),
                when(s.get("first_seen_at"), now),
            ]
        )
    return table(["Story", "Outlets", "Articles", "Topics", "First seen (UTC)"], rows, cls="stories", num=(1, 2))


def render_chart_panel(data: dict, links: Links) -> str:
    labels = data["labels"]
    colours = charts.topic_colours(list(labels))
    daily = [r for r in data.get("daily") or [] if r.get("articles")]
    first, last = data["first_day"], data["last_day"]
    if not daily:
        return empty(
            f"No relevant article was published between {e(fmt_day(first))} and {e(fmt_day(last))}. "
            f"{link(links.articles(window='all'), 'All relevant articles')}."
        )
    present = charts.topics_present(daily, list(labels))
    counts: dict[str, int] = {}
    for r in daily:
        counts[r["topic"]] = counts.get(r["topic"], 0) + int(r["articles"])
    params = {"from": f"{first:%Y-%m-%d}", "to": f"{last:%Y-%m-%d}"}
    return (
        charts.daily_chart(daily, first, last, labels, colours, links)
        + charts.legend(present, labels, colours, links, counts, **params)
        + '<p class="sub">An article with two topics counts in both. Click a bar for that day\'s articles '
        "on the topic, a topic for all of them.</p>"
    )


def render_top_outlets(data: dict, links: Links) -> str:
    outlets = data.get("outlets") or []
    now = data["generated_at"]
    if not outlets:
        return empty("No outlet published relevant coverage in this period.")
    rows = []
    for o in outlets:
        rows.append(
            [
                link(links.articles(outlet=o["outlet"]), o["outlet"]),
                link(
                    links.articles(type=o.get("outlet_type") or "other"),
                    TYPE_LABELS.get(o.get("outlet_type") or "other", o.get("outlet_type") or "other"),
                ),
                e(o["articles"]),
                e(o["stories"]),
                when(o.get("latest_published_at"), now),
            ]
        )
    return table(["Outlet", "Type", "Articles", "Stories", "Latest (UTC)"], rows, cls="outlets", num=(2, 3))


FEED_COLUMNS = ["Outlet / feed", "State", "Streak", "Last success (UTC)", "Next retry (UTC)", "Reason"]
FEED_WIDTHS = ["24%", "9%", "6%", "14%", "14%", "33%"]


def feed_table(feeds: list[dict], links: Links, schedule: dict | None, now: datetime, *, retry: bool) -> str:
    """Feeds in the six aligned columns (the same widths in every group's table)."""
    rows, classes = [], []
    for f in feeds:
        outlet = f.get("outlet") or f["name"]
        reason = feed_reason(f, ops=links.ops)
        log = (
            links.task_log(f.get("last_fetch_run_id"), f.get("last_fetch_task"))
            if f.get("state") in ("failing", "disabled")
            else None
        )
        reason_html = e(reason[:300]) + (" · " + link(log, "task log", top=True) if log else "")
        nxt = next_retry(f, schedule, now)
        rows.append(
            [
                f"<strong>{e(outlet)}</strong>"
                f'<div class="sub">{e(f["name"])} · {type_html(f.get("outlet_type"))}</div>',
                pill(f.get("state") or "?", STATE_PILL.get(f.get("state") or "", "")),
                e(f.get("failure_streak") or 0),
                when(f.get("last_success_at"), now),
                when(nxt, now) if nxt else '<span class="muted">not polled</span>',
                reason_html or '<span class="muted">—</span>',
            ]
        )
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
    for key, word in (
        ("failing", "failing"),
        ("disabled", "disabled"),
        ("never_polled", "not polled yet"),
        ("redirected", "redirected"),
    ):
        if counts[key]:
            summary.append(f"{counts[key]} {word}")
    out = [f'<p class="meta">{e(", ".join(summary))}.</p>']
    for group in group_failures(feeds, with_causes=links.ops):
        out.append(
            _group_details(
                group.sentence,
                feed_table(group.feeds, links, schedule, now, retry=True),
                open_=len(group.feeds) <= 5,
                cls="group failing",
            )
        )
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
        out.append(
            _group_details(
                sentence,
                feed_table(chosen, links, schedule, now, retry=state != "ok"),
                open_=state != "ok" or len(chosen) <= 12,
                cls=f"group {state.replace(' ', '-')}",
            )
        )
    return "".join(out)


def render_quality_panel(data: dict, links: Links) -> str:
    checks = data.get("quality") or []
    digests = data.get("digests") or []
    digest_days = {d["day"] for d in digests}
    now = data["generated_at"]
    out = []
    if not checks:
        out.append(
            empty(
                "No day has been checked yet. The daily DAG <code>us_china_news_daily</code> checks each "
                "UTC day after it closes (06:00 UTC the next morning by default) and writes its digest."
            )
        )
    else:
        day = checks[0]["day"]
        failed = [c for c in checks if not c["passed"]]
        verdict = f"{len(failed)} of {len(checks)} checks failed" if failed else f"all {len(checks)} checks passed"
        out.append(
            f'<p class="meta">Checks of <strong>{e(fmt_day(day))}</strong> (UTC): {e(verdict)}; '
            f"checked {when(max(c['checked_at'] for c in checks), now)} UTC. "
            f"{link(links.quality(), 'The last 14 days')}.</p>"
        )
        out.append(checks_table(checks))
    if digests:
        latest = digests[0]
        day_checked = checks[0]["day"] if checks else None
        chosen = next((d for d in digests if d["day"] == day_checked), latest) if day_checked in digest_days else latest
        label = "digest of " + fmt_day(chosen["day"])
        stories = plural(int(chosen.get("stories") or 0), "story", "stories")
        out.append(
            f"<p><strong>Digest:</strong> {link(links.digest(chosen['day']), label)} ({e(stories)}) · "
            f"{link(links.digest(), 'all digests')}</p>"
        )
    else:
        out.append(
            '<p><strong>Digest:</strong> <span class="muted">none yet (the daily DAG writes one per day).</span></p>'
        )
    return "".join(out)


def render_empty_warehouse(data: dict, links: Links) -> str:
    w = data.get("warehouse") or {}
    now = data["generated_at"]
    feeds = int(w.get("feeds") or 0)
    lines = [
        "<p>This warehouse holds no article yet"
        f"{' and no pipeline run has written to it' if not w.get('has_runs') else ''}.</p>",
        "<ul>",
        "<li><strong>Just set up?</strong> The first poll has not run yet. The DAG <code>us_china_news</code> polls "
        f"the feeds on its schedule; next run: {_schedule_sentence(data.get('schedule'), now)}. "
        + (
            f"To poll now, {link(links.dag(), 'open the DAG', top=True)} and trigger it with "
            '<code>{"force": true}</code>.'
            if links.dag()
            else "An operator can trigger it now."
        )
        + "</li>",
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
        empty_page = head + render_banner(data, links) + render_empty_warehouse(data, links)
        return layout(TITLE, empty_page, links, here="coverage", warehouse=w, generated_at=now)
    first, last = data["first_day"], data["last_day"]
    body = [
        head,
        render_banner(data, links),
        section(
            "top-stories",
            "Today's top stories, by reach",
            render_top_stories(data, links),
            sub="Relevant stories seen in the last 24 hours, by how many outlets carried them. "
            f"{link(links.articles(window='24h'), 'All articles of the last 24 hours')}.",
        ),
        section(
            "daily-coverage",
            "Daily coverage per topic",
            render_chart_panel(data, links),
            sub=f"Relevant articles by publication day (UTC), {e(fmt_day(first))} to {e(fmt_day(last))}.",
        ),
        '<div class="grid2">',
        section(
            "top-outlets",
            "Top outlets",
            render_top_outlets(data, links),
            sub=f"Relevant articles published since {e(fmt_day(first))}.",
        ),
        section("daily-quality", "Daily quality", render_quality_panel(data, links)),
        "</div>",
        section("feed-health", "Feed health", render_feed_health(data, links)),
    ]
    return layout(TITLE, "".join(body), links, here="coverage", warehouse=w, generated_at=now)
