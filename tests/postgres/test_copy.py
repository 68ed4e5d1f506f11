"""COPY, the way every bulk write reaches the warehouse (warehouse/db.copy_rows): whatever a
feed's text holds comes back exactly as it was written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import psycopg2

from newswatch.warehouse.db import copy_rows


def test_copy_keeps_every_value_as_it_was(dsn):
    beijing = timezone(timedelta(hours=8))
    instant = datetime(2024, 3, 4, 8, 0, tzinfo=beijing)
    rows = [
        ('He said "no" \\N, \\\\ and\nnewlines,\r\ttabs', "", 1, 2.5, True, b"\x00\xff", instant, ["a", 'b"', "c\\"]),
        (None, None, None, None, None, None, None, None),
        ("台湾 — “quoted”", "NULL", -(2**62), 0.0, False, b"", instant.astimezone(UTC), []),
    ]
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            """CREATE TABLE t (n serial, s text, e text, i bigint, f double precision, b boolean, y bytea,
                               at timestamptz, arr text[])"""
        )
        copy_rows(cur, "t", ("s", "e", "i", "f", "b", "y", "at", "arr"), rows)
        cur.execute("SELECT s, e, i, f, b, y, at, arr FROM t ORDER BY n")
        back = [(*r[:5], None if r[5] is None else bytes(r[5]), *r[6:]) for r in cur.fetchall()]
    assert back == rows  # NULL stays NULL, an empty string stays empty, "NULL" stays text
    assert back[0][6] == back[2][6] == instant  # one instant, written from two zones


def test_copy_keeps_the_two_instants_of_a_repeated_wall_clock_hour(dsn):
    # 01:30 happens twice in New York when the clocks go back; Python calls the two equal
    new_york = ZoneInfo("America/New_York")
    first = datetime(2024, 11, 3, 1, 30, tzinfo=new_york)
    second = first.replace(fold=1)
    assert first == second
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE t (n serial, at timestamptz)")
        copy_rows(cur, "t", ("at",), [(first,), (second,)])
        cur.execute("SELECT extract(epoch FROM max(at) - min(at)) FROM t")
        assert cur.fetchone()[0] == 3600
