"""Structural checks of the production deployment files (docker-compose.yml, Dockerfile,
.dockerignore). There is no Docker engine in CI, so nothing here builds or starts containers:
the files are parsed and their wiring checked (services, shared config, databases, mounts,
dependencies, the fetch pool, the image's pins)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from newswatch.airflow_support import FETCH_POOL

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

AIRFLOW_SERVICES = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
    "airflow-init",
]
REQUIRED_SERVICES = ["postgres", "redis", "warehouse", *AIRFLOW_SERVICES, "flower"]
VALID_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
# Mounted from the repository, so they must exist in it (./logs is created at runtime).
REPO_MOUNTS = {
    "./dags": "/opt/airflow/dags",
    "./plugins": "/opt/airflow/plugins",
    "./sql": "/opt/airflow/sql",
    "./config": "/opt/airflow/config",
}

# innermost first: a default may itself hold a variable (${A:-x${B:-y}}), which compose resolves
_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}$]*))?\}")


def interpolate(value: str) -> str:
    """Resolve compose `${VAR}`, `${VAR:-default}` and `${VAR:?msg}` as with an empty
    environment: defaults are used, unset required variables become ''."""

    def one(m: re.Match) -> str:
        return m.group("arg") if m.group("op") in (":-", "-") else ""

    value, previous = str(value), None
    while previous != value:
        previous, value = value, _INTERPOLATION.sub(one, value)
    return value


@pytest.fixture(scope="module")
def compose() -> dict:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE list form
        env = dict(item.split("=", 1) for item in env)
    return {k: interpolate(v) for k, v in env.items()}


def depends_of(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):  # short form means service_started
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def mounts_of(service: dict) -> dict[str, str]:
    """Bind mounts as {host path: container path} (short syntax, mode dropped)."""
    out = {}
    for vol in service.get("volumes") or []:
        parts = str(vol).split(":")
        if parts[0].startswith((".", "/")):
            out[parts[0]] = parts[1]
    return out


def published_ports(service: dict) -> set[tuple[str, str]]:
    """{(host port, container port)} from short-syntax ports, host IP dropped."""
    out = set()
    for port in service.get("ports") or []:
        parts = str(port).split(":")
        out.add((parts[-2] if len(parts) >= 2 else parts[-1], parts[-1]))
    return out


def constraints_version(package: str) -> str:
    text = (ROOT / "constraints.txt").read_text()
    m = re.search(rf"^{re.escape(package)}==(\S+)\s*$", text, re.M)
    assert m, f"{package} is not pinned in constraints.txt"
    return m.group(1)


# --- the compose file -------------------------------------------------------------------------


def test_interpolate_helper():
    assert interpolate("${A:-x@y:1/z}") == "x@y:1/z"
    assert interpolate("${A:?must be set}") == ""
    assert interpolate("pre-${A}-post") == "pre--post"


def test_every_service_is_defined(services):
    missing = [s for s in REQUIRED_SERVICES if s not in services]
    assert not missing, f"services missing from docker-compose.yml: {missing}"
    assert services["flower"].get("profiles") == ["flower"], "flower runs only under its profile"


def test_airflow_services_run_the_right_commands(services):
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert services["airflow-scheduler"]["command"] == "scheduler"
    assert services["airflow-dag-processor"]["command"] == "dag-processor"
    assert services["airflow-worker"]["command"] == "celery worker"
    assert services["airflow-triggerer"]["command"] == "triggerer"
    assert services["flower"]["command"] == "celery flower"


def test_common_config_applied_to_every_airflow_service(compose, services):
    common = compose["x-airflow-common"]
    common_env = env_of(common)
    assert common.get("build"), "the common block must build the project's Dockerfile"
    for name in [*AIRFLOW_SERVICES, "flower"]:
        svc = services[name]
        assert svc.get("image") == common["image"], name
        assert svc.get("build") == common["build"], name
        env = env_of(svc)
        changed = {k: (v, env.get(k)) for k, v in common_env.items() if env.get(k) != v}
        assert not changed, f"{name}: common environment missing or overridden: {changed}"
        assert mounts_of(svc) == mounts_of(common), f"{name}: volumes differ from the common block"
        if name != "airflow-init":  # init runs as root to chown ./logs
            assert svc.get("user") == common["user"], name


def test_executor_broker_and_metadata_db(compose, services):
    env = env_of(compose["x-airflow-common"])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"

    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis" and broker.hostname == "redis" and broker.port == 6379
    assert services["redis"]["image"].startswith("redis:")

    meta = env_of(services["postgres"])
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND"):
        url = urlsplit(env[key])
        assert url.scheme.split("+")[-1] in ("postgresql", "psycopg2"), key
        assert url.hostname == "postgres", f"{key} must use the metadata postgres service"
        assert url.username == meta["POSTGRES_USER"] and url.password == meta["POSTGRES_PASSWORD"], key
        assert url.path.lstrip("/") == meta["POSTGRES_DB"], key
    assert services["postgres"]["image"] == "postgres:16"


def test_warehouse_connections_use_their_own_logins_never_the_superuser(compose, services):
    env = compose["x-airflow-common"]["environment"]
    wh = env_of(services["warehouse"])
    init = (ROOT / "docker" / "warehouse-init.sh").read_text()
    for key, login in (
        ("AIRFLOW_CONN_NEWS_WAREHOUSE", "newswatch"),
        ("AIRFLOW_CONN_NEWS_WAREHOUSE_READONLY", "newswatch_analyst"),
    ):
        raw = env[key]
        assert raw.startswith("${" + key + ":-"), f"{key} must stay overridable from .env"
        url = urlsplit(interpolate(raw))
        assert url.scheme in ("postgres", "postgresql")
        assert url.hostname == "warehouse" and (url.port or 5432) == 5432
        assert url.path.lstrip("/") == "newswatch"
        assert url.username == login and login != wh["POSTGRES_USER"]
        assert f"CREATE ROLE {login} LOGIN" in init
    assert "IN ROLE newswatch_reader" in init and "CREATE DATABASE newswatch OWNER newswatch" in init
    mounted = mounts_of(services["warehouse"])
    assert mounted["./docker/warehouse-init.sh"].startswith("/docker-entrypoint-initdb.d/")


def test_every_warehouse_password_is_required_from_env_with_no_default():
    text = COMPOSE_FILE.read_text()
    for name in ("WAREHOUSE_ADMIN_PASSWORD", "WAREHOUSE_PASSWORD", "WAREHOUSE_READER_PASSWORD"):
        uses = re.findall(r"\$\{" + name + r"(:?[-?])", text)
        assert uses and set(uses) == {":?"}, f"{name} must be required (${{{name}:?...}}), never defaulted"
    assert "newswatch:newswatch" not in text and "PASSWORD: newswatch" not in text


def test_published_ports_listen_on_this_host_unless_told_otherwise(services):
    for name in ("warehouse", "airflow-apiserver", "flower"):
        for port in services[name].get("ports") or []:
            host = interpolate(str(port).rsplit(":", 2)[0])
            assert host == "127.0.0.1", f"{name} publishes {port} beyond this host by default"


def test_warehouse_is_its_own_database(compose, services):
    wh = services["warehouse"]
    assert wh["image"] == "postgres:16"
    named = {str(v).split(":")[0] for v in wh.get("volumes") or []}
    assert "warehouse-db-volume" in named
    assert "warehouse-db-volume" in (compose.get("volumes") or {}), "named volume must be declared"
    meta_named = {str(v).split(":")[0] for v in services["postgres"].get("volumes") or []}
    assert not named & meta_named, "warehouse and metadata DB must not share a volume"
    test = wh["healthcheck"]["test"]
    assert "pg_isready" in " ".join(test if isinstance(test, list) else [test])
    assert ("5433", "5432") in published_ports(wh)


def test_healthchecks(services):
    for name in [
        "postgres",
        "redis",
        "warehouse",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-worker",
        "airflow-triggerer",
    ]:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    api = " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    assert "http://localhost:8080/api/v2/version" in api
    assert "redis-cli" in " ".join(services["redis"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["airflow-worker"]["healthcheck"]["test"])


def test_depends_on_targets_exist_with_valid_conditions(services):
    for name, svc in services.items():
        for target, condition in depends_of(svc).items():
            assert target in services, f"{name} depends on unknown service {target!r}"
            assert target != name, f"{name} depends on itself"
            assert condition in VALID_CONDITIONS, f"{name} -> {target}: bad condition {condition!r}"
            if condition == "service_healthy":
                assert services[target].get("healthcheck"), f"{name} waits for {target}'s health, which has none"
            if condition == "service_completed_successfully":
                assert services[target].get("restart") in (None, "no"), f"{target} must be one-shot"


def test_airflow_services_wait_for_databases_broker_and_init(services):
    for name in [*AIRFLOW_SERVICES, "flower"]:
        deps = depends_of(services[name])
        for infra in ("postgres", "redis", "warehouse"):
            assert deps.get(infra) == "service_healthy", f"{name} must wait for {infra} to be healthy"
        if name != "airflow-init":
            assert deps.get("airflow-init") == "service_completed_successfully", name
    assert "airflow-init" not in depends_of(services["airflow-init"])


def test_bind_mounts_exist_in_repo(compose):
    mounts = mounts_of(compose["x-airflow-common"])
    for host, container in REPO_MOUNTS.items():
        assert mounts.get(host) == container, f"{host} must be mounted at {container}"
    for host in mounts:
        if host != "./logs":
            assert (ROOT / host).is_dir(), f"bind mount source {host} does not exist in the repository"


def test_newswatch_paths_point_at_mounted_files(compose):
    env = env_of(compose["x-airflow-common"])
    back = {container: host for host, container in mounts_of(compose["x-airflow-common"]).items()}

    def on_host(container_path: str) -> Path:
        for container, host in back.items():
            if container_path == container or container_path.startswith(container + "/"):
                return ROOT / host / container_path[len(container) :].lstrip("/")
        raise AssertionError(f"{container_path} is not inside any bind mount")

    assert on_host(env["NEWSWATCH_FEEDS"]).is_file()
    assert on_host(env["NEWSWATCH_TOPICS"]).is_file()
    assert (on_host(env["NEWSWATCH_SQL_DIR"]) / "migrations").is_dir()


def test_airflow_settings(compose):
    env = env_of(compose["x-airflow-common"])
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "false"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    assert env["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "AIRFLOW__CORE__FERNET_KEY" in env
    api = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert api.hostname == "airflow-apiserver" and api.port == 8080 and api.path == "/execution/"
    # One JWT secret for every container, or workers' calls to the execution API are refused.
    raw_jwt = compose["x-airflow-common"]["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert raw_jwt.startswith("${AIRFLOW__API_AUTH__JWT_SECRET:?"), "required from .env, no public default"


def test_api_server_publishes_8080(services):
    assert ("8080", "8080") in published_ports(services["airflow-apiserver"])


def test_init_creates_the_dag_pool_and_migrates_both_databases(services):
    init = services["airflow-init"]
    script = "\n".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    m = re.search(r"airflow pools set (\S+) (\d+) ", script)
    assert m, "airflow-init must create the fetch pool"
    assert m.group(1) == FETCH_POOL, f"pool {m.group(1)!r} is not the DAG's pool {FETCH_POOL!r}"
    assert int(m.group(2)) == 8
    assert "airflow db migrate" in script
    assert "newswatch migrate" in script
    assert script.index("airflow db migrate") < script.index("airflow pools set"), "pools live in the metadata DB"
    assert "set -e" in script, "a failed step must fail the init (everything waits on it)"


def test_no_runtime_pip_installs():
    for path in (COMPOSE_FILE, DOCKERFILE, ROOT / ".dockerignore"):
        assert "_PIP_ADDITIONAL_REQUIREMENTS" not in path.read_text(), path.name


# --- the image --------------------------------------------------------------------------------


def test_dockerfile_base_matches_pins():
    text = DOCKERFILE.read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert froms == [f"apache/airflow:{constraints_version('apache-airflow')}-python3.11"]
    assert 'requires-python = ">=3.11,<3.12"' in (ROOT / "pyproject.toml").read_text()


def test_dockerfile_installs_the_project_with_constraints():
    text = DOCKERFILE.read_text()
    run = " ".join(re.findall(r"^RUN\s+((?:.*\\\n)*.*)$", text, re.M)).replace("\\\n", " ")
    assert "pip install" in run
    assert "-c constraints.txt" in run
    # editable: the code that runs is /opt/airflow/plugins, the path compose mounts ./plugins on
    assert re.search(r'-e\s+"?\.\[cluster\]"?', run)
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in run
    # pip runs as the airflow user, as the official image requires
    pip_at = re.search(r"^RUN\s+pip install", text, re.M).start()
    users = [m.group(1) for m in re.finditer(r"^USER\s+(\S+)", text[:pip_at], re.M)]
    assert users and users[-1] == "airflow"
    copied = []
    for src in re.findall(r"^COPY\s+(?:--\S+\s+)*(.+)\s+\S+$", text, re.M):
        for item in src.split():
            assert (ROOT / item).exists(), f"COPY source {item} is missing"
            copied.append(item.rstrip("/"))
    # the install needs these in the build context before it runs
    for needed in ("pyproject.toml", "constraints.txt", "plugins"):
        assert needed in copied, needed


def test_dockerignore_keeps_local_state_out():
    entries = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (".venv", ".newswatch", ".tools", ".git", "artifacts"):
        assert needed in entries, needed
    assert {"__pycache__", "**/__pycache__"} & entries
