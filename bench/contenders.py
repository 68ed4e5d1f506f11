"""The contenders, each run in its own process by the harness (bench.measure.run_process):

    python -m bench.contenders core     newswatch.pipeline.run_once (what `newswatch run --force` does)
    python -m bench.contenders reader   the `reader` library updating the same feeds into SQLite
    python -m bench.contenders naive    requests + feedparser + one INSERT … ON CONFLICT per entry
    python -m bench.contenders copy     the load floor: COPY of the rows newswatch loaded
    python -m bench.contenders fulltext newswatch's full-text step (what `newswatch fulltext` does)

Parameters come as JSON in $BENCH_CONFIG; each writes its own timings with
measure.write_result. (The Airflow contender is `airflow dags test` itself, run by the harness.)
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC
from pathlib import Path

from .measure import write_result


def _config() -> dict:
    return json.loads(os.environ.get("BENCH_CONFIG") or "{}")


# --- newswatch core path --------------------------------------------------------------------


def _resolve(module_name: str, attr: str):
    """Unpickling target of a _Timed wrapper: whatever the module holds in that process."""
    import importlib

    return getattr(importlib.import_module(module_name), attr)


class _Timed:
    """A module-level function wrapped to record its duration when run_once calls it through
    the module. Only the outermost timed call counts (poll_feeds_in_processes may call
    poll_feeds itself). Pickles as a reference to the module attribute, so run_once can still
    hand the function to a process pool: a spawned worker gets the original."""

    depth = 0

    def __init__(self, module, name: str, phases: dict, *, encloses_steps: bool = False):
        self.module_name, self.name, self.phases = module.__name__, name, phases
        self.original = getattr(module, name)
        # a wrapper around other steps (poll and merge overlapped) is timed without hiding them
        self.encloses_steps = encloses_steps

    def __call__(self, *args, **kwargs):
        outermost = _Timed.depth == 0 or self.encloses_steps
        if not self.encloses_steps:
            _Timed.depth += 1
        t0 = time.perf_counter()
        try:
            return self.original(*args, **kwargs)
        finally:
            if not self.encloses_steps:
                _Timed.depth -= 1
            if outermost:
                self.phases[self.name] = self.phases.get(self.name, 0.0) + time.perf_counter() - t0

    def __reduce__(self):
        return _resolve, (self.module_name, self.name)


# run_once overlaps the merge with polling for large polls: "poll+merge" is that step's wall
# time, with polling inside it still reported as poll_feeds_in_processes
ENCLOSING_STEPS = {"_poll_and_merge_together"}


def _time_phases(module, names: list[str], phases: dict) -> None:
    """Wrap the pipeline's step functions so a call through the module (as run_once makes
    them) records its duration. A step the owner renames or inlines simply stops being
    reported; one that does not exist is skipped."""
    for name in names:
        if callable(getattr(module, name, None)):
            setattr(module, name, _Timed(module, name, phases, encloses_steps=name in ENCLOSING_STEPS))


class ThreadProfiler:
    """cProfile for every thread: cProfile only sees the thread that enabled it, and
    poll_feeds does its work in a thread pool. Each thread gets its own profiler for its
    whole life; the stats are added together at the end. The clock is the thread's own CPU
    time (time.thread_time), so waiting for the GIL, a lock or the network counts for
    nothing and the totals add up to CPU seconds, not to threads x wall seconds."""

    def __init__(self):
        import cProfile
        import threading

        self._cprofile = cProfile
        self.profiles = []
        self.main = cProfile.Profile(time.thread_time)
        original_run = threading.Thread.run
        profiles = self.profiles

        def run(thread_self):
            prof = cProfile.Profile(time.thread_time)
            profiles.append((thread_self, prof))
            prof.enable()
            try:
                original_run(thread_self)
            finally:
                prof.disable()

        threading.Thread.run = run

    def __enter__(self):
        self.main.enable()
        return self

    def __exit__(self, *exc):
        self.main.disable()

    def stats(self):
        import pstats

        stats = pstats.Stats(self.main)
        self.skipped = []
        for thread, prof in self.profiles:
            if thread.is_alive():
                # A thread still running (a long-lived pool, e.g. newswatch's DNS resolver
                # threads) has open frames that cProfile would close with the *calling*
                # thread's CPU clock, inventing seconds; leave it out and say so.
                self.skipped.append(thread.name)
                continue
            stats.add(pstats.Stats(prof))
        return stats


def top_functions(stats, n: int = 25) -> list[dict]:
    rows = []
    for (filename, line, func), (_cc, nc, tt, ct, _) in stats.stats.items():
        rows.append(
            {
                "function": f"{Path(filename).name}:{line}({func})",
                "file": filename,
                "calls": nc,
                "tottime_s": round(tt, 4),
                "cumtime_s": round(ct, 4),
            }
        )
    rows.sort(key=lambda r: r["tottime_s"], reverse=True)
    return rows[:n]


def core() -> None:
    cfg = _config()
    t_import = time.perf_counter()

    from newswatch import pipeline, warehouse
    from newswatch.config import Settings

    import_s = time.perf_counter() - t_import
    settings = Settings.from_env()
    phases: dict[str, float] = {}
    _time_phases(
        pipeline,
        ["prepare", "_poll_and_merge_together", "poll_feeds_in_processes", "poll_feeds", "merge", "finish"],
        phases,
    )
    run_id = f"bench__{cfg.get('label', 'core')}__{time.time():.0f}"
    profiler = ThreadProfiler() if cfg.get("profile") else None
    waited = _wait_for_texts(settings.warehouse_dsn, cfg["wait_for_texts"]) if cfg.get("wait_for_texts") else None
    started_at = time.time()
    t0 = time.perf_counter()
    if profiler:
        with profiler:
            summary = pipeline.run_once(settings, run_id, force=True, trigger="bench")
    else:
        summary = pipeline.run_once(settings, run_id, force=True, trigger="bench")
    seconds = time.perf_counter() - t0
    ended_at = time.time()
    # phase names are the pipeline's; the report calls the polling phase "poll" whichever ran
    result = {
        "seconds": seconds,
        "import_s": import_s,
        "phases": phases,
        "summary": summary.to_dict(),
        "workers": settings.workers,
        "processes": getattr(settings, "processes", 1),
        # wall clock of run_once, to line it up with other processes' work (the full-text step)
        "started_at": started_at,
        "ended_at": ended_at,
    }
    if waited is not None:
        result["waited_for_texts"] = waited
    conn = warehouse.connect(settings.warehouse_dsn)
    try:
        result["warehouse"] = table_counts(conn)
    finally:
        conn.close()
    if profiler:
        stats = profiler.stats()
        dump = cfg["profile"]
        stats.dump_stats(dump)
        result["profile"] = {"pstats": dump, "top_tottime": top_functions(stats), "threads_left_out": profiler.skipped}
        by_cum = sorted(top_functions(stats, 100_000), key=lambda r: r["cumtime_s"], reverse=True)
        result["profile"]["top_cumtime"] = by_cum[:200]
    write_result(result)
    print(summary.text())


def _wait_for_texts(dsn: str, wait: dict) -> dict:
    """Before a re-poll that must overlap the full-text step: wait until that step has recorded
    its first page among `article_ids` (it is started at the same time, in another process),
    at most `timeout_s`. Returns how long it waited and whether the step had begun."""
    from newswatch import warehouse

    deadline = time.monotonic() + float(wait.get("timeout_s", 120))
    t0 = time.perf_counter()
    conn = warehouse.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            while True:
                cur.execute(
                    "SELECT EXISTS (SELECT 1 FROM news.article_texts WHERE article_id = ANY(%s))",
                    (wait["article_ids"],),
                )
                begun = cur.fetchone()[0]
                if begun or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
    finally:
        conn.close()
    return {"seconds": time.perf_counter() - t0, "fulltext_begun": begun}


def table_counts(conn) -> dict:
    counts = {}
    with conn.cursor() as cur:
        for table in (
            "articles",
            "article_sightings",
            "article_revisions",
            "stories",
            "article_fingerprints",
            "staged_entries",
            "rejects",
        ):
            cur.execute(f"SELECT count(*) FROM news.{table}")
            counts[table] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM news.articles WHERE is_relevant")
        counts["relevant_articles"] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM news.stories WHERE article_count > 1")
        counts["multi_article_stories"] = cur.fetchone()[0]
    conn.rollback()
    return counts


# --- newswatch full-text step ----------------------------------------------------------------


def fulltext() -> None:
    """pipeline.fulltext, the function behind `newswatch fulltext` and the full-text DAG's task,
    with the selection it makes from the environment (NEWSWATCH_FULLTEXT, _DAYS, _LIMIT,
    _WORKERS); then what it recorded for `article_ids`, counted from news.article_texts."""
    cfg = _config()
    t_import = time.perf_counter()

    from newswatch import pipeline, warehouse
    from newswatch.config import Settings

    import_s = time.perf_counter() - t_import
    settings = Settings.from_env()
    started_at = time.time()
    t0 = time.perf_counter()
    report = pipeline.fulltext(settings, raise_errors=True)
    seconds = time.perf_counter() - t0
    ended_at = time.time()
    ids = cfg["article_ids"]
    conn = warehouse.connect(settings.warehouse_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT status, count(*) FROM news.article_texts WHERE article_id = ANY(%s) GROUP BY status",
                (ids,),
            )
            statuses = dict(cur.fetchall())
            # attempts this run made at other articles' pages: the selection took something else
            cur.execute(
                "SELECT count(*) FROM news.article_texts "
                "WHERE NOT (article_id = ANY(%s)) AND fetched_at >= to_timestamp(%s)",
                (ids, started_at),
            )
            others = cur.fetchone()[0]
            cur.execute(
                "SELECT avg(duration_ms), percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms), "
                "max(duration_ms), sum(word_count) FROM news.article_texts WHERE article_id = ANY(%s)",
                (ids,),
            )
            mean_ms, median_ms, max_ms, words = cur.fetchone()
        conn.rollback()
    finally:
        conn.close()
    recorded = sum(statuses.values())
    ft = settings.fulltext
    write_result(
        {
            "seconds": seconds,
            "import_s": import_s,
            "started_at": started_at,
            "ended_at": ended_at,
            "pages": len(ids),
            "recorded": recorded,
            "pages_per_s": recorded / seconds if seconds else None,
            "statuses": statuses,
            "other_articles": others,
            "page_ms": {"mean": mean_ms, "median": median_ms, "max": max_ms},
            "words": words,
            "report": report,
            "settings": {"mode": ft.mode, "days": ft.days, "limit": ft.limit, "workers": ft.workers},
            "max_per_host": settings.fetch.max_per_host,
        }
    )
    print(report.get("line"))


# --- reader ---------------------------------------------------------------------------------


def reader() -> None:
    """reader 3.x: add the feeds (first poll only), then update them with its thread pool."""
    cfg = _config()
    t_import = time.perf_counter()
    from reader import UpdatedFeed, make_reader

    import_s = time.perf_counter() - t_import
    db = cfg["db"]
    rd = make_reader(db)
    setup_s = 0.0
    if cfg["mode"] == "first":
        t0 = time.perf_counter()
        for url in cfg["urls"]:
            rd.add_feed(url, exist_ok=True)
        setup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    new = modified = not_modified = errors = 0
    error_samples = []
    # scheduled=False: update every feed now, as newswatch's force does
    for result in rd.update_feeds_iter(workers=cfg["workers"], scheduled=False):
        value = result.value
        if isinstance(value, UpdatedFeed):
            new += value.new
            modified += value.modified
            if not value.new and not value.modified:
                not_modified += 1
        elif value is None:
            not_modified += 1
        else:
            errors += 1
            if len(error_samples) < 3:
                error_samples.append(f"{result.url}: {value!r}"[:300])
    seconds = time.perf_counter() - t0
    counts = rd.get_entry_counts()
    rd.close()
    write_result(
        {
            "seconds": seconds,
            "import_s": import_s,
            "add_feeds_s": setup_s,
            "entries_new": new,
            "entries_modified": modified,
            "feeds_not_modified": not_modified,
            "feed_errors": errors,
            "error_samples": error_samples,
            "entries_total": counts.total,
            "workers": cfg["workers"],
            "db_bytes": os.path.getsize(db),
        }
    )
    print(
        f"reader: {new} new, {modified} modified, {not_modified} feeds unchanged, {errors} errors, "
        f"{counts.total} entries stored in {seconds:.1f}s"
    )


# --- naive baseline -------------------------------------------------------------------------

NAIVE_DDL = """
CREATE TABLE IF NOT EXISTS naive_articles (
    id         bigserial PRIMARY KEY,
    url        text NOT NULL UNIQUE,
    feed       text NOT NULL,
    guid       text,
    title      text,
    summary    text,
    published  timestamptz
)"""


def naive() -> None:
    """What one would write first: fetch with requests, parse with feedparser, and one
    INSERT … ON CONFLICT (url) DO NOTHING per entry, a transaction per feed, a connection and
    an HTTP session per worker thread. No URL canonicalisation, relevance or clustering."""
    cfg = _config()
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from datetime import datetime

    import feedparser
    import psycopg2
    import requests

    dsn, urls, workers = cfg["dsn"], cfg["urls"], cfg["workers"]
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute(NAIVE_DDL)
    conn.close()
    local = threading.local()
    connections = []
    lock = threading.Lock()
    totals = {"entries": 0, "inserted": 0, "fetch_s": 0.0, "parse_s": 0.0, "insert_s": 0.0}

    def resources():
        if not hasattr(local, "conn"):
            local.conn = psycopg2.connect(dsn)
            local.session = requests.Session()
            with lock:
                connections.append((local.conn, local.session))
        return local.conn, local.session

    def one(url: str) -> None:
        conn, session = resources()
        t0 = time.perf_counter()
        body = session.get(url, timeout=30).content
        t1 = time.perf_counter()
        parsed = feedparser.parse(body)
        t2 = time.perf_counter()
        inserted = 0
        with conn, conn.cursor() as cur:
            for e in parsed.entries:
                published = e.get("published_parsed") or e.get("updated_parsed")
                cur.execute(
                    "INSERT INTO naive_articles (url, feed, guid, title, summary, published) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (url) DO NOTHING",
                    (
                        e.get("link"),
                        url,
                        e.get("id"),
                        e.get("title"),
                        e.get("summary"),
                        datetime(*published[:6], tzinfo=UTC) if published else None,
                    ),
                )
                inserted += cur.rowcount
        t3 = time.perf_counter()
        with lock:
            totals["entries"] += len(parsed.entries)
            totals["inserted"] += inserted
            totals["fetch_s"] += t1 - t0
            totals["parse_s"] += t2 - t1
            totals["insert_s"] += t3 - t2

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, urls))
    seconds = time.perf_counter() - t0
    for c, s in connections:
        c.close()
        s.close()
    # the *_s figures are summed over threads (time spent in each step, overlapping)
    write_result({"seconds": seconds, "workers": workers, **totals})
    print(f"naive: {totals['entries']} entries, {totals['inserted']} rows inserted in {seconds:.1f}s")


# --- the COPY floor -------------------------------------------------------------------------

# The tables a merge writes, in foreign-key order.
LOADED_TABLES = ["stories", "articles", "article_sightings", "article_fingerprints"]


def copy_floor() -> None:
    """Export what newswatch's first poll loaded (untimed), then COPY the same rows into empty
    tables of the same definition — indexes, constraints and the generated search column
    included ("indexed", the floor for news.*) — and into bare tables with only the columns
    and the generated column ("bare": no index, no constraint)."""
    cfg = _config()
    import io

    import psycopg2

    from newswatch import warehouse

    src = psycopg2.connect(cfg["src_dsn"])
    dst = psycopg2.connect(cfg["dst_dsn"])
    warehouse.migrate(dst)
    data: dict[str, tuple[list[str], bytes]] = {}
    rows: dict[str, int] = {}
    with src.cursor() as cur:
        for table in LOADED_TABLES:
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'news' "
                "AND table_name = %s AND is_generated = 'NEVER' ORDER BY ordinal_position",
                (table,),
            )
            cols = [r[0] for r in cur.fetchall()]
            buf = io.BytesIO()
            cur.copy_expert(f"COPY news.{table} ({', '.join(cols)}) TO STDOUT", buf)
            data[table] = (cols, buf.getvalue())
            cur.execute(f"SELECT count(*) FROM news.{table}")
            rows[table] = cur.fetchone()[0]
    src.close()

    def load(schema: str) -> dict:
        timings = {}
        with dst, dst.cursor() as cur:
            t_all = time.perf_counter()
            for table in LOADED_TABLES:
                cols, payload = data[table]
                t0 = time.perf_counter()
                cur.copy_expert(f"COPY {schema}.{table} ({', '.join(cols)}) FROM STDIN", io.BytesIO(payload))
                timings[table] = time.perf_counter() - t0
            t0 = time.perf_counter()
        commit_s = time.perf_counter() - t0
        timings["commit"] = commit_s
        timings["total"] = time.perf_counter() - t_all
        return timings

    indexed = load("news")
    with dst, dst.cursor() as cur:
        cur.execute("CREATE SCHEMA bare")
        for table in LOADED_TABLES:
            cur.execute(f"CREATE TABLE bare.{table} (LIKE news.{table} INCLUDING DEFAULTS INCLUDING GENERATED)")
    bare = load("bare")
    dst.close()
    payload_bytes = {t: len(d[1]) for t, d in data.items()}
    write_result(
        {
            "rows": rows,
            "bytes": payload_bytes,
            "indexed": indexed,
            "bare": bare,
            "seconds": indexed["total"],
            "seconds_bare": bare["total"],
        }
    )
    print(f"copy floor: {sum(rows.values())} rows; indexed {indexed['total']:.2f}s, bare {bare['total']:.2f}s")


def main(argv=None) -> None:
    argv = argv if argv is not None else sys.argv[1:]
    name = argv[0] if argv else ""
    entry = {"core": core, "reader": reader, "naive": naive, "copy": copy_floor, "fulltext": fulltext}.get(name)
    if entry is None:
        sys.exit(f"usage: python -m bench.contenders {{core|reader|naive|copy|fulltext}} (got {name!r})")
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    entry()


if __name__ == "__main__":
    main()
