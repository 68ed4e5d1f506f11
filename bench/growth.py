"""Scenario 2: a growing warehouse. Merge cost per new entry at each size, and the analyst
queries on the largest.

    python -m bench.growth     (parameters in $BENCH_CONFIG, figures to $BENCH_RESULT)

Seeding (fast: rows generated here and COPYed into the news.* tables directly, secondary
indexes and foreign keys dropped during the load and rebuilt after, then VACUUM ANALYZE):
  - articles arrive at `daily_rate` a day (default 3,000), so 10k articles are ~3 days of
    history and 1M are ~11 months, every one with a title, a 50–150-word summary, outlet,
    language, dates, relevance fields and a story;
  - ~25% of articles join an existing recent story as an edited reprint (stories then have
    real article_count / outlet_count / topics);
  - ~30% of articles have a second or third sighting in another feed;
  - fingerprints: real MinHash signatures and LSH band rows for the last 7 days (the story
    window that the daily DAG keeps; older band rows are pruned in production), stand-in
    signatures for older articles (stored, never read by a merge);
  - relevance fields come from the real rules applied to a sample of generated headlines of
    the same kind (scoring a million summaries would take longer than the rest together).
Then `rounds` times: stage `new` entries through warehouse.record_fetch and time
warehouse.merge_pending. The new entries are 55% new articles, 20% edited reprints of recent
articles (they must join an existing story), 15% sightings of recent articles under URL
variants from other feeds, 5% revised texts (same feed and GUID), 5% duplicated in the batch.
"""

from __future__ import annotations

import io
import json
import os
import random
import statistics
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import psycopg2

from newswatch.normalize import Article, content_hash
from newswatch.warehouse.articles import ARTICLE_COLUMNS
from newswatch.warehouse.sightings import SIGHTING_COLUMNS

from .corpus import OUTLETS, SECTIONS, url_variant
from .measure import write_result
from .text import TextMaker, edit_text

WINDOW = timedelta(days=7)
N_FEEDS = 200
SEED_TABLES = ["articles", "article_sightings", "article_aliases", "stories", "article_fingerprints"]


def _copy(cur, table: str, columns: list[str], lines: list[str]) -> None:
    if lines:
        cur.copy_expert(f"COPY news.{table} ({', '.join(columns)}) FROM STDIN", io.StringIO("\n".join(lines) + "\n"))


def _pg_array(values) -> str:
    return "{" + ",".join(values) + "}"


def _ts(dt: datetime) -> str:
    return dt.isoformat()


class Seeder:
    """Generates and loads n articles with their sightings, stories and fingerprints."""

    # the merge's own column lists (what a new article's and a sighting's rows carry), plus the
    # two a seeded article has that a new one leaves at their defaults
    ART_COLS: ClassVar[list[str]] = [*ARTICLE_COLUMNS, "updated_at", "revision"]
    SIGHT_COLS: ClassVar[list[str]] = list(SIGHTING_COLUMNS)
    STORY_COLS: ClassVar[list[str]] = [
        "story_id",
        "headline",
        "first_article_id",
        "first_seen_at",
        "first_published_at",
        "first_outlet",
        "last_seen_at",
        "article_count",
        "outlet_count",
        "is_relevant",
        "topics",
    ]

    def __init__(self, conn, n: int, seed: int, daily_rate: int, now: datetime, rules):
        self.conn, self.n, self.now = conn, n, now
        self.rng = random.Random(seed)
        self.text = TextMaker(random.Random(seed + 7))
        self.span = timedelta(days=max(n / daily_rate, 0.25))
        self.feeds = [(f"g{i:03d}", *OUTLETS[i % len(OUTLETS)]) for i in range(N_FEEDS)]
        self.examples = self._scored_examples(rules)
        self.window_articles: list[dict] = []  # what the new entries refer back to

    def _scored_examples(self, rules) -> dict[bool, list[tuple]]:
        """Real relevance results of generated headlines+summaries, by intended class."""
        out = {True: [], False: []}
        while min(len(out[True]), len(out[False])) < 300:
            title, meant = self.text.headline()
            s = rules.score(title, self.text.summary_words(relevant=meant))
            if len(out[meant]) < 300:
                out[meant].append((s.score, s.is_relevant, s.topics, json.dumps(s.terms), s.version))
        return out

    def run(self) -> dict:
        from newswatch.fingerprints import fingerprint

        rng, now, n = self.rng, self.now, self.n
        window_start = now - WINDOW
        timings = {}
        t_gen = 0.0
        t_copy = 0.0
        stories: dict[int, list] = {}  # story_id -> aggregate (written after the articles)
        open_stories: list[tuple[int, str, str]] = []  # recent (story_id, title, summary)
        fp_lines = []
        art_lines, sight_lines = [], []
        next_story = 1
        counts = {"articles": 0, "sightings": 0, "window_articles": 0}
        with self.conn.cursor() as cur:
            for k in range(1, n + 1):
                t0 = time.perf_counter()
                first_seen = now - self.span * (1 - k / n) - timedelta(seconds=rng.randrange(600))
                published = first_seen - timedelta(seconds=rng.randrange(6 * 3600))
                feed_name, outlet, domain = self.feeds[rng.randrange(N_FEEDS)]
                if open_stories and rng.random() < 0.25:
                    sid, base_title, base_summary = open_stories[rng.randrange(len(open_stories))]
                    title = edit_text(rng, base_title, 1)
                    summary = edit_text(rng, base_summary, 2)
                    meant = stories[sid][9]
                else:
                    sid = next_story
                    next_story += 1
                    title, meant = self.text.headline()
                    summary = self.text.summary_words(relevant=meant)
                    open_stories.append((sid, title, summary))
                    if len(open_stories) > 300:
                        open_stories.pop(0)
                score, relevant, topics, terms, version = self.examples[meant][rng.randrange(300)]
                path = f"/{rng.choice(SECTIONS)}/{published:%Y/%m/%d}/{self.text.slug(title)}-s{k}"
                canonical = f"https://{domain}{path}"
                url = f"https://www.{domain}{path}"
                chash = content_hash(title, summary)
                topics_pg = _pg_array(topics)
                art_lines.append(
                    "\t".join(
                        (
                            str(k),
                            canonical,
                            url,
                            title,
                            title,
                            summary,
                            _ts(published),
                            "published",
                            _ts(first_seen),
                            _ts(first_seen),
                            outlet,
                            "en",
                            feed_name,
                            feed_name,
                            str(score),
                            "t" if relevant else "f",
                            topics_pg,
                            terms.replace("\\", "\\\\"),
                            version,
                            str(sid),
                            chash,
                            "1",
                            "\\N",
                            "1",
                        )
                    )
                )
                guid = f"{domain}-{k}"
                sight_lines.append(
                    "\t".join((str(k), feed_name, url, guid, outlet, _ts(first_seen), _ts(first_seen), "1", chash))
                )
                extra = 1 if rng.random() < 0.3 else 0
                extra += 1 if extra and rng.random() < 0.3 else 0
                used = {feed_name}  # one sighting per (article, feed): the table's unique key
                for _ in range(extra):
                    other = self.feeds[(rng.randrange(N_FEEDS))][0]
                    if other in used:
                        continue
                    used.add(other)
                    variant, _ = url_variant(rng, domain, path)
                    seen2 = first_seen + timedelta(minutes=rng.randrange(1, 600))
                    sight_lines.append(
                        "\t".join((str(k), other, variant, variant, outlet, _ts(seen2), _ts(seen2), "1", chash))
                    )
                    counts["sightings"] += 1
                counts["sightings"] += 1
                agg = stories.get(sid)
                if agg is None:
                    # headline, first_article_id, first_seen, first_published, first_outlet,
                    # last_seen, count, outlets, topics, meant, relevant
                    stories[sid] = [
                        title,
                        k,
                        first_seen,
                        published,
                        outlet,
                        first_seen,
                        1,
                        {outlet},
                        set(topics) if relevant else set(),
                        meant,
                        relevant,
                    ]
                else:
                    agg[5] = first_seen
                    agg[6] += 1
                    agg[7].add(outlet)
                    if relevant:
                        agg[8].update(topics)
                        agg[10] = True
                if first_seen >= window_start:
                    fp = fingerprint(title, summary)
                    fp_lines.append(
                        "\t".join(
                            (
                                str(k),
                                "\\\\x" + fp.signature.hex(),
                                str(fp.shingle_count),
                                str(fp.title_key) if fp.title_key is not None else "\\N",
                                "t",
                                fp.title_dates or "\\N",
                            )
                        )
                    )
                    counts["window_articles"] += 1
                    self.window_articles.append(
                        {
                            "article_id": k,
                            "canonical_url": canonical,
                            "domain": domain,
                            "path": path,
                            "title": title,
                            "summary": summary,
                            "feed_name": feed_name,
                            "guid": guid,
                            "outlet": outlet,
                        }
                    )
                t_gen += time.perf_counter() - t0
                if len(art_lines) >= 20000 or k == n:
                    t0 = time.perf_counter()
                    _copy(cur, "articles", self.ART_COLS, art_lines)
                    _copy(cur, "article_sightings", self.SIGHT_COLS, sight_lines)
                    _copy(
                        cur,
                        "article_fingerprints",
                        ["article_id", "signature", "shingle_count", "title_key", "has_summary", "title_dates"],
                        fp_lines,
                    )
                    art_lines, sight_lines, fp_lines = [], [], []
                    t_copy += time.perf_counter() - t0
            counts["articles"] = n
            t0 = time.perf_counter()
            story_lines = []
            for sid, a in stories.items():
                relevant = a[10]
                story_lines.append(
                    "\t".join(
                        (
                            str(sid),
                            a[0],
                            str(a[1]),
                            _ts(a[2]),
                            _ts(a[3]),
                            a[4],
                            _ts(a[5]),
                            str(a[6]),
                            str(len(a[7])),
                            "t" if relevant else "f",
                            _pg_array(sorted(a[8])),
                        )
                    )
                )
                if len(story_lines) >= 50000:
                    _copy(cur, "stories", self.STORY_COLS, story_lines)
                    story_lines = []
            _copy(cur, "stories", self.STORY_COLS, story_lines)
            counts["stories"] = len(stories)
            # Older fingerprints: stored for every article, never read by a merge (their band
            # rows are gone); a stand-in signature of the real size is generated server-side.
            cur.execute(
                """INSERT INTO news.article_fingerprints (article_id, signature, shingle_count, title_key,
                       has_summary, title_dates)
                   SELECT a.article_id, decode(repeat(md5(a.article_id::text), 24), 'hex'), 60, NULL, true, NULL
                   FROM news.articles a
                   WHERE NOT EXISTS (SELECT 1 FROM news.article_fingerprints f WHERE f.article_id = a.article_id)"""
            )
            # every name an article went by, as migration 0007 derives them: the merge finds
            # known articles through these (without them every known URL would be "new")
            cur.execute(
                """INSERT INTO news.article_aliases (kind, feed_name, value, article_id, first_seen_at, last_seen_at)
                   SELECT 'url', '', canonical_url, article_id, first_seen_at, last_seen_at FROM news.articles"""
            )
            cur.execute(
                """INSERT INTO news.article_aliases (kind, feed_name, value, article_id, first_seen_at, last_seen_at)
                   SELECT 'guid', feed_name, guid, article_id, first_seen_at, last_seen_at
                   FROM news.article_sightings WHERE guid IS NOT NULL"""
            )
            t_copy += time.perf_counter() - t0
        timings["generate_s"] = t_gen
        timings["copy_s"] = t_copy
        return {"counts": counts, "timings": timings}


def _drop_secondary(conn) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Drop the news.* secondary indexes and foreign keys of the seeded tables; return what
    is needed to rebuild them exactly as the migrations made them."""
    with conn, conn.cursor() as cur:
        cur.execute(
            """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
               FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = 'news'::regnamespace"""
        )
        fks = cur.fetchall()
        for table, name, _ in fks:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cur.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
               FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
               WHERE t.relnamespace = 'news'::regnamespace AND t.relname = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
            (SEED_TABLES,),
        )
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f"DROP INDEX {name}")
    return [d for _, d in indexes], fks


def _rebuild(conn, index_defs, fks) -> None:
    with conn, conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        for d in index_defs:
            cur.execute(d)
        for table, name, definition in fks:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for table, col in (("articles", "article_id"), ("stories", "story_id")):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('news.{table}', '{col}'), "
                f"(SELECT coalesce(max({col}), 1) FROM news.{table}))"
            )


def seed(dsn: str, n: int, seed_value: int, daily_rate: int, rules) -> tuple[Seeder, dict]:
    from newswatch import warehouse
    from newswatch.config import FeedConfig

    conn = warehouse.connect(dsn)
    warehouse.migrate(conn)
    now = datetime.now(UTC)
    seeder = Seeder(conn, n, seed_value, daily_rate, now, rules)
    warehouse.sync_feeds(
        conn, [FeedConfig(name, f"https://feeds.{domain}/{name}.xml", outlet) for name, outlet, domain in seeder.feeds]
    )
    t0 = time.perf_counter()
    index_defs, fks = _drop_secondary(conn)
    with conn:
        report = seeder.run()
    t1 = time.perf_counter()
    _rebuild(conn, index_defs, fks)
    t2 = time.perf_counter()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    t3 = time.perf_counter()
    report["timings"].update(
        {"load_s": t1 - t0, "rebuild_indexes_s": t2 - t1, "vacuum_analyze_s": t3 - t2, "total_s": t3 - t0}
    )
    with conn.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        report["database_bytes"] = cur.fetchone()[0]
    conn.close()
    return seeder, report


def stage_new_entries(dsn: str, seeder: Seeder, count: int, round_no: int, rules) -> dict:
    """Stage `count` entries through the pipeline's own record_fetch, 100 per fetch."""
    from newswatch import warehouse
    from newswatch.feedstate import Outcome, decide
    from newswatch.fingerprints import fingerprint

    rng = random.Random(1000 + round_no)
    text = seeder.text
    recent = seeder.window_articles
    run_id = f"bench__growth__{round_no}__{time.time():.0f}"
    made = {"new": 0, "reprint": 0, "sighting": 0, "revision": 0, "batch_duplicate": 0}
    entries = []  # (feed_name, dict)

    def new_identity(domain: str, kind: str, title: str, tag: str) -> tuple[str, str, str]:
        """canonical URL, the URL as the feed gives it, GUID of an article not seen before"""
        path = f"/{rng.choice(SECTIONS)}/{kind}/{text.slug(title)}-r{round_no}{tag}"
        return f"https://{domain}{path}", f"https://www.{domain}{path}", f"{domain}-r{round_no}{tag}"

    for i in range(count):
        roll = rng.random()
        feed_name, outlet, domain = seeder.feeds[rng.randrange(N_FEEDS)]
        if roll < 0.55 or not recent:
            title, meant = text.headline()
            summary = text.summary_words(relevant=meant)
            canonical, url, guid = new_identity(domain, "new", title, f"n{i}")
            made["new"] += 1
        elif roll < 0.75:
            src = recent[rng.randrange(len(recent))]
            title, summary = edit_text(rng, src["title"], 1), edit_text(rng, src["summary"], 2)
            canonical, url, guid = new_identity(domain, "reprint", title, f"p{i}")
            made["reprint"] += 1
        elif roll < 0.90:
            src = recent[rng.randrange(len(recent))]
            title, summary, outlet = src["title"], src["summary"], src["outlet"]
            canonical = src["canonical_url"]
            url, _ = url_variant(rng, src["domain"], src["path"])
            guid = url
            made["sighting"] += 1
        elif roll < 0.95:
            src = recent[rng.randrange(len(recent))]
            feed_name, outlet = src["feed_name"], src["outlet"]
            title, summary = src["title"] + " (updated)", edit_text(rng, src["summary"], 1)
            canonical, url, guid = src["canonical_url"], f"https://www.{src['domain']}{src['path']}", src["guid"]
            made["revision"] += 1
        else:
            if entries:  # an entry of this batch again, from another feed
                _, prev = entries[rng.randrange(len(entries))]
                entries.append((seeder.feeds[rng.randrange(N_FEEDS)][0], dict(prev)))
                made["batch_duplicate"] += 1
            continue
        entries.append(
            (
                feed_name,
                {
                    "canonical_url": canonical,
                    "url": url,
                    "guid": guid,
                    "title": title,
                    "summary": summary,
                    "outlet": outlet,
                },
            )
        )
    by_feed: dict[str, list[dict]] = {}
    for feed_name, e in entries:
        by_feed.setdefault(feed_name, []).append(e)
    conn = warehouse.connect(dsn)
    states = {s.name: s for s in warehouse.load_feed_states(conn)}
    warehouse.start_run(conn, run_id, "bench")
    now = datetime.now(UTC)
    staged = 0
    t0 = time.perf_counter()
    for feed_name, items in by_feed.items():
        for start in range(0, len(items), 100):
            rows = []
            for pos, e in enumerate(items[start : start + 100]):
                article = Article(
                    canonical_url=e["canonical_url"],
                    url=e["url"],
                    guid=e["guid"],
                    title=e["title"],
                    title_raw=e["title"],
                    summary=e["summary"],
                    published_at=now - timedelta(minutes=rng.randrange(600)),
                    published_at_source="published",
                    outlet=e["outlet"],
                    language="en",
                    content_hash=content_hash(e["title"], e["summary"]),
                )
                rows.append(
                    warehouse.StagedRow.of(
                        pos, article, rules.score(e["title"], e["summary"]), fingerprint(e["title"], e["summary"])
                    )
                )
            decision = decide(
                states[feed_name], Outcome(status="ok", http_status=200, body_hash=f"{run_id}{feed_name}{start}"), now
            )
            record = warehouse.FetchRecord(
                feed_name=feed_name,
                run_id=run_id,
                started_at=now,
                finished_at=now,
                status="ok",
                url=states[feed_name].url,
                http_status=200,
                entries_seen=len(rows),
            )
            warehouse.record_fetch(conn, record, decision, rows, [])
            staged += len(rows)
    stage_s = time.perf_counter() - t0
    conn.close()
    return {"staged": staged, "composition": made, "stage_s": stage_s}


def merge_split(timings: dict) -> dict:
    """The merge's own stage timings (MergeResult.timings) grouped as the report shows them."""
    return {
        "plan_merge": timings.get("plan_merge", 0.0),
        "_story_candidates": timings.get("candidates", 0.0),
        "plan_stories": timings.get("plan_stories", 0.0),
    }


def timed_merge(dsn: str) -> dict:
    from newswatch import warehouse

    with warehouse.connection(dsn) as conn:
        t0 = time.perf_counter()
        result = warehouse.merge_pending(conn)
        seconds = time.perf_counter() - t0
    if result.quarantined:  # the timing would be of the isolation path, not of a merge
        raise RuntimeError(
            f"the merge quarantined {result.quarantined} staged entries (news.rejects says why): "
            "the seeded warehouse and the merge disagree, so this growth figure would be wrong"
        )
    return {
        "seconds": seconds,
        "result": asdict(result),
        "split_s": merge_split(result.timings),
        "merge_timings": result.timings,
        "ms_per_entry": seconds * 1000 / max(result.entries, 1),
    }


# --- analyst queries ------------------------------------------------------------------------


def analyst_queries(conn) -> list[tuple[str, str, tuple]]:
    """The README's five questions, as an analyst would paste them, with parameters taken
    from the data so each returns rows."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT headline FROM news.stories WHERE article_count >= 3 AND is_relevant "
            "ORDER BY first_seen_at DESC LIMIT 1"
        )
        row = cur.fetchone()
    conn.rollback()
    headline = row[0] if row else "Blinken set to meet Chinese leaders"
    prefix = " ".join(headline.split()[:5]).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return [
        (
            "topic_this_week",
            "SELECT published_at, outlet, title, canonical_url FROM news.us_china_articles "
            "WHERE 'technology' = ANY(topics) AND published_at > now() - interval '7 days'",
            (),
        ),
        (
            "topic_this_week_gin",
            "SELECT published_at, outlet, title, canonical_url FROM news.us_china_articles "
            "WHERE topics @> ARRAY['technology'] AND published_at > now() - interval '7 days'",
            (),
        ),
        (
            "full_text_search",
            "SELECT published_at, outlet, title FROM news.articles "
            "WHERE search @@ websearch_to_tsquery('english', 'fentanyl precursor') AND is_relevant "
            "ORDER BY published_at DESC LIMIT 20",
            (),
        ),
        (
            "story_reach",
            "SELECT outlet, first_seen_at, urls FROM news.story_reach WHERE headline ILIKE %s ORDER BY first_seen_at",
            (prefix,),
        ),
        (
            "widest_reach_this_week",
            "SELECT headline, outlet_count, article_count, topics FROM news.stories "
            "WHERE is_relevant AND first_seen_at > now() - interval '7 days' "
            "ORDER BY outlet_count DESC, article_count DESC LIMIT 10",
            (),
        ),
        (
            "daily_topic_coverage_30d",
            "SELECT day, topic, articles, stories FROM news.daily_topic_coverage "
            "WHERE day > current_date - 30 ORDER BY day, topic",
            (),
        ),
        (
            "daily_topic_rollup_30d",
            "SELECT day, topic, articles, stories FROM news.daily_topic_rollup "
            "WHERE day > current_date - 30 ORDER BY day, topic",
            (),
        ),
    ]


def refresh_recent_rollups(dsn: str, days: int = 30) -> float:
    """The daily DAG's rollups for the last `days` days, so the coverage question can be timed
    both on the live view and on the table an analyst (and the coverage page) reads."""
    from newswatch import daily

    conn = psycopg2.connect(dsn)
    t0 = time.perf_counter()
    try:
        today = datetime.now(UTC).date()
        for back in range(days + 1):
            daily.refresh_rollups(conn, today - timedelta(days=back))
    finally:
        conn.close()
    return time.perf_counter() - t0


def time_queries(dsn: str, repeats: int = 5) -> list[dict]:
    conn = psycopg2.connect(dsn)
    out = []
    try:
        for name, sql, params in analyst_queries(conn):
            with conn.cursor() as cur:
                cur.execute(sql, params)  # warm the cache: analysts query a warm server
                rows = len(cur.fetchall())
                times = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    cur.execute(sql, params)
                    cur.fetchall()
                    times.append((time.perf_counter() - t0) * 1000)
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = "\n".join(r[0] for r in cur.fetchall())
            conn.rollback()
            out.append(
                {
                    "name": name,
                    "sql": sql,
                    "params": list(params),
                    "rows": rows,
                    "median_ms": statistics.median(times),
                    "min_ms": min(times),
                    "runs_ms": times,
                    "explain": plan,
                }
            )
    finally:
        conn.close()
    return out


def main() -> None:
    cfg = json.loads(os.environ["BENCH_CONFIG"])
    import logging

    from newswatch.relevance import load_rules

    logging.basicConfig(level=logging.WARNING)
    rules = load_rules()
    results = {"sizes": [], "new_per_round": cfg["new"], "rounds": cfg["rounds"], "daily_rate": cfg["daily_rate"]}
    for size, dsn in zip(cfg["sizes"], cfg["dsns"], strict=True):
        print(f"growth: seeding {size:,} articles", flush=True)
        seeder, report = seed(dsn, size, cfg["seed"], cfg["daily_rate"], rules)
        print(
            f"growth: seeded in {report['timings']['total_s']:.1f}s "
            f"({report['counts']}); database {report['database_bytes'] / 2**20:.0f} MiB",
            flush=True,
        )
        rounds = []
        for r in range(cfg["rounds"]):
            staged = stage_new_entries(dsn, seeder, cfg["new"], r, rules)
            merged = timed_merge(dsn)
            rounds.append({**staged, **merged})
            print(
                f"growth: size {size:,} round {r + 1}: {merged['result']['entries']} entries merged in "
                f"{merged['seconds']:.2f}s = {merged['ms_per_entry']:.3f} ms/entry "
                f"({merged['result']})",
                flush=True,
            )
        entry = {
            "size": size,
            "seed": report,
            "rounds": rounds,
            "ms_per_entry": statistics.mean(r["ms_per_entry"] for r in rounds),
        }
        if size == max(cfg["sizes"]) and cfg.get("queries", True):
            entry["rollup_s"] = refresh_recent_rollups(dsn)
            print(
                f"growth: daily rollups of the last 30 days in {entry['rollup_s']:.1f}s "
                "(what the daily DAG keeps up to date)",
                flush=True,
            )
            entry["queries"] = time_queries(dsn)
            for q in entry["queries"]:
                print(f"query {q['name']}: {q['median_ms']:.1f} ms median, {q['rows']} rows", flush=True)
        results["sizes"].append(entry)
        write_result(results)  # after each size, so a long run leaves what it finished
    write_result(results)


if __name__ == "__main__":
    main()
