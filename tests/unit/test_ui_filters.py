"""The article list's filters (bad input is a 400 with the reason, never a 500), the CSV export,
and the app's answers that need no warehouse: 400s, 403 on every route, 503 when the warehouse
is unreachable."""

import csv
import io
import socket
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

import pytest
from fastapi.testclient import TestClient

from newswatch.access import Access
from newswatch.ui.app import create_app
from newswatch.ui.export import COLUMNS, articles_csv
from newswatch.ui.filters import ArticleFilters, BadRequest, grouped, parse_filters

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


def parse(query: str) -> ArticleFilters:
    return parse_filters(parse_qs(query, keep_blank_values=True))


# --- parsing ----------------------------------------------------------------------------------------


def test_defaults_are_relevant_articles_of_the_last_30_days():
    f = parse("")
    assert f == ArticleFilters()
    assert f.relevant_only and f.window == "30d" and f.page == 1 and f.per == 50
    assert f.period(NOW) == (datetime(2026, 10, 29, 9, 30, tzinfo=UTC), None)


def test_a_form_submission_with_empty_fields_is_the_defaults_plus_what_was_filled():
    f = parse("q=&window=7d&day=&from=&to=&topic=taiwan&outlet=&type=&lang=zh&scope=relevant&per=50")
    assert (f.window, f.topic, f.language, f.q, f.outlet, f.outlet_type) == ("7d", "taiwan", "zh", None, None, None)


def test_day_and_ranges_give_utc_periods_and_win_over_the_window():
    assert parse("day=2026-11-25&window=7d").period(NOW) == (
        datetime(2026, 11, 25, tzinfo=UTC),
        datetime(2026, 11, 26, tzinfo=UTC),
    )
    assert parse("from=2026-11-20&to=2026-11-22").period(NOW) == (
        datetime(2026, 11, 20, tzinfo=UTC),
        datetime(2026, 11, 23, tzinfo=UTC),
    )
    assert parse("from=2026-11-20").period(NOW) == (datetime(2026, 11, 20, tzinfo=UTC), None)
    assert parse("window=all").period(NOW) == (None, None)
    assert parse("window=24h").period(NOW)[0] == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def test_lang_any_is_no_filter_and_search_whitespace_is_collapsed():
    assert parse("lang=any").language is None and parse("lang=EN").language == "en"
    assert parse("q=%20rare%20%20earth%20").q == "rare earth"
    assert parse("scope=all").relevant_only is False


@pytest.mark.parametrize(
    "query, reason",
    [
        ("window=1y", "window='1y': expected one of 24h, 7d, 30d, all"),
        ("day=2026-13-01", "day='2026-13-01': not a date; expected YYYY-MM-DD"),
        ("day=yesterday", "day='yesterday': not a date"),
        ("from=2026-11-25&to=2026-11-01", "from=2026-11-25 is after to=2026-11-01"),
        ("day=2026-11-25&from=2026-11-01", "give either day or from/to, not both"),
        ("topic=Taiwan%27--", 'topic="Taiwan\'--": not a topic name'),
        ("type=tabloid", "type='tabloid': expected one of wire, us_press"),
        ("lang=english", "lang='english': expected en, zh or any"),
        ("q=" + "x" * 201, "q: the search is 201 characters long; at most 200"),
        ("scope=some", "scope='some': expected relevant or all"),
        ("page=0", "page=0: expected a whole number from 1 to 2000"),
        ("page=-1", "page='-1': expected a whole number"),
        ("page=2.5", "page='2.5': expected a whole number"),
        ("per=30", "per=30: expected one of 25, 50, 100, 200"),
        ("topic=taiwan&topic=trade", "topic: give it once (got 2 values)"),
        ("color=red", "unknown parameter color; the article list takes window, day, from, to"),
        ("outlet=" + "x" * 201, "outlet: longer than 200 characters"),
    ],
)
def test_bad_input_is_refused_with_the_reason(query, reason):
    with pytest.raises(BadRequest) as info:
        parse(query)
    assert str(info.value).startswith(reason)


def test_filters_survive_a_round_trip_through_their_own_links():
    for query in (
        "",
        "topic=taiwan&lang=zh",
        "day=2026-11-25&type=wire",
        "from=2026-11-01&to=2026-11-20&scope=all",
        "window=all&q=export+controls&outlet=AP+News&page=3&per=100",
        "to=2026-11-20",
    ):
        f = parse(query)
        assert parse(urlencode(f.params())) == f
        assert parse(urlencode(f.params(paging=False))) == ArticleFilters(**{**f.__dict__, "page": 1, "per": 50})


def test_csv_file_name_carries_the_filters_in_safe_characters():
    assert (
        parse("day=2026-11-25&topic=taiwan&lang=zh").csv_filename(NOW) == "newswatch-articles_2026-11-25_taiwan_zh.csv"
    )
    name = parse('outlet=新华网 "x"/..&q=rare earth&type=chinese_state_media&scope=all').csv_filename(NOW)
    assert name == "newswatch-articles_30d-to-2026-11-28_outlet-x_chinese_state_media_q-rare-earth_all-articles.csv"
    assert parse("from=2026-11-01").csv_filename(NOW) == "newswatch-articles_2026-11-01_to_2026-11-28.csv"


def test_grouped_keeps_repeated_parameters():
    assert grouped([("a", "1"), ("b", "2"), ("a", "3")]) == {"a": ["1", "3"], "b": ["2"]}


# --- CSV --------------------------------------------------------------------------------------------


def test_csv_has_a_header_quotes_properly_keeps_utf8_and_defuses_formulas():
    rows = [
        {
            "article_id": 1,
            "published_at": datetime(2026, 11, 25, 8, 5, tzinfo=UTC),
            "first_seen_at": datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
            "outlet": "新华网",
            "outlet_type": "chinese_state_media",
            "language": "zh",
            "title": '中美 "talks", day 2\nsecond line',
            "topics": ["diplomacy", "trade"],
            "relevance_score": 0.8251,
            "is_relevant": True,
            "story_id": 9,
            "story_outlets": 3,
            "story_articles": 4,
            "text_status": "ok",
            "canonical_url": "https://www.news.cn/a,b",
        },
        {
            "article_id": 2,
            "published_at": None,
            "first_seen_at": None,
            "outlet": None,
            "outlet_type": None,
            "language": None,
            "title": '=HYPERLINK("http://evil")',
            "topics": [],
            "relevance_score": 0.1,
            "is_relevant": False,
            "story_id": None,
            "story_outlets": None,
            "story_articles": None,
            "text_status": None,
            "canonical_url": "https://x.example/",
        },
    ]
    text = articles_csv(rows)
    assert text.startswith(",".join(COLUMNS) + "\r\n")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == list(COLUMNS) and len(parsed) == 3
    first = dict(zip(COLUMNS, parsed[1], strict=True))
    assert first["title"] == '中美 "talks", day 2\nsecond line' and first["outlet"] == "新华网"
    assert first["published_at"] == "2026-11-25T08:05:00Z" and first["topics"] == "diplomacy;trade"
    assert first["relevance_score"] == "0.825" and first["url"] == "https://www.news.cn/a,b"
    second = dict(zip(COLUMNS, parsed[2], strict=True))
    assert (
        second["title"] == '\'=HYPERLINK("http://evil")'
        and second["story_id"] == ""
        and second["is_relevant"] == "false"
    )
    assert text.encode("utf-8").decode("utf-8") == text


# --- the app, without a warehouse -------------------------------------------------------------------


def closed_port_dsn() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"host=127.0.0.1 port={port} dbname=nowhere user=nobody connect_timeout=2"


def no_database():
    raise AssertionError("the warehouse must not be read for this request")


@pytest.fixture
def client():
    return TestClient(
        create_app(no_database, access=lambda request: Access(True, True), schedule=lambda now: None),
        raise_server_exceptions=True,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/articles?window=forever",
        "/articles.json?day=2026-02-30",
        "/articles.csv?lang=klingon",
        "/articles?page=999999999999",
        "/articles?topic=%00",
        "/articles?outlet=Reuters%00",
        "/articles?q=taiwan%00",
        "/articles?to=9999-12-31",
        "/articles.json?from=0001-01-01",
        "/articles?day=9999-12-31",
        "/articles?q=" + "%F0%9F%92%A5" * 300,
        "/articles?from=2026-11-02&to=2026-11-01",
        "/articles?unknown=1",
        "/stories/abc",
        "/stories/1.5",
        "/stories/99999999999999999999",
        "/stories/-3.json",
        "/digests/2026-02-30",
        "/digests/yesterday",
        "/digests/2026-11-27.html",
    ],
)
def test_bad_input_is_a_400_with_the_reason_never_a_500(client, path):
    response = client.get(path)
    assert response.status_code == 400, (path, response.text[:300])
    if ".json" in path.split("?")[0]:
        assert response.json()["detail"]
    elif ".csv" in path:
        assert response.text.startswith("Bad request: lang='klingon'")
    else:
        assert "<h1>Bad request</h1>" in response.text


def test_400_pages_name_the_parameter(client):
    assert (
        "window=&#x27;forever&#x27;: expected one of 24h, 7d, 30d, all" in client.get("/articles?window=forever").text
    )
    assert client.get("/articles.json?day=2026-02-30").json() == {
        "detail": "day='2026-02-30': not a date; expected YYYY-MM-DD, e.g. 2026-11-25",
        "status": 400,
    }


ROUTES = [
    "/coverage",
    "/coverage.json",
    "/articles",
    "/articles.json",
    "/articles.csv",
    "/stories/1",
    "/stories/1.json",
    "/digests",
    "/digests/2026-11-27",
    "/digests/2026-11-27.json",
    "/quality",
    "/quality.json",
    "/",
    "/no-such-page",
]


def test_every_route_is_behind_the_access_rule():
    denied = TestClient(
        create_app(no_database, access=lambda request: Access(False, False, "NEWSWATCH_UI_ROLES allows only admin"))
    )
    for path in [*ROUTES, "/articles?window=forever", "/stories/abc"]:
        response = denied.get(path, follow_redirects=False)
        assert response.status_code == 403, path
        assert "NEWSWATCH_UI_ROLES allows only admin" in response.text
    # and every route the app defines was among them
    app = create_app(no_database, access=lambda request: Access(True, True))
    defined = {route.path for route in app.routes if getattr(route, "methods", None)}
    assert defined == {
        "/",
        "/coverage",
        "/coverage.json",
        "/stories/{ref}",
        "/articles",
        "/articles.json",
        "/articles.csv",
        "/quality",
        "/quality.json",
        "/digests",
        "/digests/{ref}",
        "/{path:path}",
    }


def test_an_unreachable_warehouse_is_a_503_that_says_so():
    app = create_app(closed_port_dsn, access=lambda request: Access(True, True), schedule=lambda now: None)
    client = TestClient(app, raise_server_exceptions=True)
    for path in ("/coverage", "/articles.json", "/stories/1", "/quality"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert "cannot connect to the warehouse" in response.text


def test_pages_forbid_scripts_and_framing_by_other_sites(client):
    response = client.get("/articles?window=forever")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy and "script-src" not in policy
    assert response.headers["cache-control"] == "no-store"


def test_the_app_root_redirects_to_the_coverage_page(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"].endswith("coverage")
