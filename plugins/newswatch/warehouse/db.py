"""Connections, advisory-lock ids and bulk loading (COPY): what every warehouse module shares."""

from __future__ import annotations

import contextlib
import functools
import io
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg2
from psycopg2.extensions import connection as PgConnection

# Advisory lock ids (two int4 keys: project, purpose).
LOCK_NAMESPACE = 0x6E77  # "nw"
MIGRATION_LOCK = 1
MERGE_LOCK = 2
HOST_SLOT_NAMESPACE = 0x6E78
FEED_CLAIM_NAMESPACE = 0x6E79


def connect(dsn: str, *, autocommit: bool = False) -> PgConnection:
    conn = psycopg2.connect(
        dsn,
        connect_timeout=10,
        keepalives=1,
        keepalives_idle=30,
        keepalives_interval=10,
        keepalives_count=3,
    )
    # The pipeline's statements are short and often planned on freshly loaded tables whose
    # statistics are far off; on such an overestimate PostgreSQL compiles the statement with JIT,
    # 0.3 s of compiling for a story refresh that then runs in milliseconds.
    with conn.cursor() as cur:
        cur.execute("SET jit = off")
    conn.commit()
    conn.autocommit = autocommit
    return conn


@contextlib.contextmanager
def connection(dsn: str, *, autocommit: bool = False):
    """A connection for the length of a `with` block, closed however the block ends."""
    conn = connect(dsn, autocommit=autocommit)
    try:
        yield conn
    finally:
        conn.close()


def pg_array(values) -> str:
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _bytes(value) -> str:
    return "\\x" + bytes(value).hex()


# COPY's text for each Python type, looked up by exact type: the merge and staging encode
# millions of values, and a chain of isinstance tests per value was a measurable share of it.
# (Text, NULL and datetimes never get here: _csv_field takes them first.)
_ENCODE: dict[type, Callable[[Any], str]] = {
    bool: lambda v: "t" if v else "f",
    int: str,
    float: str,
    bytes: _bytes,
    bytearray: _bytes,
    memoryview: _bytes,
    dict: lambda v: json.dumps(v, ensure_ascii=False),
    list: lambda v: pg_array(v),
    tuple: lambda v: pg_array(v),
}


# A batch's rows share a few times (when each fetch was staged, the batch's now): each is
# formatted once. Keyed by zone and fold as well: datetimes in one zone compare equal by their
# wall clock, so the two 01:30s of a night the clocks go back are equal, an hour apart.
@functools.lru_cache(maxsize=4096)
def _iso_time(value: datetime, zone, fold: int) -> str:
    return value.isoformat()


def _copy_value(value) -> str:
    """COPY's text for a value that is neither text, None nor a datetime (_csv_field's)."""
    encode = _ENCODE.get(type(value))
    if encode is None:  # a subclass (a datetime subclass, an enum of str) or anything else
        if isinstance(value, datetime):
            return value.isoformat()
        return str(value)
    return encode(value)


def _csv_field(value) -> str:
    # Every value is quoted and NULL is the bare empty field (COPY's CSV default), so no text,
    # not even an empty string or a literal \N, can be read back as NULL. Text, NULL and times
    # (most of the values) take the short way.
    kind = type(value)
    if kind is str:
        return '"' + value.replace('"', '""') + '"'
    if value is None:
        return ""
    if kind is datetime:
        return '"' + _iso_time(value, value.tzinfo, value.fold) + '"'
    return '"' + _copy_value(value).replace('"', '""') + '"'


def _csv_line(values) -> str:
    return ",".join(map(_csv_field, values)) + "\n"


def copy_rows(cur, table: str, columns: tuple[str, ...], rows) -> None:
    """COPY rows (tuples in `columns` order) into `table`: several times faster than INSERTs."""
    buffer = io.StringIO()
    buffer.writelines(_csv_line(row) for row in rows)
    buffer.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)


def next_ids(cur, sequence_of: str, count: int) -> list[int]:
    if not count:
        return []
    cur.execute(f"SELECT nextval(pg_get_serial_sequence('{sequence_of}')) AS id FROM generate_series(1, %s)", (count,))
    return [r.id for r in cur.fetchall()]


# Errors that a row's data can cause (and that will recur with the same rows): SQLSTATE classes
# 22 data exception, 23 integrity constraint, 54 program limit exceeded (an index key or a
# tsvector too large); and the Python errors bad values raise. Connection loss, lock timeouts
# and the like are not the data's fault: they propagate and the rows stay pending.
_DATA_SQLSTATE_CLASSES = ("22", "23", "54")
_DATA_PYTHON_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError)


def blames_the_data(exc: BaseException) -> bool:
    if isinstance(exc, psycopg2.Error):
        return (exc.pgcode or "")[:2] in _DATA_SQLSTATE_CLASSES
    return isinstance(exc, _DATA_PYTHON_ERRORS)
