"""Numbered, forward-only migrations (sql/migrations) and the analyst views (sql/views)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from ..config import sql_dir_from_env
from ..errors import MigrationError
from .db import LOCK_NAMESPACE, MIGRATION_LOCK, PgConnection

log = logging.getLogger("newswatch.warehouse")


@dataclass
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def discover_migrations(directory: Path | None = None) -> list[Migration]:
    directory = directory or sql_dir_from_env() / "migrations"
    found = []
    for path in sorted(directory.glob("*.sql")):
        head = path.name.split("_", 1)[0]
        if not head.isdigit():
            raise MigrationError(f"{path.name}: migration files must start with a number (0001_name.sql)")
        found.append(Migration(int(head), path.stem, path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a number in {directory}")
    return found


def migrate(conn: PgConnection, directory: Path | None = None) -> list[str]:
    """Apply pending migrations, then (re)create the views; returns what was applied.

    Safe when several runs start at once: a transaction-scoped advisory lock serialises them and
    the loser finds nothing left to do. A migration that was applied and has since been edited
    stops everything: migrations are forward-only.
    """
    root = directory or sql_dir_from_env()
    migrations = discover_migrations(root / "migrations")
    applied_now = []
    with conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, MIGRATION_LOCK))
        cur.execute("CREATE SCHEMA IF NOT EXISTS news")
        cur.execute(
            """CREATE TABLE IF NOT EXISTS news.schema_migrations (
                   version    integer PRIMARY KEY,
                   name       text NOT NULL,
                   checksum   text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        # before the migrations: one that replaces a column its views read drops them and clears
        # this table, so the views are recreated below
        cur.execute(
            """CREATE TABLE IF NOT EXISTS news.schema_views (
                   name       text PRIMARY KEY,
                   checksum   text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        cur.execute("SELECT version, name, checksum FROM news.schema_migrations")
        applied = {v: (n, c) for v, n, c in cur.fetchall()}
        for migration in migrations:
            if migration.version in applied:
                _, checksum = applied[migration.version]
                if checksum != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.name} was changed after it was applied "
                        "(migrations are forward-only: add a new numbered file instead)"
                    )
                continue
            log.info("applying migration %s", migration.name)
            cur.execute(migration.sql)
            cur.execute(
                "INSERT INTO news.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            applied_now.append(migration.name)
        unknown = set(applied) - {m.version for m in migrations}
        if unknown:
            raise MigrationError(
                f"the warehouse has migrations this code does not know ({sorted(unknown)}): "
                "it was migrated by a newer newswatch"
            )
        _apply_views(cur, root / "views")
        cur.execute((root / "grants.sql").read_text(encoding="utf-8"))
    return applied_now


def _apply_views(cur, directory: Path) -> None:
    """(Re)create the analyst views whose file changed since they were last created.

    CREATE OR REPLACE VIEW takes an exclusive lock on the view; doing it on every run would
    queue the pipeline behind any long analyst query, and every later reader behind the
    pipeline. Unchanged views are left alone; a changed one waits at most lock_timeout."""
    cur.execute("SELECT name, checksum FROM news.schema_views")
    applied = dict(cur.fetchall())
    for view in sorted(directory.glob("*.sql")):
        text = view.read_text(encoding="utf-8")
        checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if applied.get(view.name) == checksum:
            continue
        cur.execute("SET LOCAL lock_timeout = '30s'")
        cur.execute(text)
        cur.execute(
            """INSERT INTO news.schema_views (name, checksum) VALUES (%s, %s)
               ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()""",
            (view.name, checksum),
        )
