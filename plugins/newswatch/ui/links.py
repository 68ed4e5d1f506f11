"""Where the pages link to, as relative URLs.

Every link is relative to the page it is on, so the pages work wherever the api-server mounts
them (`/newswatch` behind any prefix) and inside the Airflow UI's iframe. A page knows how deep it
is below the app's root (`coverage` is at depth 0, `stories/12` at depth 1); the Airflow UI is
one level above the app (`/newswatch/..`).

Links into the Airflow UI (a DAG run, a task's log) are operations detail: they are made only
for users who see operations (access.py), and open in the top window, not inside the iframe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlencode

POLLING_DAG = "us_china_news"
DAILY_DAG = "us_china_news_daily"


@dataclass(frozen=True)
class Links:
    depth: int = 0  # how many path segments below the app's root the page is
    ops: bool = False  # may the reader follow links into runs and task logs?
    dag_id: str = POLLING_DAG

    @property
    def root(self) -> str:
        return "../" * self.depth

    def app(self, path: str, params: dict | None = None) -> str:
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        return self.root + path + ("?" + urlencode(query) if query else "")

    def coverage(self, anchor: str = "") -> str:
        return self.app("coverage") + (f"#{anchor}" if anchor else "")

    def story(self, story_id: int) -> str:
        return self.app(f"stories/{int(story_id)}")

    def articles(self, **params) -> str:
        return self.app("articles", params)

    def digest(self, day: date | None = None) -> str:
        return self.app(f"digests/{day:%Y-%m-%d}" if day else "digests")

    def quality(self) -> str:
        return self.app("quality")

    # --- into the Airflow UI (its React routes: dags/:dagId/runs/:runId/tasks/:taskId and
    # .../tasks/:taskId/mapped/:mapIndex, whose first tab is the log) ----------------------

    def airflow(self, path: str) -> str:
        return self.root + "../" + path

    def dag(self, dag_id: str | None = None) -> str | None:
        return self.airflow(f"dags/{quote(dag_id or self.dag_id, safe='')}") if self.ops else None

    def dag_run(self, run_id: str | None, trigger: str | None = "airflow", dag_id: str | None = None) -> str | None:
        """The DAG run's page, for a run Airflow made (not `newswatch run`'s cli__ runs)."""
        if not self.ops or not run_id or trigger != "airflow" or run_id.startswith("cli__"):
            return None
        return self.airflow(f"dags/{quote(dag_id or self.dag_id, safe='')}/runs/{quote(run_id, safe='')}")

    def task_log(self, run_id: str | None, airflow_task: str | None, dag_id: str | None = None) -> str | None:
        """The log of the task instance that made a fetch: `airflow_task` is "poll:<map index>"
        (news.fetch_log.airflow_task) or a plain task id; None when the fetch ran outside Airflow."""
        if not self.ops or not run_id or not airflow_task:
            return None
        task_id, _, map_index = airflow_task.partition(":")
        run = self.airflow(
            f"dags/{quote(dag_id or self.dag_id, safe='')}/runs/{quote(run_id, safe='')}"
            f"/tasks/{quote(task_id, safe='')}"
        )
        if map_index and map_index.lstrip("-").isdigit() and int(map_index) >= 0:
            return f"{run}/mapped/{int(map_index)}"
        return run
