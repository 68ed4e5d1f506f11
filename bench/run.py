"""`python -m bench`: the whole benchmark in one invocation.

1. a synthetic corpus (bench.corpus) served by newswatch's FeedServer in its own process(es);
2. the stage profile (bench.stages): where newswatch's time goes, stage by stage;
3. side by side on the same corpus and worker count, each in its own process and database:
   newswatch core path (first poll, then an all-304 re-poll), newswatch through
   `airflow dags test`, the `reader` library, a naive feedparser+INSERT baseline, and the
   COPY floor for the load;
4. the full-text step (bench.fulltext, standard scenario only): newswatch's full-text step over
   1,000 article pages served by the feed server, alone, and an all-304 re-poll while a second
   1,000 pages are being fetched;
5. the growth scenario (bench.growth): merge cost per new entry at each warehouse size and
   the analyst queries with EXPLAIN ANALYZE on the largest;
6. the report (bench.report): tables and targets on stdout, results.json, report.txt and
   where_the_time_goes.png in the output folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

from . import corpus as corpus_mod
from . import fulltext as fulltext_step
from .db import BenchDatabase
from .measure import PROJECT_ROOT, bench_env, run_process
from .server import ServerGroup


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--scenario",
        choices=sorted(corpus_mod.SCENARIOS),
        default="standard",
        help="the corpus's shape (bench/corpus.py): standard, or syndicated (one host, a third "
        "of the entries repeated under tracking URLs, 80-word summaries of common words)",
    )
    ap.add_argument("--feeds", type=int, default=1000, help="feeds in the corpus (default 1000)")
    ap.add_argument("--entries", type=int, default=100, help="entries per feed (default 100)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workers", type=int, default=8, help="fetch workers for every contender (default 8)")
    ap.add_argument("--skip-airflow", action="store_true")
    ap.add_argument("--skip-growth", action="store_true")
    ap.add_argument("--skip-baselines", action="store_true", help="skip reader, naive and COPY")
    ap.add_argument(
        "--skip-fulltext",
        action="store_true",
        help="skip the full-text step (bench/fulltext.py; skipped anyway in the syndicated scenario)",
    )
    ap.add_argument(
        "--fulltext-pages",
        type=int,
        default=1000,
        help="article pages the full-text step fetches, twice: alone, then during a re-poll (default 1000)",
    )
    ap.add_argument(
        "--growth-sizes",
        default="10000,1000000",
        help="warehouse sizes in articles, comma-separated (default 10000,1000000)",
    )
    ap.add_argument("--growth-new", type=int, default=5000, help="new entries staged per merge (default 5000)")
    ap.add_argument("--growth-rounds", type=int, default=2, help="merges timed per size (default 2)")
    ap.add_argument("--daily-rate", type=int, default=3000, help="articles a day in the seeded history")
    ap.add_argument(
        "--server-procs",
        type=int,
        default=1,
        help="feed server processes sharing the port with SO_REUSEPORT (default 1)",
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="also run the core first poll under cProfile (all threads, one process, CPU clock) "
        "and print the top functions",
    )
    ap.add_argument("--out", default="bench/out", help="output folder (default bench/out)")
    return ap.parse_args(argv)


def newswatch_env(feeds_yaml: Path, warehouse_uri: str, workers: int) -> dict:
    return bench_env(
        {
            "NEWSWATCH_FEEDS": str(feeds_yaml),
            "AIRFLOW_CONN_NEWS_WAREHOUSE": warehouse_uri,
            # the server is on loopback, which newswatch refuses by default
            "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "true",
            "NEWSWATCH_FETCH_WORKERS": str(workers),
            # Every synthetic feed is on one host (127.0.0.1). Real feeds are spread over ~60 hosts,
            # so the per-host politeness cap (2 by default) would serialise this benchmark on a
            # limit that does not bind in production; it is raised to the worker count (the slot
            # bookkeeping itself, advisory locks per fetch, still runs and is measured).
            "NEWSWATCH_MAX_PER_HOST": str(workers),
            # the first poll is compared with readers of feeds: the article pages newswatch fetches
            # afterwards are measured apart (the stage profile's extraction rate, and the
            # full-text step, bench/fulltext.py, which sets it to relevant for its own runs)
            "NEWSWATCH_FULLTEXT": "none",
        }
    )


def airflow_env(base: dict, home: Path) -> dict:
    """Like newswatch.dev.local.airflow_env, with AIRFLOW_HOME under the bench output folder."""
    home.mkdir(parents=True, exist_ok=True)
    env = dict(base)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }
    )
    return env


def _airflow_bin() -> str:
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


def run_airflow(results: dict, env: dict, out: Path, server, workers: int, dsn: str) -> None:
    import subprocess

    from newswatch import warehouse

    setup_log = out / "logs" / "airflow_setup.log"
    setup_log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(setup_log, "wb") as fh:
        for cmd in (
            [_airflow_bin(), "db", "migrate"],
            [_airflow_bin(), "pools", "set", "newswatch_fetch", str(workers), "newswatch bench"],
        ):
            proc = subprocess.run(cmd, env=env, cwd=PROJECT_ROOT, stdout=fh, stderr=subprocess.STDOUT)
            if proc.returncode != 0:
                print(f"  !! {' '.join(cmd[1:3])} failed; see {setup_log}", file=sys.stderr)
                return
    results["airflow_setup_s"] = time.perf_counter() - t0
    print(f"  airflow db migrate + pool: {results['airflow_setup_s']:.1f}s (not counted)")
    for label in ("airflow_first", "airflow_repoll"):
        started = time.time()
        run = run_process(
            label,
            [_airflow_bin(), "dags", "test", "us_china_news", "--conf", json.dumps({"force": True})],
            env=env,
            out_dir=out,
            server=server,
        )
        conn = warehouse.connect(dsn)
        try:
            latest = warehouse.latest_run(conn, since=started - 1)
        finally:
            conn.close()
        if latest:
            run.result = {"run_id": latest[0], "summary": latest[1]}
        elif run.returncode == 0:
            run.returncode = -1  # dags test exited 0 but no run summary was written
            print(f"  !! {label}: no run summary in news.pipeline_runs; see {run.log}", file=sys.stderr)
        results["runs"][label] = run.to_dict()
        _say(run)
        _checkpoint(results, out)


def _checkpoint(results: dict, out: Path) -> None:
    """What has been measured so far, in case a long run is stopped before its report."""
    (out / "results.partial.json").write_text(json.dumps(results, indent=1, default=str))


def _say(run) -> None:
    inner = run.result.get("seconds")
    print(
        f"  {run.label}: {'ok' if run.returncode == 0 else 'FAILED'} in {run.wall_s:.1f}s process wall"
        + (f", {inner:.1f}s measured inside" if inner else "")
        + f", peak RSS {run.peak_rss_bytes / 2**20:.0f} MiB"
        + (f", server CPU {run.server_cpu_s:.1f}s" if run.server_cpu_s is not None else ""),
        flush=True,
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    out = (PROJECT_ROOT / args.out).resolve() if not os.path.isabs(args.out) else Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    started = time.time()
    results: dict = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "workers": args.workers,
        "args": vars(args),
        "runs": {},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }

    print(f"bench: {args.scenario} corpus {args.feeds} feeds × {args.entries} entries (seed {args.seed})", flush=True)
    t0 = time.perf_counter()
    corpus = corpus_mod.build(out, args.feeds, args.entries, args.seed, args.scenario)
    m = corpus.manifest
    results["corpus"] = {
        "scenario": args.scenario,
        "feeds": args.feeds,
        "entries_per_feed": args.entries,
        "seed": args.seed,
        "entries": m["entries"],
        "distinct_articles": m["distinct_articles"],
        "repeats": m["repeats"],
        "reprints": m["reprints"],
        "formats": m["formats"],
        "bytes": m["bytes"],
        "url_variants": m["url_variants"],
        "chinese_feeds": m["chinese_feeds"],
        "generate_s": time.perf_counter() - t0,
        "directory": str(corpus.directory),
    }
    print(
        f"  {m['entries']:,} entries, {m['distinct_articles']:,} distinct articles, "
        f"{m['bytes'] / 2**20:.1f} MiB in {corpus.directory}",
        flush=True,
    )

    db = BenchDatabase(out)
    results["database"] = db.describe()
    results["postgres"] = db.server_version()
    print(f"bench: warehouse on {results['database']}", flush=True)
    # the full-text step's pages are written before the server starts, which reads them once
    pages = None
    if args.skip_fulltext:
        results["fulltext"] = {"skipped": "--skip-fulltext"}
    elif args.scenario != "standard":
        results["fulltext"] = {"skipped": "measured in the standard scenario only"}
    else:
        pages = fulltext_step.prepare_pages(out, args.fulltext_pages, results)
    server = ServerGroup(corpus.feed_dir, procs=args.server_procs, pages=pages.directory if pages else None).start()
    if pages:
        fulltext_step.discard_pages(pages)  # the server holds them; no copy stays in the output folder
    results["server"] = {"procs": args.server_procs, "base_url": server.base_url}
    feeds_yaml = corpus_mod.write_feeds_yaml(corpus, server.base_url, out / "feeds.yaml")
    urls = corpus_mod.feed_urls(corpus, server.base_url)
    try:
        # -- stage profile -------------------------------------------------------------------
        print("bench: stage profile", flush=True)
        db.fresh("bench_stages")
        env = newswatch_env(feeds_yaml, db.uri("bench_stages"), args.workers)
        env["BENCH_CONFIG"] = json.dumps({"workers": args.workers, "server_pids": [p.pid for p in server._ps]})
        run = run_process("stages", [py, "-m", "bench.stages"], env=env, out_dir=out, server=server)
        results["runs"]["stages"] = run.to_dict()
        _say(run)
        _checkpoint(results, out)

        # -- newswatch core path ----------------------------------------------------------------
        print("bench: newswatch core path (pipeline.run_once, force)", flush=True)
        core_dsn = db.fresh("bench_core")
        env = newswatch_env(feeds_yaml, db.uri("bench_core"), args.workers)
        for label in ("core_first", "core_repoll"):
            env["BENCH_CONFIG"] = json.dumps({"label": label})
            run = run_process(label, [py, "-m", "bench.contenders", "core"], env=env, out_dir=out, server=server)
            results["runs"][label] = run.to_dict()
            _say(run)
            _checkpoint(results, out)

        if not args.skip_baselines:
            print("bench: COPY floor (rows newswatch loaded, COPYed into empty tables)", flush=True)
            dst = db.fresh("bench_copy")
            env = bench_env({"BENCH_CONFIG": json.dumps({"src_dsn": core_dsn, "dst_dsn": dst})})
            run = run_process("copy_floor", [py, "-m", "bench.contenders", "copy"], env=env, out_dir=out)
            results["runs"]["copy_floor"] = run.to_dict()
            _say(run)
            _checkpoint(results, out)

            print("bench: reader", flush=True)
            reader_dir = out / "reader"
            shutil.rmtree(reader_dir, ignore_errors=True)
            reader_dir.mkdir(parents=True)
            for label, mode in (("reader_first", "first"), ("reader_repoll", "repoll")):
                env = bench_env(
                    {
                        "BENCH_CONFIG": json.dumps(
                            {
                                "db": str(reader_dir / "reader.sqlite"),
                                "urls": urls,
                                "workers": args.workers,
                                "mode": mode,
                            }
                        )
                    }
                )
                run = run_process(label, [py, "-m", "bench.contenders", "reader"], env=env, out_dir=out, server=server)
                results["runs"][label] = run.to_dict()
                _say(run)
                _checkpoint(results, out)

            print("bench: naive baseline (feedparser + INSERT … ON CONFLICT per entry)", flush=True)
            naive_dsn = db.fresh("bench_naive")
            env = bench_env({"BENCH_CONFIG": json.dumps({"dsn": naive_dsn, "urls": urls, "workers": args.workers})})
            run = run_process(
                "naive_first", [py, "-m", "bench.contenders", "naive"], env=env, out_dir=out, server=server
            )
            results["runs"]["naive_first"] = run.to_dict()
            _say(run)
            _checkpoint(results, out)

        if not args.skip_airflow:
            print("bench: newswatch through Airflow (airflow dags test us_china_news)", flush=True)
            af_dsn = db.fresh("bench_airflow")
            env = airflow_env(newswatch_env(feeds_yaml, db.uri("bench_airflow"), args.workers), out / "airflow")
            run_airflow(results, env, out, server, args.workers, af_dsn)

        if pages:
            # after the COPY floor, which copies bench_core's rows: this step changes them
            print(
                f"bench: full text ({args.fulltext_pages:,} pages alone, then {args.fulltext_pages:,} more "
                "during an all-304 re-poll)",
                flush=True,
            )
            fulltext_step.run(
                pages=pages,
                base_url=server.base_url,
                core_dsn=core_dsn,
                env=newswatch_env(feeds_yaml, db.uri("bench_core"), args.workers),
                out=out,
                server=server,
                results=results,
                say=_say,
                checkpoint=lambda: _checkpoint(results, out),
            )

        if args.profile:
            print("bench: cProfile of the core first poll (all threads)", flush=True)
            db.fresh("bench_profile")
            env = newswatch_env(feeds_yaml, db.uri("bench_profile"), args.workers)
            # one process: cProfile cannot follow run_once into a process pool's workers, and
            # the question here is which functions the work is made of, not how it is spread
            env["NEWSWATCH_PROCESSES"] = "1"
            env["BENCH_CONFIG"] = json.dumps({"label": "profile", "profile": str(out / "core_first.pstats")})
            run = run_process(
                "core_profile", [py, "-m", "bench.contenders", "core"], env=env, out_dir=out, server=server
            )
            results["runs"]["core_profile"] = run.to_dict()
            _say(run)
            _checkpoint(results, out)
    finally:
        server.stop()

    try:
        if not args.skip_growth:
            sizes = [int(s) for s in args.growth_sizes.split(",") if s.strip()]
            print(f"bench: growth scenario at {', '.join(f'{s:,}' for s in sizes)} articles", flush=True)
            dsns = [db.fresh(f"bench_growth_{s}") for s in sizes]
            env = bench_env(
                {
                    "BENCH_CONFIG": json.dumps(
                        {
                            "sizes": sizes,
                            "dsns": dsns,
                            "new": args.growth_new,
                            "rounds": args.growth_rounds,
                            "daily_rate": args.daily_rate,
                            "seed": args.seed,
                        }
                    )
                }
            )
            run = run_process("growth", [py, "-m", "bench.growth"], env=env, out_dir=out)
            results["runs"]["growth"] = {k: v for k, v in run.to_dict().items() if k != "result"}
            results["growth"] = run.result
            _say(run)
            _checkpoint(results, out)
    finally:
        db.stop()

    from . import report

    results["total_s"] = time.time() - started
    json_path, png, text = report.write(results, out)
    print()
    print(text)
    profile = (results["runs"].get("core_profile") or {}).get("result", {}).get("profile")
    if profile:
        print("\n-- cProfile, core first poll, all threads: top functions by own time --")
        print(
            report.table(
                ["function", "calls", "tottime s", "cumtime s"],
                [
                    [r["function"], f"{r['calls']:,}", f"{r['tottime_s']:.2f}", f"{r['cumtime_s']:.2f}"]
                    for r in profile["top_tottime"][:20]
                ],
            )
        )
        ours = [r for r in profile.get("top_cumtime", []) if "/newswatch/" in r["file"]]
        print("\n-- the same, newswatch functions by cumulative time --")
        print(
            report.table(
                ["function", "calls", "tottime s", "cumtime s"],
                [
                    [r["function"], f"{r['calls']:,}", f"{r['tottime_s']:.2f}", f"{r['cumtime_s']:.2f}"]
                    for r in ours[:20]
                ],
            )
        )
        if profile.get("threads_left_out"):
            print(f"(left out, still running at the end: {', '.join(profile['threads_left_out'])})")
        print(f"(full profile: {profile['pstats']}; CPU clock of each thread)")
    print(report.render_explains(results))
    print(
        f"\nfigures: {json_path}\nchart:   {png}\nreport:  {out / 'report.txt'}  "
        f"(total {results['total_s'] / 60:.1f} min)"
    )
    failed = [k for k, v in results["runs"].items() if v.get("returncode") not in (0, None)]
    if failed:
        print(f"bench: these runs failed: {', '.join(failed)} (logs in {out / 'logs'})", file=sys.stderr)
        return 1
    return 0
