"""The daily quality page, and the checks table the coverage page shows too."""

from __future__ import annotations

from datetime import date

from ..links import DAILY_DAG, Links
from ..markup import attr, e, empty, fmt_day, layout, link, table
from .common import TITLE, pill

CHECK_TITLES = {
    "feed_freshness": "Feed freshness",
    "relevant_volume": "Relevant volume",
    "duplicate_ratio": "Duplicate ratio",
    "ingest_lag": "Ingest lag",
    "merge_failures": "Merge failures",
}


def _check_value(value) -> str:
    if value is None:
        return "—"
    value = float(value)
    return f"{int(value)}" if value.is_integer() else f"{value:.3g}"


def checks_table(checks: list[dict]) -> str:
    rows, classes = [], []
    for c in checks:
        rows.append(
            [
                e(CHECK_TITLES.get(c["check_name"], c["check_name"])),
                pill("passed", "ok") if c["passed"] else pill("FAILED", "bad"),
                e(_check_value(c.get("value"))),
                e(c.get("threshold") or "—"),
                e(c.get("detail") or ""),
            ]
        )
        classes.append("" if c["passed"] else "bad")
    return table(["Check", "Result", "Value", "Threshold", "Detail"], rows, cls="checks", num=(2,), row_classes=classes)


def render_quality(data: dict, links: Links) -> str:
    checks, now = data.get("checks") or [], data["generated_at"]
    digest_days = {d["day"] for d in data.get("digests") or []}
    first_day = data["first_day"]
    body = [
        f'<h1>Daily quality</h1><p class="meta">The daily DAG\'s data-quality checks, {e(fmt_day(first_day))} '
        f"to today (UTC), newest day first; each check judges the day it names.</p>"
    ]
    if not checks:
        body.append(
            empty(
                f"No day since {e(fmt_day(first_day))} has been checked. The daily DAG "
                f"<code>{e(DAILY_DAG)}</code> checks each UTC day after it closes (06:00 UTC the next "
                "morning by default); it has not run yet, or is paused."
            )
        )
        return layout(
            f"Daily quality — {TITLE}",
            "".join(body),
            links,
            here="quality",
            warehouse=data.get("warehouse"),
            generated_at=now,
        )
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
            cells.append("—" if c is None else (pill("passed", "ok") if c["passed"] else pill("FAILED", "bad")))
        cells.append(
            link(links.digest(day), "digest") if day in digest_days else '<span class="muted">no digest</span>'
        )
        rows.append(cells)
    body.append(table(["Day (UTC)"] + [CHECK_TITLES.get(n, n) for n in names] + ["Digest"], rows, cls="quality-grid"))
    for day, day_checks in by_day.items():
        body.append(
            f'<section id="day-{attr(fmt_day(day))}"><h2>{e(fmt_day(day))}</h2>{checks_table(day_checks)}</section>'
        )
    return layout(
        f"Daily quality — {TITLE}",
        "".join(body),
        links,
        here="quality",
        warehouse=data.get("warehouse"),
        generated_at=now,
    )
