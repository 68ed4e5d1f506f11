"""`make demo`, then `make up`: the analyst sees the demo's stories. The wiring is checked without
starting Airflow (tests/e2e does that, against its own warehouse): in a throwaway embedded
PostgreSQL laid out like `.newswatch/pg`, the demo's feeds are loaded into the database `make demo`
fills, then the environment `make up` would start Airflow with must name that database for the
DAGs and for the pages' read-only login, and the coverage page read through that login must show
the demo's stories and say why the DAGs are paused."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from psycopg2.extensions import parse_dsn

from newswatch.access import Access
from newswatch.config import DEMO_DATABASE, FetchSettings, FulltextSettings, Settings, connection_to_dsn
from newswatch.dev import local
from newswatch.dev.feedserver import FeedServer
from newswatch.dev.localpg import LocalPostgres
from newswatch.pipeline import run_once
from newswatch.ui.app import create_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    """A state directory of its own (the embedded PostgreSQL, AIRFLOW_HOME), stopped afterwards."""
    monkeypatch.setattr(local, "STATE_DIR", tmp_path)
    monkeypatch.setattr(local, "AIRFLOW_HOME", tmp_path / "airflow")
    yield tmp_path
    LocalPostgres(tmp_path / "pg").stop()


def load_demo_feeds(uri: str, tmp_path: Path) -> None:
    """What `make demo`'s polling run leaves in its warehouse (without Airflow, and without the
    full text, which the page does not need to show stories)."""
    server = FeedServer().start()
    try:
        server.add_directory(ROOT / "demo" / "feeds")
        feeds = tmp_path / "demo-feeds.yaml"
        feeds.write_text((ROOT / "demo" / "feeds.yaml").read_text().replace("{base}", server.base_url))
        settings = Settings(
            feeds_path=feeds,
            topics_path=ROOT / "config" / "topics.yaml",
            warehouse_dsn=connection_to_dsn(uri),
            fetch=FetchSettings(allow_private_networks=True, connect_timeout=2, read_timeout=2, deadline=5),
            workers=4,
            fulltext=FulltextSettings(mode="none"),
        )
        assert run_once(settings, "cli__demo", force=True).feeds_ok == 8
    finally:
        server.stop()


def test_make_up_after_make_demo_shows_the_demos_stories(state_dir, monkeypatch):
    uri, embedded = local.warehouse_uri(DEMO_DATABASE)  # where make demo's run writes
    assert embedded
    load_demo_feeds(uri, state_dir)

    plan = local.plan_up(None)  # make up, no DEMO=1: the real warehouse `newswatch` is empty
    assert plan.database == DEMO_DATABASE and plan.demo
    assert parse_dsn(connection_to_dsn(plan.env["AIRFLOW_CONN_NEWS_WAREHOUSE"]))["dbname"] == DEMO_DATABASE
    for name in ("AIRFLOW_CONN_NEWS_WAREHOUSE", "AIRFLOW_CONN_NEWS_WAREHOUSE_READONLY"):
        monkeypatch.setenv(name, plan.env[name])  # as the api-server started by make up has them

    app = create_app(  # the warehouse as the plugin finds it: the read-only Airflow connection
        access=lambda request: Access(True, True),
        schedule=lambda now: {"source": "airflow", "paused": True},  # what make up left in Airflow
    )
    page = TestClient(app, raise_server_exceptions=True).get("/coverage")
    assert page.status_code == 200
    assert "database <strong>newswatch_demo</strong>" in page.text and "read as newswatch_analyst" in page.text
    assert '<a href="stories/' in page.text and "Blinken" in page.text  # the demo's top stories
    assert "this is the demo's warehouse" in page.text
