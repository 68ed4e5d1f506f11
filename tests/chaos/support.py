"""What the chaos tests share: settings for a run, waiting for a condition, and the accounting
that every chaos case ends with (every fetched entry in articles or in rejects, nothing pending,
every article's text the one its feed served)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg2

from newswatch.config import FetchSettings, Settings

ROOT = Path(__file__).resolve().parents[2]
LOADED_OUTCOMES = ("new", "updated", "sighting")


def settings_for(feeds: dict[str, str], dsn: str, folder: Path, **fetch_overrides) -> Settings:
    """Settings for a run against `dsn` polling `feeds` ({name: url}), with the feeds file
    written to `folder`. Timeouts are short unless a test needs a fetch to outlast something."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "feeds.yaml"
    path.write_text(
        "feeds:\n"
        + "".join(f'  - name: {name}\n    url: "{url}"\n    outlet: Outlet {name}\n' for name, url in feeds.items())
    )
    fetch = replace(
        FetchSettings(allow_private_networks=True, connect_timeout=2, read_timeout=5, deadline=10, max_per_host=8),
        **fetch_overrides,
    )
    return Settings(
        feeds_path=path,
        topics_path=ROOT / "config" / "topics.yaml",
        warehouse_dsn=dsn,
        fetch=fetch,
        workers=4,
        processes=1,
    )


def wait_until(condition, *, timeout: float, what: str, every: float = 0.05):
    """Wait for `condition()` to return something truthy (and return it): for events that only
    show up in a database or a server's request log, which cannot be waited on directly."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def query(dsn: str, sql: str, params=()) -> list[tuple]:
    """Rows of one query on a connection of its own (so a test never holds a transaction open
    across the thing it watches)."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params or None)
            return cur.fetchall()
    finally:
        conn.close()


def scalar(dsn: str, sql: str, params=()):
    return query(dsn, sql, params)[0][0]


@dataclass
class Accounting:
    """Where a set of fetches' entries went."""

    fetched: int = 0  # entries_seen, summed over the fetches
    in_articles: int = 0  # staged and merged as new / updated / sighting
    in_rejects: int = 0  # rejects with a reason (at the door, or quarantined by the merge)
    pending: int = 0  # staged and not merged yet: must be 0 after a run


def account_for_runs(dsn: str, run_ids: list[str]) -> Accounting:
    """Check, fetch by fetch, that every entry a fetch saw was staged or rejected (and the
    counts it logged say so), that every staged entry was merged into an article, and that every
    reject carries a reason; return the totals."""
    fetches = query(
        dsn,
        """SELECT fetch_id, feed_name, status, entries_seen, entries_staged, entries_rejected,
                                   (SELECT count(*) FROM news.staged_entries s WHERE s.fetch_id = f.fetch_id),
                                   (SELECT count(*) FROM news.rejects r
                                     WHERE r.fetch_id = f.fetch_id AND r.staged_id IS NULL)
                            FROM news.fetch_log f WHERE run_id = ANY(%s) ORDER BY fetch_id""",
        (run_ids,),
    )
    totals = Accounting()
    # rejects "at the door" (normalisation refused the entry) have no staged_id; rejects of staged
    # entries the database refused at merge time (quarantined) have one, and count below
    for fetch_id, feed, status, seen, staged_logged, rejected_logged, staged, rejected in fetches:
        where = f"fetch {fetch_id} of feed {feed} ({status})"
        assert staged == staged_logged, f"{where}: logged {staged_logged} staged, {staged} in staged_entries"
        assert rejected == rejected_logged, f"{where}: logged {rejected_logged} rejected, {rejected} in rejects"
        assert seen == staged + rejected, f"{where}: saw {seen} entries, staged {staged} + rejected {rejected}"
        totals.fetched += seen
    outcomes = dict(
        query(
            dsn,
            """SELECT coalesce(s.outcome, 'pending'), count(*) FROM news.staged_entries s
                                  JOIN news.fetch_log f USING (fetch_id) WHERE f.run_id = ANY(%s)
                                  GROUP BY 1""",
            (run_ids,),
        )
    )
    totals.pending = outcomes.pop("pending", 0)
    quarantined = outcomes.pop("failed", 0)  # staged, then refused by the database: in rejects
    assert set(outcomes) <= set(LOADED_OUTCOMES), f"unexpected staged outcomes {outcomes}"
    totals.in_articles = sum(outcomes.values())
    totals.in_rejects = scalar(dsn, "SELECT count(*) FROM news.rejects WHERE run_id = ANY(%s)", (run_ids,))
    assert totals.in_rejects == sum(r for *_, r in fetches) + quarantined
    unexplained = query(
        dsn,
        "SELECT reject_id FROM news.rejects WHERE run_id = ANY(%s) "
        "AND (coalesce(reason, '') = '' OR coalesce(detail, '') = '')",
        (run_ids,),
    )
    assert unexplained == [], f"rejects without a reason or detail: {unexplained}"
    orphans = query(
        dsn,
        """SELECT s.staged_id, s.canonical_url FROM news.staged_entries s
                            JOIN news.fetch_log f USING (fetch_id)
                            WHERE f.run_id = ANY(%s) AND s.outcome = ANY(%s) AND NOT EXISTS (
                                SELECT 1 FROM news.article_aliases a
                                WHERE a.kind = 'url' AND a.value = s.canonical_url)""",
        (run_ids, list(LOADED_OUTCOMES)),
    )
    assert orphans == [], f"merged entries whose article cannot be found by URL: {orphans}"
    return totals


def stored_texts(dsn: str) -> dict[str, tuple[str, str]]:
    """canonical URL -> (title, summary) of every article."""
    return {
        url: (title, summary)
        for url, title, summary in query(dsn, "SELECT canonical_url, title, summary FROM news.articles")
    }


def assert_texts_as_served(dsn: str, served: dict[str, tuple[str, str]]) -> None:
    """Each of `served` ({canonical URL: (title, summary)}) is an article with exactly that text:
    nothing lost, truncated, or swapped with another entry's."""
    stored = stored_texts(dsn)
    missing = sorted(set(served) - set(stored))
    assert not missing, f"served entries with no article: {missing}"
    wrong = {url: {"served": text, "stored": stored[url]} for url, text in served.items() if stored[url] != text}
    assert not wrong, f"articles whose text is not what their feed served: {wrong}"
