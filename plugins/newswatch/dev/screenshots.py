"""Regenerate the README's pictures of the analyst's pages from the demo's data:
docs/coverage-page.png, docs/story-page.png and docs/articles-page.png.

    python -m newswatch.dev.screenshots [--out docs] [--keep]

Everything runs in a throwaway directory, nothing of `.newswatch/` is touched: an embedded
PostgreSQL (warehouse and Airflow's metadata), a local HTTP server with the demo's feeds and
article pages (demo/), and `airflow standalone` as `make up` starts it (hourly schedule, the pages
reading through the read-only login). The polling DAG is unpaused and its first scheduled run
polls the demo's feeds (a run is triggered if the scheduler has not started one within a
minute); the full-text step then fetches the demo's article pages, as `make demo` does, and
today's data-quality checks and digest are written, as the daily DAG will write them tomorrow.
Headless Chromium (Debian's `chromium`, or CHROMIUM=path) logs in and takes the pictures.

Chinese headlines need a CJK font in the system (Debian: fonts-noto-cjk); without one they show
as boxes, and this script says so (Debian: fonts-noto-cjk, or the smaller fonts-wqy-zenhei).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import PROJECT_ROOT
from . import local
from .feedserver import FeedServer
from .localpg import LocalPostgres

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

DEMO_DIR = PROJECT_ROOT / "demo"
VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}


def _say(text: str) -> None:
    print(f"screenshots: {text}", flush=True)


def chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise SystemExit("screenshots: chromium not found (apt-get install chromium, or set CHROMIUM=path)")
    return path


def cjk_font_installed() -> bool:
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return True  # cannot tell: say nothing
    return bool(out.strip())


def _api(base: str, home: Path):
    import requests

    token = local.api_token(base, home)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def wait_for_run(base: str, home: Path, proc, timeout: float = 420) -> str:
    """Unpause us_china_news and wait for its first run to succeed (triggered with force if
    the scheduler has not started one within a minute); returns the run id."""
    session = _api(base, home)
    local.unpause(base, session.headers["Authorization"].split()[1], ["us_china_news"])
    runs_url = f"{base}/api/v2/dags/us_china_news/dagRuns"
    deadline = time.monotonic() + timeout
    triggered = False
    started = time.monotonic()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"airflow standalone exited with code {proc.returncode}")
        runs = (
            session.get(runs_url, params={"order_by": "-run_after", "limit": 5}, timeout=10).json().get("dag_runs", [])
        )
        done = [r for r in runs if r["state"] == "success"]
        if done:
            return done[0]["dag_run_id"]
        if any(r["state"] == "failed" for r in runs):
            raise RuntimeError(f"the polling run failed: {[r['dag_run_id'] for r in runs if r['state'] == 'failed']}")
        if not runs and not triggered and time.monotonic() - started > 60:
            _say("no scheduled run yet: triggering one")
            r = session.post(runs_url, json={"logical_date": None, "conf": {"force": True}}, timeout=30)
            r.raise_for_status()
            triggered = True
        time.sleep(3)
    raise RuntimeError(f"no successful run of us_china_news within {timeout:.0f}s")


def fill_the_rest(warehouse_uri: str, feeds_path: Path, base_url: str) -> None:
    """What `make demo` and the daily DAG add: the demo's article pages as full text, and today's
    checks and digest."""
    from datetime import datetime

    from .. import daily, warehouse
    from ..config import Settings, connection_to_dsn
    from ..pipeline import fulltext

    dsn = connection_to_dsn(warehouse_uri)
    settings = Settings.from_env()
    settings = replace(
        settings,
        feeds_path=feeds_path,
        warehouse_dsn=dsn,
        fetch=replace(settings.fetch, allow_private_networks=True),
        fulltext=replace(settings.fulltext, mode="relevant", days=3650),
    )
    report = fulltext(settings, rewrite=lambda url: base_url + local.demo_page_path(url))
    _say(report["line"])
    today = datetime.now(UTC).date()
    with warehouse.connection(dsn) as conn:
        daily.run_checks(conn, today)
        stories = daily.write_digest(conn, today)
    _say(f"checks and digest of {today} written ({stories} stories)")


def take(base: str, home: Path, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{base}/", wait_until="networkidle")
            page.fill("input[name='username']", "admin")
            password = local.admin_password(home)
            if password is None:
                raise RuntimeError(f"no admin password in {home}: airflow standalone has not written one")
            page.fill("input[name='password']", password)
            page.keyboard.press("Enter")
            page.wait_for_url(lambda url: "login" not in url, timeout=30000)

            page.goto(f"{base}/newswatch/coverage", wait_until="networkidle")
            page.locator("#top-stories table tbody tr").first.wait_for(timeout=30000)
            written.append(out / "coverage-page.png")
            page.screenshot(path=str(written[-1]), full_page=True)

            page.locator("#top-stories table tbody tr").first.locator("a").first.click()
            page.wait_for_url(re.compile(r"/newswatch/stories/\d+$"))
            page.locator("#articles details.evidence summary").first.click()
            written.append(out / "story-page.png")
            page.screenshot(path=str(written[-1]), full_page=True)

            page.goto(f"{base}/newswatch/articles?window=all&topic=taiwan", wait_until="networkidle")
            page.locator("table.articles tbody tr").first.wait_for(timeout=30000)
            written.append(out / "articles-page.png")
            page.screenshot(path=str(written[-1]), full_page=True)
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m newswatch.dev.screenshots",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs", help="where the pictures go (docs/)")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway directory (logs, databases)")
    args = parser.parse_args(argv)
    chromium()
    if not cjk_font_installed():
        _say(
            "WARNING: no CJK font installed: Chinese headlines will show as boxes "
            "(Debian: apt-get install fonts-noto-cjk, or the smaller fonts-wqy-zenhei)"
        )

    work = Path(tempfile.mkdtemp(prefix="newswatch-screenshots-"))
    _say(f"working in {work}")
    pg = LocalPostgres(work / "pg", preferred_port=0, durable=False)
    server = FeedServer().start()
    proc = None
    try:
        pg.start()
        warehouse_uri = pg.ensure_database("newswatch_demo")
        metadata = pg.ensure_database("airflow").replace("postgresql://", "postgresql+psycopg2://", 1)
        server.add_directory(DEMO_DIR / "feeds")
        local.serve_demo_pages(server)
        feeds_path = work / "feeds.yaml"
        feeds_path.write_text(
            (DEMO_DIR / "feeds.yaml").read_text(encoding="utf-8").replace("{base}", server.base_url), encoding="utf-8"
        )
        home = work / "airflow"
        port = _free_port()
        env = local.standalone_env(
            home,
            warehouse_uri,
            metadata,
            port,
            {
                "NEWSWATCH_FEEDS": str(feeds_path),
                "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "true",
                "NEWSWATCH_POLL_SCHEDULE": "@hourly",
                "NEWSWATCH_FULLTEXT": "none",  # the pages are fetched from the demo's server below
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW_CONN_NEWS_WAREHOUSE_READONLY": pg.reader_uri("newswatch_demo"),
            },
        )
        base = f"http://localhost:{port}"
        _say(f"starting airflow standalone at {base} (log: {work / 'standalone.log'})")
        proc = local.start_standalone(env, work / "standalone.log")
        local.wait_for_health(base, proc=proc)
        run_id = wait_for_run(base, home, proc)
        _say(f"run {run_id} loaded the demo's feeds")
        fill_the_rest(warehouse_uri, feeds_path, server.base_url)
        for path in take(base, home, args.out):
            _say(f"wrote {path}")
        return 0
    finally:
        if proc is not None:
            local.stop_process_group(proc.pid)
            proc.wait(timeout=30)
        server.stop()
        pg.stop()
        if args.keep:
            _say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
