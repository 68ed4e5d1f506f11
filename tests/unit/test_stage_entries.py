"""A feed's entries on their way to staging (pipeline._stage_entries): each entry ends staged or
rejected exactly once, in the feed's order, whichever step refused it."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

from newswatch import pipeline
from newswatch.parse import ParsedFeed, RawEntry
from newswatch.relevance import load_rules
from newswatch.stopwatch import Stopwatch
from tests.helpers import CountingRules, fingerprint_fails_on

NOW = datetime(2026, 12, 8, 12, tzinfo=UTC)


def entry(n: int, **kw) -> RawEntry:
    base = {
        "guid": f"g{n}",
        "link": f"https://example.com/story-{n}",
        "title": f"US and China hold talks, round {n}",
        "summary": f"<p>Officials met for the {n}th time.</p>",
        "content": None,
        "published_text": format_datetime(NOW - timedelta(hours=1)),
        "updated_text": None,
    }
    base.update(kw)
    return RawEntry(**base)


def test_every_entry_ends_staged_or_rejected_once_in_the_feeds_order(monkeypatch):
    monkeypatch.setattr(pipeline, "_SCORED", pipeline._ScoredTexts())
    fingerprint_fails_on(monkeypatch, "round 5", RuntimeError("fingerprint bug"))
    entries = [
        entry(0),
        entry(1, title="odd"),  # scoring fails
        entry(2, link=None, guid=None),  # refused by normalise: no link
        entry(3),
        entry(4, title="odd", link="https://example.com/elsewhere"),  # the same odd text again
        entry(5),  # fingerprinting fails
        entry(6, title="US and China hold talks, round 0", summary="<p>Officials met for the 0th time.</p>"),
    ]
    parsed = ParsedFeed(format="rss20", title="Example", link=None, language="en", entries=entries)
    info = SimpleNamespace(name="f", outlet="Example News", language="en", timezone=None)
    staged, rejects = pipeline._stage_entries(
        "run-1", info, parsed, CountingRules(load_rules(), fails_on="odd"), NOW, Stopwatch()
    )

    assert [row.position for row in staged] == [0, 3, 6]
    assert [(r.reason, r.detail.split(":")[0]) for r in rejects] == [
        ("entry_error", "ValueError"),  # entry 1
        ("missing_link", "entry has no link"),  # entry 2
        ("entry_error", "ValueError"),  # entry 4
        ("entry_error", "RuntimeError"),  # entry 5
    ]
    # entry 6 repeats entry 0's text: computed once, the same answer
    assert (staged[2].relevance_score, staged[2].signature) == (staged[0].relevance_score, staged[0].signature)
