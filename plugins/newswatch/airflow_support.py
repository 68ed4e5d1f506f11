"""What the DAG files need from Airflow and nothing else: the warehouse connection, feed
grouping for mapped tasks, and turning pipeline outcomes into task states.

Kept apart from pipeline.py so the pipeline imports without Airflow installed.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace

from .config import Settings, conn_fields_to_dsn
from .errors import ConfigError

log = logging.getLogger("newswatch")

WAREHOUSE_CONN_ID = "news_warehouse"
# the analysts' read-only login (role newswatch_reader), used by the pages in the UI when defined
READER_CONN_ID = "news_warehouse_readonly"
FETCH_POOL = "newswatch_fetch"
FULLTEXT_POOL = "newswatch_fulltext"


def reader_dsn() -> str:
    """The read-only login for the UI's pages when it is configured, else the pipeline's own
    (the pages then still open their transactions read-only)."""
    try:
        return warehouse_dsn(conn_id=READER_CONN_ID)
    except ConfigError:
        return warehouse_dsn()


def warehouse_dsn(fallback: str | None = None, conn_id: str = WAREHOUSE_CONN_ID) -> str:
    """The warehouse from an Airflow connection (`news_warehouse`), wherever Airflow keeps it
    (an AIRFLOW_CONN_ env var, the metadata database, a secrets backend)."""
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - Airflow raises its own not-found error types across versions
        if fallback:
            return fallback
        raise ConfigError(
            f"Airflow connection {conn_id!r} is not defined: set AIRFLOW_CONN_{conn_id.upper()} "
            f"or add it in Admin > Connections ({exc})"
        ) from None
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    return conn_fields_to_dsn(
        host=conn.host, port=conn.port, user=conn.login, password=conn.password, dbname=conn.schema, extra=extra
    )


def task_settings() -> Settings:
    """Settings from the environment, with the warehouse from the Airflow connection."""
    settings = Settings.from_env()
    return replace(settings, warehouse_dsn=warehouse_dsn(settings.warehouse_dsn))


class ExpectedFailure(SystemExit):
    """A task outcome that is the world's doing, not a bug: every feed of a poll task failed on
    its own side (each already logged in one line with its class and reason), or no feed at all
    was reachable. Raised as SystemExit so the task runner logs it in one line with no
    traceback, and failed at once by NO_RETRY_ON_EXPECTED: the feeds are backed off instead."""


def expected_failure_policy():
    """The retry policy of the tasks that raise ExpectedFailure: it fails them without retrying;
    anything else (the warehouse unreachable, a bug) keeps the task's normal retries."""
    from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

    return ExceptionRetryPolicy(
        rules=[
            RetryRule(
                exception=f"{ExpectedFailure.__module__}.{ExpectedFailure.__qualname__}",
                action=RetryAction.FAIL,
                reason="the feeds failed on their own side: they are backed off, not retried now",
            )
        ]
    )


@contextlib.contextmanager
def fail_fast_on_config_errors():
    """A configuration mistake (bad feeds file, bad setting, missing connection) will not fix
    itself on a retry: fail the task at once with the message that says what to fix."""
    try:
        yield
    except ConfigError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc


def group_feeds(names: list[str], max_tasks: int) -> list[list[str]]:
    """Split feed names into at most `max_tasks` (NEWSWATCH_MAX_FETCH_TASKS) groups of
    near-equal size, order kept."""
    if not names:
        return []
    groups = min(len(names), max(1, max_tasks))
    size, extra = divmod(len(names), groups)
    out, start = [], 0
    for i in range(groups):
        end = start + size + (1 if i < extra else 0)
        out.append(names[start:end])
        start = end
    return out


def group_label(feeds: list[str]) -> str:
    if len(feeds) == 1:
        return feeds[0]
    return f"{feeds[0]} (+{len(feeds) - 1} more)"
