"""The full-text step: does fetching the pages of 1,000 relevant articles delay the next poll?

Issue 14 asks that "full-text fetching of 1,000 relevant articles must not delay the next hourly
poll". In production the full-text DAG runs next to the polling DAG, so two things are measured,
each in its own process (bench.measure.run_process, `python -m bench.contenders fulltext`, which
calls pipeline.fulltext, the function behind `newswatch fulltext`):

  (a) the full-text step alone over N article pages (default 1,000): wall seconds, pages/s and
      the statuses it recorded, counted from news.article_texts;
  (b) an all-304 re-poll of every feed (run_once with force, as core_repoll) while a second batch
      of N pages is being fetched by another process, next to core_repoll measured alone earlier
      in the run.

The pages: the real article pages of ../shared/articles (NEWSWATCH_ARTICLES; html/<id>.html.gz),
read from there at run time and cycled to N, or the demo's invented pages (demo/pages) when
they are not there. `write_pages` puts them in a folder of the output directory before the feed
server starts; the server (bench/server.py) reads them once, serves them under /pages/ on the
same host as the feeds, and `discard_pages` deletes the folder at once, so no copy stays behind.

The articles: after the core path (and the COPY floor, which copies bench_core's rows, so the
floor is measured on what the first poll loaded), 2N articles of bench_core get a page each as
their URL (batch a, then batch b on the same N addresses) and are marked relevant, their
summaries cut to their first 80 words (the corpus's run longer than some real pages, and a page
shorter than its feed summary reads as a wall), the corpus's Chinese articles taken last. An
article the corpus moved to another address under its GUID is left out (texts.candidates would
fetch the address it moved to, on the corpus's invented domains). A warehouse with fewer
articles (a smoke-sized corpus) is made up with copies of its articles (and of their
fingerprints). Batch a is marked first seen now, so with NEWSWATCH_FULLTEXT=relevant and
NEWSWATCH_FULLTEXT_LIMIT=N the pipeline's own selection (relevant, first seen in the last
NEWSWATCH_FULLTEXT_DAYS days, no final attempt yet, newest first) takes exactly those; batch b
is marked first seen now just before (b).

NEWSWATCH_MAX_PER_HOST stays at the worker count as everywhere in the bench (everything is on
127.0.0.1). Pages and feeds share that host's slots: a page is fetched only in the last one and
only when it is free (warehouse.spare_host_slot), so the polls' threads contend with the full
text for those slots, which is what (b) measures (a page waits while the polls hold the last
slot, so few pages start during the re-poll). All pages being on one host, newswatch takes them
one at a time (one page in flight per host): NEWSWATCH_FULLTEXT_WORKERS does not come into it,
and real pages spread over many hosts go faster than this.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .measure import PROJECT_ROOT, run_process

PAGES_FOLDER = "fulltext_pages"
SUMMARY_WORDS = 80  # what the pointed articles keep of their summaries (prepare_warehouse)
REPOLL_WAIT_S = 120.0  # how long the concurrent re-poll waits for the full text's first page


class PagesUnavailable(Exception):
    """The step cannot be set up: why, printed, and the step is skipped."""


@dataclass
class Pages:
    directory: Path
    names: list[str]
    source: str  # "real" (../shared/articles) or "demo" (demo/pages)
    source_dir: str
    distinct: int

    def describe(self) -> dict:
        return {
            "pages": len(self.names),
            "source": self.source,
            "source_dir": self.source_dir,
            "distinct": self.distinct,
        }


def _source_pages() -> tuple[list[bytes], str, Path]:
    from newswatch.config import DevSettings

    real = DevSettings.from_env().articles_dir / "html"
    files = sorted(real.glob("*.html.gz")) if real.is_dir() else []
    if files:
        return [gzip.decompress(p.read_bytes()) for p in files], "real", real
    demo = PROJECT_ROOT / "demo" / "pages"
    files = sorted(p for p in demo.rglob("*") if p.is_file() and p.suffix != ".md") if demo.is_dir() else []
    return [p.read_bytes() for p in files], "demo", demo


def write_pages(directory: Path, count: int) -> Pages:
    """`count` page files in `directory` (p00000.html, ...), the source pages cycled: each
    source is written once (in a subfolder, which the server does not serve) and the page
    files are hard links to it."""
    if count < 1:
        raise PagesUnavailable(f"--fulltext-pages {count}: at least one page is needed")
    bodies, source, source_dir = _source_pages()
    if not bodies:
        raise PagesUnavailable(f"no article pages: neither {source_dir} nor the demo's pages are there")
    shutil.rmtree(directory, ignore_errors=True)
    originals = directory / "src"
    originals.mkdir(parents=True)
    paths = []
    for i, body in enumerate(bodies):
        path = originals / f"s{i:04d}.html"
        path.write_bytes(body)
        paths.append(path)
    names = []
    for i in range(count):
        name = f"p{i:05d}.html"
        try:
            os.link(paths[i % len(paths)], directory / name)
        except OSError:  # a file system without hard links
            shutil.copyfile(paths[i % len(paths)], directory / name)
        names.append(name)
    return Pages(directory, names, source, str(source_dir), len(bodies))


def prepare_pages(out: Path, count: int, results: dict) -> Pages | None:
    """write_pages, or None (and why, printed and kept in results["fulltext"]) when it cannot."""
    try:
        pages = write_pages(out / PAGES_FOLDER, count)
    except (PagesUnavailable, OSError) as exc:
        print(f"bench: full-text step skipped: {exc}", flush=True)
        results["fulltext"] = {"skipped": str(exc)}
        shutil.rmtree(out / PAGES_FOLDER, ignore_errors=True)
        return None
    results["fulltext"] = pages.describe()
    return pages


def discard_pages(pages: Pages) -> None:
    """Once the feed server has read them (it keeps them in memory), no copy of the pages stays."""
    shutil.rmtree(pages.directory, ignore_errors=True)


# --- the warehouse --------------------------------------------------------------------------


def prepare_warehouse(dsn: str, base_url: str, names: list[str]) -> dict:
    """Point 2N articles of the warehouse at the N pages (two batches on the same addresses),
    relevant; batch a first seen now. Returns the two batches' ids and how many were copies."""
    import psycopg2

    n = len(names)
    urls = [f"{base_url}/pages/{name}" for name in names]
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                """SELECT a.article_id FROM news.articles a
                   WHERE NOT EXISTS (SELECT 1 FROM news.article_aliases al
                                     WHERE al.article_id = a.article_id AND al.kind = 'url'
                                       AND al.value <> a.canonical_url)
                     AND NOT EXISTS (SELECT 1 FROM news.article_texts t WHERE t.article_id = a.article_id)
                   -- the pages are mostly English: the corpus's Chinese articles last
                   ORDER BY coalesce(a.language, '') LIKE 'zh%%', a.article_id LIMIT %s""",
                (2 * n,),
            )
            ids = [r[0] for r in cur.fetchall()]
            if not ids:
                raise PagesUnavailable("bench_core has no article to point at a page")
            cloned = 0
            if len(ids) < 2 * n:
                cloned = 2 * n - len(ids)
                ids += _clone_articles(cur, [ids[i % len(ids)] for i in range(cloned)])
            # The corpus's summaries run to 200 words and more, longer than the shortest real pages:
            # newswatch rightly reads a page shorter than its feed summary, with a cookie banner
            # on it, as a consent wall. Feed summaries are the opening of the article, so the
            # pointed articles keep their first SUMMARY_WORDS words.
            cur.execute(
                r"""UPDATE news.articles a SET url = x.url, is_relevant = true,
                          summary = CASE
                              -- Chinese and Japanese: each character counts as a word (extract.word_count)
                              WHEN a.summary ~ '[\u3040-\u30ff\u4e00-\u9fff]' THEN left(a.summary, %(words)s)
                              WHEN cardinality(regexp_split_to_array(btrim(a.summary), '\s+')) > %(words)s
                              THEN array_to_string((regexp_split_to_array(btrim(a.summary), '\s+'))[1:%(words)s], ' ')
                              ELSE a.summary END
                   FROM unnest(%(ids)s::bigint[], %(urls)s::text[]) AS x(article_id, url)
                   WHERE a.article_id = x.article_id""",
                {"words": SUMMARY_WORDS, "ids": ids, "urls": urls + urls},
            )
            batch_a, batch_b = ids[:n], ids[n:]
            mark_first_seen_now(cur, batch_a)
            # nothing else may be newer than the batch, or the selection takes it instead
            cur.execute(
                "SELECT count(*) FROM news.articles WHERE is_relevant AND first_seen_at > now() "
                "AND NOT (article_id = ANY(%s))",
                (batch_a,),
            )
            newer = cur.fetchone()[0]
            if newer:
                raise PagesUnavailable(f"{newer} relevant articles of bench_core are first seen in the future")
    finally:
        conn.close()
    return {"batch_a": batch_a, "batch_b": batch_b, "cloned": cloned}


def mark_first_seen_now(cur, ids: list[int]) -> None:
    cur.execute(
        "UPDATE news.articles SET first_seen_at = now(), last_seen_at = greatest(last_seen_at, now()) "
        "WHERE article_id = ANY(%s)",
        (ids,),
    )


def _clone_articles(cur, sources: list[int]) -> list[int]:
    """A copy of each source article (its fingerprints too) under a new id and a canonical URL of
    its own; the copies' ids, in order."""

    def columns(table: str, leave_out: tuple[str, ...]) -> list[str]:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'news' AND table_name = %s "
            "AND is_generated = 'NEVER' ORDER BY ordinal_position",
            (table,),
        )
        return [r[0] for r in cur.fetchall() if r[0] not in leave_out]

    cur.execute(
        "SELECT nextval(pg_get_serial_sequence('news.articles', 'article_id')) FROM generate_series(1, %s)",
        (len(sources),),
    )
    new_ids = [r[0] for r in cur.fetchall()]
    article_cols = columns("articles", ("article_id", "canonical_url"))
    copied = ", ".join("a." + c for c in article_cols)
    cur.execute(
        f"""INSERT INTO news.articles (article_id, canonical_url, {", ".join(article_cols)})
            SELECT x.new_id, a.canonical_url || '#bench-fulltext-' || x.new_id, {copied}
            FROM unnest(%s::bigint[], %s::bigint[]) AS x(article_id, new_id)
            JOIN news.articles a ON a.article_id = x.article_id""",
        (sources, new_ids),
    )
    fp_cols = columns("article_fingerprints", ("article_id",))
    cur.execute(
        f"""INSERT INTO news.article_fingerprints (article_id, {", ".join(fp_cols)})
            SELECT x.new_id, {", ".join("f." + c for c in fp_cols)}
            FROM unnest(%s::bigint[], %s::bigint[]) AS x(article_id, new_id)
            JOIN news.article_fingerprints f ON f.article_id = x.article_id""",
        (sources, new_ids),
    )
    return new_ids


def _overlap(dsn: str, ids: list[int], start: float, end: float) -> dict:
    """How the concurrent full text lined up with the re-poll: pages it started while run_once
    ran, and whether it was fetching before the re-poll began and after it ended."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                """SELECT count(*) FILTER (WHERE fetched_at BETWEEN to_timestamp(%(s)s) AND to_timestamp(%(e)s)),
                          count(*) FILTER (WHERE fetched_at < to_timestamp(%(s)s)),
                          count(*) FILTER (WHERE fetched_at > to_timestamp(%(e)s))
                   FROM news.article_texts WHERE article_id = ANY(%(ids)s)""",
                {"s": start, "e": end, "ids": ids},
            )
            during, before, after = cur.fetchone()
        conn.rollback()
    finally:
        conn.close()
    return {
        "pages_during_repoll": during,
        "pages_before": before,
        "pages_after": after,
        "spanned": bool(before and after),
    }


# --- the step -------------------------------------------------------------------------------


def run(
    *,
    pages: Pages,
    base_url: str,
    core_dsn: str,
    env: dict,
    out: Path,
    server,
    results: dict,
    say,
    checkpoint,
) -> None:
    """(a) and (b) of the module's docstring, into results["fulltext"]. Never raises: a step that
    cannot run says why and is reported as skipped; a run that fails is reported as FAILED (its
    runs are kept in results["fulltext"]["runs"], apart from the contenders', so the bench's exit
    status is theirs), and the bench goes on."""
    info = results.setdefault("fulltext", pages.describe())
    try:
        _run(pages, base_url, core_dsn, env, out, server, info, say, checkpoint)
    except PagesUnavailable as exc:
        print(f"  full-text step skipped: {exc}", flush=True)
        info["skipped"] = str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug of the bench or the database: the rest of the bench goes on
        print(f"  !! full-text step failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        info["error"] = f"{type(exc).__name__}: {exc}"
    checkpoint()


def _run(pages: Pages, base_url: str, core_dsn: str, env: dict, out: Path, server, info: dict, say, checkpoint) -> None:
    py = sys.executable
    n = len(pages.names)
    t0 = time.perf_counter()
    batches = prepare_warehouse(core_dsn, base_url, pages.names)
    info["cloned_articles"] = batches["cloned"]
    info["prepare_s"] = time.perf_counter() - t0
    print(
        f"  {n:,} pages ({pages.distinct} {pages.source} pages cycled) at {base_url}/pages/; "
        f"2 × {n:,} articles of bench_core pointed at them"
        + (f" ({batches['cloned']:,} of them copies: the warehouse is smaller)" if batches["cloned"] else ""),
        flush=True,
    )
    info["runs"] = runs = {}
    timeout = max(600.0, 5.0 * n)  # an hour is the target; a stuck step must not hold the bench forever
    ft_env = dict(env, NEWSWATCH_FULLTEXT="relevant", NEWSWATCH_FULLTEXT_LIMIT=str(n))
    cmd = [py, "-m", "bench.contenders", "fulltext"]

    def fetch_batch(label: str, article_ids: list[int]):
        config = json.dumps({"article_ids": article_ids})
        return run_process(
            label, cmd, env=dict(ft_env, BENCH_CONFIG=config), out_dir=out, server=server, timeout=timeout
        )

    # (a) alone
    run = fetch_batch("fulltext", batches["batch_a"])
    runs["fulltext"] = run.to_dict()
    say(run)
    checkpoint()

    # (b) a second batch, and the re-poll once that batch has begun
    import psycopg2

    conn = psycopg2.connect(core_dsn)
    try:
        with conn, conn.cursor() as cur:
            mark_first_seen_now(cur, batches["batch_b"])
    finally:
        conn.close()
    concurrent: dict = {}

    def fulltext_meanwhile() -> None:
        try:
            concurrent["run"] = fetch_batch("fulltext_concurrent", batches["batch_b"])
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            concurrent["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=fulltext_meanwhile, name="bench-fulltext", daemon=True)
    thread.start()
    wait = {"article_ids": batches["batch_b"], "timeout_s": REPOLL_WAIT_S}
    repoll = run_process(
        "core_repoll_during_fulltext",
        [py, "-m", "bench.contenders", "core"],
        env=dict(env, BENCH_CONFIG=json.dumps({"label": "core_repoll_during_fulltext", "wait_for_texts": wait})),
        out_dir=out,
        server=server,
    )
    runs["core_repoll_during_fulltext"] = repoll.to_dict()
    say(repoll)
    thread.join()
    if "run" in concurrent:
        runs["fulltext_concurrent"] = concurrent["run"].to_dict()
        say(concurrent["run"])
    else:
        print(f"  !! the concurrent full text did not run: {concurrent.get('error')}", file=sys.stderr, flush=True)
        info["error"] = f"concurrent full text: {concurrent.get('error')}"
    started, ended = repoll.result.get("started_at"), repoll.result.get("ended_at")
    if started and ended:
        info["overlap"] = _overlap(core_dsn, batches["batch_b"], started, ended)
        o = info["overlap"]
        print(
            f"  full-text pages started while the re-poll ran: {o['pages_during_repoll']}"
            + ("" if o["spanned"] else " (the full text did not run throughout: a small batch?)"),
            flush=True,
        )
    checkpoint()
