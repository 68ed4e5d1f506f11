"""The stage profile: newswatch's stages one at a time over the whole corpus, in one process.

    python -m bench.stages        (parameters in $BENCH_CONFIG, figures to $BENCH_RESULT)

End-to-end runs interleave the stages across threads, so they cannot say where the time goes.
Here each stage runs over all entries before the next starts, calling the pipeline's own
functions:

    fetch      newswatch.fetch.fetch with the pipeline's session, `workers` threads (I/O bound:
               the only stage run in parallel, as in the pipeline); plus a plain-requests fetch
               of the same URLs, the floor the feed server allows
    parse      newswatch.parse.parse_feed
    normalise  newswatch.normalize.normalize_entry
    relevance  newswatch.relevance.Rules.score
    fingerprint newswatch.fingerprints.fingerprint (MinHash: the per-entry half of dedupe/cluster)
    stage      newswatch.warehouse.record_fetch (fetch_log + COPY into staged_entries)
    merge      newswatch.warehouse.merge_pending, split by the stage timings it returns:
               dedupe (plan_merge), cluster (candidates query + plan_stories) and load
               (everything else in the merge: reads of known articles and the writes)

The CPU stages run single-threaded: under the GIL a thread pool does not make them faster, so
entries per second on one thread is what a poll task gets per process. CPU time is reported
next to wall time.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from .growth import merge_split
from .measure import write_result


class Stage:
    def __init__(self, name: str):
        self.name = name
        self.wall = 0.0
        self.cpu = 0.0
        self.items = 0

    def __enter__(self):
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall += time.perf_counter() - self._w
        self.cpu += time.process_time() - self._c

    def to_dict(self) -> dict:
        return {
            "wall_s": self.wall,
            "cpu_s": self.cpu,
            "entries": self.items,
            "entries_per_s": (self.items / self.wall) if self.wall else None,
        }


def _server_cpu(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def main() -> None:
    cfg = json.loads(os.environ["BENCH_CONFIG"])
    import logging

    import requests

    from newswatch import warehouse
    from newswatch.config import Settings, load_feeds
    from newswatch.feedstate import Outcome, decide
    from newswatch.fetch import fetch, make_session
    from newswatch.fingerprints import fingerprint
    from newswatch.normalize import Rejected, normalize_entry
    from newswatch.parse import parse_feed
    from newswatch.relevance import load_rules

    logging.basicConfig(level=logging.WARNING)
    settings = Settings.from_env()
    workers = cfg["workers"]
    feeds = load_feeds(settings.feeds_path)
    server_pids = cfg.get("server_pids") or []
    stages: dict[str, Stage] = {}
    extra: dict = {}

    # -- fetch floor: plain requests, what the server can give ----------------------------------
    floor = Stage("fetch_floor")
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=workers, pool_maxsize=workers)
    session.mount("http://", adapter)
    cpu0 = _server_cpu(server_pids)
    with floor, ThreadPoolExecutor(workers) as pool:
        sizes = list(pool.map(lambda f: len(session.get(f.url, timeout=60).content), feeds))
    session.close()
    extra["fetch_floor"] = {
        "wall_s": floor.wall,
        "requests": len(feeds),
        "bytes": sum(sizes),
        "requests_per_s": len(feeds) / floor.wall,
        "server_cpu_s": _server_cpu(server_pids) - cpu0,
    }

    # -- fetch ---------------------------------------------------------------------------------
    st = stages["fetch"] = Stage("fetch")
    session = make_session(settings.fetch, pool_size=max(10, workers))
    cpu0 = _server_cpu(server_pids)
    with st, ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda f: fetch(f.url, settings=settings.fetch, session=session), feeds))
    session.close()
    extra["fetch_server_cpu_s"] = _server_cpu(server_pids) - cpu0
    failed = [r for r in results if r.status != "ok"]
    if failed:
        extra["fetch_failures"] = [f"{r.url}: {r.error_class} {r.error}" for r in failed[:5]]

    # -- parse ---------------------------------------------------------------------------------
    st = stages["parse"] = Stage("parse")
    parsed = []
    with st:
        for r in results:
            if r.status == "ok":
                parsed.append((r, parse_feed(r.body, content_type=r.content_type, url=r.final_url or r.url)))
    n_entries = sum(len(p.entries) for _, p in parsed)
    stages["fetch"].items = n_entries
    st.items = n_entries

    # -- normalise -----------------------------------------------------------------------------
    st = stages["normalise"] = Stage("normalise")
    fetched_at = datetime.now(UTC)
    outlets = {f.url: f for f in feeds}
    normalised = []  # (feed, result, parsed, [(position, article)])
    rejected = 0
    with st:
        for r, p in parsed:
            feed = outlets[r.url]
            arts = []
            for position, entry in enumerate(p.entries):
                a = normalize_entry(
                    entry,
                    fetched_at=fetched_at,
                    feed_outlet=feed.outlet,
                    feed_language=feed.language,
                    feed_title=p.title,
                    document_language=p.language,
                )
                if isinstance(a, Rejected):
                    rejected += 1
                else:
                    arts.append((position, a))
            normalised.append((feed, r, p, arts))
    st.items = n_entries
    extra["rejected"] = rejected
    n_articles = n_entries - rejected

    # -- relevance -----------------------------------------------------------------------------
    rules = load_rules(settings.topics_path)
    st = stages["relevance"] = Stage("relevance")
    scores = {}
    with st:
        for _, _, _, arts in normalised:
            for _, a in arts:
                scores[id(a)] = rules.score(a.title, a.summary)
    st.items = n_articles
    extra["relevant"] = sum(1 for s in scores.values() if s.is_relevant)

    # -- fingerprint ---------------------------------------------------------------------------
    st = stages["fingerprint"] = Stage("fingerprint")
    fps = {}
    with st:
        for _, _, _, arts in normalised:
            for _, a in arts:
                fps[id(a)] = fingerprint(a.title, a.summary)
    st.items = n_articles

    # -- stage (warehouse) -----------------------------------------------------------------------
    conn = warehouse.connect(settings.warehouse_dsn)
    warehouse.migrate(conn)
    warehouse.sync_feeds(conn, feeds)
    run_id = f"bench__stages__{time.time():.0f}"
    warehouse.start_run(conn, run_id, "bench")
    states = {s.name: s for s in warehouse.load_feed_states(conn)}
    st = stages["stage"] = Stage("stage")
    with st:
        for feed, r, p, arts in normalised:
            rows = []
            for position, a in arts:
                rows.append(warehouse.StagedRow.of(position, a, scores[id(a)], fps[id(a)]))
            outcome = Outcome(
                status="ok",
                http_status=r.http_status,
                etag=r.etag,
                last_modified=r.last_modified,
                body_hash=r.body_hash,
            )
            now = datetime.now(UTC)
            decision = decide(states[feed.name], outcome, now)
            record = warehouse.FetchRecord(
                feed_name=feed.name,
                run_id=run_id,
                started_at=fetched_at,
                finished_at=now,
                status=decision.log_status,
                url=r.url,
                final_url=r.final_url,
                http_status=r.http_status,
                bytes=len(r.body),
                entries_seen=len(p.entries),
            )
            warehouse.record_fetch(conn, record, decision, rows, [])
    st.items = n_articles
    del normalised, scores, fps, parsed, results

    # -- merge, split into dedupe / cluster / load by the merge's own stage timings ---------------
    merge = Stage("merge")
    with merge:
        result = warehouse.merge_pending(conn)
    conn.close()
    split = merge_split(result.timings)
    from dataclasses import asdict

    extra["merge_result"] = asdict(result)
    extra["merge_split_s"] = split
    dedupe = stages["dedupe"] = Stage("dedupe")
    dedupe.wall = split["plan_merge"]
    cluster = stages["cluster"] = Stage("cluster")
    cluster.wall = split["_story_candidates"] + split["plan_stories"]
    load = stages["load"] = Stage("load")
    load.wall = merge.wall - dedupe.wall - cluster.wall
    # CPU time is only known for the merge as a whole (client side; the server's is not visible)
    dedupe.cpu = cluster.cpu = load.cpu = None
    extra["merge_client_cpu_s"] = merge.cpu
    for s in (dedupe, cluster, load):
        s.items = result.entries
    extra["merge_wall_s"] = merge.wall

    extra["extraction"] = extraction_rate()
    write_result(
        {
            "stages": {k: v.to_dict() for k, v in stages.items()},
            "entries": n_entries,
            "articles": n_articles,
            "workers": workers,
            **extra,
        }
    )
    for k, v in stages.items():
        d = v.to_dict()
        print(
            f"{k:12s} {d['wall_s']:8.2f}s wall {d['cpu_s'] or 0:8.2f}s cpu  {d['entries_per_s'] or 0:10.0f} entries/s"
        )


def extraction_rate() -> dict:
    """Full-text extraction (newswatch.extract) on one core: the demo's article pages, which are
    in the repository, and the real ones in ../shared/articles when they are there."""
    import gzip

    from newswatch.config import PROJECT_ROOT, DevSettings
    from newswatch.extract import extract_article

    pages = [
        p.read_bytes()
        for p in sorted((PROJECT_ROOT / "demo" / "pages").rglob("*"))
        if p.suffix != ".md" and p.is_file()
    ]
    real = DevSettings.from_env().articles_dir / "html"
    if real.is_dir():
        pages += [gzip.decompress(p.read_bytes()) for p in sorted(real.glob("*.html.gz"))]
    extract_article(pages[0])  # imports and tables loaded once, not per page
    started = time.process_time()
    for body in pages:
        extract_article(body)
    cpu = time.process_time() - started
    return {
        "pages": len(pages),
        "cpu_s": cpu,
        "pages_per_s_per_core": len(pages) / cpu if cpu else None,
        "real_pages": real.is_dir(),
    }


if __name__ == "__main__":
    main()
