from datetime import UTC, datetime, timedelta

import pytest

from newswatch.feedstate import (
    MAX_BACKOFF,
    MAX_INTERVAL,
    MIN_INTERVAL,
    REDIRECT_MOVE_AFTER,
    FeedState,
    Outcome,
    decide,
    is_due,
)

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
STATE = FeedState(
    name="f",
    url="https://ex.com/feed",
    etag='"old"',
    last_modified="Mon, 01 Jan 2026 00:00:00 GMT",
    last_body_hash="h1",
)


def test_200_takes_the_new_validators_and_hash():
    d = decide(STATE, Outcome("ok", 200, etag='"new"', last_modified=None, body_hash="h2"), NOW)
    assert d.log_status == "ok" and not d.body_unchanged
    assert (d.state.etag, d.state.last_modified, d.state.last_body_hash) == ('"new"', None, "h2")
    assert d.state.consecutive_failures == 0 and d.state.last_success_at == NOW


def test_200_with_the_same_body_is_logged_as_not_modified():
    d = decide(STATE, Outcome("ok", 200, etag='"old"', body_hash="h1"), NOW)
    assert d.log_status == "not_modified" and d.body_unchanged


def test_304_keeps_validators_and_lengthens_the_interval():
    state = FeedState(**{**STATE.__dict__, "poll_interval_seconds": 7200})
    d = decide(state, Outcome("not_modified", 304), NOW)
    assert d.log_status == "not_modified" and d.state.etag == '"old"'
    assert d.state.poll_interval_seconds == 10800
    assert d.state.next_poll_at == NOW + timedelta(seconds=10800)


def test_changing_feed_is_polled_more_often_within_bounds():
    state = FeedState(**{**STATE.__dict__, "poll_interval_seconds": 8 * 3600})
    assert decide(state, Outcome("ok", 200, body_hash="new"), NOW).state.poll_interval_seconds == 4 * 3600
    fast = FeedState(**{**STATE.__dict__, "poll_interval_seconds": MIN_INTERVAL})
    assert decide(fast, Outcome("ok", 200, body_hash="new"), NOW).state.poll_interval_seconds == MIN_INTERVAL
    slow = FeedState(**{**STATE.__dict__, "poll_interval_seconds": MAX_INTERVAL})
    assert decide(slow, Outcome("not_modified", 304), NOW).state.poll_interval_seconds == MAX_INTERVAL


@pytest.mark.parametrize(
    "hint, expected",
    [
        ({"ttl_minutes": 180}, 3 * 3600),
        ({"update_period_minutes": 720}, 12 * 3600),
        ({"cache_max_age": 7200}, 7200),
        ({"ttl_minutes": 60 * 24 * 30}, MAX_INTERVAL),
        ({"ttl_minutes": 5}, MIN_INTERVAL),
    ],
)
def test_publisher_hints_set_a_floor(hint, expected):
    d = decide(STATE, Outcome("ok", 200, body_hash="new", **hint), NOW)
    assert d.state.poll_interval_seconds == expected


def test_failures_back_off_exponentially_up_to_a_day():
    state = STATE
    delays = []
    for _ in range(8):
        d = decide(state, Outcome("error", 500, error_class="http_5xx"), NOW)
        state = d.state
        delays.append((state.next_poll_at - NOW).total_seconds())
    assert delays[:4] == [3600, 7200, 14400, 28800]
    assert delays[-1] == MAX_BACKOFF and state.consecutive_failures == 8
    assert state.etag == '"old"'  # a failure never touches validators


def test_retry_after_is_honoured():
    d = decide(STATE, Outcome("error", 429, error_class="rate_limited", retry_after=5 * 3600), NOW)
    assert d.state.next_poll_at == NOW + timedelta(hours=5)


def test_410_disables_with_a_reason():
    d = decide(STATE, Outcome("error", 410, error_class="gone"), NOW)
    assert d.disabled and "410 Gone" in d.state.disabled_reason
    assert not is_due(d.state, NOW + timedelta(days=30))
    assert is_due(d.state, NOW, force=True)


def test_success_resets_the_failure_streak():
    failing = FeedState(**{**STATE.__dict__, "consecutive_failures": 5})
    assert decide(failing, Outcome("not_modified", 304), NOW).state.consecutive_failures == 0


def test_url_moves_only_after_repeated_permanent_redirects():
    state = STATE
    for i in range(1, REDIRECT_MOVE_AFTER):
        d = decide(state, Outcome("ok", 200, body_hash="x", permanent_redirect="https://new.example/feed"), NOW)
        state = d.state
        assert d.url_moved_to is None and state.url == STATE.url and state.redirect_seen_count == i
    d = decide(state, Outcome("ok", 200, body_hash="x", permanent_redirect="https://new.example/feed"), NOW)
    assert d.url_moved_to == "https://new.example/feed" and d.state.url == "https://new.example/feed"
    assert d.state.redirect_url is None


def test_a_poll_without_the_redirect_resets_the_count():
    state = FeedState(**{**STATE.__dict__, "redirect_url": "https://new.example/feed", "redirect_seen_count": 2})
    d = decide(state, Outcome("ok", 200, body_hash="x"), NOW)
    assert d.state.redirect_seen_count == 0 and d.state.url == STATE.url
    other = decide(state, Outcome("ok", 200, body_hash="x", permanent_redirect="https://other.example/"), NOW)
    assert other.state.redirect_seen_count == 1 and other.state.redirect_url == "https://other.example/"


def test_due():
    assert is_due(STATE, NOW)  # never polled
    later = FeedState(**{**STATE.__dict__, "next_poll_at": NOW + timedelta(hours=2)})
    assert not is_due(later, NOW) and is_due(later, NOW, force=True)
    soon = FeedState(**{**STATE.__dict__, "next_poll_at": NOW + timedelta(minutes=3)})
    assert is_due(soon, NOW)
    off = FeedState(**{**STATE.__dict__, "enabled": False})
    assert not is_due(off, NOW, force=True)


def test_a_disabled_feed_that_answers_again_is_enabled():
    gone = decide(STATE, Outcome("error", 410, error_class="gone"), NOW).state
    back = decide(gone, Outcome("ok", 200, body_hash="new"), NOW + timedelta(days=1))
    assert back.state.disabled_reason is None and back.state.consecutive_failures == 0
