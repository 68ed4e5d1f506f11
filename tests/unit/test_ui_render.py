"""The analyst's pages rendered from sample data (no database, no Airflow): the chart's axis and
legend, escaping of hostile text, failing feeds grouped by cause, aligned table columns, links
that stay relative and only show operations detail to those who may see it, and an explicit
empty state for every panel."""

import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest

from newswatch.daily import topic_labels
from newswatch.ui import charts, pages
from newswatch.ui.filters import ArticleFilters
from newswatch.ui.links import Links
from newswatch.ui.markup import table
from newswatch.ui.present import evidence, failure_kind, group_failures, run_state, upcoming_runs

LABELS = topic_labels()
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'
OPS = Links(depth=0, ops=True)
READER = Links(depth=0, ops=False)


# --- sample data ---------------------------------------------------------------------------------


def feed(
    name,
    state="ok",
    *,
    error_class=None,
    http=None,
    error=None,
    outlet=None,
    streak=0,
    task="poll:3",
    run="manual__2026-11-28T09:00:00+00:00",
):
    return {
        "name": name,
        "outlet": outlet or f"Outlet {name}",
        "outlet_type": "wire",
        "url": f"https://{name}.example/rss",
        "state": state,
        "last_status": "error" if state == "failing" else "ok",
        "last_http_status": http,
        "last_error_class": error_class,
        "last_error": error,
        "failure_streak": streak,
        "last_attempt_at": NOW - timedelta(minutes=30),
        "last_success_at": None if state == "failing" else NOW - timedelta(minutes=30),
        "next_poll_at": NOW + timedelta(minutes=40),
        "poll_interval_minutes": 60,
        "redirect_url": None,
        "redirect_seen_count": 0,
        "disabled_reason": None,
        "fetches_7d": 10,
        "errors_7d": streak,
        "new_articles_7d": 3,
        "relevant_articles_7d": 1,
        "last_fetch_run_id": run,
        "last_fetch_task": task,
        "last_fetch_at": NOW - timedelta(minutes=30),
        "last_fetch_status": "error" if state == "failing" else "ok",
        "last_fetch_http_status": http,
    }


def run(summary=None, *, trigger="airflow", run_id="manual__2026-11-28T09:00:00+00:00", finished=True):
    return {
        "run_id": run_id,
        "trigger": trigger,
        "started_at": NOW - timedelta(minutes=30),
        "finished_at": NOW - timedelta(minutes=28) if finished else None,
        "summary": summary,
    }


SUMMARY = {
    "feeds_polled": 10,
    "feeds_ok": 7,
    "feeds_not_modified": 1,
    "feeds_failed": 2,
    "feeds_skipped": 0,
    "merge": {"new": 12, "relevant": 5},
    "failures": [{"feed_name": "a", "error": "x"}],
}


def coverage_data(**overrides):
    data = {
        "generated_at": NOW,
        "warehouse": {
            "database": "newswatch_demo",
            "host": "127.0.0.1",
            "port": 54329,
            "login": "newswatch_analyst",
            "feeds": 3,
            "has_runs": True,
            "has_articles": True,
            "last_relevant_seen_at": NOW,
        },
        "runs": [run(SUMMARY)],
        "schedule": {
            "source": "airflow",
            "schedule": "@hourly",
            "next_run_at": NOW + timedelta(minutes=30),
            "paused": False,
            "upcoming": [NOW + timedelta(minutes=30 + 60 * i) for i in range(24)],
        },
        "feeds": [
            feed("bbc", "failing", error_class="dns", error="DNS lookup of feeds.bbci.co.uk failed", streak=3),
            feed("ap", outlet="AP News"),
        ],
        "stories": [
            {
                "story_id": 7,
                "headline": "Blinken <b>meets</b> Xi",
                "first_outlet": "AP News",
                "outlet_count": 4,
                "article_count": 5,
                "topics": ["diplomacy", "taiwan"],
                "first_seen_at": NOW - timedelta(hours=2),
                "url": "https://apnews.com/a?x=1&y=2",
                "outlets": ["AP News", "DW"],
            }
        ],
        "daily": [
            {"day": date(2026, 11, 27), "topic": "diplomacy", "articles": 6, "stories": 4},
            {"day": date(2026, 11, 27), "topic": "taiwan", "articles": 2, "stories": 2},
        ],
        "first_day": date(2026, 10, 30),
        "last_day": date(2026, 11, 28),
        "outlets": [
            {
                "outlet": "AP News",
                "outlet_type": "wire",
                "articles": 5,
                "stories": 3,
                "latest_published_at": NOW - timedelta(hours=3),
            }
        ],
        "quality": [
            {
                "day": date(2026, 11, 27),
                "check_name": "relevant_volume",
                "passed": True,
                "value": 43.0,
                "threshold": ">= 1 relevant articles",
                "detail": "2026-11-27: 43 relevant articles among 85 new ones",
                "checked_at": NOW - timedelta(hours=3),
            },
            {
                "day": date(2026, 11, 27),
                "check_name": "feed_freshness",
                "passed": False,
                "value": 1.0,
                "threshold": "0 feeds without a successful fetch in 24 h",
                "detail": "2026-11-27: 1 of 2 active feeds had no successful fetch in the day's last 24 hours: bbc",
                "checked_at": NOW - timedelta(hours=3),
            },
        ],
        "digests": [{"day": date(2026, 11, 27), "stories": 6, "created_at": NOW - timedelta(hours=3)}],
        "labels": dict(LABELS),
        "ops": True,
    }
    data.update(overrides)
    return data


# --- an HTML reader for the assertions ---------------------------------------------------------


class Tables(HTMLParser):
    """Every table's header cell count and each body row's cell count; every href."""

    def __init__(self):
        super().__init__()
        self.tables, self.hrefs, self.stack = [], [], []
        self.in_head = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "href" in a:
            self.hrefs.append((a["href"], a.get("target")))
        if tag == "table":
            self.stack.append({"head": 0, "rows": []})
        elif tag == "thead":
            self.in_head = True
        elif tag == "tbody":
            self.in_head = False
        elif tag == "tr" and self.stack and not self.in_head:
            self.stack[-1]["rows"].append(0)
        elif tag in ("td", "th") and self.stack:
            span = int(a.get("colspan") or 1)
            if self.in_head:
                self.stack[-1]["head"] += span
            else:
                self.stack[-1]["rows"][-1] += span

    def handle_endtag(self, tag):
        if tag == "table" and self.stack:
            self.tables.append(self.stack.pop())


def read(page: str) -> Tables:
    parser = Tables()
    parser.feed(page)
    return parser


def assert_aligned(page: str) -> int:
    parsed = read(page)
    for t in parsed.tables:
        assert t["head"] > 0
        assert all(cells == t["head"] for cells in t["rows"]), t
    return len(parsed.tables)


def assert_relative_links(page: str) -> None:
    for href, _ in read(page).hrefs:
        assert not href.startswith("/"), href  # works behind any prefix and inside the UI's iframe
        assert not href.lower().startswith(("javascript:", "data:")), href


# --- the chart ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "peak, top, ticks",
    [
        (0, 1, [0, 1]),
        (1, 1, [0, 1]),
        (2, 2, [0, 1, 2]),
        (5, 5, [0, 1, 2, 3, 4, 5]),
        (7, 8, [0, 2, 4, 6, 8]),
        (8, 8, [0, 2, 4, 6, 8]),
        (13, 15, [0, 5, 10, 15]),
        (43, 50, [0, 10, 20, 30, 40, 50]),
        (1234, 1500, [0, 500, 1000, 1500]),
    ],
)
def test_axis_is_whole_numbers_in_round_steps_covering_the_peak(peak, top, ticks):
    assert charts.nice_axis(peak) == (top, ticks)


def tick_labels(svg: str) -> list[int]:
    return [int(v) for v in re.findall(r'<text class="tick"[^>]*>(\d+)</text>', svg)]


def test_chart_axis_of_a_single_article_reads_0_and_1_not_1_0_0():
    daily = [{"day": date(2026, 11, 27), "topic": "diplomacy", "articles": 1}]
    svg = charts.daily_chart(daily, date(2026, 10, 30), date(2026, 11, 28), LABELS, charts.topic_colours(LABELS), OPS)
    assert tick_labels(svg) == [0, 1]
    assert svg.count("<rect") == 1


def test_chart_stacks_topics_and_every_bar_links_to_that_days_articles_on_the_topic():
    data = coverage_data()
    svg = charts.daily_chart(
        data["daily"], data["first_day"], data["last_day"], LABELS, charts.topic_colours(LABELS), OPS
    )
    assert tick_labels(svg) == [0, 2, 4, 6, 8]  # the day's total is 8
    assert len(set(tick_labels(svg))) == len(tick_labels(svg))
    links = re.findall(r'<a href="([^"]+)"><rect', svg)
    assert links == ["articles?day=2026-11-27&amp;topic=diplomacy", "articles?day=2026-11-27&amp;topic=taiwan"]
    assert "2026-11-27: Diplomacy &amp; leaders: 6 articles" in svg


def test_legend_lists_only_the_topics_present_each_linking_to_its_articles():
    page = pages.render_chart_panel(coverage_data(), OPS)
    legend = re.search(r'<div class="legend">(.*?)</div>', page).group(1)
    assert legend.count("<a ") == 2
    assert LABELS["diplomacy"].replace("&", "&amp;") in legend and LABELS["taiwan"] in legend
    assert LABELS["sanctions"].replace("&", "&amp;") not in legend
    assert 'href="articles?topic=taiwan&amp;from=2026-10-30&amp;to=2026-11-28"' in legend


def test_an_empty_chart_is_an_explicit_empty_state_without_axis_or_legend():
    page = pages.render_chart_panel(coverage_data(daily=[]), OPS)
    assert "<svg" not in page and "legend" not in page
    assert "No relevant article was published between 2026-10-30 and 2026-11-28" in page


def test_a_topic_no_longer_in_the_rules_still_shows():
    labels = dict(LABELS, space_cooperation="space_cooperation")
    rows = [{"day": date(2026, 11, 27), "topic": "space_cooperation", "articles": 3, "stories": 1}]
    page = pages.render_chart_panel(coverage_data(daily=rows, labels=labels), OPS)
    assert page.count("<rect") == 1 and "space_cooperation (3)" in page


# --- escaping and links --------------------------------------------------------------------------


def story_data(**overrides):
    terms = {
        "us": ["Antony Blinken", "U.S."],
        "china": ["Beijing", HOSTILE],
        "kind": {"us": "actor", "china": "actor"},
        "where": {"us": "title", "china": "title", "bilateral": None},
        "topics": {"taiwan": ["Taiwan", "arms sale*"]},
        "measures": ["talks"],
        "negative": {},
        "bilateral": [],
        "rules": ["both_sides_in_title"],
        "passing": [],
        "text": "headline, summary and the body's opening",
    }
    article = {
        "article_id": 11,
        "canonical_url": "https://apnews.com/article/blinken-1",
        "url": "https://apnews.com/x",
        "title": "Blinken " + HOSTILE,
        "summary": "Summary " + HOSTILE,
        "published_at": NOW - timedelta(hours=5),
        "published_at_source": "published",
        "first_seen_at": NOW - timedelta(hours=4),
        "last_seen_at": NOW,
        "outlet": "AP News",
        "language": "en",
        "first_feed": "ap_world",
        "relevance_score": 0.825,
        "is_relevant": True,
        "topics": ["diplomacy", "taiwan"],
        "relevance_terms": terms,
        "relevance_version": "3-abc",
        "revision": 1,
        "outlet_type": "wire",
        "text_status": "ok",
        "text_detail": None,
        "text_words": 4,
        "text_fetched_at": NOW,
        "text_url": "https://apnews.com/article/blinken-1",
        "body": "Full body text " + HOSTILE,
    }
    reprint = dict(
        article,
        article_id=12,
        outlet="DW",
        outlet_type="international_press",
        canonical_url="javascript:alert(1)",
        first_seen_at=NOW - timedelta(hours=2),
        text_status="paywalled",
        text_detail="a login wall",
        body=None,
        relevance_terms=None,
    )
    data = {
        "story": {
            "story_id": 7,
            "headline": "Blinken " + HOSTILE,
            "first_article_id": 11,
            "first_seen_at": NOW - timedelta(hours=4),
            "first_published_at": NOW - timedelta(hours=5),
            "first_outlet": "AP News",
            "last_seen_at": NOW,
            "article_count": 2,
            "outlet_count": 2,
            "is_relevant": True,
            "topics": ["diplomacy", "taiwan"],
        },
        "articles": [article, reprint],
        "sightings": [
            {
                "feed_name": "ap_world",
                "feed_outlet": "AP News",
                "article_id": 11,
                "outlet": "AP News",
                "url": "https://apnews.com/x?utm_source=rss",
                "guid": None,
                "first_seen_at": NOW - timedelta(hours=4),
                "last_seen_at": NOW,
                "times_seen": 2,
            },
            {
                "feed_name": "google_news",
                "feed_outlet": "Google News",
                "article_id": 11,
                "outlet": "AP News",
                "url": "https://news.google.com/rss/articles/CBMi",
                "guid": None,
                "first_seen_at": NOW - timedelta(hours=3),
                "last_seen_at": NOW,
                "times_seen": 1,
            },
        ],
        "generated_at": NOW,
        "labels": dict(LABELS),
        "warehouse": coverage_data()["warehouse"],
    }
    data.update(overrides)
    return data


def articles_data(rows=None, **overrides):
    row = {
        "article_id": 11,
        "published_at": NOW - timedelta(hours=5),
        "first_seen_at": NOW - timedelta(hours=4),
        "outlet": "AP News " + HOSTILE,
        "outlet_type": "wire",
        "language": "en",
        "title": "Headline " + HOSTILE,
        "summary": "",
        "topics": ["taiwan"],
        "relevance_score": 0.8,
        "is_relevant": True,
        "story_id": 7,
        "story_outlets": 4,
        "story_articles": 5,
        "canonical_url": "https://apnews.com/a",
        "rank": None,
        "text_status": "ok",
    }
    data = {
        "generated_at": NOW,
        "filters": ArticleFilters(topic="taiwan", q=HOSTILE),
        "total": 1,
        "rows": [row] if rows is None else rows,
        "labels": dict(LABELS),
        "notices": [],
        "outlets": ["AP News"],
        "warehouse": coverage_data()["warehouse"],
        "latest": {"latest_published_at": NOW - timedelta(days=3)},
    }
    data.update(overrides)
    return data


def hostile_coverage():
    story = dict(coverage_data()["stories"][0], headline=HOSTILE, outlets=[HOSTILE])
    bad_feed = feed(HOSTILE, "failing", error_class="http_4xx", http=404, error=HOSTILE, outlet=HOSTILE, streak=1)
    return coverage_data(
        stories=[story],
        feeds=[bad_feed],
        outlets=[dict(coverage_data()["outlets"][0], outlet=HOSTILE)],
        warehouse=dict(coverage_data()["warehouse"], database=HOSTILE),
    )


@pytest.mark.parametrize(
    "render",
    [
        lambda: pages.render_coverage(hostile_coverage(), OPS),
        lambda: pages.render_story(story_data(), Links(depth=1, ops=True)),
        lambda: pages.render_articles(articles_data(), OPS),
    ],
)
def test_hostile_text_is_escaped_everywhere(render):
    page = render()
    assert "<script" not in page and "<img" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "javascript:" not in page
    assert_relative_links(page)
    assert_aligned(page)


def test_digest_html_is_reduced_to_safe_tags():
    html = (
        '<h1>Digest</h1><ol><li><a href="https://apnews.com/a" onclick="x()">AP</a> '
        '<a href="javascript:alert(1)">bad</a><script>alert(1)</script><img src=x onerror=y></li></ol>'
        '<p style="x">text &amp; more</p><iframe src="https://evil"></iframe>'
    )
    clean = pages.sanitize_digest(html)
    assert clean == (
        '<h1>Digest</h1><ol><li><a href="https://apnews.com/a" target="_blank" '
        'rel="noopener noreferrer">AP</a> <a>bad</a></li></ol><p>text &amp; more</p>'
    )


# --- the banner and feed health ------------------------------------------------------------------


def many_failing_feeds():
    dns = [
        feed(
            f"feed{i:02d}",
            "failing",
            error_class="dns",
            error=f"DNS lookup of host{i}.example failed",
            streak=5,
            task=f"poll:{i}",
        )
        for i in range(64)
    ]
    moved = [
        feed(
            f"moved{i}",
            "failing",
            error_class="http_4xx",
            http=404,
            error="HTTP 404 Not Found",
            streak=2,
            task=f"poll:{64 + i}",
        )
        for i in range(3)
    ]
    return dns + moved + [feed("fine1"), feed("fine2")]


def test_failing_feeds_are_grouped_by_cause_with_a_plain_hint():
    groups = group_failures(many_failing_feeds())
    assert [g.sentence for g in groups] == [
        "64 feeds: DNS failed — is the network up?",
        "3 feeds: HTTP 404 — the feed moved?",
    ]
    assert (
        failure_kind("http_5xx", 503).sentence(1)
        == "1 feed: HTTP 503 — the site is down or overloaded; retried with back-off"
    )
    assert failure_kind("timeout").label == "timed out"


def test_feed_health_summarises_64_identical_failures_in_one_expandable_group():
    page = pages.render_feed_health(coverage_data(feeds=many_failing_feeds()), OPS)
    assert page.count("64 feeds: DNS failed — is the network up?") == 1
    group = re.search(
        r'<details class="group failing"><summary>64 feeds: DNS failed[^<]*</summary>(.*?)</details>', page, re.S
    )
    assert group is not None  # closed by default: 64 rows behind one summary line
    assert group.group(1).count("<tr") == 65  # the header and the 64 feeds, inside the details
    assert '<details class="group failing" open><summary>3 feeds: HTTP 404 — the feed moved?' in page
    assert "69 feeds: 2 reachable, 67 failing" in page
    # each failing feed links to its last fetch's task log in the Airflow UI, outside the iframe
    assert (
        'href="../dags/us_china_news/runs/manual__2026-11-28T09%3A00%3A00%2B00%3A00/tasks/poll/mapped/64" '
        'target="_top">task log</a>'
    ) in page
    assert_aligned(page)


def test_feed_tables_have_the_six_columns_in_every_group():
    page = pages.render_feed_health(coverage_data(feeds=many_failing_feeds()), OPS)
    parsed = read(page)
    assert len(parsed.tables) == 3
    for t in parsed.tables:
        assert t["head"] == 6 and set(t["rows"]) == {6}
    assert page.count('<colgroup><col style="width:24%">') == 3  # the same widths: columns line up
    with pytest.raises(ValueError, match="3 cells for 2 columns"):
        table(["a", "b"], [["1", "2", "3"]])


def test_readers_without_operations_access_see_states_but_no_errors_or_airflow_links():
    data = coverage_data(feeds=many_failing_feeds())
    page = pages.render_coverage(data, READER)
    assert "DNS lookup" not in page and "task log" not in page and "dags/" not in page
    assert "67 feeds: failing" in page
    assert "manual__" not in page


def test_banner_says_what_the_last_run_did_and_when_the_next_one_is():
    page = pages.render_banner(coverage_data(feeds=many_failing_feeds()), OPS)
    assert "10 feeds polled: 7 ok, 1 not modified, 2 failed; 12 new articles, 5 relevant" in page
    assert 'href="../dags/us_china_news/runs/manual__2026-11-28T09%3A00%3A00%2B00%3A00" target="_top"' in page
    assert "2 of 69 feeds reachable; 67 failing" in page
    assert "64 feeds: DNS failed — is the network up?" in page and "and 60 more" in page
    assert "2026-11-28 10:00" in page and "from Airflow&#x27;s scheduler (@hourly)" in page
    assert 'class="banner warn"' in page


def test_banner_for_a_run_that_polled_nothing_and_a_paused_dag():
    summary = {"feeds_polled": 0, "feeds_not_due": 65, "merge": {}}
    page = pages.render_banner(coverage_data(runs=[run(summary)], schedule={"source": "airflow", "paused": True}), OPS)
    assert "polled nothing: no feed was due (65 not due yet)" in page
    assert "is <strong>paused</strong>" in page


def test_next_run_links_to_the_polling_dag_in_the_airflow_ui_for_operations_only():
    def next_run(links):
        return pages.render_banner(coverage_data(), links).split("<strong>Next run:</strong>")[1]

    assert '<a href="../dags/us_china_news" target="_top">Open the DAG in Airflow</a>' in next_run(OPS)
    assert 'href="../../dags/us_china_news"' in next_run(Links(depth=1, ops=True))  # relative from below
    assert "<a " not in next_run(READER)


def test_a_paused_dag_on_the_demos_warehouse_says_why():
    paused = {"source": "airflow", "paused": True}
    demo = pages.render_banner(coverage_data(schedule=paused), OPS)  # the sample data's warehouse: newswatch_demo
    assert "is <strong>paused</strong>: this is the demo's warehouse" in demo and "never mix into it" in demo
    real = coverage_data(schedule=paused)
    real["warehouse"] = real["warehouse"] | {"database": "newswatch"}
    page = pages.render_banner(real, OPS)
    assert "is <strong>paused</strong>: no run until it is unpaused" in page and "demo" not in page


def test_banner_for_a_command_line_run_has_no_run_link_and_no_run_yet_says_so():
    page = pages.render_banner(coverage_data(runs=[run(SUMMARY, trigger="cli", run_id="cli__2026")]), OPS)
    assert "on the command line" in page and "dags/" not in page.split("Feeds:")[0]
    page = pages.render_banner(coverage_data(runs=[], feeds=[]), OPS)
    assert "the first poll has not run yet" in page


def test_run_states():
    assert run_state(run(None, finished=False), NOW).state == "running"
    assert run_state(run(None, finished=False) | {"started_at": NOW - timedelta(hours=5)}, NOW).state == "unfinished"
    failed = run_state(
        run({"feeds_polled": 64, "feeds_failed": 64, "nothing_loaded": True, "no_feed_reachable": True, "merge": {}}),
        NOW,
    )
    assert failed.state == "failed" and failed.sentence.endswith("no feed was reachable")


def test_next_runs_from_a_schedule():
    assert upcoming_runs("@hourly", NOW, 2) == [
        datetime(2026, 11, 28, 10, tzinfo=UTC),
        datetime(2026, 11, 28, 11, tzinfo=UTC),
    ]
    assert upcoming_runs("*/15 * * * *", NOW, 1) == [datetime(2026, 11, 28, 9, 45, tzinfo=UTC)]
    assert upcoming_runs(None, NOW) == []


# --- the whole coverage page ---------------------------------------------------------------------


def test_coverage_page_has_every_panel_and_names_its_warehouse():
    page = pages.render_coverage(coverage_data(), OPS)
    assert "<title>US–China coverage</title>" in page
    assert "Warehouse: database <strong>newswatch_demo</strong> on <strong>127.0.0.1:54329</strong>" in page
    for anchor in ("pipeline", "top-stories", "daily-coverage", "top-outlets", "daily-quality", "feed-health"):
        assert f'id="{anchor}"' in page
    assert '<a href="stories/7">Blinken &lt;b&gt;meets&lt;/b&gt; Xi</a>' in page
    assert 'href="articles?outlet=AP+News"' in page
    assert "Checks of <strong>2026-11-27</strong>" in page and "1 of 2 checks failed" in page
    assert "2026-11-27: 1 of 2 active feeds" in page
    assert 'href="digests/2026-11-27">digest of 2026-11-27</a>' in page
    assert_aligned(page)
    assert_relative_links(page)


def test_every_panel_has_an_explicit_empty_state():
    page = pages.render_coverage(coverage_data(stories=[], daily=[], outlets=[], quality=[], digests=[]), OPS)
    assert "No relevant story was seen in the last 24 hours" in page
    assert "No relevant article was published between" in page
    assert "No outlet published relevant coverage" in page
    assert "No day has been checked yet" in page
    assert "none yet (the daily DAG writes one per day)" in page
    page = pages.render_feed_health(coverage_data(feeds=[]), OPS)
    assert "No feed in this warehouse yet" in page


def test_an_empty_warehouse_says_what_to_do():
    w = dict(coverage_data()["warehouse"], has_runs=False, has_articles=False)
    page = pages.render_coverage(coverage_data(warehouse=w, runs=[], stories=[], daily=[]), OPS)
    assert "This warehouse holds no article yet" in page
    assert "The first poll has not run yet" in page
    assert "<code>make demo</code>" in page and "<code>make up DEMO=1</code>" in page
    assert 'href="../dags/us_china_news" target="_top"' in page
    assert "Today's top stories" not in page


# --- the story page -----------------------------------------------------------------------------


def test_story_page_lists_every_article_with_evidence_text_and_sightings():
    page = pages.render_story(story_data(), Links(depth=1, ops=True))
    assert page.count('<article class="item"') == 2
    assert "United States side</dt><dd>Antony Blinken, U.S. (headline; an official or institution)" in page
    assert "Topic: Taiwan</dt><dd>Taiwan, arms sale*" in page
    assert "Rules</dt><dd>both sides named in the headline" in page
    assert '<details class="text"><summary>Full text (4 words' in page
    assert "Full text: paywalled: a login wall." in page
    assert "Sightings by feed (2)" in page and "google_news" in page
    assert 'href="../coverage"' in page and 'href="../articles?topic=taiwan"' in page
    assert page.count("<circle") >= 3  # the reach timeline: published and first seen per outlet
    assert_aligned(page)


def test_evidence_in_words():
    lines = dict(
        evidence(
            {
                "us": ["U.S."],
                "china": ["China"],
                "where": {"us": "lead", "china": "title"},
                "kind": {"us": "country", "china": "country"},
                "connection": ["measure:tariff*"],
                "negative": {"markets": ["stocks"]},
                "rules": ["both_sides", "off_topic_context"],
                "topics": {},
                "measures": [],
            },
            LABELS,
        )
    )
    assert lines["United States side"] == "U.S. (lead; the country's name)"
    assert lines["What connects the two"] == "measure:tariff*"
    assert lines["Off-topic context: markets"] == "stocks"
    assert lines["Rules"] == "both sides named in the headline or lead; an off-topic context lowered the score"
    from_page = dict(
        evidence({"us": ["Antony Blinken"], "where": {"us": "page"}, "from_page": ["Antony Blinken"]}, LABELS)
    )
    assert from_page["United States side"] == "Antony Blinken (the fetched page)"
    assert from_page["Found only in the fetched page"] == "Antony Blinken"


def test_reach_timeline_orders_outlets_by_when_they_carried_the_story():
    svg = charts.reach_timeline(story_data()["articles"])
    names = re.findall(r'text-anchor="end">([^<]+)<title>', svg)
    assert names == ["AP News", "DW"]
    assert "1 outlet" in svg and "2 outlets" in svg


# --- the article list, quality and digests ---------------------------------------------------------


def test_article_rows_link_to_their_story_and_the_list_offers_csv_with_the_same_filters():
    page = pages.render_articles(articles_data(), OPS)
    assert '<a href="stories/7">Headline &lt;script&gt;' in page
    assert 'href="articles.csv?topic=taiwan&amp;q=' in page
    assert "<strong>1</strong> relevant articles, published in the last 30 days, on Taiwan" in page
    assert_aligned(page)


def test_article_list_empty_state_suggests_wider_filters():
    page = pages.render_articles(articles_data(rows=[], total=0), OPS)
    assert "No article matches" in page and "the same filters at any time" in page
    assert "The newest relevant article was published 2026-11-25 09:30 UTC" in page


def test_quality_page_by_day_and_its_empty_state():
    checks = coverage_data()["quality"] + [dict(coverage_data()["quality"][0], day=date(2026, 11, 26), passed=True)]
    data = {
        "generated_at": NOW,
        "first_day": date(2026, 11, 15),
        "checks": checks,
        "digests": [{"day": date(2026, 11, 27)}],
        "warehouse": None,
    }
    page = pages.render_quality(data, OPS)
    assert '<a href="#day-2026-11-27">2026-11-27</a>' in page and 'id="day-2026-11-26"' in page
    assert 'href="digests/2026-11-27">digest</a>' in page
    assert_aligned(page)
    empty_page = pages.render_quality(dict(data, checks=[]), OPS)
    assert "No day since 2026-11-15 has been checked" in empty_page


def test_digest_page_and_its_empty_states():
    digest = {
        "day": date(2026, 11, 27),
        "stories": 6,
        "markdown": "",
        "created_at": NOW,
        "html": "<h1>US–China coverage, Friday 27 November 2026 (UTC)</h1><script>x</script>",
    }
    days = [{"day": date(2026, 11, 26)}, {"day": date(2026, 11, 27)}]
    links = Links(depth=1, ops=True)
    stories = [dict(coverage_data()["stories"][0], headline="Blinken " + HOSTILE)]
    page = pages.render_digest(
        {
            "generated_at": NOW,
            "day": date(2026, 11, 27),
            "digest": digest,
            "days": days,
            "stories": stories,
            "labels": LABELS,
        },
        links,
    )
    assert "<h1>US–China coverage, Friday 27 November 2026 (UTC)</h1>" in page and "<script>" not in page
    assert '<a href="../stories/7">Blinken &lt;script&gt;' in page  # each of the day's stories opens its page
    assert_aligned(page)
    assert 'href="../digests/2026-11-26">← 2026-11-26</a>' in page
    today = pages.render_digest({"generated_at": NOW, "day": date(2026, 11, 28), "digest": None, "days": days}, links)
    assert "2026-11-28 is not over yet" in today and 'href="../digests/2026-11-27"' in today
    past = pages.render_digest({"generated_at": NOW, "day": date(2026, 11, 1), "digest": None, "days": []}, links)
    assert "has not written one for this day" in past
    index = pages.render_digest_index({"generated_at": NOW, "days": []}, Links())
    assert "No digest yet" in index
