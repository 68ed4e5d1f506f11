"""The merge killed with SIGKILL at each of its steps.

One merge batch's input is prepared once (a template database): a first poll merged, then a
second poll staged and not merged, so the batch has every kind of work in it (new articles,
sightings of known and of same-batch articles, a revision, a reprint joining a known story,
a headline-only candidate, a GUID recycled for another story, URL and GUID aliases).

`killable_merge` runs `warehouse.merge_pending` in a child process and numbers its statements
(`NamedTupleCursor.execute` / `.copy_expert` and the commits). A record run on a copy of the
input gives the sequence and the reference result; then, for every step k, a child on a fresh
copy SIGKILLs itself right before statement k. After each kill:

- the batch is all or nothing: the warehouse equals its state before the merge (killed before
  the batch's COMMIT) or the reference result (killed after it), and the counts agree with the
  staged rows' outcomes;
- a fresh merge in this process completes;
- every staged entry is merged exactly once, and the result equals the uninterrupted merge's
  (article URLs, titles, summaries, sightings and their counts, revisions, aliases, story
  grouping, all compared up to ids).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

from newswatch import pipeline, warehouse
from newswatch.dev.feedserver import FeedServer
from newswatch.pipeline import run_once
from tests.chaos.support import ROOT, settings_for
from tests.helpers import item, rss

pytestmark = [pytest.mark.chaos, pytest.mark.postgres]
CHAOS_KIND = "merge killed"

# The statements of one merge of the prepared input, in order, as killable_merge names them:
# one batch (0-31, committed at 31), then the loop's last iteration that finds nothing left
# (32-36). The record run checks that the merge still issues exactly these; when the merge
# changes, update this list (a kill test per step is generated from it).
MERGE_STEPS = [
    "SELECT pg_advisory_xact_lock",  # 0  the merge lock, for this batch's transaction
    "SELECT now()",
    "SELECT news.staged_entries",  # 2  the pending batch
    "RESET enable_bitmapscan",
    "SELECT news.article_aliases",  # 4  known articles by URL
    "SELECT unnest",  # 5  ... and by (feed, GUID), one index probe a pair
    "SELECT news.articles",  # 6  their text
    "SELECT news.article_sightings",  # 7  what each feed last said
    "SELECT nextval news.articles",  # 8  ids for the new articles
    "SELECT news.articles",  # 9  the story keys' window, read once: the newest article id
    "SELECT news.articles",  # 10 ... and the window's fingerprints
    "SELECT news.article_fingerprints",  # 11 the candidates' fingerprints and stories
    "SELECT news.articles",  # 12 texts of stories with headline-only candidates
    "SELECT nextval news.stories",  # 13
    "COPY news.stories",
    "COPY news.articles",  # 15
    "COPY news.article_fingerprints",
    "INSERT news.article_revisions",  # 17 the revision
    "UPDATE news.articles",
    "UPDATE news.article_fingerprints",
    "SELECT news.articles",
    "COPY news.article_sightings",  # 21 a new article's sightings go straight in
    "CREATE TEMP merge_sightings",  # 22 a known article's are upserted
    "COPY merge_sightings",
    "INSERT news.article_sightings",
    "UPDATE news.articles",
    "COPY news.article_aliases",  # 26 new articles' aliases (a known article's: only when it has new ones)
    "UPDATE news.feeds",  # 27 the feed caught recycling a GUID
    "UPDATE news.stories",  # 28 stories that grew
    "UPDATE news.staged_entries",  # 29 entries marked merged, with their outcomes
    "UPDATE news.fetch_log",
    "COMMIT",  # 31 the batch commits
    "SELECT pg_advisory_xact_lock",  # 32 the next iteration finds nothing pending
    "SELECT now()",
    "SELECT news.staged_entries",
    "RESET enable_bitmapscan",
    "COMMIT",
]
BATCH_COMMIT = MERGE_STEPS.index("COMMIT")

LONG = (
    "Negotiators from Washington and Beijing met for two days of closed-door talks in Geneva and "
    "agreed to keep working on tariff exclusions, export licences for chips and a schedule for "
    "further meetings, according to a joint statement released on Friday."
)


# --- the input: a template database ------------------------------------------------------------


def _database_dsn(admin_url: str, name: str) -> str:
    return make_dsn(**dict(parse_dsn(admin_url), dbname=name))


class Databases:
    """Databases on the test server, some copied from a template, all dropped at the end. Names
    carry a random suffix: NEWSWATCH_TEST_DATABASE_URL may name a server other runs share."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.admin = psycopg2.connect(admin_url)
        self.admin.autocommit = True
        self.suffix = uuid.uuid4().hex[:8]
        self.names: list[str] = []

    def create(self, name: str, template: str | None = None) -> tuple[str, str]:
        """(name, DSN) of a new database, empty or a copy of `template`."""
        name = f"{name}_{self.suffix}"
        with self.admin.cursor() as cur:
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            cur.execute(statement)
        self.names.append(name)
        return name, _database_dsn(self.admin_url, name)

    def drop_all(self) -> None:
        with self.admin.cursor() as cur:
            for name in reversed(self.names):
                cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        self.admin.close()


def first_poll_documents() -> dict[str, bytes]:
    return {
        "wire": rss([item(i, guid=f"w{i}") for i in range(6)]),
        # a headline-only copy of what the wire brings later: a candidate without text
        "paper": rss([item(30), item(7, link="https://pointer.example.com/7", summary="")]),
        "guidy": rss(
            [
                item(
                    40,
                    guid="g1",
                    link="https://cms.example.com/a",
                    title="US and China agree to resume trade talks",
                    summary=LONG,
                )
            ]
        ),
    }


def second_poll_documents() -> dict[str, bytes]:
    wire = [item(i, guid=f"w{i}") for i in range(10)]
    wire[1] = item(1, guid="w1", summary=item(1)["summary"] + " A second round is planned.")  # a revision
    return {
        "wire": rss(wire),
        # a known article from another feed, a reprint of a known text at another URL, the same
        # new article as the wire in the same batch, and new ones
        "paper": rss([item(2), item(3, link="https://paper.example.com/reprint-3"), item(6), item(31), item(32)]),
        # the GUID of the first poll's story given to another story
        "guidy": rss(
            [
                item(
                    41,
                    guid="g1",
                    link="https://cms.example.com/b",
                    title="Panda cub born at National Zoo",
                    summary="Keepers in Washington said the cub, whose parents came from Chengdu, is healthy.",
                )
            ]
        ),
    }


@pytest.fixture(scope="module")
def merge_input(pg_admin_url, tmp_path_factory):
    """(databases, template name): the template holds the second poll's entries, staged and
    not merged. No connection stays open on it, so it can be copied."""
    databases = Databases(pg_admin_url)
    template, dsn = databases.create("chaos_merge_input")
    with FeedServer() as server:
        urls = {name: server.add_document(f"/{name}.xml", body) for name, body in first_poll_documents().items()}
        settings = settings_for(urls, dsn, tmp_path_factory.mktemp("merge-input"))
        run_once(settings, "poll-1", force=True)
        for name, body in second_poll_documents().items():
            server.add_document(f"/{name}.xml", body)
        plan = pipeline.prepare(settings, "poll-2", "test", force=True)
        pipeline.poll_feeds(settings, "poll-2", plan.due)
    yield databases, template
    databases.drop_all()


# --- the child ----------------------------------------------------------------------------------


def run_merge_child(dsn: str, steps_file: Path, kill_before: int | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "plugins"), str(ROOT)]))
    args = [sys.executable, "-c", "from tests.chaos.killable_merge import main; main()", dsn, str(steps_file)]
    if kill_before is not None:
        args.append(str(kill_before))
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)


def read_steps(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# --- comparing warehouses up to ids -------------------------------------------------------------


def snapshot(dsn: str) -> dict:
    """Everything the merge writes, with ids replaced by what they stand for (an article by its
    canonical URL, a story by its members' URLs), so two merges of the same input compare equal
    whatever ids their sequences handed out."""
    conn = psycopg2.connect(dsn)

    def rows(statement):
        with conn.cursor() as cur:
            cur.execute(statement)
            return sorted(cur.fetchall(), key=repr)

    try:
        return _snapshot_tables(rows)
    finally:
        conn.close()


def _snapshot_tables(rows) -> dict:
    return {
        "articles": rows("""SELECT canonical_url, url, title, title_raw, summary, published_at, first_seen_at,
                                   last_seen_at, updated_at, revision, outlet, first_feed, text_feed,
                                   is_relevant, topics, content_hash FROM news.articles"""),
        "stories": rows("""SELECT array_agg(a.canonical_url ORDER BY a.canonical_url), s.headline, s.first_outlet,
                                  s.article_count, s.outlet_count, s.is_relevant, s.topics,
                                  (SELECT canonical_url FROM news.articles WHERE article_id = s.first_article_id)
                           FROM news.stories s JOIN news.articles a USING (story_id) GROUP BY s.story_id"""),
        "empty_stories": rows("""SELECT headline FROM news.stories s
                                 WHERE NOT EXISTS (SELECT 1 FROM news.articles a WHERE a.story_id = s.story_id)"""),
        "sightings": rows("""SELECT a.canonical_url, s.feed_name, s.url, s.guid, s.outlet, s.first_seen_at,
                                    s.last_seen_at, s.times_seen, s.content_hash
                             FROM news.article_sightings s JOIN news.articles a USING (article_id)"""),
        "revisions": rows("""SELECT a.canonical_url, r.revision, r.title, r.summary, r.feed_name
                             FROM news.article_revisions r JOIN news.articles a USING (article_id)"""),
        "aliases": rows("""SELECT l.kind, l.feed_name, l.value, a.canonical_url, l.last_seen_at
                           FROM news.article_aliases l JOIN news.articles a USING (article_id)"""),
        "fingerprints": rows("""SELECT a.canonical_url, f.signature, f.shingle_count, f.title_key, f.has_summary
                                FROM news.article_fingerprints f JOIN news.articles a USING (article_id)"""),
        "staged": rows("""SELECT f.run_id, s.feed_name, s.position, s.merged_at IS NOT NULL, s.outcome
                          FROM news.staged_entries s JOIN news.fetch_log f USING (fetch_id)"""),
        "fetch_log": rows("SELECT run_id, feed_name, entries_new FROM news.fetch_log"),
        "feeds": rows("SELECT name, guid_reuse_count FROM news.feeds"),
        "rejects": rows("SELECT reason, staged_id IS NOT NULL FROM news.rejects"),
    }


def differences(got: dict, expected: dict) -> dict:
    return {
        table: {
            "unexpected": [r for r in got[table] if r not in expected[table]][:5],
            "missing": [r for r in expected[table] if r not in got[table]][:5],
        }
        for table in expected
        if got[table] != expected[table]
    }


@pytest.fixture(scope="module")
def reference(merge_input, tmp_path_factory):
    """The uninterrupted merge of the input, recorded: (its steps, the warehouse before it,
    the warehouse after it, its result)."""
    databases, template = merge_input
    _, dsn = databases.create("chaos_merge_reference", template=template)
    before = snapshot(dsn)
    steps_file = tmp_path_factory.mktemp("record") / "steps.jsonl"
    child = run_merge_child(dsn, steps_file)
    assert child.returncode == 0, child.stderr
    lines = read_steps(steps_file)
    return [s["label"] for s in lines if "step" in s], before, snapshot(dsn), lines[-1]["finished"]


def test_the_merge_issues_the_steps_this_suite_kills_it_at(reference, figures):
    steps, before, after, result = reference
    figures.what = f"record run: {len(steps)} statements, one batch"
    assert steps == MERGE_STEPS, (
        "the merge's statements changed; update MERGE_STEPS so every step is killed:\n"
        + "\n".join(f"{i:2} {s}" for i, s in enumerate(steps))
    )
    # the input exercises every kind of work the batch can do
    assert result["batches"] == 1 and result["new"] >= 5 and result["sightings"] >= 3
    assert result["updated"] == 1 and result["stories_joined"] >= 1
    assert after["revisions"] and after["feeds"] != before["feeds"]
    figures.fetched = result["entries"]
    figures.in_articles = result["new"] + result["updated"] + result["sightings"]
    figures.in_rejects = result["quarantined"]
    figures.checked = (
        f"{result['new']} new, {result['updated']} updated, {result['sightings']} sightings, "
        f"{result['stories_joined']} joined a story"
    )


def _step_ids() -> list[str]:
    return [f"{k:02d}-{label.replace(' ', '_')}" for k, label in enumerate(MERGE_STEPS)]


@pytest.mark.parametrize("step", range(len(MERGE_STEPS)), ids=_step_ids())
def test_a_merge_killed_before_a_step_leaves_all_or_nothing_and_the_next_merge_completes(
    step, merge_input, reference, tmp_path, figures
):
    databases, template = merge_input
    _, before, expected, result = reference
    label = MERGE_STEPS[step]
    figures.what = f"SIGKILL right before step {step} ({label})"
    _, dsn = databases.create(f"chaos_merge_kill_{step:02d}", template=template)
    steps_file = tmp_path / "steps.jsonl"

    child = run_merge_child(dsn, steps_file, kill_before=step)

    assert child.returncode == -9, f"the merge was not killed (exit {child.returncode}): {child.stderr[-2000:]}"
    killed = read_steps(steps_file)[-1]
    assert killed == {"killed_before": step, "label": label}

    # All or nothing: before the batch's COMMIT nothing of it is visible, after it all of it is.
    committed = step > BATCH_COMMIT
    left = snapshot(dsn)
    assert not differences(left, expected if committed else before), differences(
        left, expected if committed else before
    )
    # the database started empty: each article is one staged entry whose outcome says "new"
    outcomes = Counter(o for *_, merged, o in left["staged"] if merged)
    pending = sum(1 for *_, merged, _ in left["staged"] if not merged)
    assert len(left["articles"]) == outcomes["new"]
    assert pending == (0 if committed else result["entries"])

    # The next merge completes, merges each pending entry once, and ends where an
    # uninterrupted merge ends.
    conn = warehouse.connect(dsn)
    try:
        again = warehouse.merge_pending(conn)
    finally:
        conn.close()
    assert again.entries == pending
    final = snapshot(dsn)
    assert not differences(final, expected), differences(final, expected)
    assert all(merged for *_, merged, _ in final["staged"])
    batch = [(merged, outcome) for run_id, *_, merged, outcome in final["staged"] if run_id == "poll-2"]
    figures.fetched = len(batch)
    figures.in_articles = sum(1 for merged, o in batch if merged and o in ("new", "updated", "sighting"))
    figures.in_rejects = sum(1 for merged, o in batch if merged and o == "failed")
    figures.checked = (
        "batch was committed: all of it visible" if committed else "nothing of the batch visible"
    ) + f"; re-merge took {again.entries}; equals reference"
