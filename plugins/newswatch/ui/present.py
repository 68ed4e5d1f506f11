"""What the warehouse's rows mean to an analyst, as plain data: failures grouped by cause with a
hint, the state of the pipeline in a sentence, relevance evidence in words. Pure functions: no
HTML, no database, no Airflow."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# error_class -> (what happened, what to check); the classes are those of news.fetch_log
ERROR_HINTS: dict[str, tuple[str, str]] = {
    "dns": ("DNS failed", "is the network up?"),
    "connect": ("connection failed", "is the site down, or refusing us?"),
    "timeout": ("timed out", "a slow site, or a slow network?"),
    "tls": ("TLS failed", "a certificate problem on the site?"),
    "http_4xx": ("HTTP client error", "the feed's address is wrong?"),
    "http_5xx": ("HTTP server error", "the site has trouble; retried with back-off"),
    "rate_limited": ("HTTP 429: rate limited", "the next poll waits for the site's Retry-After"),
    "gone": ("HTTP 410: gone", "the feed was removed; find its new address, then `newswatch feeds enable NAME`"),
    "too_large": ("too large", "raise NEWSWATCH_MAX_BODY_BYTES?"),
    "not_a_feed": ("not a feed", "the address serves a web page now?"),
    "parse_error": ("unreadable feed", "broken XML; nothing could be recovered"),
    "blocked": ("address refused", "a private or reserved address; see NEWSWATCH_ALLOWED_NETWORKS"),
    "redirect_loop": ("redirect loop", "the site redirects in circles"),
    "internal": ("newswatch failed", "a bug or the warehouse, not the feed: see the task log"),
}
HTTP_HINTS: dict[int, str] = {
    400: "the site rejects the request?",
    401: "the feed needs a login?",
    403: "the site blocks us?",
    404: "the feed moved?",
    405: "the site refuses GET?",
    406: "the site refuses our Accept header?",
    451: "unavailable for legal reasons",
    500: "the site has trouble; retried with back-off",
    502: "the site's gateway has trouble; retried with back-off",
    503: "the site is down or overloaded; retried with back-off",
    504: "the site's gateway timed out; retried with back-off",
}


@dataclass(frozen=True)
class FailureKind:
    key: str  # "dns", "http_4xx:404"
    label: str  # "DNS failed", "HTTP 404"
    hint: str  # "is the network up?"

    def sentence(self, count: int) -> str:
        """'64 feeds: DNS failed — is the network up?'"""
        return f"{count} feed{'s' if count != 1 else ''}: {self.label} — {self.hint}"


def failure_kind(error_class: str | None, http_status: int | None = None) -> FailureKind:
    """A fetch failure's cause, for grouping: the error class, and for HTTP errors the status."""
    error_class = error_class or "unknown"
    if error_class in ("http_4xx", "http_5xx") and http_status:
        hint = HTTP_HINTS.get(int(http_status)) or ERROR_HINTS[error_class][1]
        return FailureKind(f"{error_class}:{int(http_status)}", f"HTTP {int(http_status)}", hint)
    label, hint = ERROR_HINTS.get(error_class, (error_class.replace("_", " "), "see the task log"))
    return FailureKind(error_class, label, hint)


@dataclass
class FeedGroup:
    kind: FailureKind
    feeds: list[dict] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        return self.kind.sentence(len(self.feeds))


FAILING_STATES = ("failing",)
REACHABLE_STATES = ("ok", "redirected")


def group_failures(feeds: list[dict], *, with_causes: bool = True) -> list[FeedGroup]:
    """Failing feeds grouped by cause, the largest group first. Without `with_causes` (a reader
    who does not see operations detail) they form one group, 'failing'."""
    groups: dict[str, FeedGroup] = {}
    for feed in feeds:
        if feed.get("state") not in FAILING_STATES:
            continue
        if with_causes:
            kind = failure_kind(feed.get("last_error_class"), feed.get("last_http_status"))
        else:
            kind = FailureKind("failing", "failing", "the feeds are retried with back-off")
        groups.setdefault(kind.key, FeedGroup(kind)).feeds.append(feed)
    return sorted(groups.values(), key=lambda g: (-len(g.feeds), g.kind.key))


def feed_counts(feeds: list[dict]) -> dict[str, int]:
    counts = {"total": 0, "reachable": 0, "failing": 0, "disabled": 0, "never_polled": 0, "redirected": 0}
    for feed in feeds:
        state = feed.get("state")
        if state == "disabled in feeds file":
            continue  # not expected to work: off in the feeds file
        counts["total"] += 1
        if state in REACHABLE_STATES:
            counts["reachable"] += 1
        if state == "redirected":
            counts["redirected"] += 1
        elif state == "failing":
            counts["failing"] += 1
        elif state == "disabled":
            counts["disabled"] += 1
        elif state == "never polled":
            counts["never_polled"] += 1
    return counts


def feed_reason(feed: dict, *, ops: bool) -> str:
    """Why a feed is in its state, in one line (operations detail: empty for other readers)."""
    if not ops:
        return ""
    if feed.get("disabled_reason"):
        return feed["disabled_reason"]
    if feed.get("state") == "failing":
        kind = failure_kind(feed.get("last_error_class"), feed.get("last_http_status"))
        detail = feed.get("last_error") or ""
        if not detail or detail == kind.label:
            return kind.label
        return detail if detail.startswith(kind.label) else f"{kind.label}: {detail}"
    if feed.get("redirect_url"):
        return f"permanently redirected to {feed['redirect_url']} ({feed.get('redirect_seen_count') or 1}×)"
    if feed.get("state") == "never polled":
        return "not polled yet"
    return ""


def next_retry(feed: dict, schedule: dict | None, now: datetime) -> datetime | None:
    """When the feed will next be fetched: its next_poll_at, or the first scheduled run at or after
    it (a feed is polled only by a run); None when it is not polled (disabled)."""
    if feed.get("state") in ("disabled", "disabled in feeds file"):
        return None
    due = feed.get("next_poll_at") or now
    runs = (schedule or {}).get("upcoming") or []
    for run in runs:
        if run >= due:
            return run
    return due


# --- the pipeline's state -------------------------------------------------------------------


@dataclass
class RunState:
    run_id: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    state: str  # finished | failed | running | unfinished
    sentence: str  # "8 feeds polled: 8 ok, 0 not modified, 2 failed; 85 new articles"
    feeds_polled: int = 0
    new_articles: int = 0
    polled_nothing: bool = False


def run_state(run: dict | None, now: datetime) -> RunState | None:
    """A pipeline run (news.pipeline_runs row) in words."""
    if not run:
        return None
    s = run.get("summary") or {}
    finished = run.get("finished_at")
    if not s:
        recent = now - run["started_at"] < timedelta(hours=2)
        return RunState(
            run["run_id"],
            run.get("trigger") or "",
            run["started_at"],
            finished,
            "running" if recent and not finished else "unfinished",
            "running now: polling and merging"
            if recent and not finished
            else "did not finish (no summary): see the run's task logs",
        )
    merge = s.get("merge") or {}
    polled = int(s.get("feeds_polled") or 0)
    new = int(merge.get("new") or 0)
    if polled == 0:
        sentence = "polled nothing: no feed was due"
        extra = []
        if s.get("feeds_not_due"):
            extra.append(f"{s['feeds_not_due']} not due yet")
        if s.get("feeds_disabled"):
            extra.append(f"{s['feeds_disabled']} disabled")
        if extra:
            sentence += f" ({', '.join(extra)})"
    else:
        parts = [
            f"{s.get('feeds_ok', 0)} ok",
            f"{s.get('feeds_not_modified', 0)} not modified",
            f"{s.get('feeds_failed', 0)} failed",
        ]
        if s.get("feeds_skipped"):
            parts.append(f"{s['feeds_skipped']} skipped")
        sentence = (
            f"{polled} feed{'s' if polled != 1 else ''} polled: {', '.join(parts)}; "
            f"{new} new article{'s' if new != 1 else ''}, {int(merge.get('relevant') or 0)} relevant"
        )
    state = "finished"
    if merge.get("failed"):
        state, sentence = "failed", sentence + "; THE MERGE FAILED (staged entries wait for the next merge)"
    elif s.get("nothing_loaded"):
        state = "failed"
        sentence += "; no feed was reachable" if s.get("no_feed_reachable") else "; nothing could be loaded"
    return RunState(
        run["run_id"], run.get("trigger") or "", run["started_at"], finished, state, sentence, polled, new, polled == 0
    )


def upcoming_runs(schedule: str | None, now: datetime, count: int = 48) -> list[datetime]:
    """The next `count` times a cron schedule or @preset fires after `now` (none for no schedule)."""
    if not schedule or schedule in ("@once", "@continuous"):
        return []
    from croniter import croniter

    presets = {
        "@hourly": "0 * * * *",
        "@daily": "0 0 * * *",
        "@midnight": "0 0 * * *",
        "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *",
        "@quarterly": "0 0 1 */3 *",
        "@yearly": "0 0 1 1 *",
        "@annually": "0 0 1 1 *",
    }
    expression = presets.get(schedule, schedule)
    try:
        it = croniter(expression, now.astimezone(UTC))
    except (ValueError, KeyError):
        return []
    return [it.get_next(datetime).astimezone(UTC) for _ in range(count)]


# --- relevance evidence -------------------------------------------------------------------------

RULES = {
    "bilateral": "a bilateral term (“US–China”, “world's two largest economies”) in the headline or lead",
    "both_sides_in_title": "both sides named in the headline",
    "both_sides": "both sides named in the headline or lead",
    "weak_sides": "both sides named, weakly",
    "one_side_only": "only one side named",
    "no_side": "neither side named",
    "passing_mention": "a side only mentioned in passing",
    "third_party_framing": "a third country's story, framed as US–China",
    "separate_stories": "the two sides in separate stories of a roundup",
    "implied_side": "an incident stands for a side",
    "roundup_headline_only": "a roundup, judged on its headline",
    "off_topic_context": "an off-topic context lowered the score",
    "no_interaction": "both sides named only as countries, nothing connecting them (score capped)",
}
WHERE = {"title": "headline", "lead": "lead", "body": "body", "summary": "summary", "page": "the fetched page"}
KINDS = {
    "actor": "an official or institution",
    "country": "the country's name",
    "weak": "a weak term",
    "incident": "an incident",
}


def _terms(values) -> str:
    if isinstance(values, dict):
        return ", ".join(f"{k}" for k in values)
    return ", ".join(str(v) for v in values or ())


def evidence(terms: dict | None, labels: dict[str, str]) -> list[tuple[str, str]]:
    """relevance_terms (relevance.py) as (what, which terms) lines, most telling first."""
    if not terms:
        return []
    out: list[tuple[str, str]] = []
    where = terms.get("where") or {}
    kind = terms.get("kind") or {}
    for side, name in (("us", "United States side"), ("china", "China side")):
        values = terms.get(side) or []
        if values:
            notes = [
                n
                for n in (
                    WHERE.get(where.get(side) or "", where.get(side)),
                    KINDS.get(kind.get(side) or "", kind.get(side)),
                )
                if n
            ]
            out.append((name, _terms(values) + (f" ({'; '.join(notes)})" if notes else "")))
    if terms.get("bilateral"):
        note = WHERE.get(where.get("bilateral") or "", "")
        out.append(("Bilateral terms", _terms(terms["bilateral"]) + (f" ({note})" if note else "")))
    if terms.get("implied"):
        out.append(("Incident standing for a side", _terms(terms["implied"])))
    for name, hits in (terms.get("topics") or {}).items():
        out.append((f"Topic: {labels.get(name, name)}", _terms(hits)))
    if terms.get("measures"):
        out.append(("Measures", _terms(terms["measures"])))
    if terms.get("connection"):
        out.append(("What connects the two", _terms(terms["connection"])))
    for name, hits in (terms.get("negative") or {}).items():
        out.append((f"Off-topic context: {name.replace('_', ' ')}", _terms(hits)))
    if terms.get("third_party"):
        out.append(("Third countries", _terms(terms["third_party"])))
    if terms.get("passing"):
        out.append(("Mentioned in passing", _terms(terms["passing"])))
    if terms.get("roundup"):
        out.append(("Roundup terms", _terms(terms["roundup"])))
    rules = [RULES.get(r, r.replace("_", " ")) for r in terms.get("rules") or []]
    if rules:
        out.append(("Rules", "; ".join(rules)))
    ignored = terms.get("ignored") or {}
    if ignored.get("negative"):
        out.append(
            (
                "Not counted (faint off-topic)",
                "; ".join(f"{k.replace('_', ' ')}: {_terms(v)}" for k, v in ignored["negative"].items()),
            )
        )
    if ignored.get("us_states"):
        out.append(("Not counted (US states)", _terms(ignored["us_states"])))
    if terms.get("text"):
        out.append(("Judged on", str(terms["text"])))
    if terms.get("from_page"):
        out.append(("Found only in the fetched page", _terms(terms["from_page"])))
    return out


TEXT_STATUS = {
    "ok": "full text fetched",
    "paywalled": "paywalled",
    "robots_disallowed": "robots.txt disallows it",
    "not_html": "not a web page",
    "too_large": "page too large",
    "http_error": "HTTP error",
    "blocked": "address refused",
    "extract_failed": "no text found on the page",
}


def text_status(status: str | None, *, short: bool = False) -> str:
    if short and status == "ok":
        return "fetched"
    return TEXT_STATUS.get(status or "", status or "not fetched")
