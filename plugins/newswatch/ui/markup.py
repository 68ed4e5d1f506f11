"""Small HTML building blocks shared by the pages: escaping, times, tables, the page layout.

Everything that comes from the warehouse goes through `e()` (text) or `attr()` (attribute
values); links to the outside world go through `safe_url()` (http and https only). Tables are
built by `table()`, which refuses a row whose cell count differs from the header's, so columns
cannot drift under the wrong heading.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import overload

from .links import Links


def e(value) -> str:
    """Text content, escaped ('' for None)."""
    return "" if value is None else html.escape(str(value), quote=True)


def attr(value) -> str:
    """An attribute value, escaped for use inside double quotes."""
    return html.escape("" if value is None else str(value), quote=True)


def safe_url(url: str | None) -> str | None:
    """A link to the outside world only when it is http(s): no javascript:, data: or relative
    tricks from a feed's content."""
    if not url or not re.match(r"(?i)^https?://[^\s]+$", url.strip()):
        return None
    return url.strip()


def link(
    href: str | None, text: str, *, cls: str = "", external: bool = False, top: bool = False, title: str | None = None
) -> str:
    """<a> with escaped text and href (plain escaped text when there is no href). `external`:
    a new tab, no referrer; `top`: leave the Airflow UI's iframe (links into the Airflow UI)."""
    if not href:
        return e(text)
    extra = f' class="{attr(cls)}"' if cls else ""
    if title:
        extra += f' title="{attr(title)}"'
    if external:
        extra += ' target="_blank" rel="noopener noreferrer"'
    elif top:
        extra += ' target="_top"'
    return f'<a href="{attr(href)}"{extra}>{e(text)}</a>'


def external_link(url: str | None, text: str = "original ↗") -> str:
    url = safe_url(url)
    return link(url, text, external=True, cls="ext") if url else ""


# --- times ------------------------------------------------------------------------------------


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
@overload
def utc(value: datetime | None) -> datetime | None: ...
def utc(value: datetime | None) -> datetime | None:
    """The value as an aware UTC datetime (a naive one is taken to be UTC already); None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def fmt_time(value: datetime | None, *, seconds: bool = False) -> str:
    """'2026-11-28 09:30' (UTC) or '—'."""
    value = utc(value)
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def fmt_day(value: date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "—"


def fmt_ago(value: datetime | None, now: datetime) -> str:
    """'5 min ago', '3 h ago', '2 days ago', 'in 40 min', 'now'."""
    value = utc(value)
    if value is None:
        return "never"
    delta = (utc(now) - value).total_seconds()
    future = delta < 0
    seconds = abs(delta)
    if seconds < 60:
        return "now"
    if seconds < 3600:
        text = f"{int(seconds // 60)} min"
    elif seconds < 48 * 3600:
        text = f"{int(seconds // 3600)} h"
    else:
        text = f"{int(seconds // 86400)} days"
    return f"in {text}" if future else f"{text} ago"


def when(value: datetime | None, now: datetime) -> str:
    """A time as a <time> element: the UTC time, with how long ago in its tooltip."""
    value = utc(value)
    if value is None:
        return '<span class="muted">—</span>'
    return f'<time datetime="{attr(value.isoformat())}" title="{attr(fmt_ago(value, now))}">{e(fmt_time(value))}</time>'


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


# --- tables -----------------------------------------------------------------------------------


class Cell(str):
    """Markup that is already HTML (a cell's content built with the helpers above)."""


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    cls: str = "",
    num: Iterable[int] = (),
    widths: Sequence[str] | None = None,
    row_classes: Sequence[str] | None = None,
    caption: str | None = None,
) -> str:
    """A table whose every row has exactly one cell per header (a mismatch is a bug, raised
    here rather than shown as numbers under the wrong heading). Cells are HTML: escape text
    with e() before passing it. `num`: indexes of right-aligned numeric columns; `widths`: a
    <colgroup>, so tables of the same kind line up with each other."""
    num = set(num)
    out = [f'<table class="{attr(cls)}">' if cls else "<table>"]
    if caption:
        out.append(f"<caption>{e(caption)}</caption>")
    if widths:
        if len(widths) != len(headers):
            raise ValueError(f"{len(widths)} widths for {len(headers)} columns")
        out.append("<colgroup>" + "".join(f'<col style="width:{attr(w)}">' for w in widths) + "</colgroup>")
    out.append(
        "<thead><tr>"
        + "".join(f'<th scope="col"{" class=num" if i in num else ""}>{e(h)}</th>' for i, h in enumerate(headers))
        + "</tr></thead>"
    )
    out.append("<tbody>")
    for n, row in enumerate(rows):
        row = list(row)
        if len(row) != len(headers):
            raise ValueError(f"table row {n} has {len(row)} cells for {len(headers)} columns ({', '.join(headers)})")
        klass = row_classes[n] if row_classes and n < len(row_classes) and row_classes[n] else ""
        out.append(
            (f'<tr class="{attr(klass)}">' if klass else "<tr>")
            + "".join(f"<td{' class=num' if i in num else ''}>{cell}</td>" for i, cell in enumerate(row))
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def empty(text_html: str) -> str:
    """An explicit empty state (HTML content)."""
    return f'<p class="empty">{text_html}</p>'


def section(anchor: str, title: str, body: str, *, sub: str = "") -> str:
    sub_html = f'<p class="meta">{sub}</p>' if sub else ""
    return f'<section id="{attr(anchor)}"><h2>{e(title)}</h2>{sub_html}{body}</section>'


# --- the page ---------------------------------------------------------------------------------

CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d8dee4; --bg2:#f6f8fa; --bad:#b42318; --badbg:#fef3f2;
        --warn:#9a6700; --warnbg:#fff8c5; --ok:#1a7f37; --okbg:#dafbe1; --link:#0969da; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0;
       background: #fff; }
header.top { padding: .7rem 1.5rem .5rem; border-bottom: 1px solid var(--line); background: var(--bg2); }
header.top .brand { font-weight: 600; margin-right: 1.2rem; }
header.top nav a { margin-right: 1rem; }
header.top nav a.here { font-weight: 600; color: var(--fg); text-decoration: none; }
header.top .warehouse { color: var(--muted); font-size: .85rem; margin-top: .2rem; }
main { padding: 1rem 1.5rem 3rem; max-width: 1400px; }
h1 { font-size: 1.45rem; margin: .2rem 0 .6rem; }
h2 { font-size: 1.12rem; margin: 1.8rem 0 .5rem; padding-bottom: .2rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
a { color: var(--link); }
.meta, .muted, .sub { color: var(--muted); }
.meta { font-size: .88rem; margin: .2rem 0 .6rem; }
.sub { font-size: .85rem; }
.empty { color: var(--muted); background: var(--bg2); border: 1px dashed var(--line); padding: .7rem 1rem;
         border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; table-layout: auto; }
th, td { text-align: left; padding: .32rem .55rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; background: var(--bg2); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.fixed { table-layout: fixed; }
table.fixed td { overflow-wrap: anywhere; }
tr.bad td { background: var(--badbg); }
tr.warn td { background: var(--warnbg); }
.pill { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; border: 1px solid var(--line);
        background: var(--bg2); white-space: nowrap; }
.pill.ok { background: var(--okbg); border-color: #aceebb; color: var(--ok); }
.pill.bad { background: var(--badbg); border-color: #fecdca; color: var(--bad); }
.pill.warn { background: var(--warnbg); border-color: #f5e0a0; color: var(--warn); }
.topic { display: inline-block; margin: 0 .25rem .15rem 0; padding: 0 .4rem; border-radius: 4px; font-size: .8rem;
         background: var(--bg2); border: 1px solid var(--line); white-space: nowrap; }
.banner { border: 1px solid var(--line); border-radius: 8px; padding: .7rem 1rem; margin: .4rem 0 1rem; }
.banner.ok { border-left: 6px solid var(--ok); }
.banner.warn { border-left: 6px solid #d4a72c; }
.banner.bad { border-left: 6px solid var(--bad); }
.banner p { margin: .25rem 0; }
.banner ul { margin: .25rem 0 .25rem 1.2rem; padding: 0; }
.legend { margin: .3rem 0 .2rem; }
.legend a, .legend span.key { display: inline-block; margin: 0 .9rem .3rem 0; font-size: .85rem; color: var(--fg);
                               text-decoration: none; }
.legend a:hover { text-decoration: underline; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px;
            border-radius: 2px; }
svg a:hover rect { opacity: .75; }
details { margin: .35rem 0; }
details > summary { cursor: pointer; }
details.group { border: 1px solid var(--line); border-radius: 6px; padding: .35rem .7rem; }
details.group > summary { font-weight: 600; }
details.group[open] > summary { margin-bottom: .4rem; }
.grid2 { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 0 2rem; }
@media (max-width: 1000px) { .grid2 { grid-template-columns: 1fr; } }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; background: var(--bg2);
               border: 1px solid var(--line); border-radius: 8px; padding: .7rem 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); gap: .15rem; }
form.filters input, form.filters select { font: inherit; padding: .2rem .35rem; }
form.filters select { max-width: 15rem; }
form.filters input[name=q] { min-width: 16rem; }
a.ext { white-space: nowrap; font-size: .85em; }
table.articles td:nth-child(5), table.stories td:first-child { min-width: 20rem; }
table.articles td:nth-child(8) { white-space: nowrap; }
.pager { margin: .6rem 0; }
.pager a, .pager span { margin-right: 1rem; }
dl.evidence { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .4rem 0; }
dl.evidence dt { color: var(--muted); }
dl.evidence dd { margin: 0; }
article.item { border: 1px solid var(--line); border-radius: 8px; padding: .6rem 1rem; margin: .8rem 0; }
article.item h3 { margin: .1rem 0 .3rem; }
.fulltext { white-space: pre-wrap; max-height: 28rem; overflow: auto; background: var(--bg2); padding: .6rem .8rem;
            border-radius: 6px; font-size: .9rem; }
.digest h1 { font-size: 1.25rem; }
.notice { background: var(--warnbg); border: 1px solid #f5e0a0; padding: .5rem .8rem; border-radius: 6px; }
code { background: var(--bg2); padding: 0 .25rem; border-radius: 3px; }
"""

NAV = (("coverage", "Coverage"), ("articles", "Articles"), ("quality", "Quality"), ("digests", "Digests"))


def warehouse_line(warehouse: dict | None) -> str:
    """'Warehouse: database newswatch_demo on 127.0.0.1:54329, read as newswatch_analyst'."""
    if not warehouse:
        return ""
    host = warehouse.get("host") or warehouse.get("server_address") or "local socket"
    port = warehouse.get("port") or warehouse.get("server_port")
    where = f"{host}:{port}" if port else host
    login = f", read as {e(warehouse['login'])}" if warehouse.get("login") else ""
    return f"Warehouse: database <strong>{e(warehouse.get('database'))}</strong> on <strong>{e(where)}</strong>{login}"


def layout(
    title: str,
    body: str,
    links: Links,
    *,
    here: str = "",
    warehouse: dict | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The whole document: header with navigation and the warehouse's name, then `body`."""
    nav = " ".join(
        f'<a href="{attr(links.app(path))}"{" class=here" if path == here else ""}>{e(label)}</a>'
        for path, label in NAV
    )
    stamp = f" · page generated {e(fmt_time(generated_at))} UTC" if generated_at else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{e(title)}</title>
<style>{CSS}</style></head>
<body>
<header class="top"><span class="brand">newswatch · US–China coverage</span><nav>{nav}</nav>
<div class="warehouse">{warehouse_line(warehouse)}{stamp}</div></header>
<main>
{body}
</main>
</body></html>"""
