"""The `newswatch` command as a user runs it (a subprocess), against a test database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import sqlalchemy_url
from tests.helpers import item, rss

NEWSWATCH = str(Path(sys.executable).with_name("newswatch"))


@pytest.fixture
def env(dsn, tmp_path):
    e = os.environ.copy()
    e["AIRFLOW_CONN_NEWS_WAREHOUSE"] = sqlalchemy_url(dsn)
    e["NEWSWATCH_ALLOW_PRIVATE_NETWORKS"] = "true"
    return e


def cli(*args, env, check=None):
    proc = subprocess.run([NEWSWATCH, *args], env=env, capture_output=True, text=True, timeout=120)
    if check is not None:
        assert proc.returncode == check, proc.stdout + proc.stderr
    return proc


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["run"],
        ["migrate"],
        ["feeds", "check"],
        ["feeds", "health"],
        ["feeds", "enable"],
        ["stats"],
        ["rescore"],
        ["summary"],
        ["eval"],
        ["local"],
    ],
)
def test_every_command_has_help(args):
    proc = subprocess.run([NEWSWATCH, *args, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "usage: newswatch" in proc.stdout


def test_feeds_check(tmp_path, env):
    good = tmp_path / "good.yaml"
    good.write_text("feeds:\n  - name: a\n    url: https://example.com/rss\n")
    assert "1 feeds" in cli("feeds", "check", str(good), env=env, check=0).stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("feeds:\n  - name: a\n    url: https://example.com/rss\n  - name: a\n")
    out = cli("feeds", "check", str(bad), env=env, check=1).stderr
    assert "line 4: duplicate feed name 'a'" in out and "has no `url`" in out


def test_run_stats_summary_and_health(feed_server, tmp_path, env):
    url = feed_server.add_document("/f.xml", rss([item(i) for i in range(4)]))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f'feeds:\n  - name: local\n    url: "{url}"\n    outlet: Local News\n')
    run = cli("run", "--feeds-file", str(feeds), "--force", env=env, check=0)
    assert "1 polled: 1 ok" in run.stdout and "4 new" in run.stdout
    assert "4 new" in cli("summary", env=env, check=0).stdout
    assert "Local News" in cli("stats", "--days", "36500", env=env, check=0).stdout
    assert "local" in cli("feeds", "health", env=env, check=0).stdout
    assert "rescored 4 articles" in cli("rescore", env=env, check=0).stdout


def test_run_with_no_reachable_feed_exits_1(tmp_path, env):
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - name: nowhere\n    url: http://no-such-host.invalid/rss\n")
    proc = cli("run", "--feeds-file", str(feeds), "--force", env=env, check=1)
    assert "NO FEED WAS REACHABLE" in proc.stdout and "dns" in proc.stdout


def test_bad_feeds_file_stops_the_run_before_any_fetch(tmp_path, env):
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - name: a\n    url: notaurl\n")
    proc = cli("run", "--feeds-file", str(feeds), env=env, check=2)
    assert "line 2" in proc.stderr and "must start with http" in proc.stderr


def test_an_unreachable_warehouse_is_said_plainly(tmp_path, env):
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - name: a\n    url: https://example.com/rss\n")
    env = dict(env, AIRFLOW_CONN_NEWS_WAREHOUSE="postgresql://nobody@127.0.0.1:1/none")
    proc = cli("run", "--feeds-file", str(feeds), env=env, check=3)
    assert "cannot reach the warehouse" in proc.stderr and "Traceback" not in proc.stderr
