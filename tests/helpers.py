"""Small builders for feed documents and warehouse assertions used across the test tiers."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

BASE_TIME = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


_SUBJECTS = [
    "soybean purchases",
    "chip export controls",
    "fentanyl precursors",
    "Taiwan arms sales",
    "student visas",
    "South China Sea patrols",
    "climate finance",
    "rare earth exports",
    "detained citizens",
    "entity list additions",
    "tariff exclusions",
    "military hotlines",
]
_PLACES = [
    "Geneva",
    "Beijing",
    "Washington",
    "Singapore",
    "Bali",
    "London",
    "Tianjin",
    "Anchorage",
    "Lima",
    "Kuala Lumpur",
    "Stockholm",
    "Madrid",
]
_VERBS = [
    "clash over",
    "make progress on",
    "trade barbs about",
    "agree to review",
    "stall on",
    "exchange proposals on",
    "pause talks on",
    "set deadlines for",
]


def item(
    n: int,
    title: str | None = None,
    link: str | None = None,
    summary: str | None = None,
    guid: str | None = None,
    when: datetime | None = None,
) -> dict:
    """A distinct, relevant-looking entry per n (different words, so no two cluster together)."""
    subject, place, verb = _SUBJECTS[n % 12], _PLACES[(n * 5 + 3) % 12], _VERBS[(n * 3 + 1) % 8]
    return {
        "title": title if title is not None else f"US and China {verb} {subject} in {place} ({n})",
        "link": link if link is not None else f"https://news.example.com/world/story-{n}?utm_source=rss",
        "summary": summary
        if summary is not None
        else (
            f"Negotiators from Washington and Beijing met in {place} where {subject} dominated a session "
            f"that diplomats described as item {n} of a long agenda."
        ),
        "guid": guid,
        "when": when or BASE_TIME - timedelta(minutes=n),
    }


def rss(items: list[dict], title: str = "Example feed", extra_channel: str = "") -> bytes:
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>https://news.example.com/</link>{extra_channel}"
    ]
    for it in items:
        parts.append("<item>")
        if it.get("title") is not None:
            parts.append(f"<title>{escape(it['title'])}</title>")
        if it.get("link") is not None:
            parts.append(f"<link>{escape(it['link'])}</link>")
        if it.get("guid"):
            parts.append(f'<guid isPermaLink="false">{escape(it["guid"])}</guid>')
        if it.get("summary") is not None:
            parts.append(f"<description>{escape(it['summary'])}</description>")
        if it.get("when"):
            parts.append(f"<pubDate>{format_datetime(it['when'])}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def count(conn, table: str, where: str = "TRUE", params=()) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM news.{table} WHERE {where}", params or None)
        value = cur.fetchone()[0]
    conn.rollback()
    return value


def rows(conn, sql: str, params=()):
    with conn.cursor() as cur:
        cur.execute(sql, params or None)
        out = cur.fetchall()
    conn.rollback()
    return out


def table_counts(conn) -> dict:
    return {
        t: count(conn, t)
        for t in (
            "articles",
            "article_sightings",
            "stories",
            "rejects",
            "article_revisions",
            "article_fingerprints",
        )
    }


def trigger_and_wait(
    base: str, token: str, dag_id: str, *, conf: dict | None = None, timeout: float = 300, check_alive=lambda: None
) -> tuple[str, str | None, list[dict]]:
    """Trigger `dag_id` through Airflow's REST API and wait for the run to end; returns the run
    id, its final state and its task instances. `check_alive` is called between polls (to fail early when a
    process the run needs has died)."""
    import time

    import requests

    headers = {"Authorization": f"Bearer {token}"}
    r = requests.post(
        f"{base}/api/v2/dags/{dag_id}/dagRuns",
        headers=headers,
        json={"logical_date": None, "conf": conf or {}},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    run_id = r.json()["dag_run_id"]
    run_url = f"{base}/api/v2/dags/{dag_id}/dagRuns/{run_id}"
    state, deadline = None, time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = requests.get(run_url, headers=headers, timeout=10).json()["state"]
        if state in ("success", "failed"):
            break
        check_alive()
        time.sleep(3)
    tis = requests.get(f"{run_url}/taskInstances", headers=headers, params={"limit": 100}, timeout=10).json()[
        "task_instances"
    ]
    return run_id, state, tis


def gnews(url: str) -> str:
    """An old-style Google News pointer that carries the publisher's URL in its id."""
    raw = url.encode()
    token = base64.urlsafe_b64encode(b"\x08\x13\x22" + bytes([len(raw)]) + raw + b"\xd2\x01\x00").decode().rstrip("=")
    return f"https://news.google.com/rss/articles/{token}?oc=5"


def fingerprint_fails_on(monkeypatch, marker: str, error: Exception) -> None:
    """The poll's fingerprinting raises `error` for a headline holding `marker`, as a bug tripped
    by one odd text would; every other text is fingerprinted as usual."""
    from newswatch import pipeline

    real = pipeline.fingerprint

    def fingerprint(title, summary):
        if marker in title:
            raise error
        return real(title, summary)

    monkeypatch.setattr(pipeline, "fingerprint", fingerprint)


class CountingRules:
    """Relevance rules that count the texts they scored, and raise for the headline `fails_on`
    (as a bug tripped by one odd text would); a failed call is not counted."""

    def __init__(self, rules, fails_on: str | None = None):
        self.rules, self.fails_on, self.calls = rules, fails_on, 0

    def score(self, title, summary):
        if title == self.fails_on:
            raise ValueError("odd text")
        self.calls += 1
        return self.rules.score(title, summary)
