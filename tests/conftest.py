"""Shared fixtures: a real PostgreSQL (embedded unless NEWSWATCH_TEST_DATABASE_URL names a server
to use), one fresh database per test, a local feed server, and an Airflow home for DAG tests."""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
REALFEEDS = FIXTURES / "realfeeds"

# Airflow reads its configuration at import time: point it at a throwaway home before any test
# imports it. Unit tests never import Airflow.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="newswatch-airflow-test-"))
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
os.environ.pop("AIRFLOW_CONN_NEWS_WAREHOUSE", None)


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory):
    """URL of a database on a server where tests may CREATE DATABASE."""
    from newswatch.config import DevSettings

    configured = DevSettings.from_env().test_database_url
    if configured:
        yield configured
        return
    from newswatch.dev.localpg import LocalPostgres

    pg = LocalPostgres(tmp_path_factory.mktemp("pg"), preferred_port=0, durable=False)
    pg.start()
    try:
        yield pg.uri("postgres")
    finally:
        pg.stop()


def _admin(url):
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


@pytest.fixture
def make_database(pg_admin_url):
    """Create fresh, empty databases (libpq DSNs returned); all dropped after the test."""
    from psycopg2 import sql
    from psycopg2.extensions import make_dsn, parse_dsn

    admin = _admin(pg_admin_url)
    names = []

    def create(prefix: str = "nw_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        names.append(name)
        params = parse_dsn(pg_admin_url)
        params["dbname"] = name
        return make_dsn(**params)

    yield create
    with admin.cursor() as cur:
        for name in names:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    admin.close()


@pytest.fixture
def dsn(make_database):
    """A fresh, empty database for one test; dropped afterwards."""
    return make_database()


def sqlalchemy_url(dsn: str, driver: str = "postgresql") -> str:
    """A libpq DSN as a URL (Airflow connections want postgresql://, its metadata
    postgresql+psycopg2://)."""
    from urllib.parse import quote

    from psycopg2.extensions import parse_dsn

    p = parse_dsn(dsn)
    login = quote(p["user"], safe="") + (":" + quote(p["password"], safe="") if p.get("password") else "")
    return f"{driver}://{login}@{p['host']}:{p['port']}/{p['dbname']}"


@pytest.fixture
def db(dsn):
    """A migrated warehouse connection."""
    from newswatch import warehouse

    conn = warehouse.connect(dsn)
    warehouse.migrate(conn)
    yield conn
    conn.close()


@pytest.fixture
def feed_server():
    from newswatch.dev.feedserver import FeedServer

    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_settings(tmp_path, dsn):
    """Settings for a run against `dsn` with the given feeds ({name: url} or FeedConfig list)."""
    from newswatch.config import FetchSettings, Settings

    def build(feeds: dict[str, str] | None = None, **fetch_overrides):
        feeds_path = tmp_path / "feeds.yaml"
        if feeds is not None:
            lines = ["feeds:"]
            for name, url in feeds.items():
                lines += [f"  - name: {name}", f'    url: "{url}"', f"    outlet: Outlet {name}"]
            feeds_path.write_text("\n".join(lines) + "\n")
        fetch = FetchSettings(
            allow_private_networks=True, connect_timeout=2, read_timeout=2, deadline=5, max_per_host=4
        )
        fetch = replace(fetch, **fetch_overrides)
        return Settings(
            feeds_path=feeds_path,
            topics_path=ROOT / "config" / "topics.yaml",
            warehouse_dsn=dsn,
            fetch=fetch,
            workers=4,
        )

    return build


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
