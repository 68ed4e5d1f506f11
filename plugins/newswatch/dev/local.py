"""The laptop setup behind `make run`, `make demo`, `make up` and `make down`.

- The warehouse is AIRFLOW_CONN_NEWS_WAREHOUSE when set, else an embedded PostgreSQL kept in
  `.newswatch/pg` (so a second run sees the first run's data).
- Airflow runs with a project-local AIRFLOW_HOME (`.newswatch/airflow`), SQLite metadata, this
  project's dags/ and plugins/, no examples.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..config import DEMO_DATABASE, PROJECT_ROOT, DevSettings, feeds_path_from_env, load_feeds
from ..errors import ConfigError
from ..tables import format_table
from .localpg import LocalPostgres

DEV = DevSettings.from_env()
STATE_DIR = DEV.state_dir
DEMO_DIR = PROJECT_ROOT / "demo"


def embedded_warehouse(database: str = "newswatch") -> str:
    pg = LocalPostgres(STATE_DIR / "pg")
    pg.start()
    return pg.ensure_database(database)


def warehouse_uri(database: str = "newswatch") -> tuple[str, bool]:
    """(URI, embedded?) — the configured warehouse, or the embedded one started on demand."""
    configured = os.environ.get("AIRFLOW_CONN_NEWS_WAREHOUSE")
    if configured:
        return configured, False
    return embedded_warehouse(database), True


# One Airflow for make run, make demo and make up: the same home (logs) and the same metadata
# database, so the runs that make run and make demo made, and their task logs, are there to
# open in the UI that make up starts, and the analyst's page can link to them.
AIRFLOW_HOME = STATE_DIR / "airflow"


def local_metadata_url() -> str:
    """Airflow's metadata database in the embedded PostgreSQL (the scheduler, api-server,
    dag-processor and triggerer write concurrently, which SQLite serialises badly)."""
    pg = LocalPostgres(STATE_DIR / "pg")
    pg.start()
    return pg.ensure_database("airflow").replace("postgresql://", "postgresql+psycopg2://", 1)


def airflow_env(warehouse: str, extra: dict | None = None) -> dict:
    home = Path((extra or {}).get("AIRFLOW_HOME") or AIRFLOW_HOME)
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": env.get("AIRFLOW__CORE__EXECUTOR", "LocalExecutor"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": env.get(
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}"
            ),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": env.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
            "AIRFLOW_CONN_NEWS_WAREHOUSE": warehouse,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT / "plugins"), env.get("PYTHONPATH")])),
            # airflow standalone starts `airflow scheduler` & co. by name: the venv must be on PATH
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        }
    )
    env.update(extra or {})
    return env


def _airflow() -> str:
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


def _run(cmd: list[str], env: dict, log_path: Path | None = None, check: bool = True) -> int:
    if log_path:
        with open(log_path, "ab") as fh:
            proc = subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT)
    else:
        proc = subprocess.run(cmd, env=env)
    if check and proc.returncode != 0:
        where = f" (log: {log_path})" if log_path else ""
        raise RuntimeError(f"{' '.join(cmd[:3])} failed with exit code {proc.returncode}{where}")
    return proc.returncode


def prepare_airflow(env: dict, log_path: Path, pool_slots: int = 8) -> None:
    """Migrate Airflow's own database and create the fetch pool (idempotent)."""
    _run([_airflow(), "db", "migrate"], env, log_path)
    _run(
        [_airflow(), "pools", "set", "newswatch_fetch", str(pool_slots), "Concurrent feed fetches (newswatch)"],
        env,
        log_path,
    )
    _run(
        [
            _airflow(),
            "pools",
            "set",
            "newswatch_fulltext",
            "1",
            "Article page fetching (newswatch), apart from the feed polls",
        ],
        env,
        log_path,
    )


def run_dag(
    conf: dict,
    *,
    feeds_path: str | None = None,
    extra_env: dict | None = None,
    database: str = "newswatch",
    label: str = "run",
    fulltext: bool = True,
) -> int:
    """`airflow dags test us_china_news` with the local setup, then (`fulltext`, and unless
    NEWSWATCH_FULLTEXT=none) `us_china_news_fulltext`, which the scheduler would start from the
    asset the first publishes; prints the summary."""
    from .. import warehouse
    from ..config import FulltextSettings
    from ..summary import RunSummary
    from ..warehouse import reports

    feeds_file = str(feeds_path or feeds_path_from_env())
    try:
        feeds = load_feeds(feeds_file)
    except ConfigError as exc:
        print(f"newswatch: {exc}", file=sys.stderr)
        return 2
    uri, embedded = warehouse_uri(database)
    where = "embedded PostgreSQL in .newswatch/pg" if embedded else "the warehouse in AIRFLOW_CONN_NEWS_WAREHOUSE"
    env = airflow_env(
        uri,
        {
            "NEWSWATCH_FEEDS": str(Path(feeds_file).resolve()),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": local_metadata_url(),
            **(extra_env or {}),
        },
    )
    logs = STATE_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{label}-{time.strftime('%Y%m%dT%H%M%S')}.log"
    print(f"newswatch: {len(feeds)} feeds, warehouse: {where}")
    print(f"newswatch: running DAG us_china_news through Airflow (airflow dags test); full log: {log_path}")
    prepare_airflow(env, log_path)
    started = time.time()
    code = _run([_airflow(), "dags", "test", "us_china_news", "--conf", json.dumps(conf)], env, log_path, check=False)
    from ..config import connection_to_dsn

    with warehouse.connection(connection_to_dsn(uri)) as conn:
        latest = warehouse.latest_run(conn, since=started - 1)
        rows = warehouse.fetch_outcomes(conn, latest[0]) if latest else []
    if not latest:
        print(f"newswatch: the DAG run did not finish (exit code {code}); see {log_path}", file=sys.stderr)
        _print_log_tail(log_path)
        return 1
    summary = RunSummary.from_dict(latest[1])
    for row in rows:
        if row["status"] != "error":
            print(
                f"  {row['feed_name']}: {row['status']}, {row['entries_seen']} entries, {row['entries_new'] or 0} new"
            )
    print(summary.text())
    if fulltext and not summary.nothing_loaded and FulltextSettings.from_env().mode != "none":
        texts_started = time.time()
        print("newswatch: running DAG us_china_news_fulltext (article pages)")
        _run([_airflow(), "dags", "test", "us_china_news_fulltext"], env, log_path, check=False)
        with warehouse.connection(connection_to_dsn(uri)) as conn:
            print("  " + reports.fulltext_line(conn, since=texts_started - 1))
    print(f"({time.time() - started:.0f}s)")
    if summary.no_feed_reachable:
        print(
            "newswatch: no feed was reachable — check the network (or run `make demo` to see the "
            "pipeline work offline)",
            file=sys.stderr,
        )
        return 1
    if summary.nothing_loaded:
        print(f"newswatch: no feed could be loaded; see {log_path}", file=sys.stderr)
        return 1
    return 0


def _print_log_tail(path: Path, lines: int = 40) -> None:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return
    interesting = [line for line in text if "ERROR" in line or "Error" in line or "newswatch" in line]
    for line in (interesting or text)[-lines:]:
        print("  | " + line[:300], file=sys.stderr)


# --- airflow standalone: make up / make down ------------------------------------------------

UI_PORT = DEV.ui_port


def standalone_env(home: Path, warehouse: str, metadata_url: str, port: int, extra: dict | None = None) -> dict:
    env = airflow_env(
        warehouse,
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__LAZY_LOAD_PLUGINS": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            **(extra or {}),
        },
    )
    home.mkdir(parents=True, exist_ok=True)
    return env


def start_standalone(env: dict, log_path: Path, paused: Sequence[str] = ()) -> subprocess.Popen:
    """`airflow standalone` in its own process group (so stopping it stops every child); the DAGs
    in `paused` are paused before its scheduler starts, so it never schedules one of them."""
    prepare_airflow(env, log_path)
    if paused:
        pause_dags(env, log_path, paused)
    with open(log_path, "ab") as log_file:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [_airflow(), "standalone"], env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_for_health(base_url: str, timeout: float = 240, proc: subprocess.Popen | None = None) -> dict:
    import requests

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"airflow standalone exited with code {proc.returncode}")
        try:
            health = requests.get(f"{base_url}/api/v2/monitor/health", timeout=5).json()
            last = health
            if all(health.get(part, {}).get("status") == "healthy" for part in ("metadatabase", "scheduler")):
                return health
        except (requests.RequestException, ValueError):
            pass
        time.sleep(2)
    raise RuntimeError(f"Airflow did not become healthy at {base_url} within {timeout:.0f}s (last: {last})")


def admin_password(home: Path) -> str | None:
    path = home / "simple_auth_manager_passwords.json.generated"
    try:
        return json.loads(path.read_text()).get("admin")
    except (OSError, ValueError):
        return None


def api_token(base_url: str, home: Path) -> str:
    import requests

    response = requests.post(
        f"{base_url}/auth/token", json={"username": "admin", "password": admin_password(home)}, timeout=10
    )
    response.raise_for_status()
    return response.json()["access_token"]


def pause_dags(env: dict, log_path: Path, dag_ids: Sequence[str]) -> None:
    """Pause DAGs in Airflow's metadata database directly (no api-server needed): those registered
    by an earlier run keep their flag; new ones are paused at creation only if `env` says so."""
    pattern = "^(" + "|".join(re.escape(d) for d in dag_ids) + ")$"
    _run([_airflow(), "dags", "pause", "--treat-dag-id-as-regex", "--yes", pattern], env, log_path)


def unpause(base_url: str, token: str, dag_ids, timeout: float = 180) -> None:
    """Unpause DAGs once the dag-processor has registered them (a database that existed before
    keeps its paused flags; new DAGs start unpaused anyway)."""
    import requests

    headers = {"Authorization": f"Bearer {token}"}
    pending = list(dag_ids)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for dag_id in list(pending):
            r = requests.patch(
                f"{base_url}/api/v2/dags/{dag_id}", json={"is_paused": False}, headers=headers, timeout=10
            )
            if r.status_code == 200:
                pending.remove(dag_id)
        if pending:
            time.sleep(3)
    if pending:
        raise RuntimeError(f"DAGs not registered after {timeout:.0f}s: {', '.join(pending)} (see the standalone log)")


def live_group_members(pgid: int) -> list[int]:
    """Processes of group `pgid` that are still running: a killed process whose parent has not
    reaped it yet (a zombie) holds no resources and no longer counts."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # it exited meanwhile
            continue
        state, _ppid, pgrp = text.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members.append(int(stat.parent.name))
    return members


def stop_process_group(pid: int, grace: float = 20) -> None:
    """SIGTERM the group, SIGKILL what is still running after `grace` seconds, and return once
    nothing of it runs (zombies left for their parents to reap do not count)."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not live_group_members(pid):
            return
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while live_group_members(pid) and time.monotonic() < deadline:
        time.sleep(0.2)


def _ui_database(demo: bool | None) -> str:
    """The embedded warehouse `make up` shows: the demo's (newswatch_demo) with DEMO=1, or when
    the real one holds no article yet and `make demo` has filled the demo's; else newswatch."""
    if demo or os.environ.get("AIRFLOW_CONN_NEWS_WAREHOUSE"):
        return DEMO_DATABASE if demo else "newswatch"
    from .. import warehouse
    from ..config import connection_to_dsn

    def articles(database: str) -> int:
        try:
            with warehouse.connection(connection_to_dsn(embedded_warehouse(database))) as conn, conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM news.articles")
                return cur.fetchone()[0]
        except Exception:  # noqa: BLE001 - no schema yet: no articles
            return 0

    if articles("newswatch") == 0 and articles(DEMO_DATABASE) > 0:
        print(
            "newswatch: the warehouse `newswatch` is empty and `make demo` filled `newswatch_demo`: "
            "showing the demo's data (make up DEMO=1 does so always)"
        )
        return DEMO_DATABASE
    return "newswatch"


DAG_IDS = ("us_china_news", "us_china_news_daily", "us_china_news_fulltext")


@dataclass(frozen=True)
class UpPlan:
    """What `make up` starts Airflow with: the environment (the warehouse connections the DAGs and
    the analyst's pages use), which database of the embedded PostgreSQL that is, and whether it
    is the demo's snapshot, on which the DAGs stay paused: polling config/feeds.yaml into it would
    mix real articles with the sample feeds' (whose server is gone with `make demo`)."""

    env: dict
    database: str
    embedded: bool
    demo: bool


def plan_up(demo: bool | None) -> UpPlan:
    database = _ui_database(demo)
    uri, embedded = warehouse_uri(database)
    snapshot = embedded and database == DEMO_DATABASE
    extra = {}
    if embedded:  # the pages read through a login that cannot write (another warehouse: set
        # AIRFLOW_CONN_NEWS_WAREHOUSE_READONLY yourself)
        extra["AIRFLOW_CONN_NEWS_WAREHOUSE_READONLY"] = LocalPostgres(STATE_DIR / "pg").reader_uri(database)
    if snapshot:  # a DAG the dag-processor registers only now starts paused too
        extra["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "True"
    env = standalone_env(AIRFLOW_HOME, uri, local_metadata_url(), UI_PORT, extra)
    return UpPlan(env, database, embedded, snapshot)


def up(demo: bool | None = None) -> int:
    """Airflow standalone with the DAGs unpaused (paused on the demo's snapshot), the pool and
    warehouse connection set; returns once the UI answers."""
    pid_file = AIRFLOW_HOME / "standalone.pid"
    if pid_file.exists():
        try:
            os.killpg(int(pid_file.read_text()), 0)
            print(f"newswatch: Airflow is already running (pid {pid_file.read_text().strip()}); `make down` stops it")
            return 0
        except (ProcessLookupError, ValueError):
            pid_file.unlink()
    try:
        load_feeds()
    except ConfigError as exc:
        print(f"newswatch: {exc}", file=sys.stderr)
        return 2
    plan = plan_up(demo)
    logs = STATE_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / "standalone.log"
    base = f"http://localhost:{UI_PORT}"
    print(
        f"newswatch: starting airflow standalone (log: {log_path}); warehouse: "
        + (
            f"database {plan.database} of the embedded PostgreSQL in .newswatch/pg"
            if plan.embedded
            else "AIRFLOW_CONN_NEWS_WAREHOUSE"
        )
    )
    proc = start_standalone(plan.env, log_path, paused=DAG_IDS if plan.demo else ())
    pid_file.write_text(f"{proc.pid}\n")
    try:
        wait_for_health(base, proc=proc)
        if not plan.demo:
            unpause(base, api_token(base, AIRFLOW_HOME), DAG_IDS)
    except RuntimeError as exc:
        print(f"newswatch: {exc}", file=sys.stderr)
        _print_log_tail(log_path)
        stop_process_group(proc.pid)
        pid_file.unlink(missing_ok=True)
        return 1
    passwords = AIRFLOW_HOME / "simple_auth_manager_passwords.json.generated"
    print(f"""
Airflow is up: {base}
  login:    admin / {admin_password(AIRFLOW_HOME)}   (from {passwords})
  coverage: {base}/newswatch/coverage   (also under Browse > US–China coverage)
  {_dags_line(plan)}; `make down` stops everything.""")
    return 0


def _dags_line(plan: UpPlan) -> str:
    if plan.demo:
        return (
            f"DAGs paused: {plan.database} is the demo's snapshot, and polls of config/feeds.yaml would mix "
            "real articles into it (`make run` fills the warehouse newswatch, which `make up` then shows)"
        )
    return "DAGs us_china_news (hourly), us_china_news_daily and us_china_news_fulltext are unpaused"


def down() -> int:
    pid_file = AIRFLOW_HOME / "standalone.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        stop_process_group(pid)
        pid_file.unlink(missing_ok=True)
        print(f"newswatch: stopped airflow standalone (process group {pid})")
    else:
        print("newswatch: airflow standalone was not running")
    LocalPostgres(STATE_DIR / "pg").stop()
    print("newswatch: stopped the embedded PostgreSQL")
    return 0


# --- demo -----------------------------------------------------------------------------------

DEMO_QUERIES = [
    (
        "Relevant articles by topic",
        "SELECT topic, count(*) AS articles FROM news.us_china_articles, unnest(topics) AS topic "
        "GROUP BY topic ORDER BY articles DESC, topic",
    ),
    (
        "Which outlets carried the AP story about Blinken's trip",
        "SELECT outlet, to_char(first_seen_at, 'YYYY-MM-DD HH24:MI') AS first_seen, articles "
        "FROM news.story_reach WHERE story_id = (SELECT story_id FROM news.articles "
        "WHERE canonical_url LIKE 'https://apnews.com/article/blinken-%' LIMIT 1) ORDER BY first_seen_at",
    ),
    (
        "Full text: relevant articles whose body mentions rare earths",
        "SELECT outlet, text_status, left(title, 60) AS title FROM news.us_china_articles_text "
        "WHERE search @@ websearch_to_tsquery('english', 'rare earth') ORDER BY published_at DESC LIMIT 5",
    ),
    (
        "Full text: what the relevant articles' pages gave",
        "SELECT coalesce(text_status, 'not fetched') AS text_status, count(*) AS articles "
        "FROM news.us_china_articles_text GROUP BY 1 ORDER BY articles DESC, 1",
    ),
    (
        "Full text: the opening of the bodies fetched for the Blinken story",
        "SELECT outlet, word_count AS words, left(regexp_replace(body, '\\s+', ' ', 'g'), 160) AS body "
        "FROM news.us_china_articles_text WHERE text_status = 'ok' AND story_id = (SELECT story_id "
        "FROM news.articles WHERE canonical_url LIKE 'https://apnews.com/article/blinken-%' LIMIT 1) "
        "ORDER BY outlet",
    ),
    (
        "Newest relevant headlines",
        "SELECT to_char(published_at, 'MM-DD HH24:MI') AS published, outlet, left(title, 70) AS title "
        "FROM news.us_china_articles LIMIT 8",
    ),
]


def demo() -> int:
    """The polling DAG on the bundled sample feeds, then the full-text step on the bundled article
    pages, all served from a local HTTP server, then a few example queries."""
    from .feedserver import FeedServer

    server = FeedServer().start()
    try:
        server.add_directory(DEMO_DIR / "feeds")
        serve_demo_pages(server)
        template = (DEMO_DIR / "feeds.yaml").read_text(encoding="utf-8")
        demo_dir = STATE_DIR / "demo"
        demo_dir.mkdir(parents=True, exist_ok=True)
        feeds_path = demo_dir / "feeds.yaml"
        feeds_path.write_text(template.replace("{base}", server.base_url), encoding="utf-8")
        print(f"newswatch demo: serving {DEMO_DIR / 'feeds'} and {DEMO_DIR / 'pages'} at {server.base_url}")
        code = run_dag(
            {"force": True},
            feeds_path=str(feeds_path),
            extra_env={"NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "true"},
            database=DEMO_DATABASE,
            label="demo",
            fulltext=False,
        )
        if code == 0:
            print("  " + demo_fulltext(server.base_url))
    finally:
        server.stop()
    if code != 0:
        return code
    uri, _ = warehouse_uri(DEMO_DATABASE)
    print_queries(uri, DEMO_QUERIES)
    return 0


# The demo's robots.txt keeps one article page off limits, so the demo shows that status too.
DEMO_ROBOTS = b"User-agent: *\nDisallow: /pages/pbs.org/newshour/show/\n"
_SUFFIX_RE = re.compile(r"\.[A-Za-z0-9]{1,8}$")


def demo_page_path(url: str) -> str:
    """Where the demo serves an article's page (demo/pages/README.md has the rule)."""
    from ..urls import canonicalize_url

    parts = urlsplit(canonicalize_url(url))
    path = parts.path or "/"
    if path.endswith("/"):
        path += "index.html"
    elif not _SUFFIX_RE.search(path.rsplit("/", 1)[-1]):
        path += ".html"
    return f"/pages/{parts.hostname}{path}"


def serve_demo_pages(server) -> None:
    pages = DEMO_DIR / "pages"
    for file in sorted(pages.rglob("*")):
        if file.is_file() and file.name != "README.md":
            # no charset in the header: the GB18030 pages declare theirs in <meta>
            server.add_document("/pages/" + file.relative_to(pages).as_posix(), file.read_bytes(), "text/html")
    server.add_document("/robots.txt", DEMO_ROBOTS, "text/plain")


def demo_fulltext(base_url: str) -> str:
    """The full-text step on the demo warehouse, each article's page fetched from the local
    server (`rewrite`), since the demo's articles carry their outlets' real addresses."""
    from dataclasses import replace

    from ..config import Settings, connection_to_dsn
    from ..pipeline import fulltext

    uri, _ = warehouse_uri(DEMO_DATABASE)
    settings = Settings.from_env()
    settings = replace(
        settings,
        warehouse_dsn=connection_to_dsn(uri),
        fetch=replace(settings.fetch, allow_private_networks=True),
        fulltext=replace(settings.fulltext, days=3650),
    )
    report = fulltext(settings, rewrite=lambda url: base_url + demo_page_path(url))
    return report["line"]


def print_queries(uri: str, queries) -> None:
    from .. import warehouse
    from ..config import connection_to_dsn

    with warehouse.connection(connection_to_dsn(uri)) as conn:
        for title, sql in queries:
            with conn.cursor() as cur:
                cur.execute(sql)
                rows = cur.fetchall()
                names = [d[0] for d in cur.description]
            print(f"\n-- {title}\n{sql}")
            print(format_table(names, rows))
