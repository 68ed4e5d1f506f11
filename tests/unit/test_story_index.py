from datetime import UTC, datetime, timedelta

import pytest

from newswatch.fingerprints import fingerprint, keys_of
from newswatch.story_index import StoryKeyIndex

T0 = datetime(2026, 11, 28, 12, tzinfo=UTC)
WIRE = (
    "Secretary of State Antony Blinken will meet Chinese leaders in Beijing this week as the two "
    "superpowers try to manage a rivalry that spans Taiwan, export controls and fentanyl."
)
OTHER = "The central bank left interest rates unchanged on Thursday and signalled no cut before summer."


def add(index, items, staged=False):
    """items: (article_id, title, summary, seen_at)"""
    fps = [fingerprint(title, summary) for _, title, summary, _ in items]
    index.add(
        [i for i, *_ in items],
        [fp.signature for fp in fps],
        [fp.title_key for fp in fps],
        [seen for *_, seen in items],
        staged=staged,
    )


def test_an_article_is_found_by_every_key_it_shares_and_only_by_those():
    index = StoryKeyIndex()
    add(index, [(1, "Blinken to meet Chinese leaders", WIRE, T0), (2, "Rates unchanged", OTHER, T0)])
    reprint = fingerprint("Blinken set to meet Chinese leaders as superpowers manage rivalry", WIRE)
    keys = keys_of([reprint])[0]
    found = index.matches(keys, T0 - timedelta(days=7))
    assert list(found) == [1]
    expected = set(keys) & set(keys_of([fingerprint("Blinken to meet Chinese leaders", WIRE)])[0])
    assert expected and set(found[1]) == expected and len(found[1]) == len(expected)
    assert index.matches(keys_of([fingerprint("Something else", "entirely unrelated words here")])[0], T0) == {}


def test_the_window_leaves_out_keys_seen_before_it():
    index = StoryKeyIndex()
    add(index, [(1, "a", WIRE, T0 - timedelta(days=8)), (2, "b", WIRE, T0 - timedelta(days=1))])
    keys = keys_of([fingerprint("c", WIRE)])[0]
    assert list(index.matches(keys, T0 - timedelta(days=7))) == [2]
    assert list(index.matches(keys, T0 - timedelta(days=30))) == [1, 2]


def test_staged_keys_count_only_once_committed_and_are_forgotten_on_rollback():
    index = StoryKeyIndex()
    keys = keys_of([fingerprint("x", WIRE)])[0]
    add(index, [(5, "a", WIRE, T0)], staged=True)
    assert index.matches(keys, T0) == {} and index.high_water == 0
    index.discard()
    index.commit()
    assert index.matches(keys, T0) == {} and index.high_water == 0
    add(index, [(6, "a", WIRE, T0)], staged=True)
    index.commit()
    assert list(index.matches(keys, T0)) == [6] and index.high_water == 6


def test_a_revised_article_keeps_its_earlier_keys_and_gains_the_new_ones():
    index = StoryKeyIndex()
    add(index, [(1, "a", OTHER, T0)])
    add(index, [(1, "a", WIRE, T0 + timedelta(hours=1))])
    old = keys_of([fingerprint("a", OTHER)])[0]
    new = keys_of([fingerprint("a", WIRE)])[0]
    assert set(index.matches(old, T0)[1]) == set(old)
    assert set(index.matches(new, T0)[1]) == set(new)
    both = index.matches(old + new, T0)[1]
    assert len(both) == len(set(both))  # each key once, however often the article was added


def test_merging_segments_changes_no_answer_and_drops_what_no_window_can_reach():
    texts = [(i, f"headline number {i}", f"{WIRE} {' '.join(['word'] * (i % 7))} item {i}") for i in range(1, 41)]
    queries = [keys_of([fingerprint(t, s)])[0] for _, t, s in texts[::5]]
    one = StoryKeyIndex()
    add(one, [(i, t, s, T0 + timedelta(hours=i)) for i, t, s in texts])
    since = T0 + timedelta(hours=10)
    many = StoryKeyIndex()
    for i, t, s in texts:  # one segment an article: merged repeatedly along the way
        add(many, [(i, t, s, T0 + timedelta(hours=i))])
        if i == 20:
            many.matches(queries[0], since)  # a window asked for: older keys can go
    assert [many.matches(q, since) for q in queries] == [one.matches(q, since) for q in queries]
    assert len(many) < len(one)  # keys older than the window asked for were dropped
    assert many.high_water == one.high_water == 40


class _Cursor:
    """Stands in for the merge's cursor: the window's rows, or a connection lost on reading them."""

    def __init__(self, rows, fail=False):
        self.rows, self.fail, self.statements = rows, fail, []

    def execute(self, sql, params=None):
        self.statements.append((" ".join(sql.split()), params))

    def fetchone(self):
        return (max((r[0] for r in self.rows), default=0),)

    def fetchall(self):
        if self.fail:
            raise OSError("connection lost")
        return self.rows


def test_a_window_read_that_fails_is_read_whole_again():
    from newswatch.warehouse.stories import update_story_keys

    fp = fingerprint("Blinken to meet Chinese leaders", WIRE)
    rows = [(7, T0, fp.signature, fp.title_key)]
    index = StoryKeyIndex()
    with pytest.raises(OSError):
        update_story_keys(_Cursor(rows, fail=True), index, T0 - timedelta(days=7))
    assert not index.loaded and index.high_water == 0
    cursor = _Cursor(rows)
    update_story_keys(cursor, index, T0 - timedelta(days=7))
    assert index.loaded and index.high_water == 7
    assert list(index.matches(keys_of([fp])[0], T0 - timedelta(days=7))) == [7]
    update_story_keys(cursor, index, T0 - timedelta(days=7))  # then only what is newer
    sql, params = cursor.statements[-1]
    assert "a.article_id > %(after)s" in sql and params["after"] == 7
