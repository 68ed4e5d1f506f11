"""The multi-machine path on one machine: us_china_news under CeleryExecutor with Redis as the
broker, PostgreSQL as Airflow's metadata database, and the scheduler, dag-processor, api-server
and a Celery worker as separate processes. Run by `make test-celery` (slow)."""

import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg2
import pytest

from newswatch.dev import local
from tests.conftest import sqlalchemy_url
from tests.e2e.test_standalone_ui import _free_port
from tests.helpers import trigger_and_wait

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "celery"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))

pytestmark = pytest.mark.slow


def _redis_up(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_url():
    """The machine's Redis if one answers on 6379, else one we start (redis-server must exist)."""
    db = 1 + uuid.uuid4().int % 15
    if _redis_up(6379):
        yield f"redis://127.0.0.1:6379/{db}"
        return
    binary = shutil.which("redis-server")
    if not binary:
        pytest.fail("no Redis on 127.0.0.1:6379 and no redis-server to start (apt-get install redis-server)")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _redis_up(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    yield f"redis://127.0.0.1:{port}/{db}"
    proc.terminate()
    proc.wait(10)


def test_dag_runs_on_a_celery_worker(tmp_path, dsn, make_database, redis_url, feed_server):
    metadata_url = sqlalchemy_url(make_database("nw_celery"), "postgresql+psycopg2")
    feed_server.add_directory(ROOT / "demo" / "feeds")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text((ROOT / "demo" / "feeds.yaml").read_text().replace("{base}", feed_server.base_url))
    port = _free_port()
    base = f"http://localhost:{port}"
    home = tmp_path / "airflow"
    result_backend = "db+" + metadata_url.replace("postgresql+psycopg2://", "postgresql://", 1)
    env = local.standalone_env(
        home,
        sqlalchemy_url(dsn),
        metadata_url,
        port,
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": redis_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "NEWSWATCH_FEEDS": str(feeds),
            "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "true",
            "NEWSWATCH_POLL_SCHEDULE": "none",
        },
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    local.prepare_airflow(env, ARTIFACTS / "setup.log")
    commands = {
        "api-server": [AIRFLOW, "api-server", "--port", str(port)],
        "scheduler": [AIRFLOW, "scheduler"],
        "dag-processor": [AIRFLOW, "dag-processor"],
        "celery-worker": [AIRFLOW, "celery", "worker", "--concurrency", "4"],
    }
    procs = {}
    try:
        for name, cmd in commands.items():
            with open(ARTIFACTS / f"{name}.log", "wb") as log:  # the child keeps its own copy
                procs[name] = subprocess.Popen(
                    cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
        local.wait_for_health(base, timeout=240)
        token = local.api_token(base, home)
        local.unpause(base, token, ["us_china_news"])

        def processes_alive():
            for name, proc in procs.items():
                assert proc.poll() is None, f"{name} exited early (see artifacts/celery/{name}.log)"

        run_id, state, tis = trigger_and_wait(
            base, token, "us_china_news", conf={"force": True}, timeout=360, check_alive=processes_alive
        )
        assert state == "success"
        assert {ti["state"] for ti in tis} == {"success"} and len([t for t in tis if t["task_id"] == "poll"]) == 8
    finally:
        for proc in procs.values():
            local.stop_process_group(proc.pid)
            proc.wait(30)

    # the tasks went through the broker to the worker process
    worker_log = (ARTIFACTS / "celery-worker.log").read_text(errors="replace")
    assert worker_log.count("received") >= 12, "the Celery worker did not receive the tasks"
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM news.articles")
        articles = cur.fetchone()[0]
        cur.execute(
            "SELECT count(DISTINCT feed_name) FROM news.fetch_log WHERE run_id = %s AND status = 'ok'", (run_id,)
        )
        feeds_ok = cur.fetchone()[0]
    conn.close()
    assert articles > 70 and feeds_ok == 8
