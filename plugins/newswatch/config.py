"""Configuration: the feeds file and the settings read from the environment.

Everything here is validated up front with errors that name the line, the feed or the variable,
so a typo stops a run before any fetch instead of failing one task at a time.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from .errors import ConfigError, FeedsFileError

PROJECT_ROOT = Path(__file__).resolve().parents[2]

FEED_KEYS = ("name", "url", "outlet", "outlet_type", "language", "enabled", "timezone")
OUTLET_TYPES = (
    "wire",
    "us_press",
    "international_press",
    "asian_press",
    "chinese_state_media",
    "government",
    "think_tank",
    "aggregator",
)
FEED_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

DEFAULT_USER_AGENT = "newswatch/0.1 (+https://github.com/newswatch/newswatch; US-China news monitor)"


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str
    outlet: str | None = None
    language: str | None = None
    enabled: bool = True
    # IANA zone the outlet writes its local times in (zone-less dates, "CST" on a Chinese site)
    timezone: str | None = None
    outlet_type: str | None = None  # one of OUTLET_TYPES

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()


def resolve_path(value: str | os.PathLike) -> Path:
    """Relative paths are taken from the current folder when they exist there, else from the
    project root, so Airflow workers (whose working folder varies) find `config/feeds.yaml`."""
    path = Path(value).expanduser()
    if path.is_absolute() or path.exists():
        return path
    return PROJECT_ROOT / path


def _node_line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _text_or_none(value: object) -> str | None:
    """A validated optional text field of a feed: the string, or None when absent or empty."""
    return value if isinstance(value, str) and value else None


def parse_feeds(text: str, source: str = "<feeds>") -> list[FeedConfig]:
    """Parse and validate a feeds document; all problems are reported at once."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise FeedsFileError(source, [f"{where}not valid YAML ({problem})"]) from None
    if root is None or not isinstance(root, yaml.MappingNode):
        raise FeedsFileError(source, ["the file must be a mapping with a `feeds:` list"])
    feeds_node = None
    for key_node, value_node in root.value:
        if key_node.value == "feeds":
            feeds_node = value_node
    if feeds_node is None:
        raise FeedsFileError(source, ["no `feeds:` key at the top level"])
    if not isinstance(feeds_node, yaml.SequenceNode):
        raise FeedsFileError(source, [f"line {_node_line(feeds_node)}: `feeds` must be a list"])

    problems: list[str] = []
    feeds: list[FeedConfig] = []
    names_seen: dict[str, int] = {}
    urls_seen: dict[str, tuple[str, int]] = {}
    loader = yaml.SafeLoader("")
    for item in feeds_node.value:
        line = _node_line(item)
        if not isinstance(item, yaml.MappingNode):
            problems.append(f"line {line}: each feed must be a mapping like `- name: ...`")
            continue
        values: dict[str, object] = {}
        for key_node, value_node in item.value:
            key = key_node.value
            if key not in FEED_KEYS:
                problems.append(f"line {_node_line(key_node)}: unknown key {key!r} (allowed: {', '.join(FEED_KEYS)})")
                continue
            values[key] = loader.construct_object(value_node, deep=True)
        label = f"feed {values['name']!r}" if isinstance(values.get("name"), str) else "a feed"
        before = len(problems)

        name = values.get("name")
        if name is None or name == "":
            problems.append(f"line {line}: {label} has no `name`")
        elif not isinstance(name, str) or not FEED_NAME_RE.match(name):
            problems.append(
                f"line {line}: feed name {name!r} must be lower-case letters, digits, '_' or '-' "
                "(at most 60 characters)"
            )
        elif name in names_seen:
            problems.append(f"line {line}: duplicate feed name {name!r} (first used at line {names_seen[name]})")
        else:
            names_seen[name] = line

        url = values.get("url")
        if url is None or url == "":
            problems.append(f"line {line}: {label} has no `url`")
        elif not isinstance(url, str):
            problems.append(f"line {line}: {label}: `url` must be a string")
        else:
            url = url.strip()
            url_problem = check_feed_url(url)
            if url_problem:
                problems.append(f"line {line}: {label}: {url_problem}")
            elif url in urls_seen:
                other, other_line = urls_seen[url]
                problems.append(f"line {line}: {label} has the same url as feed {other!r} (line {other_line})")
            else:
                urls_seen[url] = (str(name), line)

        outlet = values.get("outlet")
        if outlet is not None and not isinstance(outlet, str):
            problems.append(f"line {line}: {label}: `outlet` must be a string")
        language = values.get("language")
        if language is not None and (not isinstance(language, str) or not LANGUAGE_RE.match(language)):
            problems.append(f"line {line}: {label}: `language` {language!r} is not a language code like en or zh-Hans")
        enabled = values.get("enabled", True)
        if not isinstance(enabled, bool):
            problems.append(f"line {line}: {label}: `enabled` must be true or false")
        outlet_type = values.get("outlet_type")
        if outlet_type is not None and outlet_type not in OUTLET_TYPES:
            problems.append(
                f"line {line}: {label}: `outlet_type` {outlet_type!r} is not one of {', '.join(OUTLET_TYPES)}"
            )
        tz = values.get("timezone")
        if tz is not None:
            from .dates import zone

            try:
                zone(tz)
            except ValueError as exc:
                problems.append(f"line {line}: {label}: `timezone`: {exc}")

        if len(problems) == before:
            feeds.append(
                FeedConfig(
                    name=str(name),
                    url=str(url),
                    outlet=_text_or_none(outlet),
                    language=_text_or_none(language),
                    enabled=bool(enabled),
                    timezone=_text_or_none(tz),
                    outlet_type=_text_or_none(outlet_type),
                )
            )
    if problems:
        raise FeedsFileError(source, problems)
    return feeds


def check_feed_url(url: str) -> str | None:
    """Return why `url` cannot be a feed address, or None when it can."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"url {url!r} is not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"url {url!r} must start with http:// or https://"
    if not parts.hostname:
        return f"url {url!r} has no host"
    try:
        _ = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        return f"url {url!r} has an invalid port"
    return None


def load_feeds(path: str | os.PathLike | None = None) -> list[FeedConfig]:
    path = resolve_path(path) if path else feeds_path_from_env()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FeedsFileError(path, ["file not found (set NEWSWATCH_FEEDS to the feeds file)"]) from None
    except UnicodeDecodeError as exc:
        raise FeedsFileError(path, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    return parse_feeds(text, str(path))


def load_outlet_types(path: str | os.PathLike) -> dict[str, str]:
    """Publisher name -> outlet type, from config/outlets.yaml (NEWSWATCH_OUTLETS)."""
    path = resolve_path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    outlets = doc.get("outlets") or {}
    if not isinstance(outlets, dict):
        raise ConfigError(f"{path}: `outlets` must map publisher names to types")
    bad = {name: kind for name, kind in outlets.items() if kind not in OUTLET_TYPES}
    if bad:
        raise ConfigError(f"{path}: unknown outlet type(s) {bad} (allowed: {', '.join(OUTLET_TYPES)})")
    return {str(name): kind for name, kind in outlets.items()}


# --- settings from the environment ------------------------------------------------------------
#
# Every NEWSWATCH_* variable is read here and nowhere else, into frozen settings objects: the
# pipeline's (Settings), the daily stage's (DailySettings), the DAG files' (AirflowSettings) and
# the laptop, test and benchmark helpers' (DevSettings). The README's configuration table lists
# every one of them (a unit test checks it).

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool, environ=os.environ) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r}: expected true or false")


def env_number(name: str, default: float, *, minimum: float = 0, cast=float, environ=os.environ):
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return cast(default)
    try:
        value = cast(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r}: must be at least {minimum}")
    return value


def env_networks(name: str, environ=os.environ) -> tuple[str, ...]:
    import ipaddress

    raw = environ.get(name) or ""
    networks = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ConfigError(f"{name}: {part!r} is not a network like 10.0.0.0/8") from None
    return tuple(networks)


def env_path(name: str, default: str, environ=os.environ) -> Path:
    return resolve_path(environ.get(name) or default)


def feeds_path_from_env(environ=os.environ) -> Path:
    return env_path("NEWSWATCH_FEEDS", "config/feeds.yaml", environ)


def sql_dir_from_env(environ=os.environ) -> Path:
    """Where sql/ is: the checkout's, unless NEWSWATCH_SQL_DIR says (the compose image mounts it)."""
    return Path(environ.get("NEWSWATCH_SQL_DIR") or PROJECT_ROOT / "sql")


@dataclass(frozen=True)
class FetchSettings:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 60.0
    max_body_bytes: int = 10 * 1024 * 1024
    # keep the first max_body_bytes of a longer body instead of failing it as too_large
    # (robots.txt: RFC 9309 has crawlers read at least its first 500 KiB, whatever follows)
    truncate_body: bool = False
    max_redirects: int = 5
    max_per_host: int = 2
    # how long a poll waits for one of its host's fetch slots before the feed is skipped (busy)
    host_slot_wait: float = 600.0
    allow_private_networks: bool = False
    # CIDRs allowed even though private (an intranet feed host), when the rest stay refused
    allowed_networks: tuple[str, ...] = ()
    user_agent: str = DEFAULT_USER_AGENT

    @classmethod
    def from_env(cls, environ=os.environ) -> FetchSettings:
        return cls(
            connect_timeout=env_number("NEWSWATCH_CONNECT_TIMEOUT", 10, minimum=0.1, environ=environ),
            read_timeout=env_number("NEWSWATCH_READ_TIMEOUT", 30, minimum=0.1, environ=environ),
            deadline=env_number("NEWSWATCH_FETCH_DEADLINE", 60, minimum=0.5, environ=environ),
            max_body_bytes=env_number(
                "NEWSWATCH_MAX_BODY_BYTES", 10 * 1024 * 1024, minimum=1024, cast=int, environ=environ
            ),
            max_per_host=env_number("NEWSWATCH_MAX_PER_HOST", 2, minimum=1, cast=int, environ=environ),
            allow_private_networks=env_bool("NEWSWATCH_ALLOW_PRIVATE_NETWORKS", False, environ),
            allowed_networks=env_networks("NEWSWATCH_ALLOWED_NETWORKS", environ),
            user_agent=environ.get("NEWSWATCH_USER_AGENT") or DEFAULT_USER_AGENT,
        )


FULLTEXT_MODES = ("relevant", "all", "none")


@dataclass(frozen=True)
class FulltextSettings:
    """Which articles get their page fetched and extracted, and how hard to try (fulltext.py)."""

    mode: str = "relevant"  # NEWSWATCH_FULLTEXT: relevant | all | none
    workers: int = 4  # concurrent page fetches
    max_bytes: int = 5 * 1024 * 1024  # largest page accepted
    limit: int = 500  # pages attempted per run at most (the rest wait for the next)
    days: int = 3  # articles first seen this many days back are candidates

    @classmethod
    def from_env(cls, environ=os.environ) -> FulltextSettings:
        mode = (environ.get("NEWSWATCH_FULLTEXT") or "relevant").strip().lower()
        if mode not in FULLTEXT_MODES:
            raise ConfigError(f"NEWSWATCH_FULLTEXT={mode!r}: expected one of {', '.join(FULLTEXT_MODES)}")
        return cls(
            mode=mode,
            workers=env_number("NEWSWATCH_FULLTEXT_WORKERS", 4, minimum=1, cast=int, environ=environ),
            max_bytes=env_number(
                "NEWSWATCH_FULLTEXT_MAX_BYTES", 5 * 1024 * 1024, minimum=64 * 1024, cast=int, environ=environ
            ),
            limit=env_number("NEWSWATCH_FULLTEXT_LIMIT", 500, minimum=1, cast=int, environ=environ),
            days=env_number("NEWSWATCH_FULLTEXT_DAYS", 3, minimum=1, cast=int, environ=environ),
        )


@dataclass(frozen=True)
class Settings:
    feeds_path: Path
    topics_path: Path
    warehouse_dsn: str | None
    fetch: FetchSettings = field(default_factory=FetchSettings)
    workers: int = 8
    processes: int = 1
    fulltext: FulltextSettings = field(default_factory=FulltextSettings)
    outlets_path: Path = PROJECT_ROOT / "config" / "outlets.yaml"

    @classmethod
    def from_env(cls, environ=os.environ) -> Settings:
        raw_conn = environ.get("AIRFLOW_CONN_NEWS_WAREHOUSE")
        return cls(
            feeds_path=feeds_path_from_env(environ),
            topics_path=env_path("NEWSWATCH_TOPICS", "config/topics.yaml", environ),
            warehouse_dsn=connection_to_dsn(raw_conn) if raw_conn else None,
            fetch=FetchSettings.from_env(environ),
            workers=env_number("NEWSWATCH_FETCH_WORKERS", 8, minimum=1, cast=int, environ=environ),
            processes=env_number(
                "NEWSWATCH_PROCESSES", min(os.cpu_count() or 1, 8), minimum=1, cast=int, environ=environ
            ),
            fulltext=FulltextSettings.from_env(environ),
            outlets_path=env_path("NEWSWATCH_OUTLETS", "config/outlets.yaml", environ),
        )


@dataclass(frozen=True)
class Thresholds:
    """The daily data-quality checks' limits."""

    min_relevant: int = 1
    duplicate_ratio: tuple[float, float] = (0.0, 0.99)
    max_lag_hours: float = 12.0

    @classmethod
    def from_env(cls, environ=os.environ) -> Thresholds:
        raw = environ.get("NEWSWATCH_DQ_DUPLICATE_RATIO", "0.0,0.99")
        try:
            low, high = (float(x) for x in raw.split(","))
        except ValueError:
            raise ConfigError(f"NEWSWATCH_DQ_DUPLICATE_RATIO={raw!r}: expected two numbers like 0.0,0.99") from None
        return cls(
            min_relevant=env_number("NEWSWATCH_DQ_MIN_RELEVANT", 1, cast=int, environ=environ),
            duplicate_ratio=(low, high),
            max_lag_hours=env_number("NEWSWATCH_DQ_MAX_LAG_HOURS", 12, environ=environ),
        )


@dataclass(frozen=True)
class DailySettings:
    delay_hours: int = 6  # how long after a day closes the daily DAG waits
    thresholds: Thresholds = field(default_factory=Thresholds)
    staging_retention_days: int = 7
    topics_path: Path = PROJECT_ROOT / "config" / "topics.yaml"

    @classmethod
    def from_env(cls, environ=os.environ) -> DailySettings:
        return cls(
            delay_hours=env_number("NEWSWATCH_DAILY_DELAY_HOURS", 6, minimum=0, cast=int, environ=environ),
            thresholds=Thresholds.from_env(environ),
            staging_retention_days=env_number(
                "NEWSWATCH_STAGING_RETENTION_DAYS", 7, minimum=1, cast=int, environ=environ
            ),
            topics_path=env_path("NEWSWATCH_TOPICS", "config/topics.yaml", environ),
        )


# One mapped task per feed costs a task start each (about 0.3 s, serially under `dags test`),
# and Airflow caps a map at 1,024 entries (core.max_map_length): above this many feeds, feeds
# are grouped so there are at most NEWSWATCH_MAX_FETCH_TASKS tasks, each polling its group with a
# thread pool. 64 keeps one task per feed for a typical list (tens of feeds), while a list of
# thousands pays 64 task starts rather than one per feed.
DEFAULT_MAX_FETCH_TASKS = 64
DEFAULT_ASSET_URI = "postgres://news-warehouse:5432/newswatch/news/articles"
_SCHEDULE_PRESETS = {
    "@once",
    "@continuous",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@quarterly",
    "@yearly",
    "@annually",
    "@midnight",
}


def parse_schedule(name: str, raw: str) -> str | None:
    """A DAG schedule: a cron expression, an @preset, or "none" (triggers only). A bad value is
    an import error that names the variable, not a silently dead DAG."""
    raw = raw.strip()
    if raw.lower() in ("none", ""):
        return None
    from croniter import croniter

    if raw in _SCHEDULE_PRESETS or croniter.is_valid(raw):
        return raw
    raise ConfigError(f"{name}={raw!r}: expected a cron expression like '0 * * * *', an @preset, or none")


@dataclass(frozen=True)
class AirflowSettings:
    """What the DAG files read when Airflow parses them."""

    poll_schedule: str | None = "@hourly"
    max_fetch_tasks: int = DEFAULT_MAX_FETCH_TASKS
    asset_uri: str = DEFAULT_ASSET_URI

    @classmethod
    def from_env(cls, environ=os.environ) -> AirflowSettings:
        return cls(
            poll_schedule=parse_schedule(
                "NEWSWATCH_POLL_SCHEDULE", environ.get("NEWSWATCH_POLL_SCHEDULE") or "@hourly"
            ),
            max_fetch_tasks=env_number(
                "NEWSWATCH_MAX_FETCH_TASKS", DEFAULT_MAX_FETCH_TASKS, minimum=1, cast=int, environ=environ
            ),
            asset_uri=environ.get("NEWSWATCH_ASSET_URI") or DEFAULT_ASSET_URI,
        )


@dataclass(frozen=True)
class UISettings:
    """The analyst's pages in the Airflow UI."""

    allowed_roles: tuple[str, ...] = ()  # empty: whoever the auth manager grants the view

    @classmethod
    def from_env(cls, environ=os.environ) -> UISettings:
        raw = environ.get("NEWSWATCH_UI_ROLES") or ""
        return cls(allowed_roles=tuple(r.strip() for r in raw.split(",") if r.strip()))


# The embedded PostgreSQL's database `make demo` fills and `make up DEMO=1` shows: a snapshot of
# the bundled sample feeds, on which `make up` keeps the DAGs paused and the pages say why.
DEMO_DATABASE = "newswatch_demo"


@dataclass(frozen=True)
class DevSettings:
    """The laptop setup (make run / demo / up), the tests and the benchmark."""

    state_dir: Path = PROJECT_ROOT / ".newswatch"
    ui_port: int = 8080
    test_database_url: str | None = None
    bench_database_url: str | None = None
    require_browser: bool = False
    # real data kept outside the repository (make eval, the quality tests): ../shared by default
    realdata_dir: Path = PROJECT_ROOT.parent / "shared" / "realdata"
    realfeeds_dir: Path = PROJECT_ROOT.parent / "shared" / "realfeeds"
    articles_dir: Path = PROJECT_ROOT.parent / "shared" / "articles"

    @classmethod
    def from_env(cls, environ=os.environ) -> DevSettings:
        return cls(
            state_dir=Path(environ.get("NEWSWATCH_STATE_DIR") or PROJECT_ROOT / ".newswatch"),
            ui_port=env_number("NEWSWATCH_UI_PORT", 8080, minimum=1, cast=int, environ=environ),
            test_database_url=environ.get("NEWSWATCH_TEST_DATABASE_URL") or None,
            bench_database_url=environ.get("NEWSWATCH_BENCH_DATABASE_URL") or None,
            require_browser=env_bool("NEWSWATCH_REQUIRE_BROWSER", False, environ),
            realdata_dir=Path(environ.get("NEWSWATCH_REALDATA") or cls.realdata_dir).expanduser(),
            realfeeds_dir=Path(environ.get("NEWSWATCH_REALFEEDS") or cls.realfeeds_dir).expanduser(),
            articles_dir=Path(environ.get("NEWSWATCH_ARTICLES") or cls.articles_dir).expanduser(),
        )


def connection_to_dsn(raw: str) -> str:
    """Turn an Airflow connection (URI or JSON form) into a libpq connection string.

    Airflow accepts `postgres://user:pass@host:5432/db` or a JSON object with conn_type, host,
    login, password, port, schema (the database) and extra; both are read here so the CLI and the
    DAG connect to the same warehouse from the same variable.
    """
    raw = raw.strip()
    if raw.startswith("{"):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"AIRFLOW_CONN_NEWS_WAREHOUSE is not valid JSON ({exc})") from None
        extra = data.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra or "{}")
        return conn_fields_to_dsn(
            host=data.get("host"),
            port=data.get("port"),
            user=data.get("login"),
            password=data.get("password"),
            dbname=data.get("schema"),
            extra=extra,
        )
    parts = urlsplit(raw)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ConfigError("AIRFLOW_CONN_NEWS_WAREHOUSE must be a postgres:// or postgresql:// URI or a JSON connection")
    from urllib.parse import parse_qsl

    extra = dict(parse_qsl(parts.query))
    return conn_fields_to_dsn(
        host=unquote(parts.hostname) if parts.hostname else None,
        port=parts.port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        dbname=unquote(parts.path.lstrip("/")) or None,
        extra=extra,
    )


_LIBPQ_EXTRA_KEYS = {"sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "options", "application_name"}


def conn_fields_to_dsn(*, host, port, user, password, dbname, extra=None) -> str:
    from psycopg2.extensions import make_dsn

    kwargs = {
        "host": host or "localhost",
        "port": str(port) if port else None,
        "user": user or None,
        "password": password or None,
        "dbname": dbname or "postgres",
    }
    for key, value in (extra or {}).items():
        if key in _LIBPQ_EXTRA_KEYS:
            kwargs[key] = str(value)
    kwargs.setdefault("application_name", "newswatch")
    return make_dsn(**{k: v for k, v in kwargs.items() if v is not None})
