"""Full text of the articles that matter: each page fetched politely, its body extracted
(extract.py), kept in news.article_texts, and the article scored again with it.

Which articles: NEWSWATCH_FULLTEXT = relevant (default) | all | none, first seen in the last
NEWSWATCH_FULLTEXT_DAYS days (`newswatch fulltext --since` backfills), each page once: again only
when its URL changes (a link changed under a GUID) or after a retryable failure (warehouse/texts).

Politeness, on top of the feed fetcher's guards (fetch.py: the SSRF check on every redirect hop,
size and time caps, the User-Agent with a contact address):
  - robots.txt, parsed by protego, cached per origin for a day in news.robots_txt; a robots.txt
    that is missing (4xx) allows everything; one that cannot be read (5xx, 429, unreachable)
    disallows everything, as RFC 9309 says: the origin's pages wait (nothing recorded against
    them) and robots.txt is asked again in an hour, while the copy last read (up to 30 days old)
    stands in for it when there is one; only its first 500 KiB are read (RFC 9309's minimum);
    its Crawl-delay is honoured; a redirect is followed only where robots.txt allows the
    target (checked after fetch.py's SSRF guard) and the target's host is not backing off;
  - a host that answered 429 or 5xx is left alone for a while (news.page_hosts), longer each time;
  - the per-host fetch limit is the one feed polls share (warehouse.spare_host_slot): a page is
    fetched only in the host's last slot and only when it is free, so full-text fetching never
    makes a poll wait for more than one page; a run takes one host's pages one after another.
Pages that must wait (host backing off, or its spare slot busy for long) are left for the next
run, not recorded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import psycopg2
from protego import Protego

from . import google_news, warehouse
from .config import FetchSettings, Settings
from .extract import EXTRACTOR, Extraction, extract_article
from .fetch import FetchResult, fetch, make_session
from .language import detect_language
from .relevance import load_rules, score_with_body
from .urls import decode_google_news_url
from .warehouse import texts
from .warehouse.db import blames_the_data

log = logging.getLogger("newswatch.fulltext")

ROBOTS_TTL = timedelta(hours=24)
ROBOTS_ERROR_TTL = timedelta(hours=1)
ROBOTS_MAX_BYTES = 500 * 1024  # what is read of it (the rest is not fetched), RFC 9309's minimum
ROBOTS_STALE_MAX = timedelta(days=30)  # how old a copy may stand in for an unreadable robots.txt
PAGE_DEADLINE = 60.0
MAX_CRAWL_DELAY = 60.0
BACKOFF_BASE = timedelta(minutes=10)
BACKOFF_MAX = timedelta(hours=12)
# seconds between two questions to Google News: public decoders met 429s when asking faster
GOOGLE_INTERVAL = 1.0
SLOT_PATIENCE = 30.0  # seconds a page waits for its host's spare slot before the next run
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"


# --- pure decisions ---------------------------------------------------------------------------

# fetch.py's failure classes -> article_texts.status
_STATUS_OF_FAILURE = {"too_large": "too_large", "blocked": "blocked"}


# outcomes of pages that were not tried this run ("deferred": this page only, its host's other
# pages go on)
NOT_TRIED = frozenset({"waiting", "deferred"})
NOTHING = texts.Recorded()


class _RedirectRefused(Exception):
    """A page's redirect leads where the page itself could not be fetched (fulltext's own
    check_redirect raises it; fetch lets it through): disallowed for good, or not now (wait)."""

    def __init__(self, detail: str, *, wait: bool):
        super().__init__(detail)
        self.detail, self.wait = detail, wait


def failure_status(result: FetchResult) -> tuple[str, str] | None:
    """(status, detail) for a fetch that brought no page, None when it did."""
    if result.status == "ok":
        return None
    if result.status == "not_modified":
        return "http_error", "HTTP 304 to an unconditional request"
    return _STATUS_OF_FAILURE.get(result.error_class or "", "http_error"), f"{result.error_class}: {result.error}"


def backoff_after(result: FetchResult, failures: int) -> timedelta | None:
    """How long to leave a host alone after this answer: after a 429 or a 5xx, 10 minutes doubling
    with each failure in a row (or what Retry-After asks, if longer), at most 12 hours."""
    status = result.http_status or 0
    if result.error_class != "rate_limited" and not 500 <= status < 600:
        return None
    return backoff_for(failures, result.retry_after)


def backoff_for(failures: int, retry_after: float | None) -> timedelta:
    """10 minutes doubling with each failure in a row, at least what Retry-After asks, at most 12 h."""
    wait = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** min(failures, 10))  # 2**10 x 10 min is past the cap
    if retry_after:
        wait = max(wait, min(BACKOFF_MAX, timedelta(seconds=retry_after)))
    return wait


@dataclass(frozen=True)
class RobotsPolicy:
    """robots.txt of one origin: parsed rules, everything allowed (there is none), or unreadable."""

    parser: Protego | None = None
    unreadable: str | None = None  # why, when it could not be read

    @classmethod
    def from_fetch(cls, http_status: int | None, body: str | None) -> RobotsPolicy:
        if body is not None:
            return cls(Protego.parse(body))
        if http_status is not None and 400 <= http_status < 500 and http_status != 429:
            return cls()  # RFC 9309: a missing robots.txt (4xx) allows everything
        # ... and one that cannot be read (5xx, no answer; 429 "slow down" too, as Google reads
        # it) means "do not crawl" until it can be: the pages wait, they are not disallowed
        return cls(
            unreadable=f"robots.txt could not be read (HTTP {http_status})"
            if http_status
            else "robots.txt could not be read (no answer)"
        )

    def allows(self, url: str, agent: str) -> bool:
        return self.parser.can_fetch(url, agent) if self.parser is not None else self.unreadable is None

    def crawl_delay(self, agent: str) -> float:
        delay = self.parser.crawl_delay(agent) if self.parser is not None else None
        return min(float(delay), MAX_CRAWL_DELAY) if delay else 0.0


def agent_token(user_agent: str) -> str:
    """The product token robots.txt rules are written for ('newswatch' of 'newswatch/0.1 (+...)')."""
    return user_agent.split("/", 1)[0].strip() or user_agent


# as much of the opening as extract._language checks for a script, so both read the same text;
# plenty to tell a language by
LANGUAGE_SAMPLE_CHARS = 2000


def page_language(page: Extraction) -> str | None:
    """The language the page declares (or its CJK script shows); otherwise the language
    identifier's reading of its opening. extract.py leaves undeclared languages to its caller,
    which loads the model it avoids."""
    return page.language or detect_language((page.text or "")[:LANGUAGE_SAMPLE_CHARS])


# --- a run ------------------------------------------------------------------------------------


@dataclass
class FulltextReport:
    candidates: int = 0
    statuses: dict = field(default_factory=dict)
    waiting: int = 0  # host busy or backing off, robots.txt unreadable, a redirect deferred: next run
    relabelled: int = 0  # articles whose relevance or topics changed with their body
    regrouped: int = 0  # articles moved to a story of their own text by the bodies (stories.py)
    seconds: float = 0.0
    skipped: str | None = None  # why nothing was tried (NEWSWATCH_FULLTEXT=none)

    def line(self) -> str:
        if self.skipped:
            return f"full text: {self.skipped}"
        done = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items(), key=lambda kv: -kv[1])) or "none"
        return (
            f"full text: {sum(self.statuses.values())} of {self.candidates} pages fetched ({done}); "
            f"{self.waiting} waiting for their host; {self.relabelled} articles relabelled "
            f"with their body; {self.regrouped} moved to another story by it; {self.seconds:.1f}s"
        )


def page_fetch_settings(settings: Settings) -> FetchSettings:
    return replace(
        settings.fetch, max_body_bytes=settings.fulltext.max_bytes, deadline=min(settings.fetch.deadline, PAGE_DEADLINE)
    )


def run_fulltext(
    settings: Settings,
    dsn: str,
    *,
    since: datetime | None = None,
    limit: int | None = None,
    article_ids: list[int] | None = None,
    everything: bool | None = None,
    rewrite: Callable[[str], str] | None = None,
) -> FulltextReport:
    """Fetch, extract and keep the pages of the articles that need them. `rewrite` maps an
    article's URL to the address to fetch it from (the demo serves its pages locally)."""
    report = FulltextReport()
    if settings.fulltext.mode == "none" and everything is None:
        report.skipped = "off (NEWSWATCH_FULLTEXT=none)"
        return report
    started = time.monotonic()
    everything = settings.fulltext.mode == "all" if everything is None else everything
    since = since or datetime.now(UTC) - timedelta(days=settings.fulltext.days)
    with warehouse.connection(dsn) as conn:
        jobs = texts.candidates(
            conn, everything=everything, since=since, limit=limit or settings.fulltext.limit, article_ids=article_ids
        )
    report.candidates = len(jobs)
    if jobs:
        fetcher = _PageFetcher(settings, dsn, rewrite)
        try:
            outcomes = fetcher.run(jobs)
        finally:
            fetcher.close()
        statuses = Counter(o for o, _ in outcomes if o not in NOT_TRIED)
        report.statuses = dict(statuses)
        report.waiting = sum(1 for o, _ in outcomes if o in NOT_TRIED)
        report.relabelled = sum(1 for _, recorded in outcomes if recorded.relabelled)
        report.regrouped = sum(recorded.moved for _, recorded in outcomes)
    report.seconds = round(time.monotonic() - started, 2)
    log.info("%s", report.line())
    return report


class _PageFetcher:
    """Worker threads, each with its own warehouse connection, sharing one HTTP session, one
    robots cache and the rules."""

    def __init__(self, settings: Settings, dsn: str, rewrite: Callable[[str], str] | None):
        self.settings, self.dsn = settings, dsn
        self.rewrite = rewrite or (lambda url: url)
        # where Google News links are resolved: Google itself, unless a test rewrites it
        google = urlsplit(self.rewrite(f"https://{google_news.HOST}/"))
        self.google_origin = f"{google.scheme}://{google.netloc}"
        self.fetch_settings = page_fetch_settings(settings)
        self.session = make_session(self.fetch_settings, pool_size=max(10, settings.fulltext.workers))
        self.session.headers["Accept"] = PAGE_ACCEPT
        self.agent = agent_token(self.fetch_settings.user_agent)
        self.rules = load_rules(settings.topics_path)
        self.robots: dict[str, RobotsPolicy] = {}
        self.robots_lock = threading.Lock()
        self.local = threading.local()
        self.connections: list = []

    def close(self) -> None:
        self.session.close()
        for conn in self.connections:
            conn.close()

    def run(self, jobs: list[texts.Job]) -> list[tuple[str, texts.Recorded]]:
        """One worker per host at a time, each taking its host's pages in order: at most one page
        in flight per host from this run, politeness delays spent on that host's worker only."""
        by_host: dict[str, list[texts.Job]] = {}
        for job in jobs:
            url = self.rewrite(decode_google_news_url(job.url) or job.url)
            by_host.setdefault((urlsplit(url).hostname or "").lower(), []).append(job)
        with ThreadPoolExecutor(max_workers=self.settings.fulltext.workers, thread_name_prefix="fulltext") as pool:
            return [outcome for outcomes in pool.map(self.host_queue, by_host.values()) for outcome in outcomes]

    def host_queue(self, jobs: list[texts.Job]) -> list[tuple[str, texts.Recorded]]:
        outcomes: list[tuple[str, texts.Recorded]] = []
        for job in jobs:
            outcome = self.one(job)
            outcomes.append(outcome)
            if outcome[0] == "waiting":  # the host cannot be asked now: the rest of its pages wait too
                outcomes += [("waiting", NOTHING)] * (len(jobs) - len(outcomes))
                break
        return outcomes

    def connection(self):
        conn = getattr(self.local, "conn", None)
        if conn is None or conn.closed:
            conn = self.local.conn = warehouse.connect(self.dsn)
            self.connections.append(conn)
        return conn

    def score(self, title: str, summary: str, body: str | None):
        return score_with_body(self.rules, title, summary, body)

    def one(self, job: texts.Job) -> tuple[str, texts.Recorded]:
        """(status, 'waiting' or 'deferred'; what recording it changed)."""
        conn = self.connection()
        try:
            attempt = self.attempt(conn, job)
            if attempt is None:
                return "waiting", NOTHING
            conn.autocommit = False
            recorded = texts.record(conn, attempt, self.score)
            log.info(
                "article %d: %s %s%s",
                job.article_id,
                attempt.status,
                attempt.url,
                f" ({attempt.detail})" if attempt.detail else "",
            )
            return attempt.status, recorded
        except _RedirectRefused as refused:  # another host cannot be asked now: only this page waits
            log.info("article %d: %s; it waits", job.article_id, refused.detail)
            return "deferred", NOTHING
        except (psycopg2.Error, OSError) as exc:
            if isinstance(exc, psycopg2.Error) and blames_the_data(exc):  # this page's data: recorded
                log.exception("article %d: the warehouse refused this page's data", job.article_id)
                conn.rollback()
                return self.record_bug(conn, job, exc), NOTHING
            log.exception("article %d: full text failed", job.article_id)  # the warehouse or the machine
            conn.rollback()
            return "waiting", NOTHING
        except Exception as exc:  # a bug on this page: recorded (final), so it is not hit every run
            log.exception("article %d: full text failed on a bug", job.article_id)
            conn.rollback()
            return self.record_bug(conn, job, exc), NOTHING

    def record_bug(self, conn, job: texts.Job, exc: Exception) -> str:
        try:
            conn.autocommit = False
            texts.record(
                conn,
                texts.TextAttempt(
                    article_id=job.article_id,
                    requested_url=job.requested,
                    url=job.url,
                    status="extract_failed",
                    extractor=EXTRACTOR,
                    fetched_at=datetime.now(UTC),
                    detail=f"newswatch failed on this page: {type(exc).__name__}: {exc}"[:1000],
                ),
                self.score,
            )
        except Exception:
            log.exception("article %d: the failure could not be recorded either", job.article_id)
            conn.rollback()
            return "waiting"
        return "extract_failed"

    def attempt(self, conn, job: texts.Job) -> texts.TextAttempt | None:
        # a Google News link resolves to the publisher's page when its id carries the address
        url = self.rewrite(decode_google_news_url(job.url) or job.url)
        parts = urlsplit(url)
        host, origin = (parts.hostname or "").lower(), f"{parts.scheme}://{parts.netloc}"
        started = datetime.now(UTC)

        def done(status: str, detail: str | None = None, result: FetchResult | None = None, **extra):
            return texts.TextAttempt(
                article_id=job.article_id,
                requested_url=job.requested,
                url=(result.final_url if result else None) or url,
                status=status,
                detail=detail,
                extractor=EXTRACTOR,
                fetched_at=started,
                http_status=result.http_status if result else None,
                duration_ms=int((datetime.now(UTC) - started).total_seconds() * 1000),
                **extra,
            )

        via_google = bool(google_news.article_id(job.url)) and not decode_google_news_url(job.url)
        if via_google:
            resolved = self.resolve_google_news(conn, job.url)
            if resolved is None:
                return None  # Google is backing off or not answering: its links wait
            if resolved.final or not resolved.url:
                detail = f"a Google News link not resolved to its publisher: {resolved.detail}"
                return done(resolved.final or "blocked", detail)
            url = self.rewrite(resolved.url)
            parts = urlsplit(url)
            host, origin = (parts.hostname or "").lower(), f"{parts.scheme}://{parts.netloc}"
        elif host == google_news.HOST:
            return done("blocked", "a news.google.com address that is not an article link")

        def wait(why: str) -> texts.TextAttempt | None:
            """None: this host's pages wait. A page reached through Google News is in the Google
            links' queue, which goes on: only this page waits ('deferred')."""
            if via_google:
                raise _RedirectRefused(f"resolved to {url}, whose host {why}", wait=True)
            return None

        conn.autocommit = True
        state = texts.host_state(conn, host)
        if state.backing_off(started):
            return wait("is backing off")
        policy = self.robots_policy(conn, origin)
        if policy.unreadable:
            log.info("%s: %s; its pages wait", origin, policy.unreadable)
            return wait(f"robots.txt cannot be read ({policy.unreadable})")
        if not policy.allows(url, self.agent):
            return done("robots_disallowed", f"{origin}/robots.txt disallows this page for {self.agent}")
        delay = policy.crawl_delay(self.agent)
        if delay:
            time.sleep(state.seconds_to_wait(delay, datetime.now(UTC)))
        try:
            result = self.fetch_in_spare_slot(conn, host, url, lambda target: self.check_redirect(conn, host, target))
        except _RedirectRefused as refused:
            if refused.wait:
                raise
            return done("robots_disallowed", refused.detail)
        if result is None:
            return wait("has no spare slot")
        backoff = backoff_after(result, state.failures)
        texts.host_fetched(
            conn,
            host,
            backoff=backoff,
            reason=f"HTTP {result.http_status} {result.error_class or ''}".strip() if backoff else None,
        )
        failed = failure_status(result)
        if failed:
            return done(*failed, result=result)
        page = extract_article(
            result.body or b"", url=result.final_url or url, content_type=result.content_type, feed_summary=job.summary
        )
        return done(
            page.status,
            page.detail,
            result,
            text=page.text,
            word_count=page.word_count or None,
            language=page_language(page),
            title=page.title,
            author=page.author,
            published_at=page.published,
        )

    def resolve_google_news(self, conn, link: str) -> google_news.Resolution | None:
        """The publisher's URL behind an opaque Google News link, asking Google as politely as
        any host: its robots.txt for every address asked, its back-off, a spare slot, one
        question at a time (the Google links share one worker queue) and at least
        GOOGLE_INTERVAL apart. None: Google cannot be asked now, or did not answer (backed off)."""
        conn.autocommit = True
        state = texts.host_state(conn, google_news.HOST)
        if state.backing_off(datetime.now(UTC)):
            return None
        policy = self.robots_policy(conn, self.google_origin)
        if policy.unreadable:
            return None
        time.sleep(state.seconds_to_wait(max(GOOGLE_INTERVAL, policy.crawl_delay(self.agent)), datetime.now(UTC)))
        with warehouse.spare_host_slot(conn, google_news.HOST, self.settings.fetch.max_per_host) as held:
            if not held:
                return None
            found = google_news.resolve(
                link,
                session=self.session,
                settings=self.fetch_settings,
                allowed=lambda url: policy.allows(url, self.agent),
                base=self.google_origin,
            )
        backoff = backoff_for(state.failures, found.retry_after) if found.unavailable else None
        texts.host_fetched(conn, google_news.HOST, backoff=backoff, reason=found.detail[:300] if backoff else None)
        log.info("Google News link %s: %s%s", link, found.detail, f" -> {found.url}" if found.url else "")
        return None if found.unavailable else found

    def check_redirect(self, conn, host: str, target: str) -> None:
        """A redirect is followed only where the page itself could be fetched: robots.txt of the
        target's origin allows it and the target's host is not backing off. (The target host's
        fetch slot is not taken: the page holds its first host's.)"""
        parts = urlsplit(target)
        policy = self.robots_policy(conn, f"{parts.scheme}://{parts.netloc}")
        if policy.unreadable:
            raise _RedirectRefused(f"redirected to {target}: {policy.unreadable}", wait=True)
        if not policy.allows(target, self.agent):
            raise _RedirectRefused(f"redirected to {target}, which robots.txt disallows for {self.agent}", wait=False)
        target_host = (parts.hostname or "").lower()
        if target_host != host:
            state = texts.host_state(conn, target_host)
            if state.backing_off(datetime.now(UTC)):
                raise _RedirectRefused(f"redirected to {target_host}, which is backing off", wait=True)

    def fetch_in_spare_slot(
        self, conn, host: str, url: str, check_redirect: Callable[[str], None]
    ) -> FetchResult | None:
        """Fetch `url` in its host's spare slot, waiting a little while the polls hold it; None
        when it stays taken (the page waits for the next run)."""
        deadline = time.monotonic() + SLOT_PATIENCE
        while True:
            with warehouse.spare_host_slot(conn, host, self.settings.fetch.max_per_host) as held:
                if held:
                    return fetch(url, settings=self.fetch_settings, session=self.session, check_redirect=check_redirect)
            if time.monotonic() > deadline:
                return None
            time.sleep(0.5)

    def robots_policy(self, conn, origin: str) -> RobotsPolicy:
        with self.robots_lock:
            known = self.robots.get(origin)
        if known is not None:
            return known
        row = texts.robots_get(conn, origin)
        policy = self.read_robots(conn, origin) if row is None else RobotsPolicy.from_fetch(row.http_status, row.body)
        with self.robots_lock:
            self.robots[origin] = policy
        return policy

    def read_robots(self, conn, origin: str) -> RobotsPolicy:
        robots_settings = replace(self.fetch_settings, max_body_bytes=ROBOTS_MAX_BYTES, truncate_body=True)
        # the copy last read, if it was a file: asked for with its validators, a 304 confirms it
        last = texts.robots_last_read(conn, origin, ROBOTS_STALE_MAX)
        known = last if last is not None and last.body is not None else None
        result = fetch(
            f"{origin}/robots.txt",
            settings=robots_settings,
            session=self.session,
            etag=known.etag if known else None,
            last_modified=known.last_modified if known else None,
        )
        if result.status == "not_modified" and known is not None:
            texts.robots_put(
                conn,
                origin,
                known.http_status,
                known.body,
                ROBOTS_TTL,
                etag=result.etag or known.etag,
                last_modified=result.last_modified or known.last_modified,
            )
            return RobotsPolicy.from_fetch(known.http_status, known.body)
        status, body = result.http_status, None
        if result.status == "ok":  # an empty robots.txt allows everything
            body = (result.body or b"").decode("utf-8", "replace").replace("\x00", "")
        policy = RobotsPolicy.from_fetch(status, body)
        if not policy.unreadable:
            texts.robots_put(
                conn, origin, status, body, ROBOTS_TTL, etag=result.etag, last_modified=result.last_modified
            )
            return policy
        texts.robots_unreadable(conn, origin, status, ROBOTS_ERROR_TTL, ROBOTS_STALE_MAX)  # keeps a recent copy
        if last is not None:
            log.info(
                "%s: %s; the copy read at %s stands in", origin, policy.unreadable, f"{last.fetched_at:%Y-%m-%d %H:%M}"
            )
            return RobotsPolicy.from_fetch(last.http_status, last.body)
        return policy
