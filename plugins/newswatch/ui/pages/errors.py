"""Error pages: what went wrong, and for 403 and 503 what to do about it."""

from __future__ import annotations

from ..links import Links
from ..markup import e, layout, link
from .common import TITLE

ERROR_HINTS = {
    403: "You are logged in to Airflow, but these pages are only for users the auth manager grants the "
    "“newswatch” view and, when NEWSWATCH_UI_ROLES is set, for the roles it lists. Ask an Airflow admin.",
    503: "The pages read the warehouse through the Airflow connection news_warehouse_readonly (else news_warehouse).",
}


def render_error(status: int, title: str, reason: str, links: Links, warehouse: dict | None = None) -> str:
    hint = f'<p class="meta">{e(ERROR_HINTS[status])}</p>' if status in ERROR_HINTS else ""
    nav = "" if status == 403 else f"<p>{link(links.coverage(), 'Coverage')} · {link(links.articles(), 'Articles')}</p>"
    body = f'<h1>{e(title)}</h1><p class="notice">{e(reason)}</p>{hint}{nav}'
    return layout(f"{title} — {TITLE}", body, links, warehouse=warehouse)
