"""End to end, the way a user meets newswatch: `airflow standalone` started by the test, a run
triggered through the REST API against local fixture feeds, task states read back, rows
checked in PostgreSQL, then the Airflow UI and the coverage page opened in headless Chromium.
Screenshots go to artifacts/e2e/."""

import os
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

pytestmark = pytest.mark.e2e


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
    feeds.write_text((ROOT / "demo" / "feeds.yaml").read_text().replace("{base}", feed_server.base_url))
    port = _free_port()
    home = tmp_path / "airflow"
    metadata = sqlalchemy_url(make_database("nw_airflow"), "postgresql+psycopg2")
    env = local.standalone_env(home, sqlalchemy_url(dsn), metadata, port, {
        "NEWSWATCH_FEEDS": str(feeds),
        "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "true",
        "NEWSWATCH_POLL_SCHEDULE": "none",       # only the run this test triggers
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    })
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
    # the whole process group is gone
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)


def test_triggered_run_loads_articles_and_the_ui_shows_them(standalone, dsn, browser_path):
    base, home, _ = standalone
    token = local.api_token(base, home)
    local.unpause(base, token, ["us_china_news"])
    run_id, state, tis = trigger_and_wait(base, token, "us_china_news", conf={"force": True}, timeout=300)
    assert state == "success"

    by_task = {}
    for ti in tis:
        by_task.setdefault(ti["task_id"], []).append((ti.get("rendered_map_index"), ti["state"]))
    assert by_task["prepare"] == [(None, "success")] or by_task["prepare"][0][1] == "success"
    polls = dict(by_task["poll"])
    assert len(polls) == 8 and set(polls.values()) == {"success"}
    assert "demo_xinhuanet_world_zh" in polls
    for task in ("merge", "summarize", "publish"):
        assert by_task[task][0][1] == "success"

    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), count(*) FILTER (WHERE is_relevant) FROM news.articles")
        articles, relevant = cur.fetchone()
        cur.execute("SELECT count(*) FROM news.fetch_log WHERE run_id = %s AND status = 'ok'", (run_id,))
        ok_fetches = cur.fetchone()[0]
        cur.execute("""SELECT s.outlet_count FROM news.stories s JOIN news.articles a USING (story_id)
                       WHERE a.canonical_url LIKE 'https://apnews.com/article/blinken-%%'""")
        reach = cur.fetchone()[0]
    conn.close()
    assert articles > 70 and relevant > 30 and ok_fetches == 8 and reach >= 4

    # the coverage page is behind the Airflow login like the rest of the UI
    anonymous = requests.get(f"{base}/newswatch/coverage", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 307 and "/auth/login" in anonymous.headers["location"]
    assert requests.get(f"{base}/newswatch/coverage.json", timeout=10).status_code == 401
    data = requests.get(f"{base}/newswatch/coverage.json", headers={"Authorization": f"Bearer {token}"},
                        timeout=10).json()
    assert data["stories"] and {f["name"] for f in data["feeds"]} >= {"demo_bbc_world_asia"}

    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=browser_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}/", wait_until="networkidle")
            page.fill("input[name='username']", "admin")
            page.fill("input[name='password']", local.admin_password(home))
            page.keyboard.press("Enter")
            page.wait_for_url(lambda url: "login" not in url, timeout=30000)
            page.goto(f"{base}/dags/us_china_news/runs/{run_id}", wait_until="networkidle")
            page.get_by_text("us_china_news").first.wait_for(timeout=30000)
            page.screenshot(path=str(ARTIFACTS / "airflow-dag-run.png"), full_page=True)

            page.goto(f"{base}/newswatch/coverage", wait_until="networkidle")
            assert page.title() == "US–China coverage"
            stories = page.locator("#top-stories + table tbody tr")
            assert stories.count() >= 5
            assert "Blinken" in page.locator("#top-stories + table").inner_text()
            assert page.locator("svg rect").count() > 0
            health = page.locator("#feed-health + table").inner_text()
            assert "demo_bbc_world_asia" in health and "ok" in health
            page.screenshot(path=str(ARTIFACTS / "coverage-page.png"), full_page=True)

            page.goto(f"{base}/plugin/us-china-coverage", wait_until="networkidle")
            frame = page.frame_locator("iframe").first
            frame.get_by_text("Today's top stories").wait_for(timeout=30000)
            page.screenshot(path=str(ARTIFACTS / "coverage-in-airflow-ui.png"), full_page=True)
        finally:
            browser.close()
