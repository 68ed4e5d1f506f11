"""PostgreSQL restarted (`pg_ctl restart -m immediate`: no shutdown checkpoint, crash recovery on
start) in the middle of a poll and in the middle of a merge.

These tests use a server of their own (durable, so a restart keeps what was committed), so
restarting it disturbs no other test. Afterwards: the interrupted step failed with a connection
error (not silently), nothing is half-written, and the next `run_once` loads everything once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import psycopg2
import pytest
from psycopg2.extensions import make_dsn, parse_dsn

from newswatch import pipeline, warehouse
from newswatch.dev.feedserver import Response
from newswatch.dev.localpg import LocalPostgres
from newswatch.pipeline import run_once
from tests.chaos.support import account_for_runs, assert_texts_as_served, query, scalar, settings_for, wait_until
from tests.helpers import item, rss

pytestmark = [pytest.mark.chaos, pytest.mark.postgres]
CHAOS_KIND = "PostgreSQL restarted"

CONNECTION_LOST = (psycopg2.OperationalError, psycopg2.InterfaceError)


@pytest.fixture(scope="module")
def restartable_postgres(tmp_path_factory):
    pg = LocalPostgres(tmp_path_factory.mktemp("restartable") / "pg", preferred_port=0, durable=True)
    pg.start()
    yield pg
    pg.stop()


@pytest.fixture
def restartable_dsn(restartable_postgres, request):
    """A fresh database on the restartable server, as a libpq DSN."""
    name = "chaos_" + request.node.name.removeprefix("test_")[:40]
    restartable_postgres.ensure_database(name)
    return make_dsn(**parse_dsn(restartable_postgres.uri(name)))


def restart_immediately(pg: LocalPostgres) -> None:
    """Stop the server the way a crash does (every backend killed, no checkpoint) and start it
    again on the same port; returns once it accepts connections."""
    proc = pg._pg(
        "pg_ctl",
        "-D",
        str(pg.pgdata),
        "-l",
        str(pg.logfile),
        "-m",
        "immediate",
        "-w",
        "-t",
        "60",
        "restart",
        timeout=90,
    )
    assert proc.returncode == 0, f"pg_ctl restart failed: {proc.stderr}"
    pg._wait_ready(pg.port)


@dataclass
class Outcome:
    value: object = None
    error: BaseException | None = None


def in_thread(function, *args, **kwargs) -> tuple[threading.Thread, Outcome]:
    """Run `function` in a thread, keeping what it returned or raised."""
    outcome = Outcome()

    def target():
        try:
            outcome.value = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the test to assert on
            outcome.error = exc

    thread = threading.Thread(target=target, name=f"chaos-{function.__name__}", daemon=True)
    thread.start()
    return thread, outcome


def chain_of(exc: BaseException | None) -> list[BaseException]:
    """The exception and the ones it was raised from or while handling."""
    chain = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


class HeldFeed:
    """A feed handler whose response starts at once and finishes only when released, so a poll
    is in the middle of fetching it for exactly as long as the test needs."""

    def __init__(self, body: bytes):
        self.body = body
        self.first_chunk_sent = threading.Event()
        self.release = threading.Event()

    def __call__(self, request) -> Response:
        def chunks():
            yield self.body[:200]
            # the server asks for the next chunk only once the first one is written
            self.first_chunk_sent.set()
            self.release.wait(60)
            yield self.body[200:]

        # a strong ETag: had the interrupted poll saved it, the next poll would send it back
        return Response(200, {"Content-Type": "application/rss+xml", "ETag": '"held-v1"'}, chunks())


def test_postgres_restarted_while_a_poll_is_fetching_a_slow_feed(
    restartable_postgres, restartable_dsn, feed_server, tmp_path, figures
):
    figures.what = "pg_ctl restart -m immediate while a poll is mid-fetch; then run_once again"
    dsn = restartable_dsn
    quick_entries = [item(n) for n in range(3)]
    slow_entries = [item(n) for n in range(10, 15)]
    held = HeldFeed(rss(slow_entries))
    settings = settings_for(
        {
            "quick": feed_server.add_document("/quick.xml", rss(quick_entries)),
            "slow": feed_server.add_handler("/slow.xml", held),
        },
        dsn,
        tmp_path,
        read_timeout=60,
        deadline=120,
    )

    thread, interrupted = in_thread(run_once, settings, "interrupted-poll", force=True)
    assert held.first_chunk_sent.wait(30), "the slow feed was never requested"
    # the other feed's fetch is committed before the crash: what is committed must survive it
    wait_until(
        lambda: query(dsn, "SELECT 1 FROM news.fetch_log WHERE run_id = 'interrupted-poll' AND feed_name = 'quick'"),
        timeout=30,
        what="the quick feed's fetch to be recorded",
    )
    restart_immediately(restartable_postgres)
    held.release.set()
    thread.join(60)

    assert not thread.is_alive()
    assert isinstance(interrupted.error, CONNECTION_LOST), (
        f"the poll did not fail on the lost connection: {interrupted}"
    )
    # nothing half-written: no trace of the slow feed's fetch, its validators not saved
    assert query(dsn, "SELECT count(*) FROM news.fetch_log WHERE feed_name = 'slow'") == [(0,)]
    assert query(dsn, "SELECT count(*) FROM news.staged_entries WHERE feed_name = 'slow'") == [(0,)]
    assert query(dsn, "SELECT etag, last_body_hash, last_attempt_at FROM news.feeds WHERE name = 'slow'") == [
        (None, None, None)
    ]
    # the quick feed's fetch survived the crash whole, waiting for a merge
    assert query(dsn, "SELECT status, entries_staged FROM news.fetch_log WHERE feed_name = 'quick'") == [("ok", 3)]
    assert scalar(dsn, "SELECT count(*) FROM news.staged_entries WHERE merged_at IS NULL") == 3

    summary = run_once(settings, "after-restart", force=True)

    assert len(feed_server.requests_for("/slow.xml")) == 2, "the slow feed was not fetched again"
    assert [r.headers.get("if-none-match") for r in feed_server.requests_for("/slow.xml")] == [None, None]
    assert query(dsn, "SELECT status FROM news.fetch_log WHERE run_id = 'after-restart' ORDER BY feed_name") == [
        ("not_modified",),
        ("ok",),
    ]
    assert summary.merge["new"] == 8
    assert_texts_as_served(
        dsn, {e["link"].split("?")[0]: (e["title"], e["summary"]) for e in quick_entries + slow_entries}
    )
    totals = account_for_runs(dsn, ["interrupted-poll", "after-restart"])
    assert totals.pending == 0 and totals.in_articles == 8
    assert scalar(dsn, "SELECT count(*) FROM news.articles") == 8
    figures.count(totals)
    figures.checked = f"poll failed with {type(interrupted.error).__name__}; slow feed fetched again, 8 articles once"


_WORDS = (
    "tariff",
    "summit",
    "envoy",
    "export",
    "chip",
    "soybean",
    "visa",
    "patrol",
    "treaty",
    "sanction",
    "embassy",
    "yuan",
    "dollar",
    "harbour",
    "drill",
    "satellite",
    "fentanyl",
    "student",
    "panda",
    "rare",
    "earth",
    "minister",
    "senate",
    "ministry",
    "delegation",
    "hotline",
    "airspace",
    "strait",
    "fleet",
    "quota",
)


def distinct_item(n: int) -> dict:
    """An entry no other entry shares a run of three words with (every other word is the entry's
    own number): thousands of near-copies of one text would make the merge's story clustering,
    which this test is not about, its slow part."""
    words = [_WORDS[(n * 7 + i * 13) % len(_WORDS)] for i in range(8)]
    title = " ".join(f"{w} {n}n{i}" for i, w in enumerate(words[:4]))
    summary = " ".join(f"{w} {n}s{i}" for i, w in enumerate(words))
    return item(n, title=title, summary=summary, link=f"https://wire.example.com/story-{n}")


def test_postgres_restarted_while_a_merge_is_running(
    restartable_postgres, restartable_dsn, feed_server, tmp_path, figures
):
    figures.what = "pg_ctl restart -m immediate while a 2,000-entry merge batch is writing; then run_once again"
    dsn = restartable_dsn
    documents = {f"feed{f}": [distinct_item(f * 500 + n) for n in range(500)] for f in range(4)}
    settings = settings_for(
        {name: feed_server.add_document(f"/{name}.xml", rss(entries)) for name, entries in documents.items()},
        dsn,
        tmp_path,
    )
    plan = pipeline.prepare(settings, "staging", "test", force=True)
    pipeline.poll_feeds(settings, "staging", plan.due)
    assert scalar(dsn, "SELECT count(*) FROM news.staged_entries WHERE merged_at IS NULL") == 2000

    merge_conn = warehouse.connect(make_dsn(dsn, application_name="chaos-merge"))
    thread, interrupted = in_thread(warehouse.merge_pending, merge_conn)
    # Mid-batch: the merge's transaction holds the lock a write to news.articles takes (from its
    # COPY until it commits), so it has written articles and not committed them yet.
    wait_until(
        lambda: query(
            dsn,
            """SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                                     WHERE a.application_name = 'chaos-merge' AND l.mode = 'RowExclusiveLock'
                                       AND l.relation = 'news.articles'::regclass""",
        ),
        timeout=60,
        every=0.01,
        what="the merge to write news.articles",
    )
    restart_immediately(restartable_postgres)
    thread.join(60)
    merge_conn.close()

    assert not thread.is_alive()
    assert isinstance(interrupted.error, CONNECTION_LOST), (
        f"the merge was not interrupted by the restart (it returned {interrupted.value})"
    )
    # psycopg2's `with conn:` rolls back on the way out, on the dead connection, so what surfaces is
    # InterfaceError "connection already closed"; the server's loss is the error it hides
    errors = chain_of(interrupted.error)
    assert any(isinstance(e, psycopg2.OperationalError) for e in errors), errors
    # the batch rolled back whole
    for table in ("articles", "article_sightings", "stories", "article_aliases", "article_fingerprints"):
        assert scalar(dsn, f"SELECT count(*) FROM news.{table}") == 0, f"news.{table} was half-written"
    assert scalar(dsn, "SELECT count(*) FROM news.staged_entries WHERE merged_at IS NULL") == 2000

    summary = run_once(settings, "after-restart", force=True)

    assert summary.feeds_not_modified == 4 and summary.merge["new"] == 2000
    assert scalar(dsn, "SELECT count(*) FROM news.articles") == 2000
    assert scalar(dsn, "SELECT count(*) FROM news.article_sightings") == 2000
    assert query(dsn, "SELECT outcome, count(*) FROM news.staged_entries GROUP BY 1") == [("new", 2000)]
    totals = account_for_runs(dsn, ["staging", "after-restart"])
    assert totals.pending == 0
    figures.count(totals)
    figures.checked = (
        f"merge failed with {type(interrupted.error).__name__}; batch rolled back whole; next run merged all 2,000 once"
    )
