from datetime import date

from newswatch.daily import Thresholds, day_window, evaluate_checks, render_digest, topic_labels

GOOD = {
    "stale_feeds": [],
    "active_feeds": 30,
    "relevant_articles": 40,
    "new_articles": 300,
    "merged_entries": 1000,
    "duplicate_entries": 700,
    "lag_median_hours": 2.5,
    "lag_p90_hours": 9.0,
}


def test_a_normal_day_passes_every_check():
    results = evaluate_checks(GOOD, Thresholds())
    assert all(r.passed for r in results.values())
    assert results["duplicate_ratio"].value == 0.7 and results["ingest_lag"].value == 2.5


def test_each_check_fails_with_a_reason():
    bad = dict(
        GOOD,
        stale_feeds=["bbc_world", "nyt_world"],
        relevant_articles=0,
        duplicate_entries=1000,
        lag_median_hours=30.0,
        failed_entries=2,
    )
    results = evaluate_checks(bad, Thresholds())
    assert not any(r.passed for r in results.values())
    assert "bbc_world, nyt_world" in results["feed_freshness"].detail
    assert "0 relevant" in results["relevant_volume"].detail
    assert "canonicalisation" in results["duplicate_ratio"].detail
    assert "median 30.0 h" in results["ingest_lag"].detail
    assert "2 staged entries could not be loaded" in results["merge_failures"].detail


def test_nothing_to_judge_passes_and_says_so():
    results = evaluate_checks(dict(GOOD, merged_entries=0, lag_median_hours=None), Thresholds())
    assert results["duplicate_ratio"].passed and "no entries" in results["duplicate_ratio"].detail
    assert results["ingest_lag"].passed and results["ingest_lag"].value is None


def test_thresholds_from_env():
    t = Thresholds.from_env(
        {"NEWSWATCH_DQ_DUPLICATE_RATIO": "0.1,0.9", "NEWSWATCH_DQ_MAX_LAG_HOURS": "6", "NEWSWATCH_DQ_MIN_RELEVANT": "5"}
    )
    assert t.duplicate_ratio == (0.1, 0.9) and t.max_lag_hours == 6 and t.min_relevant == 5


def test_day_window_is_the_utc_day():
    start, end = day_window(date(2026, 11, 27))
    assert start.isoformat() == "2026-11-27T00:00:00+00:00" and end.isoformat() == "2026-11-28T00:00:00+00:00"


def test_digest_lists_top_stories_and_topics_and_escapes_html():
    stories = [
        {
            "headline": "Blinken <meets> Xi",
            "url": "https://apnews.com/x?a=1&b=2",
            "first_outlet": "AP News",
            "outlet_count": 5,
            "article_count": 7,
            "topics": ["diplomacy", "taiwan"],
        },
        {
            "headline": "Chip curbs widen",
            "url": None,
            "first_outlet": None,
            "outlet_count": 1,
            "article_count": 1,
            "topics": ["technology"],
        },
    ]
    md, html = render_digest(date(2026, 11, 27), stories, topic_labels())
    assert md.startswith("# US–China coverage, Friday 27 November 2026 (UTC)")
    assert "- [Blinken \\<meets\\> Xi](<https://apnews.com/x?a=1&b=2>) — 5 outlets, 7 articles (first: AP News)" in md
    assert "### Taiwan" in md and "### Technology \\& export controls" in md
    assert "Blinken &lt;meets&gt; Xi" in html and "<script" not in html and "&amp;b=2" in html
    assert "— 5 outlets, 7 articles" in html and "— 1 outlet, 1 article " in html
    empty_md, _ = render_digest(date(2026, 11, 27), [], topic_labels())
    assert "No relevant story" in empty_md


def test_digest_markdown_cannot_be_steered_by_a_headline_or_url():
    stories = [
        {
            "headline": "Evil](javascript:alert(1)) ![x](https://t.example/p.png) <img src=x> *b*",
            "url": "javascript:alert(1)",
            "first_outlet": "A_B",
            "outlet_count": 1,
            "article_count": 1,
            "topics": [],
        },
        {
            "headline": "Fine",
            "url": "https://ex.com/a (b)",
            "first_outlet": None,
            "outlet_count": 1,
            "article_count": 1,
            "topics": [],
        },
    ]
    md, html = render_digest(date(2026, 11, 27), stories, {})
    line = md.splitlines()[4]
    # the headline is text: no link, image or HTML opens, and the javascript: URL is no link at all
    assert line.startswith("- Evil\\]\\(javascript:alert\\(1\\)\\) !\\[x\\]") and "](" not in line.replace("\\](", "")
    assert "\\<img src=x\\>" in line and "\\*b\\*" in line and "A\\_B" in line
    assert "- [Fine](<https://ex.com/a%20%28b%29>)" in md
    assert "javascript:" not in html.split("Evil")[0] and 'href="javascript' not in html


def test_every_detail_names_the_day():
    results = evaluate_checks(dict(GOOD, fetches=120), Thresholds(), date(2026, 12, 6))
    assert all(r.detail.startswith("2026-12-06: ") for r in results.values())


def test_a_day_before_newswatch_ran_has_nothing_to_judge():
    before = evaluate_checks(
        dict(GOOD, active_feeds=0, fetches=0, relevant_articles=0, new_articles=0), Thresholds(), date(2026, 12, 6)
    )
    assert all(r.passed and "nothing to judge" in r.detail for r in before.values())


def test_a_day_nothing_was_fetched_is_said_to_be_that_not_a_volume_problem():
    idle = evaluate_checks(
        dict(GOOD, stale_feeds=["a", "b"], active_feeds=2, fetches=0, relevant_articles=0, new_articles=0),
        Thresholds(),
        date(2026, 12, 6),
    )
    assert not idle["feed_freshness"].passed and "2 of 2 active feeds" in idle["feed_freshness"].detail
    assert not idle["relevant_volume"].passed and "no feed was fetched that day" in idle["relevant_volume"].detail
