"""The "US–China coverage" page in the Airflow UI: a small FastAPI app the api-server mounts
(registered by plugins/newswatch_coverage.py), reading the warehouse through the
`news_warehouse` connection.

The page is server-rendered HTML with an inline SVG chart: no JavaScript, no assets to fetch,
so it works offline and inside the UI's iframe. Every value is escaped.
"""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from .warehouse import connection, reports
from .daily import topic_labels

# Tableau 20: distinguishable colours, assigned to topics in the order topics.yaml lists them
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac", "#86bc86", "#d37295", "#a0cbe8", "#ffbe7d", "#8cd17d", "#b6992d",
           "#499894", "#fabfd2", "#d4a6c8", "#79706e"]


def topic_colours(topics: list[str]) -> dict[str, str]:
    return {topic: PALETTE[i % len(PALETTE)] for i, topic in enumerate(topics)}


def load_coverage(conn, now: datetime | None = None, days: int = 30, top: int = 10) -> dict:
    """Everything the page shows, as plain data (also served as JSON)."""
    now = now or datetime.now(timezone.utc)
    since = now - timedelta(hours=24)
    first_day = (now - timedelta(days=days - 1)).date()
    panels = reports.coverage(conn, since=since, first_day=first_day, last_day=now.date(), top=top)
    stories, daily, feeds = panels["stories"], panels["daily"], panels["feeds"]
    labels = topic_labels()
    for topic in sorted({row["topic"] for row in daily} - set(labels)):
        labels[topic] = topic  # a topic no longer in the rules still has articles: show it
    return {"generated_at": now, "first_day": first_day, "last_day": now.date(), "stories": stories,
            "daily": daily, "feeds": feeds, "labels": labels}


def chart_svg(daily: list[dict], first_day: date, last_day: date, labels: dict[str, str],
              width: int = 900, height: int = 260) -> str:
    """Stacked bars: relevant articles per day, one colour per topic."""
    colours = topic_colours(list(labels))
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    by_day: dict[date, dict[str, int]] = defaultdict(dict)
    for row in daily:
        by_day[row["day"]][row["topic"]] = row["articles"]
    peak = max([sum(v.values()) for v in by_day.values()] + [1])
    left, bottom, top_pad = 40, 30, 10
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    bar_w = plot_w / max(len(days), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="Relevant articles per day and topic, {first_day} to {last_day}">']
    for frac in (0, 0.5, 1):
        y = top_pad + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{round(peak * frac)}</text>')
    for i, day in enumerate(days):
        x = left + i * bar_w
        y = top_pad + plot_h
        for topic, colour in colours.items():
            value = by_day.get(day, {}).get(topic, 0)
            if not value:
                continue
            h = plot_h * value / peak
            y -= h
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bar_w - 2, 1):.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{day}: {html.escape(labels.get(topic, topic))} {value}</title></rect>"
            )
        if i % 5 == 0 or day == last_day:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - 10}" font-size="10" text-anchor="middle">'
                         f"{day:%m-%d}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _fmt_time(value) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") if value else "—"


def render_page(data: dict) -> str:
    e = html.escape
    labels = data["labels"]
    rows = []
    for s in data["stories"]:
        topics = ", ".join(e(labels.get(t, t)) for t in s["topics"]) or "—"
        head = e(s["headline"])
        link = f'<a href="{e(s["url"], quote=True)}" target="_blank" rel="noopener">{head}</a>' if s["url"] else head
        rows.append(
            f"<tr><td>{link}<div class='sub'>{e(', '.join(s['outlets']))}</div></td>"
            f"<td class='num'>{s['outlet_count']}</td><td class='num'>{s['article_count']}</td>"
            f"<td>{topics}</td><td>{e(_fmt_time(s['first_seen_at']))}</td></tr>"
        )
    stories_html = (
        "<table><thead><tr><th>Story</th><th>Outlets</th><th>Articles</th><th>Topics</th><th>First seen (UTC)</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        if rows else "<p class='empty'>No relevant story in the last 24 hours.</p>"
    )
    feed_rows = []
    for f in data["feeds"]:
        note = f["disabled_reason"] or (f"redirects to {f['redirect_url']}" if f["redirect_url"] else "") or (
            f"{f['last_error_class']}: {f['last_error']}" if f["failure_streak"] else "")
        feed_rows.append(
            f"<tr class='state-{e(f['state'].replace(' ', '-'))}'><td>{e(f['name'])}</td><td>{e(f['state'])}</td>"
            f"<td>{e(_fmt_time(f['last_success_at']))}</td><td class='num'>{f['failure_streak']}</td>"
            f"<td class='num'>{f['new_articles_7d']}</td><td class='num'>{f['relevant_articles_7d']}</td>"
            f"<td class='note'>{e(note[:200])}</td></tr>"
        )
    legend = "".join(
        f"<span class='key'><i style='background:{c}'></i>{e(labels[t])}</span>"
        for t, c in topic_colours(list(labels)).items()
    )
    failing = sum(1 for f in data["feeds"] if f["state"] in ("failing", "disabled"))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>US–China coverage</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
h1 {{ font-size: 1.4rem; margin: 0 0 .2rem; }} h2 {{ font-size: 1.1rem; margin-top: 1.6rem; }}
.meta, .sub, .empty {{ color: #666; font-size: .85rem; }}
table {{ border-collapse: collapse; width: 100%; font-size: .9rem; }}
th, td {{ text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }}
td.num {{ text-align: right; }} td.note {{ color: #a33; font-size: .8rem; }}
tr.state-failing td, tr.state-disabled td {{ background: #fff3f3; }}
.key {{ display: inline-block; margin: 0 .8rem .3rem 0; font-size: .8rem; }}
.key i {{ display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }}
</style></head><body>
<h1>US–China coverage</h1>
<div class="meta">Generated {e(_fmt_time(data['generated_at']))} UTC from the newswatch warehouse.
 {len(data['feeds'])} feeds, {failing} failing or disabled.</div>
<h2 id="top-stories">Today's top stories (last 24 hours), by reach</h2>
{stories_html}
<h2 id="daily-coverage">Daily coverage per topic, last 30 days</h2>
<div class="meta">Relevant articles by publication day (UTC), {data['first_day']} to {data['last_day']}.</div>
{chart_svg(data['daily'], data['first_day'], data['last_day'], labels)}
<div>{legend}</div>
<h2 id="feed-health">Feed health</h2>
<table><thead><tr><th>Feed</th><th>State</th><th>Last success (UTC)</th><th>Failure streak</th>
<th>New (7 d)</th><th>Relevant (7 d)</th><th>Note</th></tr></thead><tbody>{''.join(feed_rows)}</tbody></table>
</body></html>"""


def _json_ready(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def create_app(dsn: Callable[[], str] | None = None, require_login: bool = True):
    """The FastAPI app. `dsn` returns the warehouse DSN (default: the read-only Airflow connection
    `news_warehouse_readonly`, else `news_warehouse`); `require_login` uses the Airflow UI's
    session and its auth manager (access.py), so the page is as private as the rest of the UI."""
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

    from .access import Access
    from .config import UISettings

    if dsn is None:
        from .airflow_support import reader_dsn as dsn

    app = FastAPI(title="newswatch: US–China coverage", docs_url=None, redoc_url=None, openapi_url=None)

    if require_login:
        from airflow.api_fastapi.app import get_auth_manager
        from airflow.api_fastapi.core_api.security import get_user

        from . import access

        def reader(user=Depends(get_user)) -> Access:
            decision = access.decide(user, get_auth_manager(), UISettings.from_env().allowed_roles)
            if not decision.can_read:
                raise HTTPException(status_code=403, detail=f"not allowed: {decision.why}")
            return decision
    else:
        def reader() -> Access:
            return Access(True, True)

    @app.exception_handler(HTTPException)
    async def login_redirect(request: Request, exc: HTTPException):
        if exc.status_code == 401 and request.url.path.endswith("/coverage"):
            return RedirectResponse(url=f"/auth/login/?next={request.url.path}", status_code=307)
        if exc.status_code == 403 and request.url.path.endswith("/coverage"):
            return HTMLResponse(f"<!doctype html><title>Not allowed</title><h1>Not allowed</h1>"
                                f"<p>{html.escape(str(exc.detail))}</p>", status_code=403)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    def fetch(who: Access) -> dict:
        with connection(dsn()) as conn:
            conn.set_session(readonly=True)
            data = load_coverage(conn)
        if not who.sees_operations:
            for feed in data["feeds"]:
                feed["last_error"] = feed["last_error_class"] = feed["redirect_url"] = feed["disabled_reason"] = None
        return data

    @app.get("/coverage", response_class=HTMLResponse)
    def coverage_page(who: Access = Depends(reader)) -> HTMLResponse:
        return HTMLResponse(render_page(fetch(who)))

    @app.get("/coverage.json")
    def coverage_json(who: Access = Depends(reader)) -> JSONResponse:
        return JSONResponse(_json_ready(fetch(who)))

    return app
