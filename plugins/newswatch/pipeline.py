"""The pipeline's steps, shared by the Airflow DAG and `newswatch run`:

    prepare (migrate, sync feeds, pick the feeds that are due)
      -> poll_feed for each feed (fetch, parse, normalise, score, fingerprint, stage)
      -> merge (dedupe, revisions, stories, load)
      -> finish (summary)

Each step takes plain values (feed names, a run id, settings) and returns small reports, so the
DAG passes only names and counts through XCom and the CLI runs the same code in one process.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import psycopg2
import requests

from . import summary, warehouse
from .config import Settings, load_feeds, load_outlet_types
from .errors import ConfigError, FeedParseError, HostBusy, NotAFeed, WarehouseNotConfigured
from .feedstate import Outcome, body_unchanged, decide, is_due
from .fetch import FetchResult, fetch, make_session
from .fingerprints import fingerprint
from .normalize import Article, Rejected, normalize_entry, raw_for_storage
from .parse import parse_feed
from .relevance import Rules, load_rules, score_with_body
from .stopwatch import Stopwatch
from .story_index import StoryKeyIndex
from .summary import RunSummary

log = logging.getLogger("newswatch")


def warehouse_dsn(settings: Settings) -> str:
    if not settings.warehouse_dsn:
        raise WarehouseNotConfigured(
            "no warehouse configured: set AIRFLOW_CONN_NEWS_WAREHOUSE (e.g. "
            "postgresql://user:pass@host:5432/newswatch), or use `make run`, which starts an "
            "embedded PostgreSQL"
        )
    return settings.warehouse_dsn


# --- prepare --------------------------------------------------------------------------------


@dataclass
class Plan:
    run_id: str
    due: list[str]
    not_due: list[str]
    disabled: list[str]


def prepare(
    settings: Settings,
    run_id: str,
    trigger: str,
    *,
    force: bool = False,
    only: list[str] | None = None,
    dsn: str | None = None,
) -> Plan:
    """Validate the feeds file (before anything else: a bad file stops the run), migrate the
    warehouse, sync the feeds table and choose the feeds to poll."""
    feeds = load_feeds(settings.feeds_path)
    if only:
        unknown = sorted(set(only) - {f.name for f in feeds})
        if unknown:
            raise ConfigError(f"unknown feed(s) {', '.join(unknown)} (not in {settings.feeds_path})")
    with warehouse.connection(dsn or warehouse_dsn(settings)) as conn:
        applied = warehouse.migrate(conn)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        warehouse.sync_feeds(conn, feeds)
        warehouse.sync_outlet_types(conn, load_outlet_types(settings.outlets_path))
        warehouse.start_run(conn, run_id, trigger)
        states = warehouse.load_feed_states(conn)
    now = datetime.now(UTC)
    due, not_due, disabled = [], [], []
    for state in states:
        if only and state.name not in only:
            continue
        if not state.enabled:
            disabled.append(state.name)
        elif is_due(state, now, force=force or bool(only)):
            due.append(state.name)
        elif state.disabled_reason:
            disabled.append(state.name)
        else:
            not_due.append(state.name)
    log.info("run %s: %d feed(s) due, %d not due yet, %d disabled", run_id, len(due), len(not_due), len(disabled))
    return Plan(run_id, due, not_due, disabled)


# --- poll one feed --------------------------------------------------------------------------


@dataclass
class FeedReport:
    feed: str
    status: str
    http_status: int | None = None
    error_class: str | None = None
    error: str | None = None
    entries_seen: int = 0
    staged: int = 0
    rejected: int = 0
    relevant: int = 0
    seconds: float = 0.0
    moved_to: str | None = None
    disabled: bool = False
    timings: dict = field(default_factory=dict)

    def line(self) -> str:
        if self.status == "error":
            return f"{self.feed}: FAILED {self.error_class} — {self.error}"
        if self.status == "skipped":
            return f"{self.feed}: skipped ({self.error_class}) — {self.error}"
        if self.status == "not_modified":
            return f"{self.feed}: not modified (HTTP {self.http_status}) in {self.seconds:.1f}s"
        return (
            f"{self.feed}: ok (HTTP {self.http_status}) {self.entries_seen} entries, "
            f"{self.staged} staged, {self.rejected} rejected, {self.relevant} relevant "
            f"in {self.seconds:.1f}s"
        )


def poll_feed(
    settings: Settings,
    run_id: str,
    feed_name: str,
    *,
    dsn: str | None = None,
    task: str | None = None,
    session: requests.Session | None = None,
    rules: Rules | None = None,
    conn: warehouse.PgConnection | None = None,
) -> FeedReport:
    """Fetch one feed and stage its entries. A feed's own failure (network, HTTP, parse) is an
    outcome, recorded in fetch_log and returned; warehouse trouble raises. `conn`, when given,
    is used and left open (poll_feeds keeps one per thread); otherwise one is opened for the feed."""
    if conn is not None:
        try:
            return _poll_feed(settings, run_id, feed_name, dsn=dsn, session=session, rules=rules, conn=conn, task=task)
        except Exception:
            # leave the shared connection clean for the thread's next feed, holding no locks
            # until then; a connection that is gone is replaced by poll_feeds
            with contextlib.suppress(psycopg2.Error):
                conn.rollback()
            raise
    return _poll_feed(settings, run_id, feed_name, dsn=dsn, session=session, rules=rules, conn=None, task=task)


def _poll_feed(
    settings: Settings,
    run_id: str,
    feed_name: str,
    *,
    dsn,
    session,
    rules,
    conn: warehouse.PgConnection | None,
    task: str | None,
) -> FeedReport:
    from urllib.parse import urlsplit

    rules = rules or load_rules(settings.topics_path)
    watch = Stopwatch()
    t0 = time.monotonic()
    with (
        contextlib.nullcontext(conn) if conn is not None else warehouse.connection(dsn or warehouse_dsn(settings))
    ) as conn:
        conn.autocommit = True
        with warehouse.claim(conn, feed_name) as held:
            if not held:
                return _skip(
                    conn,
                    run_id,
                    feed_name,
                    "",
                    "claimed",
                    "another poll (another run or worker) is fetching this feed now",
                    t0,
                    task,
                )
            info = warehouse.load_feed(conn, feed_name)  # after the claim: the latest validators
            state = info.state
            started_at = datetime.now(UTC)
            try:
                with (
                    watch("fetch"),
                    warehouse.host_slot(
                        conn,
                        (urlsplit(state.url).hostname or "").lower(),
                        settings.fetch.max_per_host,
                        settings.fetch.host_slot_wait,
                    ),
                ):
                    result = fetch(
                        state.url,
                        settings=settings.fetch,
                        etag=state.etag,
                        last_modified=state.last_modified,
                        session=session,
                    )
            except HostBusy as exc:
                return _skip(conn, run_id, feed_name, state.url, "busy", str(exc), t0, task)
            conn.autocommit = False
            with _COMPUTING:
                report, record, decision, staged, rejects = _process(
                    settings, run_id, info, result, rules, started_at, watch
                )
            record.finished_at = datetime.now(UTC)
            record.airflow_task = task
            with watch("record"):
                record.timings = watch.as_dict()
                warehouse.record_fetch(conn, record, decision, staged, rejects, config_url=info.config_url)
        report.seconds = time.monotonic() - t0
        report.timings = watch.as_dict()
    level = logging.WARNING if report.status == "error" else logging.INFO
    log.log(level, "feed %s", report.line())
    if report.moved_to:
        log.warning("feed %s: permanently redirected on several polls; now polling %s", feed_name, report.moved_to)
    if report.disabled:
        log.error("feed %s: disabled — %s", feed_name, decision.state.disabled_reason)
    return report


# Parsing, normalising, scoring and fingerprinting a fetched feed is pure CPU work: under the GIL
# one thread at a time does it anyway, and fetching threads computing side by side took turns
# every 5 ms, which cost 10-15% more CPU than computing one feed after another (measured with 4
# threads on 250 feeds). They take turns feed by feed instead; fetching and the warehouse's
# writes still overlap with the computing.
_COMPUTING = threading.Lock()


def _skip(
    conn, run_id: str, feed_name: str, url: str, reason: str, detail: str, t0: float, task: str | None
) -> FeedReport:
    warehouse.record_skip(conn, run_id, feed_name, url, reason, detail, task)
    report = FeedReport(
        feed=feed_name, status="skipped", error_class=reason, error=detail, seconds=time.monotonic() - t0
    )
    log.log(logging.WARNING if reason == "busy" else logging.INFO, "feed %s", report.line())
    return report


def _process(settings, run_id, info, result: FetchResult, rules: Rules, started_at, watch: Stopwatch):
    state = info.state
    parsed = None
    status, error_class, error = result.status, result.error_class, result.error
    skip_parse = body_unchanged(state, _outcome(result, None))
    if status == "ok" and not skip_parse:
        assert result.body is not None  # an 'ok' fetch always carries its body
        try:
            with watch("parse"):
                parsed = parse_feed(result.body, content_type=result.content_type, url=result.final_url or result.url)
        except NotAFeed as exc:
            status, error_class, error = "error", "not_a_feed", str(exc)
        except FeedParseError as exc:
            status, error_class, error = "error", "parse_error", str(exc)
    outcome = _outcome(result, parsed, status=status, error_class=error_class)
    now = datetime.now(UTC)
    decision = decide(state, outcome, now)

    staged: list[warehouse.StagedRow] = []
    rejects: list[warehouse.RejectRow] = []
    if parsed is not None and status == "ok":
        staged, rejects = _stage_entries(run_id, info, parsed, rules, started_at, watch)
    record = warehouse.FetchRecord(
        feed_name=info.name,
        run_id=run_id,
        started_at=started_at,
        finished_at=started_at,
        status=decision.log_status if status != "error" else "error",
        url=result.url,
        final_url=result.final_url,
        http_status=result.http_status,
        error_class=error_class,
        error=error,
        bytes=len(result.body) if result.body is not None else None,
        body_unchanged=decision.body_unchanged,
        entries_seen=len(parsed.entries) if parsed is not None else 0,
        parse_warning=(parsed.bozo if parsed is not None else None),
    )
    if parsed is not None and parsed.bozo:
        log.warning("feed %s: ill-formed document recovered (%s)", info.name, parsed.bozo)
    report = FeedReport(
        feed=info.name,
        status=record.status,
        http_status=result.http_status,
        error_class=error_class,
        error=error,
        entries_seen=record.entries_seen,
        staged=len(staged),
        rejected=len(rejects),
        relevant=sum(r.is_relevant for r in staged),
        moved_to=decision.url_moved_to,
        disabled=decision.disabled,
    )
    return report, record, decision, staged, rejects


def _stage_entries(run_id: str, info, parsed, rules: Rules, started_at: datetime, watch: Stopwatch):
    """Each entry normalised, scored and fingerprinted inside its own guard: an entry that
    cannot be (over a limit, no link, or anything it makes fail) becomes a reject with the
    reason, and its siblings load.

    Each step runs over the whole feed before the next starts (every entry normalised, then
    the articles scored, then fingerprinted): a step's code and data stay in the CPU's caches,
    which took 13% less CPU than taking each entry through all three (measured on the
    benchmark's corpus)."""
    rejects: list[tuple[int, warehouse.RejectRow]] = []
    articles: list[tuple[int, Article]] = []
    with watch("normalise"):
        for position, entry in enumerate(parsed.entries):
            try:
                article = normalize_entry(
                    entry,
                    fetched_at=started_at,
                    feed_outlet=info.outlet,
                    feed_language=info.language,
                    feed_title=parsed.title,
                    document_language=parsed.language,
                    feed_timezone=info.timezone,
                )
            except Exception as exc:  # noqa: BLE001 - one entry's failure must not cost its siblings
                rejects.append((position, _entry_error(info.name, position, entry, exc)))
                continue
            if isinstance(article, Rejected):
                rejects.append((position, warehouse.RejectRow(article.reason, article.detail, _raw(entry))))
            else:
                articles.append((position, article))
    staged: list[warehouse.StagedRow] = []
    scored = _SCORED.get_many(run_id, rules, [a for _, a in articles], watch)
    for (position, article), result in zip(articles, scored, strict=True):
        try:
            if isinstance(result, Exception):
                raise result
            staged.append(warehouse.StagedRow.of(position, article, *result))
        except Exception as exc:  # noqa: BLE001 - one entry's failure must not cost its siblings
            rejects.append((position, _entry_error(info.name, position, parsed.entries[position], exc)))
    rejects.sort(key=lambda r: r[0])
    return staged, [reject for _, reject in rejects]


def _entry_error(feed_name: str, position: int, entry, exc: Exception) -> warehouse.RejectRow:
    log.warning(
        "feed %s: entry %d could not be processed (%s: %s); kept in news.rejects",
        feed_name,
        position,
        type(exc).__name__,
        exc,
    )
    return warehouse.RejectRow("entry_error", f"{type(exc).__name__}: {exc}"[:2000], _raw(entry))


class _ScoredTexts:
    """The relevance and fingerprint of the texts (headline and summary) this process computed
    lately. A wire story or an aggregator's item reaches many feeds with the same text under
    other URLs (30% of the benchmark's entries; poll processes take feeds in turn, so a repeat
    often lands where its first copy was computed): its scoring and fingerprinting are the same
    and are done once. Keyed by the text's SHA-1 (normalize.content_hash) so no text is kept;
    bounded, about 50 MB at most; kept for one run (the next starts afresh, with the code and
    rules it has then); only ever used under _COMPUTING."""

    SIZE = 32_000

    def __init__(self) -> None:
        self.run: tuple[str, Rules] | None = None
        self.texts: OrderedDict[str, tuple] = OrderedDict()

    def get_many(self, run_id: str, rules: Rules, articles: list, watch: Stopwatch) -> list:
        """(relevance, fingerprint) for each article, in order, or the exception computing it
        raised (that article's alone). Texts not known yet are scored all together, then
        fingerprinted all together, each text once however often it repeats."""
        if self.run is None or self.run[0] != run_id or self.run[1] is not rules:
            self.run, self.texts = (run_id, rules), OrderedDict()
        answers: dict[str, object] = {}  # content hash -> (relevance, fingerprint) or the exception
        todo: dict[str, object] = {}  # content hash -> an article with that text, not known yet
        for article in articles:
            key = article.content_hash
            if key in answers or key in todo:
                continue
            known = self.texts.get(key)
            if known is not None:
                self.texts.move_to_end(key)
                answers[key] = known
            else:
                todo[key] = article
        scores = _each(todo, lambda a: rules.score(a.title, a.summary), watch, "relevance")
        scored = {key: a for key, a in todo.items() if not isinstance(scores[key], Exception)}
        fps = _each(scored, lambda a: fingerprint(a.title, a.summary), watch, "fingerprint")
        for key in todo:
            score, fp = scores[key], fps.get(key)
            if isinstance(score, Exception) or isinstance(fp, Exception):
                answers[key] = score if isinstance(score, Exception) else fp
                continue
            answers[key] = self.texts[key] = (score, fp)
            if len(self.texts) > self.SIZE:
                self.texts.popitem(last=False)
        return [answers[a.content_hash] for a in articles]


def _each(articles: dict, compute, watch: Stopwatch, stage: str) -> dict:
    """compute(article) for each, keyed as given; an exception is kept as that one's result."""
    results: dict = {}
    if not articles:
        return results  # no time recorded for a stage that had nothing to do
    with watch(stage):
        for key, article in articles.items():
            try:
                results[key] = compute(article)
            except Exception as exc:  # noqa: BLE001 - handed back to its own entry
                results[key] = exc
    return results


_SCORED = _ScoredTexts()


def _raw(entry) -> dict:
    try:
        return raw_for_storage(entry.raw)
    except Exception as exc:  # noqa: BLE001 - the reject is kept even when its raw entry cannot be
        return {"unstorable": f"{type(exc).__name__}: {exc}"[:500]}


def _outcome(result: FetchResult, parsed, *, status: str | None = None, error_class: str | None = None) -> Outcome:
    return Outcome(
        status=status or result.status,
        http_status=result.http_status,
        error_class=error_class or result.error_class,
        etag=result.etag,
        last_modified=result.last_modified,
        body_hash=result.body_hash,
        permanent_redirect=result.permanent_redirect,
        retry_after=result.retry_after,
        cache_max_age=result.cache_max_age,
        ttl_minutes=parsed.ttl_minutes if parsed is not None else None,
        update_period_minutes=parsed.update_period_minutes if parsed is not None else None,
    )


# --- merge and summary ----------------------------------------------------------------------


def merge(settings: Settings, *, dsn: str | None = None) -> warehouse.MergeResult:
    with warehouse.connection(dsn or warehouse_dsn(settings)) as conn:
        # cheap when up to date; lets a merge run (and find nothing) even if prepare failed
        warehouse.migrate(conn)
        result = warehouse.merge_pending(conn, score_with_body=body_scorer(settings))
    _log_merge(result)
    return result


def body_scorer(settings: Settings):
    """How the merge scores a revised article whose page was already fetched: its new headline
    and summary with its stored body, under the run's rules (as fulltext.py scored it)."""
    return functools.partial(score_with_body, load_rules(settings.topics_path))


def _log_merge(result: warehouse.MergeResult) -> None:
    log.info(
        "merge: %d entries -> %d new articles, %d updated, %d seen again; %d relevant; "
        "%d new stories, %d articles joined existing stories",
        result.entries,
        result.new,
        result.updated,
        result.sightings,
        result.relevant,
        result.stories_new,
        result.stories_joined,
    )


def finish(
    settings: Settings,
    run_id: str,
    merge_result: dict | None,
    plan: Plan | dict | None = None,
    *,
    dsn: str | None = None,
    fulltext_report: dict | None = None,
) -> RunSummary:
    return summary.finish(
        dsn or warehouse_dsn(settings),
        run_id,
        merge_result,
        asdict(plan) if isinstance(plan, Plan) else plan,
        fulltext_report,
    )


# --- many feeds ---------------------------------------------------------------------------


def poll_feeds(
    settings: Settings,
    run_id: str,
    names: list[str],
    *,
    dsn: str | None = None,
    task: str | None = None,
    workers: int | None = None,
) -> list[FeedReport]:
    """Poll several feeds with a thread pool (one HTTP session, one rules object). A feed that
    cannot even be recorded is reported as failed; the others go on."""
    from concurrent.futures import ThreadPoolExecutor

    if not names:
        return []
    import threading

    dsn = dsn or warehouse_dsn(settings)
    rules = load_rules(settings.topics_path)
    workers = max(1, min(workers or settings.workers, len(names)))
    session = make_session(settings.fetch, pool_size=max(10, workers))
    # One warehouse connection per thread, not per feed: opening one cost about a third of
    # polling a feed that answers 304.
    local, opened = threading.local(), []

    def thread_connection():
        conn = getattr(local, "conn", None)
        if conn is None or conn.closed:
            conn = local.conn = warehouse.connect(dsn)
            opened.append(conn)
        return conn

    def one(name: str) -> FeedReport:
        try:
            return poll_feed(
                settings, run_id, name, dsn=dsn, task=task, session=session, rules=rules, conn=thread_connection()
            )
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            # the warehouse is unreachable: nothing can be recorded for any feed; let the task
            # fail and be retried (the polled content is fetched again then)
            raise
        except Exception as exc:
            log.exception("feed %s: could not be recorded: %s", name, exc)
            error = f"{type(exc).__name__}: {exc}".strip()
            warehouse.record_internal_failure(dsn, run_id, name, error, task)
            return FeedReport(feed=name, status="error", error_class="internal", error=error)

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="poll") as pool:
            return list(pool.map(one, names))
    finally:
        session.close()
        for conn in opened:
            conn.close()


MIN_FEEDS_PER_PROCESS = 100


def _worth_processes(feeds: int, processes: int) -> bool:
    # Spawning a process and importing the pipeline costs a couple of seconds: worth it for
    # hundreds of feeds, not for the usual few dozen.
    return processes > 1 and feeds >= MIN_FEEDS_PER_PROCESS * processes


def poll_feeds_in_processes(settings: Settings, run_id: str, names: list[str], processes: int) -> list[FeedReport]:
    """Parsing, normalising and scoring are CPU work that threads cannot share out under the
    GIL: spread the feeds over `processes` processes, each fetching with its share of the
    `settings.workers` threads, so as many requests are in flight as with threads alone."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if not _worth_processes(len(names), processes):
        return poll_feeds(settings, run_id, names)
    threads = max(1, settings.workers // processes)
    size = max(1, min(25, len(names) // (processes * 4)))  # small chunks keep the processes evenly busy
    chunks = [names[i : i + size] for i in range(0, len(names), size)]
    # spawn, not fork: a forked child would inherit thread pools (DNS resolution) without threads
    with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(poll_feeds, settings, run_id, chunk, workers=threads) for chunk in chunks]
        return [report for future in futures for report in future.result()]


# --- everything, in one process -------------------------------------------------------------


def run_once(
    settings: Settings, run_id: str, *, force: bool = False, only: list[str] | None = None, trigger: str = "cli"
) -> RunSummary:
    """The whole pipeline without Airflow: the same steps; fetches in threads, spread over
    `settings.processes` processes."""
    plan = prepare(settings, run_id, trigger, force=force, only=only)
    if _worth_processes(len(plan.due), settings.processes):
        merged = _poll_and_merge_together(settings, run_id, plan.due)
    else:
        poll_feeds(settings, run_id, plan.due)
        merged = merge(settings)
    texts = _fulltext_after_merge(settings)
    return finish(settings, run_id, asdict(merged), plan, fulltext_report=texts)


def _fulltext_after_merge(settings: Settings) -> dict:
    """The run's full-text step. Polling's work is loaded by now, and a failure here must neither
    affect it nor cost the run its summary: an unexpected exception (a bug) is logged once, with
    its traceback, and reported in the summary. (`newswatch fulltext` and the full-text DAG call
    `fulltext` itself, where a bug fails the command or the task.)"""
    try:
        return fulltext(settings)
    except Exception as exc:
        log.exception("full text: the step failed on a bug; the run is summarised without it")
        return _failed_fulltext(exc, "on a bug, see the log")


def _failed_fulltext(exc: Exception, cause: str) -> dict:
    """The summary's report of a full-text step that failed: `failed` set, the error's first line
    (a database error's message runs over several) and the summary's line saying so."""
    first_line = next(iter(str(exc).strip().splitlines()), "")
    error = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
    line = f"full text: FAILED {cause} ({error}); the pages wait for the next run"
    return {"failed": True, "error": error, "line": line}


def fulltext(settings: Settings, *, raise_errors: bool = False, **kwargs) -> dict:
    """The full-text step after a merge (NEWSWATCH_FULLTEXT), as a report for the summary. It
    runs after the run's own work is loaded: whatever happens here, the articles are in. The
    full-text DAG passes raise_errors=True: there the step is the task, and a warehouse it
    cannot reach must fail it so Airflow retries and shows it, not end green having done nothing."""
    from .fulltext import run_fulltext

    try:
        report = run_fulltext(settings, warehouse_dsn(settings), **kwargs)
    except (psycopg2.Error, OSError) as exc:
        if raise_errors:
            raise
        # the warehouse or the machine, not a bug: one line, no traceback
        log.error("full text: the step failed (%s: %s); the pages wait for the next run", type(exc).__name__, exc)
        return _failed_fulltext(exc, "in the warehouse or the machine")
    return {**asdict(report), "line": report.line()}


MERGE_WHILE_POLLING_EVERY_S = 1.0


def _poll_and_merge_together(settings: Settings, run_id: str, names: list[str]) -> warehouse.MergeResult:
    """A large poll runs in child processes while this one would only wait: merge what they
    have staged so far meanwhile, so the merge's client work and the database's run alongside the
    polling instead of after it. Whatever is left, or whatever a failed early merge left pending,
    is merged at the end; batches committed before a failure still count in the result.

    What merging early changes besides the timing: when several feeds bring a new article, the
    fullest text wins only among entries merged in the same batch (dedupe.plan_merge). A poll this
    large is merged in several batches anyway (MERGE_BATCH entries each), so its articles could
    already take the text of whichever copy was staged first; merging early makes that more
    frequent. Later copies are still recorded as sightings."""
    import threading

    merged = warehouse.MergeResult()
    polling_done = threading.Event()
    scorer = body_scorer(settings)
    # one set of story keys for every merge of this poll: the window is read once, not per merge
    story_keys = StoryKeyIndex()

    def merge_as_staged() -> None:
        try:
            with warehouse.connection(warehouse_dsn(settings)) as conn:
                while not polling_done.wait(MERGE_WHILE_POLLING_EVERY_S):
                    warehouse.merge_pending(conn, into=merged, score_with_body=scorer, story_keys=story_keys)
        except Exception:  # the final merge retries what is pending and raises if it still fails
            log.exception("merge while polling failed; the rest is merged after polling")

    merger = threading.Thread(target=merge_as_staged, name="merge-while-polling", daemon=True)
    merger.start()
    try:
        poll_feeds_in_processes(settings, run_id, names, settings.processes)
    finally:
        polling_done.set()
        merger.join()
    with warehouse.connection(warehouse_dsn(settings)) as conn:
        warehouse.merge_pending(conn, into=merged, score_with_body=scorer, story_keys=story_keys)
    _log_merge(merged)
    return merged
