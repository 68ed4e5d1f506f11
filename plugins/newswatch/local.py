"""The laptop setup behind `make run`, `make demo`, `make up` and `make down`.

- The warehouse is AIRFLOW_CONN_NEWS_WAREHOUSE when set, else an embedded PostgreSQL kept in
  `.newswatch/pg` (so a second run sees the first run's data).
- Airflow runs with a project-local AIRFLOW_HOME (`.newswatch/airflow`), SQLite metadata, this
  project's dags/ and plugins/, no examples.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from .config import PROJECT_ROOT, ConfigError, load_feeds
from .localpg import LocalPostgres

STATE_DIR = Path(os.environ.get("NEWSWATCH_STATE_DIR") or PROJECT_ROOT / ".newswatch")
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


def airflow_env(warehouse: str, extra: dict | None = None) -> dict:
    home = STATE_DIR / "airflow"
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
    _run([_airflow(), "pools", "set", "newswatch_fetch", str(pool_slots),
          "Concurrent feed fetches (newswatch)"], env, log_path)


def run_dag(conf: dict, *, feeds_path: str | None = None, extra_env: dict | None = None,
            database: str = "newswatch", label: str = "run") -> int:
    """`airflow dags test us_china_news` with the local setup; prints the summary."""
    from . import warehouse
    from .pipeline import RunSummary

    feeds_file = feeds_path or os.environ.get("NEWSWATCH_FEEDS") or "config/feeds.yaml"
    try:
        feeds = load_feeds(feeds_file)
    except ConfigError as exc:
        print(f"newswatch: {exc}", file=sys.stderr)
        return 2
    uri, embedded = warehouse_uri(database)
    where = "embedded PostgreSQL in .newswatch/pg" if embedded else "the warehouse in AIRFLOW_CONN_NEWS_WAREHOUSE"
    env = airflow_env(uri, {"NEWSWATCH_FEEDS": str(Path(feeds_file).resolve()), **(extra_env or {})})
    logs = STATE_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{label}-{time.strftime('%Y%m%dT%H%M%S')}.log"
    print(f"newswatch: {len(feeds)} feeds, warehouse: {where}")
    print(f"newswatch: running DAG us_china_news through Airflow (airflow dags test); full log: {log_path}")
    prepare_airflow(env, log_path)
    started = time.time()
    code = _run([_airflow(), "dags", "test", "us_china_news", "--conf", json.dumps(conf)], env, log_path,
                check=False)
    from .config import connection_to_dsn

    conn = warehouse.connect(connection_to_dsn(uri))
    try:
        latest = warehouse.latest_run(conn, since=started - 1)
        rows = warehouse.fetch_outcomes(conn, latest[0]) if latest else []
    finally:
        conn.close()
    if not latest:
        print(f"newswatch: the DAG run did not finish (exit code {code}); see {log_path}", file=sys.stderr)
        _print_log_tail(log_path)
        return 1
    summary = RunSummary.from_dict(latest[1])
    for row in rows:
        if row["status"] != "error":
            print(f"  {row['feed_name']}: {row['status']}, {row['entries_seen']} entries, "
                  f"{row['entries_new'] or 0} new")
    print(summary.text())
    print(f"({time.time() - started:.0f}s)")
    if summary.no_feed_reachable:
        print("newswatch: no feed was reachable — check the network (or run `make demo` to see the "
              "pipeline work offline)", file=sys.stderr)
        return 1
    return 0


def _print_log_tail(path: Path, lines: int = 40) -> None:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return
    interesting = [l for l in text if "ERROR" in l or "Error" in l or "newswatch" in l]
    for line in (interesting or text)[-lines:]:
        print("  | " + line[:300], file=sys.stderr)


# --- demo -----------------------------------------------------------------------------------

DEMO_QUERIES = [
    ("Relevant articles by topic",
     "SELECT topic, count(*) AS articles FROM news.us_china_articles, unnest(topics) AS topic "
     "GROUP BY topic ORDER BY articles DESC, topic"),
    ("Which outlets carried the AP story about Blinken's trip",
     "SELECT outlet, to_char(first_seen_at, 'YYYY-MM-DD HH24:MI') AS first_seen, articles "
     "FROM news.story_reach WHERE story_id = (SELECT story_id FROM news.articles "
     "WHERE canonical_url LIKE 'https://apnews.com/article/blinken-%' LIMIT 1) ORDER BY first_seen_at"),
    ("Newest relevant headlines",
     "SELECT to_char(published_at, 'MM-DD HH24:MI') AS published, outlet, left(title, 70) AS title "
     "FROM news.us_china_articles LIMIT 8"),
]


def demo() -> int:
    from .feedserver import FeedServer

    server = FeedServer().start()
    try:
        server.add_directory(DEMO_DIR / "feeds")
        template = (DEMO_DIR / "feeds.yaml").read_text(encoding="utf-8")
        demo_dir = STATE_DIR / "demo"
        demo_dir.mkdir(parents=True, exist_ok=True)
        feeds_path = demo_dir / "feeds.yaml"
        feeds_path.write_text(template.replace("{base}", server.base_url), encoding="utf-8")
        print(f"newswatch demo: serving {DEMO_DIR / 'feeds'} at {server.base_url}")
        code = run_dag({"force": True}, feeds_path=str(feeds_path),
                       extra_env={"NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "true"},
                       database="newswatch_demo", label="demo")
    finally:
        server.stop()
    if code != 0:
        return code
    uri, _ = warehouse_uri("newswatch_demo")
    print_queries(uri, DEMO_QUERIES)
    return 0


def print_queries(uri: str, queries) -> None:
    from . import warehouse
    from .config import connection_to_dsn

    conn = warehouse.connect(connection_to_dsn(uri))
    try:
        for title, sql in queries:
            with conn.cursor() as cur:
                cur.execute(sql)
                rows = cur.fetchall()
                names = [d[0] for d in cur.description]
            print(f"\n-- {title}\n{sql}")
            print(format_table(names, rows))
    finally:
        conn.close()


def format_table(names, rows) -> str:
    cells = [[str(v) if v is not None else "" for v in row] for row in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    line = "  ".join(n.ljust(w) for n, w in zip(names, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
