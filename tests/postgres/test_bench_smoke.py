"""The benchmark on a tiny corpus, so bench/ cannot rot: every stage of `python -m bench` runs
(corpus, feed server, stage profile, core first poll and re-poll, report) in seconds."""

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
    compare = subprocess.run(
        [sys.executable, "-m", "bench.compare", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert compare.returncode == 0 and "core ÷ reader" in compare.stdout
