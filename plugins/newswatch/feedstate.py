"""Feed state: what a fetch outcome does to a feed's validators, health, schedule and URL.

Pure decisions (`decide`, `is_due`), applied by warehouse.py in the same transaction that
records the fetch and stages its entries, so validators never move ahead of the data they
describe (a 304 must only ever mean "you already have this").

Scheduling rules:
- a feed whose body changed is polled more often (interval halved), one that did not change
  less often (x1.5), within [MIN_INTERVAL, MAX_INTERVAL];
- the publisher's hints (`<ttl>`, `sy:updatePeriod`, Cache-Control max-age) are a floor: we
  never poll more often than they ask, but never less often than MAX_INTERVAL either;
- a failing feed backs off exponentially from MIN_INTERVAL up to MAX_BACKOFF, and no sooner
  than Retry-After; 410 Gone disables it with a reason (never silently); a forced poll that
  succeeds enables it again;
- a permanent redirect (every hop 301/308) is recorded; the polled URL moves only after the
  same target has been seen on REDIRECT_MOVE_AFTER consecutive polls. Temporary redirects
  never move it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

MIN_INTERVAL = 3600  # the hourly schedule
MAX_INTERVAL = 24 * 3600
MAX_BACKOFF = 24 * 3600
MAX_RETRY_AFTER = 7 * 24 * 3600
REDIRECT_MOVE_AFTER = 3
DUE_SLACK = timedelta(minutes=5)  # a run a few minutes early still polls a feed due this hour


@dataclass(frozen=True)
class FeedState:
    name: str
    url: str
    enabled: bool = True
    etag: str | None = None
    last_modified: str | None = None
    last_body_hash: str | None = None
    consecutive_failures: int = 0
    poll_interval_seconds: int = MIN_INTERVAL
    next_poll_at: datetime | None = None
    redirect_url: str | None = None
    redirect_seen_count: int = 0
    disabled_reason: str | None = None
    last_success_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """What a fetch (and, for a 200, the parse) found, in the terms the decider needs."""

    status: str  # 'ok' | 'not_modified' | 'error'
    http_status: int | None = None
    error_class: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    permanent_redirect: str | None = None
    retry_after: float | None = None
    cache_max_age: int | None = None
    ttl_minutes: int | None = None
    update_period_minutes: int | None = None


@dataclass(frozen=True)
class Decision:
    state: FeedState
    log_status: str  # what fetch_log records
    body_unchanged: bool = False  # a 200 with the same body as last time: skip parsing
    url_moved_to: str | None = None
    disabled: bool = False


def is_due(state: FeedState, now: datetime, force: bool = False) -> bool:
    if not state.enabled:
        return False
    if force:
        return True
    if state.disabled_reason:
        return False
    return state.next_poll_at is None or state.next_poll_at <= now + DUE_SLACK


def body_unchanged(state: FeedState, outcome: Outcome) -> bool:
    return outcome.status == "ok" and outcome.body_hash is not None and outcome.body_hash == state.last_body_hash


def _hint_seconds(outcome: Outcome) -> int:
    hints = [
        (outcome.ttl_minutes or 0) * 60,
        (outcome.update_period_minutes or 0) * 60,
        outcome.cache_max_age or 0,
    ]
    return min(max(hints), MAX_INTERVAL)


def decide(state: FeedState, outcome: Outcome, now: datetime) -> Decision:
    if outcome.status == "error":
        return _decide_failure(state, outcome, now)

    unchanged = outcome.status == "not_modified" or body_unchanged(state, outcome)
    interval = state.poll_interval_seconds or MIN_INTERVAL
    interval = int(interval * 1.5) if unchanged else interval // 2
    interval = max(MIN_INTERVAL, _hint_seconds(outcome), min(interval, MAX_INTERVAL))
    interval = min(interval, MAX_INTERVAL)

    new = replace(
        state,
        consecutive_failures=0,
        poll_interval_seconds=interval,
        next_poll_at=now + timedelta(seconds=interval),
        last_success_at=now,
        disabled_reason=None,  # a feed disabled after a 410 that answers again (a forced poll) is back
    )
    if outcome.status == "ok":
        # A 200 replaces the validators with what the server sent now, even none: keeping an
        # old ETag the server no longer sends would make us ask for a version it forgot.
        new = replace(new, etag=outcome.etag, last_modified=outcome.last_modified, last_body_hash=outcome.body_hash)
    elif outcome.etag or outcome.last_modified:
        new = replace(new, etag=outcome.etag or state.etag, last_modified=outcome.last_modified or state.last_modified)

    moved_to = None
    if outcome.permanent_redirect:
        count = state.redirect_seen_count + 1 if state.redirect_url == outcome.permanent_redirect else 1
        new = replace(new, redirect_url=outcome.permanent_redirect, redirect_seen_count=count)
        if count >= REDIRECT_MOVE_AFTER:
            moved_to = outcome.permanent_redirect
            new = replace(new, url=moved_to, redirect_url=None, redirect_seen_count=0)
    else:
        new = replace(new, redirect_url=None, redirect_seen_count=0)

    return Decision(
        new,
        "not_modified" if unchanged else "ok",
        body_unchanged=unchanged and outcome.status == "ok",
        url_moved_to=moved_to,
    )


def _decide_failure(state: FeedState, outcome: Outcome, now: datetime) -> Decision:
    failures = state.consecutive_failures + 1
    if outcome.error_class == "gone" or outcome.http_status == 410:
        new = replace(
            state,
            consecutive_failures=failures,
            disabled_reason=f"HTTP 410 Gone on {now:%Y-%m-%d %H:%M} UTC: the publisher removed this feed",
            next_poll_at=None,
        )
        return Decision(new, "error", disabled=True)
    backoff = min(MAX_BACKOFF, MIN_INTERVAL * 2 ** (failures - 1))
    if outcome.retry_after:
        backoff = max(backoff, min(int(outcome.retry_after), MAX_RETRY_AFTER))
    new = replace(state, consecutive_failures=failures, next_poll_at=now + timedelta(seconds=backoff))
    return Decision(new, "error")
