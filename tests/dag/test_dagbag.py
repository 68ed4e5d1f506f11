"""DAG files import cleanly, follow the house rules, and do no I/O at import time."""

import socket
import types
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "us_china_news" in dagbag.dag_ids


@pytest.mark.parametrize("attr", ["tags", "doc_md"])
def test_every_dag_is_documented_and_tagged(dagbag, attr):
    for dag_id, dag in dagbag.dags.items():
        assert getattr(dag, attr), f"{dag_id} has no {attr}"


def test_every_task_has_an_owner_and_retries(dagbag):
    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} owner"
            assert task.retries >= 1 or task.task_id in {"publish"}, f"{dag_id}.{task.task_id} retries"


def test_polling_dag_shape(dagbag):
    dag = dagbag.dags["us_china_news"]
    assert dag.max_active_runs == 1 and dag.catchup is False
    poll = dag.get_task("poll")
    assert poll.pool == "newswatch_fetch" and "feed_label" in poll.map_index_template
    assert dag.get_task("merge").trigger_rule == "all_done"
    assert {o.name for o in dag.get_task("publish").outlets} == {"news_articles"}
    assert set(dag.params) >= {"force", "feeds"}


def names_used(code: types.CodeType) -> set[str]:
    """Globals, attributes and imports a function's code refers to, its nested functions' included."""
    nested = (names_used(const) for const in code.co_consts if isinstance(const, types.CodeType))
    return set(code.co_names).union(*nested)


def test_fulltext_dag_runs_on_the_articles_the_polling_dag_publishes_in_its_own_pool(dagbag):
    dag = dagbag.dags["us_china_news_fulltext"]
    published = dagbag.dags["us_china_news"].get_task("publish").outlets
    assert [(a.name, a.uri) for a in dag.schedule] == [(a.name, a.uri) for a in published]
    assert [a.name for a in dag.schedule] == ["news_articles"]
    assert dag.max_active_runs == 1 and dag.catchup is False
    fetch = dag.get_task("fetch_texts")
    assert "fulltext" in names_used(fetch.python_callable.__code__)  # what the next test looks for
    assert {task.pool for task in dag.tasks} == {"newswatch_fulltext"}


def test_the_polling_dag_does_no_full_text_so_a_page_cannot_fail_it(dagbag):
    """Full text is its own DAG, triggered by the asset: no polling task fetches pages, in the
    full-text pool or by calling the step (or run_once, which includes it)."""
    for task in dagbag.dags["us_china_news"].tasks:
        assert task.pool != "newswatch_fulltext", task.task_id
        used = names_used(task.python_callable.__code__)
        assert not {name for name in used if "fulltext" in name or name == "run_once"}, task.task_id


def test_dag_files_do_no_io_at_import(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    def refuse(*args, **kwargs):
        raise AssertionError("network or database access while importing a DAG file")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr("psycopg2.connect", refuse)
    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {} and bag.dag_ids


@pytest.mark.parametrize(
    "variable, value, expected",
    [
        ("NEWSWATCH_POLL_SCHEDULE", "every hour", "NEWSWATCH_POLL_SCHEDULE='every hour'"),
        ("NEWSWATCH_DAILY_DELAY_HOURS", "six", "NEWSWATCH_DAILY_DELAY_HOURS='six'"),
    ],
)
def test_a_bad_setting_is_an_import_error_naming_the_variable(monkeypatch, variable, value, expected):
    import importlib

    from airflow.dag_processing.dagbag import DagBag

    import newswatch.airflow_support

    monkeypatch.setenv(variable, value)
    try:
        importlib.reload(newswatch.airflow_support)
        bag = DagBag(dag_folder=str(DAGS))
        assert any(expected in err for err in bag.import_errors.values()), bag.import_errors
    finally:
        monkeypatch.delenv(variable)
        importlib.reload(newswatch.airflow_support)


def test_the_schedule_can_be_changed_or_turned_off(monkeypatch):
    from newswatch.config import AirflowSettings

    monkeypatch.setenv("NEWSWATCH_POLL_SCHEDULE", "*/30 * * * *")
    assert AirflowSettings.from_env().poll_schedule == "*/30 * * * *"
    monkeypatch.setenv("NEWSWATCH_POLL_SCHEDULE", "none")
    assert AirflowSettings.from_env().poll_schedule is None


def test_a_bad_group_limit_fails_with_its_name(monkeypatch):
    from newswatch.airflow_support import group_feeds
    from newswatch.config import AirflowSettings
    from newswatch.errors import ConfigError

    assert group_feeds(["a", "b", "c"], max_tasks=2) == [["a", "b"], ["c"]]
    monkeypatch.setenv("NEWSWATCH_MAX_FETCH_TASKS", "0")
    with pytest.raises(ConfigError, match="NEWSWATCH_MAX_FETCH_TASKS"):
        AirflowSettings.from_env()


def test_the_daily_dag_has_a_task_for_every_quality_check(dagbag):
    from newswatch.daily import CHECKS

    tasks = {t.task_id for t in dagbag.dags["us_china_news_daily"].tasks}
    assert {f"check_{name}" for name in CHECKS} <= tasks
