"""What every page shares: the title, topic links, outlet types, pills and scores."""

from __future__ import annotations

from ..filters import TYPE_LABELS
from ..links import Links
from ..markup import attr, e

TITLE = "US–China coverage"


def topics_html(topics, labels: dict[str, str], links: Links | None = None, **params) -> str:
    if not topics:
        return '<span class="muted">—</span>'
    out = []
    for t in topics:
        label = labels.get(t, t)
        out.append(
            f'<a class="topic" href="{attr(links.articles(topic=t, **params))}">{e(label)}</a>'
            if links
            else f'<span class="topic">{e(label)}</span>'
        )
    return "".join(out)


def type_html(outlet_type: str | None) -> str:
    return e(TYPE_LABELS.get(outlet_type or "other", outlet_type or "other"))


def pill(text: str, kind: str = "") -> str:
    return f'<span class="pill {attr(kind)}">{e(text)}</span>'


STATE_PILL = {
    "ok": "ok",
    "failing": "bad",
    "disabled": "bad",
    "redirected": "warn",
    "never polled": "warn",
    "disabled in feeds file": "",
}


def score_text(a: dict) -> str:
    return f"{float(a['relevance_score']):.2f}" if a.get("relevance_score") is not None else "—"
