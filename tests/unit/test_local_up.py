"""`make up` (newswatch.dev.local.up) with Airflow and PostgreSQL replaced by recorders: on the
demo's snapshot (newswatch_demo) the DAGs are paused before the scheduler starts and never
unpaused, so no poll of config/feeds.yaml lands among the demo's articles; on the real warehouse
they are unpaused as before."""

import re

import pytest

from newswatch.dev import local


class FakePostgres:
    def __init__(self, root):
        self.root = root

    def reader_uri(self, database):
        return f"postgresql://newswatch_analyst:pw@127.0.0.1:54329/{database}"


class FakeProcess:
    pid = 424242


@pytest.fixture
def airflow(monkeypatch, tmp_path):
    """Records the Airflow commands `up` runs and the process it starts, in order."""
    events = []
    monkeypatch.setattr(local, "STATE_DIR", tmp_path)
    monkeypatch.setattr(local, "AIRFLOW_HOME", tmp_path / "airflow")
    monkeypatch.setattr(local, "LocalPostgres", FakePostgres)
    monkeypatch.setattr(local, "warehouse_uri", lambda db: (f"postgresql://postgres:pw@127.0.0.1:54329/{db}", True))
    monkeypatch.setattr(
        local, "local_metadata_url", lambda: "postgresql+psycopg2://postgres:pw@127.0.0.1:54329/airflow"
    )
    monkeypatch.setattr(local, "_run", lambda cmd, env, log_path=None, check=True: events.append(("run", cmd[1:])))

    def popen(cmd, env, **kw):
        events.append(("start", cmd[1:], env))
        return FakeProcess()

    monkeypatch.setattr(local.subprocess, "Popen", popen)
    monkeypatch.setattr(local, "wait_for_health", lambda base, proc=None: {})
    monkeypatch.setattr(local, "api_token", lambda base, home: "token")
    monkeypatch.setattr(local, "admin_password", lambda home: "secret")
    monkeypatch.setattr(local, "unpause", lambda base, token, dag_ids: events.append(("unpause", list(dag_ids))))

    def up(database):
        monkeypatch.setattr(local, "_ui_database", lambda demo: database)
        assert local.up() == 0
        return events

    return up


def test_up_on_the_demos_warehouse_pauses_every_dag_before_the_scheduler_starts(airflow, capsys):
    events = airflow("newswatch_demo")
    kinds = [e[0] for e in events]
    assert "unpause" not in kinds
    pause = next(e[1] for e in events if e[1][:2] == ["dags", "pause"])
    assert kinds.index("start") > events.index(("run", pause))  # paused before the scheduler runs
    pattern = pause[-1]
    assert "--treat-dag-id-as-regex" in pause and "--yes" in pause  # a regex would ask on stdin otherwise
    assert all(re.search(pattern, dag) for dag in local.DAG_IDS)
    assert not re.search(pattern, "us_china_news_backfill")
    env = events[kinds.index("start")][2]
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "True"  # one registered later too
    assert env["AIRFLOW_CONN_NEWS_WAREHOUSE"].endswith("/newswatch_demo")
    assert env["AIRFLOW_CONN_NEWS_WAREHOUSE_READONLY"].endswith("/newswatch_demo")
    assert "DAGs paused: newswatch_demo is the demo's snapshot" in capsys.readouterr().out


def test_up_on_the_real_warehouse_unpauses_the_dags(airflow, capsys):
    events = airflow("newswatch")
    assert not any(e[1][:2] == ["dags", "pause"] for e in events if e[0] == "run")
    start = next(e for e in events if e[0] == "start")
    assert start[2]["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "False"
    assert events[-1] == ("unpause", list(local.DAG_IDS))
    assert "are unpaused" in capsys.readouterr().out
