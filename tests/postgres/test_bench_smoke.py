"""The benchmark on a tiny corpus, so bench/ cannot rot: every stage of `python -m bench` runs
(corpus, feed server, stage profile, core first poll and re-poll, the full-text step on 20 pages,
report) in seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.mark.parametrize("scenario", ["standard", "syndicated"])
def test_the_benchmark_runs_on_a_tiny_corpus(tmp_path, pg_admin_url, scenario):
    env = dict(
        os.environ,
        NEWSWATCH_BENCH_DATABASE_URL=pg_admin_url,
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "plugins")]),
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--scenario",
            scenario,
            "--feeds",
            "4",
            "--entries",
            "6",
            "--skip-airflow",
            "--skip-baselines",
            # the full-text step at a tiny size (the standard scenario only: syndicated skips it)
            "--fulltext-pages",
            "20",
            # growth at a tiny size: the seeded warehouse must be one the merge recognises
            # (growth.timed_merge refuses a merge that quarantines entries)
            *(
                ["--growth-sizes", "2000", "--growth-new", "300", "--growth-rounds", "1"]
                if scenario == "standard"
                else ["--skip-growth"]
            ),
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["corpus"]["scenario"] == scenario and results["corpus"]["entries"] == 24
    first = results["runs"]["core_first"]["result"]["summary"]
    assert first["feeds_ok"] == 4 and first["merge"]["new"] > 0
    assert results["runs"]["core_repoll"]["result"]["summary"]["feeds_not_modified"] == 4
    if scenario == "standard":  # known articles found through their aliases: sightings, nothing quarantined
        [grown] = results["growth"]["sizes"]
        [merged] = grown["rounds"]
        assert merged["result"]["quarantined"] == 0 and merged["result"]["sightings"] > 0
    stages = results["runs"]["stages"]["result"]
    assert stages["extraction"]["pages_per_s_per_core"] > 0
    assert "stage profile" in proc.stdout and "targets" in proc.stdout
    if scenario == "standard":
        check_fulltext(results, proc.stdout, tmp_path)
    else:
        assert results["fulltext"]["skipped"] and "full text: skipped" in proc.stdout
    compare = subprocess.run(
        [sys.executable, "-m", "bench.compare", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert compare.returncode == 0 and "core ÷ reader" in compare.stdout
    assert "re-poll alone / during full text" in compare.stdout


def check_fulltext(results: dict, stdout: str, out: Path) -> None:
    """The full-text step fetched its 20 pages, twice, and the re-poll ran while the second batch
    did: real figures, every page's status from news.article_texts."""
    info, ft = results["fulltext"], results["derived"]["fulltext"]
    assert not ft["skipped"] and ft["pages"] == 20, info
    assert all(run["returncode"] == 0 for run in info["runs"].values()), info["runs"]
    for statuses in (ft["statuses"], ft["concurrent_statuses"]):
        if info["source"] == "real":  # ../shared/articles: ordinary article pages
            assert statuses == {"ok": 20}
        else:  # the demo's pages include a paywall and a consent wall, which are not articles
            assert sum(statuses.values()) == 20 and set(statuses) <= {"ok", "paywalled"} and statuses["ok"] >= 18
    assert ft["seconds"] > 0 and ft["pages_per_s"] > 0 and ft["concurrent_seconds"] > 0
    alone = info["runs"]["fulltext"]["result"]
    assert alone["report"]["candidates"] == 20 and alone["other_articles"] == 0
    repoll = info["runs"]["core_repoll_during_fulltext"]["result"]
    assert repoll["summary"]["feeds_not_modified"] == 4 and repoll["waited_for_texts"]["fulltext_begun"]
    assert ft["repoll_during_s"] > 0 and ft["repoll_alone_s"] > 0 and info["overlap"]["pages_before"] > 0
    assert "full text, 20 pages:" in stdout
    targets = {t["target"]: t for t in results["derived"]["targets"]}
    assert targets["full text of 1,000 pages well within the hour between polls (≤ 30 min)"]["measured"] > 0
    # the served pages are not left in the output folder (they are copies of ../shared's)
    assert not (out / "fulltext_pages").exists()


def test_the_full_text_pages_fall_back_to_the_demo_pages(tmp_path):
    """Without ../shared/articles the full-text step serves the demo's pages, cycled."""
    env = dict(
        os.environ,
        NEWSWATCH_ARTICLES=str(tmp_path / "absent"),
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "plugins")]),
    )
    code = (
        "import json, sys; from pathlib import Path; from bench.fulltext import write_pages; "
        "p = write_pages(Path(sys.argv[1]), 100); print(json.dumps(p.describe()))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "pages")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    described = json.loads(proc.stdout)
    assert described["source"] == "demo" and described["pages"] == 100 and described["distinct"] == 85
    served = sorted(f for f in (tmp_path / "pages").iterdir() if f.is_file())
    assert len(served) == 100
    assert served[0].read_bytes() == served[85].read_bytes() != served[1].read_bytes()
