"""Story clustering's time window, and re-labelling history with `rescore`."""

import shutil
from functools import partial
from pathlib import Path

from newswatch import warehouse
from newswatch.pipeline import run_once
from newswatch.relevance import load_rules, score_with_body
from tests.helpers import item, rows, rss

ROOT = Path(__file__).resolve().parents[2]
WIRE = (
    "Negotiators from both governments met for two days of closed-door talks and agreed to keep "
    "working on tariff exclusions, export licences for chips and a schedule for further meetings, "
    "according to a joint statement released on Friday evening."
)


def test_a_reprint_joins_within_the_window_but_not_after_it(feed_server, make_settings, db):
    a = feed_server.add_document(
        "/a.xml",
        rss(
            [
                item(
                    1,
                    title="US and China agree to keep talking on tariffs",
                    link="https://wire.example/original",
                    summary=WIRE,
                )
            ]
        ),
    )
    run_once(make_settings({"a": a}), "w1", force=True)
    # a day later: joins
    with db, db.cursor() as cur:
        cur.execute("UPDATE news.articles SET first_seen_at = first_seen_at - interval '1 day'")
    b = feed_server.add_document(
        "/b.xml",
        rss(
            [
                item(
                    2,
                    title="US, China agree to keep talking on tariffs",
                    link="https://reprint.example/one",
                    summary=WIRE,
                )
            ]
        ),
    )
    run_once(make_settings({"a": a, "b": b}), "w2", force=True)
    assert rows(db, "SELECT count(DISTINCT story_id) FROM news.articles") == [(1,)]
    # eight days later: the story's keys are out of the window, a reprint starts a new story
    with db, db.cursor() as cur:
        cur.execute("UPDATE news.articles SET first_seen_at = first_seen_at - interval '8 days'")
    c = feed_server.add_document(
        "/c.xml",
        rss(
            [
                item(
                    3,
                    title="US and China agree to keep talking on tariffs",
                    link="https://reprint.example/late",
                    summary=WIRE,
                )
            ]
        ),
    )
    run_once(make_settings({"a": a, "b": b, "c": c}), "w3", force=True)
    assert rows(db, "SELECT count(DISTINCT story_id) FROM news.articles") == [(2,)]


def test_rescore_relabels_history_and_records_the_version(feed_server, make_settings, db, tmp_path):
    url = feed_server.add_document(
        "/f.xml",
        rss(
            [
                item(
                    1,
                    title="Panda diplomacy returns as zoo welcomes pair from Chengdu",
                    summary="The giant pandas arrived in Washington on a FedEx flight.",
                ),
                item(2, title="Local bakery wins award", summary="A small-town bakery won a national prize."),
            ]
        ),
    )
    settings = make_settings({"f": url})
    run_once(settings, "r1", force=True)
    before = dict(rows(db, "SELECT title, is_relevant FROM news.articles"))
    old_version = rows(db, "SELECT DISTINCT relevance_version FROM news.articles")[0][0]

    # an analyst decides bakeries are bilateral now: add a term and rescore
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "config", rules_dir)
    topics = rules_dir / "topics.yaml"
    topics.write_text(topics.read_text().replace("bilateral:\n", "bilateral:\n  - bakery\n", 1))
    rules = load_rules(topics)
    changed, total = warehouse.rescore(db, partial(score_with_body, rules), rules.version, batch_size=1)
    assert total == 2 and changed == 1
    after = dict(rows(db, "SELECT title, is_relevant FROM news.articles"))
    assert after["Local bakery wins award"] is True and before["Local bakery wins award"] is False
    assert rows(db, "SELECT DISTINCT relevance_version FROM news.articles") == [(rules.version,)]
    assert rules.version != old_version
    terms = rows(db, "SELECT relevance_terms FROM news.articles WHERE title = 'Local bakery wins award'")[0][0]
    assert terms["bilateral"] == ["bakery"]
    assert rows(
        db,
        "SELECT s.is_relevant FROM news.stories s JOIN news.articles a USING (story_id) "
        "WHERE a.title = 'Local bakery wins award'",
    ) == [(True,)]
