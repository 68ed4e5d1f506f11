"""The warehouse merge, run in a process of its own that can be SIGKILLed at any statement.

tests/chaos/test_merge_killed.py starts it as

    python -c "from tests.chaos.killable_merge import main; main()" DSN STEPS_FILE [KILL_BEFORE]

with PYTHONPATH holding plugins/ and the project root. It runs `warehouse.merge_pending` on its
own connection and, without touching production code, wraps what the merge talks to the
database through: `NamedTupleCursor.execute` and `.copy_expert` (the merge's cursor class) and
the connection's `commit` (the `with conn:` block that ends each batch calls it). Every
statement is a numbered step, written to STEPS_FILE as a JSON line *before* it runs, so the
parent can see exactly how far the merge got even after a SIGKILL.

- Without KILL_BEFORE the merge runs to the end (the "record" run): STEPS_FILE then holds the
  whole sequence and a last line with the merge's result.
- With KILL_BEFORE=k the process kills itself with SIGKILL right before step k. "Right after
  step k" is the same moment as "right before step k + 1" (nothing reaches the server in
  between), and "after the last step" is covered by the trailing COMMIT of the empty loop
  iteration that ends every merge.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from dataclasses import asdict

import psycopg2
import psycopg2.extensions
import psycopg2.extras

_VERB_RE = re.compile(r"\b(SELECT|INSERT INTO|UPDATE|COPY|CREATE TEMP TABLE IF NOT EXISTS|ANALYZE)\s+", re.IGNORECASE)
_SEQUENCE_RE = re.compile(r"pg_get_serial_sequence\('([\w.]+)'")
_FROM_RE = re.compile(r"\bFROM\s+([\w.]+)", re.IGNORECASE)


def statement_label(sql: str) -> str:
    """A short, stable name for a statement: its verb and what it works on
    ('COPY news.articles', 'SELECT news.article_aliases', 'SELECT nextval news.stories')."""
    text = " ".join(sql.split())
    if "pg_advisory_xact_lock" in text:
        return "SELECT pg_advisory_xact_lock"
    if text.upper().startswith("SELECT NOW()"):
        return "SELECT now()"
    sequence = _SEQUENCE_RE.search(text)
    if sequence:
        return f"SELECT nextval {sequence.group(1)}"
    # a data-modifying CTE (WITH x AS (UPDATE ...)) is named after the statement it wraps
    verb = _VERB_RE.search(text)
    if verb is None:
        return text[:40]
    word = verb.group(1).upper()
    rest = text[verb.end() :]
    if word == "SELECT":
        source = _FROM_RE.search(rest)
        return f"SELECT {source.group(1) if source else rest.split()[0]}"
    short = {"INSERT INTO": "INSERT", "CREATE TEMP TABLE IF NOT EXISTS": "CREATE TEMP"}.get(word, word)
    return f"{short} {rest.split()[0].strip('(')}"


class StepLog:
    """Numbers the statements as they are issued, writes each one down first, and kills the
    process before the chosen one."""

    def __init__(self, path: str, kill_before: int | None):
        # open for the life of the process, which usually ends in a SIGKILL
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
        self.kill_before = kill_before
        self.count = 0

    def write(self, record: dict) -> None:
        # flushed to the kernel at once: a SIGKILL loses the process, not its written lines
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()

    def step(self, label: str, sql: str) -> None:
        index, self.count = self.count, self.count + 1
        if index == self.kill_before:
            self.write({"killed_before": index, "label": label})
            os.kill(os.getpid(), signal.SIGKILL)
        self.write({"step": index, "label": label, "sql": " ".join(sql.split())[:160]})


def install(steps: StepLog) -> type[psycopg2.extensions.connection]:
    """Wrap the merge's cursor class in place; return a connection class whose commits are
    steps too."""
    cursor_class = psycopg2.extras.NamedTupleCursor
    real_execute, real_copy_expert = cursor_class.execute, cursor_class.copy_expert

    def execute(self, query, vars=None):
        sql = query if isinstance(query, str) else query.decode()
        steps.step(statement_label(sql), sql)
        return real_execute(self, query, vars)

    def copy_expert(self, sql, file, size=8192):
        steps.step(statement_label(sql), sql)
        return real_copy_expert(self, sql, file, size)

    cursor_class.execute = execute
    cursor_class.copy_expert = copy_expert

    class StepConnection(psycopg2.extensions.connection):
        def commit(self):
            steps.step("COMMIT", "COMMIT")
            return super().commit()

    return StepConnection


def main() -> None:
    dsn, steps_path = sys.argv[1], sys.argv[2]
    kill_before = int(sys.argv[3]) if len(sys.argv) > 3 else None
    steps = StepLog(steps_path, kill_before)
    connection_class = install(steps)

    from newswatch import warehouse

    conn = psycopg2.connect(dsn, connection_factory=connection_class)
    try:
        result = warehouse.merge_pending(conn)
    finally:
        conn.close()
    steps.write({"finished": asdict(result)})


if __name__ == "__main__":
    main()
