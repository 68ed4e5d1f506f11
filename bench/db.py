"""The PostgreSQL the benchmark runs on: NEWSWATCH_BENCH_DATABASE_URL when set (a server URL;
one database per scenario is created next to the one it names), else an embedded server in
<out>/pg started with newswatch.dev.localpg (fsync off, as for `make run`)."""

from __future__ import annotations

from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn


class BenchDatabase:
    def __init__(self, out: Path):
        self.out = out
        self.embedded = None
        from newswatch.config import DevSettings

        url = DevSettings.from_env().bench_database_url
        if url:
            self.admin_dsn = url
        else:
            from newswatch.dev.localpg import LocalPostgres

            self.embedded = LocalPostgres(out / "pg", preferred_port=0)
            self.embedded.start()
            self.admin_dsn = self.embedded.uri("postgres")

    def describe(self) -> str:
        if self.embedded:
            return f"embedded PostgreSQL in {self.embedded.root} (port {self.embedded.port})"
        return "NEWSWATCH_BENCH_DATABASE_URL"

    def server_version(self) -> str:
        conn = psycopg2.connect(self.admin_dsn)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW server_version")
                return cur.fetchone()[0]
        finally:
            conn.close()

    def fresh(self, name: str) -> str:
        """Drop and create database `name`; return its libpq DSN."""
        conn = psycopg2.connect(self.admin_dsn)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            conn.close()
        return self.dsn(name)

    def dsn(self, name: str) -> str:
        params = parse_dsn(self.admin_dsn)
        params["dbname"] = name
        return make_dsn(**params)

    def uri(self, name: str) -> str:
        """The same database as a postgresql:// URI (what AIRFLOW_CONN_NEWS_WAREHOUSE takes)."""
        from urllib.parse import quote

        p = parse_dsn(self.dsn(name))
        auth = quote(p.get("user", "postgres"))
        if p.get("password"):
            auth += ":" + quote(p["password"])
        return f"postgresql://{auth}@{p.get('host', '127.0.0.1')}:{p.get('port', '5432')}/{quote(name)}"

    def stop(self) -> None:
        """Stop the embedded server this harness started (its data stays in <out>/pg for
        inspection: start it with LocalPostgres(Path('bench/out/pg')).start())."""
        if self.embedded:
            self.embedded.stop()
