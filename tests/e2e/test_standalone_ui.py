"""End to end, the way a user meets newswatch: `airflow standalone` started by the test, a run
triggered through the REST API against the demo's feeds (plus one feed that has moved away: a
404), task states read back, rows checked in PostgreSQL, then the analyst's pages walked in
headless Chromium: the coverage page, a story opened from it, the article list filtered by topic
and by language, its CSV downloaded and checked, and the failing feed followed to its task log in
the Airflow UI. A second user whose role NEWSWATCH_UI_ROLES does not allow gets 403 on every route.
Screenshots go to artifacts/e2e/."""

import csv
import html
import io
import json
import re
import shutil
import socket
from pathlib import Path

import psycopg2
import pytest
import requests

from newswatch.config import DevSettings
from newswatch.dev import local
from tests.conftest import sqlalchemy_url
from tests.helpers import trigger_and_wait

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROKEN_FEED = "demo_moved_away"

pytestmark = pytest.mark.e2e

# every route of the analyst's pages (a role that is not allowed gets 403 on each)
ROUTES = [
    "coverage",
    "coverage.json",
    "articles",
    "articles.json",
    "articles.csv",
    "articles?topic=taiwan",
    "stories/1",
    "stories/1.json",
    "digests",
    "digests/2026-11-27",
    "digests/2026-11-27.json",
    "quality",
    "quality.json",
    "",
    "no-such-page",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def browser_path():
    if not Path(CHROMIUM).exists():
        if DevSettings.from_env().require_browser:
            pytest.fail(f"chromium not found at {CHROMIUM} (CI installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI requires it")
    return CHROMIUM


@pytest.fixture
def standalone(tmp_path, dsn, make_database, feed_server):
    feed_server.add_directory(ROOT / "demo" / "feeds")
    feeds = tmp_path / "feeds.yaml"
    # the demo's feeds, and one whose address now answers 404
    feeds.write_text(
        (ROOT / "demo" / "feeds.yaml").read_text().replace("{base}", feed_server.base_url)
        + f'\n  - name: {BROKEN_FEED}\n    url: "{feed_server.base_url}/moved-away.xml"\n'
        "    outlet: Moved Away Daily\n    language: en\n"
    )
    port = _free_port()
    home = tmp_path / "airflow"
    metadata = sqlalchemy_url(make_database("nw_airflow"), "postgresql+psycopg2")
    env = local.standalone_env(
        home,
        sqlalchemy_url(dsn),
        metadata,
        port,
        {
            "NEWSWATCH_FEEDS": str(feeds),
            "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "true",
            "NEWSWATCH_POLL_SCHEDULE": "none",  # only the run this test triggers
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            # the pages are for admins only here; `reader` (role viewer) may use the rest of the UI
            "NEWSWATCH_UI_ROLES": "admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,reader:viewer",
        },
    )
    log_path = tmp_path / "standalone.log"
    proc = local.start_standalone(env, log_path)
    base = f"http://localhost:{port}"
    try:
        local.wait_for_health(base, proc=proc)
        yield base, home, proc
    finally:
        local.stop_process_group(proc.pid)
        proc.wait(timeout=30)  # reap the leader, or its zombie keeps the group "alive"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log_path, ARTIFACTS / "standalone.log")
    # nothing of the process group still runs
    assert local.live_group_members(proc.pid) == []


def password(home: Path, user: str) -> str:
    return json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())[user]


def token_for(base: str, home: Path, user: str) -> str:
    r = requests.post(f"{base}/auth/token", json={"username": user, "password": password(home, user)}, timeout=10)
    r.raise_for_status()
    return r.json()["access_token"]


def test_triggered_run_loads_articles_and_the_analyst_walks_the_pages(standalone, dsn, browser_path):
    base, home, _ = standalone
    token = local.api_token(base, home)
    local.unpause(base, token, ["us_china_news"])
    run_id, state, tis = trigger_and_wait(base, token, "us_china_news", conf={"force": True}, timeout=300)
    assert state == "success"  # one feed failing turns its own task red, not the run

    by_task = {}
    for ti in tis:
        by_task.setdefault(ti["task_id"], []).append((ti.get("rendered_map_index"), ti["state"], ti["map_index"]))
    assert by_task["prepare"][0][1] == "success"
    polls = {label: st for label, st, _ in by_task["poll"]}
    assert len(polls) == 9 and polls.pop(BROKEN_FEED) == "failed" and set(polls.values()) == {"success"}
    assert "demo_xinhuanet_world_zh" in polls
    for task in ("merge", "summarize", "publish"):
        assert by_task[task][0][1] == "success"

    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), count(*) FILTER (WHERE is_relevant) FROM news.articles")
        articles, relevant = cur.fetchone()
        cur.execute("SELECT count(*) FROM news.fetch_log WHERE run_id = %s AND status = 'ok'", (run_id,))
        ok_fetches = cur.fetchone()[0]
        cur.execute(
            "SELECT airflow_task FROM news.fetch_log WHERE run_id = %s AND feed_name = %s", (run_id, BROKEN_FEED)
        )
        broken_task = cur.fetchone()[0]
        cur.execute("""SELECT s.outlet_count FROM news.stories s JOIN news.articles a USING (story_id)
                       WHERE a.canonical_url LIKE 'https://apnews.com/article/blinken-%%'""")
        reach = cur.fetchone()[0]
    conn.close()
    assert articles > 70 and relevant > 30 and ok_fetches == 8 and reach >= 4
    broken_index = next(i for label, _, i in by_task["poll"] if label == BROKEN_FEED)
    assert broken_task == f"poll:{broken_index}"

    # the pages are behind the Airflow login like the rest of the UI
    anonymous = requests.get(f"{base}/newswatch/coverage", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 307 and "/auth/login" in anonymous.headers["location"]
    assert requests.get(f"{base}/newswatch/coverage.json", timeout=10).status_code == 401
    admin = {"Authorization": f"Bearer {token}"}
    data = requests.get(f"{base}/newswatch/coverage.json", headers=admin, timeout=10).json()
    assert data["stories"] and {f["name"] for f in data["feeds"]} >= {"demo_bbc_world_asia", BROKEN_FEED}
    assert data["failing_groups"] == [
        {"kind": "http_4xx:404", "summary": "1 feed: HTTP 404 — the feed moved?", "feeds": [BROKEN_FEED]}
    ]
    assert data["last_run"]["run_id"] == run_id and data["warehouse"]["database"].startswith("nw_test_")

    # a logged-in user whose role NEWSWATCH_UI_ROLES does not list: 403 on every route
    reader = {"Authorization": f"Bearer {token_for(base, home, 'reader')}"}
    assert requests.get(f"{base}/api/v2/dags/us_china_news", headers=reader, timeout=10).status_code == 200
    for route in ROUTES:
        r = requests.get(f"{base}/newswatch/{route}", headers=reader, timeout=10, allow_redirects=False)
        assert r.status_code == 403, (route, r.status_code, r.text[:200])
        assert "NEWSWATCH_UI_ROLES allows only admin" in r.text

    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=browser_path,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            walk_as_admin(browser, base, home, run_id, broken_index)
            walk_as_reader(browser, base, home)
        finally:
            browser.close()


def login(page, base: str, user: str, secret: str) -> None:
    page.goto(f"{base}/", wait_until="networkidle")
    page.fill("input[name='username']", user)
    page.fill("input[name='password']", secret)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "login" not in url, timeout=30000)


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def column(page, table: str, header: str) -> list[str]:
    """The texts of one column of a table, found by its header."""
    headers = [h.strip() for h in page.locator(f"{table} thead th").all_inner_texts()]
    index = headers.index(header) + 1
    return [t.strip() for t in page.locator(f"{table} tbody tr td:nth-child({index})").all_inner_texts()]


def walk_as_admin(browser, base: str, home: Path, run_id: str, broken_index: int) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    login(page, base, "admin", local.admin_password(home))
    page.goto(f"{base}/dags/us_china_news/runs/{run_id}", wait_until="networkidle")
    page.get_by_text("us_china_news").first.wait_for(timeout=30000)
    shot(page, "airflow-dag-run.png")

    # --- the coverage page ------------------------------------------------------------------------
    page.goto(f"{base}/newswatch/coverage", wait_until="networkidle")
    assert page.title() == "US–China coverage"
    assert "Warehouse: database nw_test_" in page.locator("header.top").inner_text()
    banner = page.locator("#pipeline").inner_text()
    assert run_id in banner and "9 feeds polled: 8 ok, 0 not modified, 1 failed" in banner
    assert "1 feed: HTTP 404 — the feed moved?" in banner and "8 of 9 feeds reachable" in banner
    stories = page.locator("#top-stories table tbody tr")
    assert stories.count() >= 5 and "Blinken" in page.locator("#top-stories table").inner_text()
    bars = page.locator("#daily-coverage svg a rect")
    assert bars.count() > 0
    legend = page.locator("#daily-coverage .legend a").all_inner_texts()
    assert 0 < len(legend) <= 12 and all(re.search(r"\(\d+\)$", entry) for entry in legend)
    ticks = [int(t) for t in page.locator("#daily-coverage svg text.tick").all_text_contents()]
    assert ticks == sorted(set(ticks)) and ticks[0] == 0
    health = page.locator("#feed-health").inner_text()
    assert "demo_bbc_world_asia" in health and "Moved Away Daily" in health
    for table in page.locator("#feed-health table").all():  # aligned: as many cells as headers
        headers = table.locator("thead th").count()
        assert headers == 6
        for row in table.locator("tbody tr").all():
            assert row.locator("td").count() == headers
    shot(page, "coverage-page.png")

    # --- a story, from the coverage page -----------------------------------------------------------
    page.locator("#top-stories table tbody tr").first.locator("a").first.click()
    page.wait_for_url(re.compile(r"/newswatch/stories/\d+$"))
    assert "Blinken" in page.locator("h1").inner_text()
    assert page.locator("#articles article.item").count() >= 4
    assert page.locator("#reach svg circle").count() >= 4
    assert "demo_google_news_china_us" in page.locator("#sightings").inner_text()
    page.locator("#articles details.evidence summary").first.click()
    assert "United States side" in page.locator("#articles dl.evidence").first.inner_text()
    shot(page, "story-page.png")

    # --- the article list: by topic, then by language, then its CSV --------------------------------------
    page.locator("header.top nav a", has_text="Articles").click()
    page.wait_for_url(re.compile(r"/newswatch/articles$"))
    page.select_option("select[name=window]", "all")
    page.select_option("select[name=topic]", "taiwan")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"topic=taiwan"))
    topics = column(page, "table.articles", "Topics")
    assert topics and all("Taiwan" in t for t in topics)
    shot(page, "articles-topic.png")

    page.select_option("select[name=topic]", "")
    page.select_option("select[name=lang]", "zh")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"lang=zh"))
    languages = column(page, "table.articles", "Lang")
    assert languages and set(languages) == {"zh"}
    assert "新华网" in column(page, "table.articles", "Outlet")
    shot(page, "articles-page.png")

    shown = int(page.locator("#counts strong").inner_text().replace(",", ""))
    titles = [
        html.unescape(t)
        for t in re.findall(r'<a href="stories/\d+">([^<]*)</a> <a href="[^"]*" class="ext"', page.content())
    ]
    with page.expect_download() as info:
        page.locator("#counts a", has_text="CSV").click()
    download = info.value
    assert download.suggested_filename.startswith(
        "newswatch-articles_all-to-"
    ) and download.suggested_filename.endswith("_zh.csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"), newline="")))
    assert len(rows) == shown == len(titles) and [r["title"] for r in rows] == titles
    assert {r["language"] for r in rows} == {"zh"}

    # --- the failing feed, followed to its task log in the Airflow UI ---------------------------------
    page.goto(f"{base}/newswatch/coverage", wait_until="networkidle")
    group = page.locator("#feed-health details.failing", has_text="1 feed: HTTP 404 — the feed moved?")
    assert group.get_attribute("open") is not None
    log_link = group.locator("a", has_text="task log")
    href = log_link.get_attribute("href")
    assert href.endswith(f"/tasks/poll/mapped/{broken_index}") and log_link.get_attribute("target") == "_top"
    log_link.click()
    page.wait_for_url(re.compile(rf"/dags/us_china_news/runs/.+/tasks/poll/mapped/{broken_index}$"), timeout=30000)
    page.get_by_text(f"{BROKEN_FEED}: FAILED http_4xx").first.wait_for(timeout=60000)
    shot(page, "failing-feed-task-log.png")

    # --- the same pages inside the Airflow UI (Browse > US–China coverage) ------------------------------
    page.goto(f"{base}/plugin/us-china-coverage", wait_until="networkidle")
    frame = page.frame_locator("iframe").first
    frame.get_by_text("Today's top stories").wait_for(timeout=30000)
    frame.locator("#top-stories table tbody tr").first.locator("a").first.click()
    frame.get_by_text("Sightings by feed").wait_for(timeout=30000)  # relative links work in the iframe
    shot(page, "coverage-in-airflow-ui.png")
    context.close()


def walk_as_reader(browser, base: str, home: Path) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    login(page, base, "reader", password(home, "reader"))
    for route in ("coverage", "articles?lang=zh", "stories/1", "quality", "digests"):
        response = page.goto(f"{base}/newswatch/{route}", wait_until="networkidle")
        assert response.status == 403, route
        assert "Not allowed" in page.locator("h1").inner_text()
    shot(page, "reader-not-allowed.png")
    context.close()
