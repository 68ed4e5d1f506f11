from datetime import date, datetime, timezone

from newswatch.coverage import chart_svg, render_page
from newswatch.daily import topic_labels

LABELS = topic_labels()

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)


def data(**overrides):
    base = {
        "generated_at": NOW, "first_day": date(2026, 10, 30), "last_day": date(2026, 11, 28),
        "stories": [{"story_id": 1, "headline": "Blinken <b>meets</b> Xi", "first_outlet": "AP News",
                     "outlet_count": 4, "article_count": 5, "topics": ["diplomacy", "taiwan"],
                     "first_seen_at": NOW, "url": "https://apnews.com/a?x=1&y=2", "outlets": ["AP News", "DW"]}],
        "daily": [{"day": date(2026, 11, 27), "topic": "diplomacy", "articles": 6, "stories": 4},
                  {"day": date(2026, 11, 27), "topic": "taiwan", "articles": 2, "stories": 2}],
        "feeds": [{"name": "bbc", "outlet": "BBC", "state": "failing", "last_success_at": None, "failure_streak": 3,
                   "last_error_class": "dns", "last_error": "DNS lookup failed", "next_poll_at": None,
                   "redirect_url": None, "disabled_reason": None, "new_articles_7d": 0, "relevant_articles_7d": 0}],
        "labels": dict(LABELS),
    }
    base.update(overrides)
    return base


def test_page_shows_stories_chart_and_feed_health_escaped():
    page = render_page(data())
    assert "Today's top stories" in page and "Blinken &lt;b&gt;meets&lt;/b&gt; Xi" in page
    assert "<b>meets" not in page and "x=1&amp;y=2" in page
    assert "<svg" in page and "Daily coverage per topic" in page
    assert "Feed health" in page and "dns: DNS lookup failed" in page and "1 failing or disabled" in page


def test_empty_warehouse_renders():
    page = render_page(data(stories=[], daily=[], feeds=[]))
    assert "No relevant story in the last 24 hours" in page


def test_chart_stacks_topics_per_day():
    svg = chart_svg(data()["daily"], date(2026, 10, 30), date(2026, 11, 28), LABELS)
    assert svg.count("<rect") == 2 and "2026-11-27: Diplomacy &amp; leaders 6" in svg
    assert ">8<" in svg  # the axis peaks at the day's total


def test_topics_come_from_the_rules_file_including_new_ones():
    labels = dict(LABELS, space_cooperation="Space cooperation")
    rows = [{"day": date(2026, 11, 27), "topic": "space_cooperation", "articles": 3, "stories": 1}]
    page = render_page(data(daily=rows, labels=labels))
    assert "Space cooperation" in page and page.count("<rect") == 1
    assert set(LABELS) >= {"diplomacy", "sanctions"} and LABELS["taiwan"] == "Taiwan"
