import json

import pytest

from newswatch.config import (
    ConfigError,
    FeedsFileError,
    Settings,
    connection_to_dsn,
    load_feeds,
    parse_feeds,
)

GOOD = """
feeds:
  - name: bbc_world
    url: https://feeds.bbci.co.uk/news/world/rss.xml
    outlet: BBC News
    language: en-GB
  - name: xinhua_zh
    url: http://www.news.cn/world/news_world.xml
    language: zh
    enabled: false
"""


def test_valid_file_parses_every_field():
    feeds = parse_feeds(GOOD)
    assert [f.name for f in feeds] == ["bbc_world", "xinhua_zh"]
    assert feeds[0].outlet == "BBC News" and feeds[0].language == "en-GB" and feeds[0].enabled
    assert feeds[1].outlet is None and not feeds[1].enabled
    assert feeds[0].host == "feeds.bbci.co.uk"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("feeds:\n  - name: a\n", "line 2: feed 'a' has no `url`"),
        ("feeds:\n  - url: https://x.org/rss\n", "line 2: a feed has no `name`"),
        (
            "feeds:\n  - name: a\n    url: https://x.org/a\n  - name: a\n    url: https://x.org/b\n",
            "line 4: duplicate feed name 'a' (first used at line 2)",
        ),
        (
            "feeds:\n  - name: a\n    url: https://x.org/a\n  - name: b\n    url: https://x.org/a\n",
            "line 4: feed 'b' has the same url as feed 'a' (line 2)",
        ),
        ("feeds:\n  - name: a\n    url: ftp://x.org/a\n", "must start with http:// or https://"),
        ("feeds:\n  - name: a\n    url: https://x.org/a\n    urll: x\n", "line 4: unknown key 'urll'"),
        ("feeds:\n  - name: Bad Name\n    url: https://x.org/a\n", "feed name 'Bad Name' must be lower-case"),
        ("feeds:\n  - name: a\n    url: https://x.org/a\n    enabled: maybe\n", "`enabled` must be true or false"),
        ("feeds:\n  - name: a\n    url: https://x.org/a\n    language: english!\n", "is not a language code"),
        ("feeds: [\n  - name: a\n", "not valid YAML"),
        ("- just a list\n", "must be a mapping"),
        ("sources: []\n", "no `feeds:` key"),
        ("feeds: {}\n", "`feeds` must be a list"),
        ("feeds:\n  - just-a-string\n", "line 2: each feed must be a mapping"),
    ],
)
def test_bad_files_name_the_line_and_feed(text, expected):
    with pytest.raises(FeedsFileError) as err:
        parse_feeds(text, "feeds.yaml")
    assert expected in str(err.value)
    assert str(err.value).startswith("feeds.yaml:")


def test_all_problems_are_reported_at_once():
    text = "feeds:\n  - name: a\n  - name: b\n    url: nope\n"
    with pytest.raises(FeedsFileError) as err:
        parse_feeds(text)
    assert len(err.value.problems) == 2


def test_invalid_yaml_reports_position():
    with pytest.raises(FeedsFileError) as err:
        parse_feeds("feeds:\n  - name: a\n    url: [unclosed\n")
    assert "line 4" in str(err.value) or "line 3" in str(err.value)


def test_missing_file_says_how_to_point_at_one(tmp_path):
    with pytest.raises(FeedsFileError) as err:
        load_feeds(tmp_path / "nope.yaml")
    assert "NEWSWATCH_FEEDS" in str(err.value)


def test_shipped_feeds_file_is_valid_and_large_enough():
    feeds = load_feeds("config/feeds.yaml")
    assert len([f for f in feeds if f.enabled]) >= 25
    assert any(f.language and f.language.startswith("zh") for f in feeds)
    assert any("news.google.com" in f.url for f in feeds)


def test_settings_from_env_parse_and_validate():
    env = {
        "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "yes",
        "NEWSWATCH_MAX_BODY_BYTES": "2048",
        "AIRFLOW_CONN_NEWS_WAREHOUSE": "postgres://u:p%40ss@db.example:5433/news",
    }
    settings = Settings.from_env(env)
    assert settings.fetch.allow_private_networks is True
    assert settings.fetch.max_body_bytes == 2048
    assert "password=p@ss" in settings.warehouse_dsn and "port=5433" in settings.warehouse_dsn
    assert Settings.from_env({}).fetch.allow_private_networks is False
    assert Settings.from_env({}).warehouse_dsn is None
    with pytest.raises(ConfigError, match="NEWSWATCH_ALLOW_PRIVATE_NETWORKS"):
        Settings.from_env({"NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "perhaps"})
    with pytest.raises(ConfigError, match="NEWSWATCH_MAX_BODY_BYTES"):
        Settings.from_env({"NEWSWATCH_MAX_BODY_BYTES": "ten"})


def test_connection_json_form():
    raw = json.dumps(
        {
            "conn_type": "postgres",
            "host": "h",
            "login": "u",
            "password": "x y",
            "schema": "news",
            "port": 5432,
            "extra": {"sslmode": "require", "junk": 1},
        }
    )
    dsn = connection_to_dsn(raw)
    assert "host=h" in dsn and "dbname=news" in dsn and "sslmode=require" in dsn and "junk" not in dsn
    assert "password='x y'" in dsn


def test_connection_rejects_other_databases():
    with pytest.raises(ConfigError, match="postgres://"):
        connection_to_dsn("mysql://u@h/db")
