"""Every NEWSWATCH_* variable the code reads is listed in README.md's configuration table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Where a variable is read. Python (plugins/newswatch/config.py reads them all):
# env_bool/env_number/env_path/env_networks("NEWSWATCH_X", ...), environ.get("NEWSWATCH_X"),
# os.getenv("NEWSWATCH_X"), environ["NEWSWATCH_X"] (not as an assignment's target) and
# "NEWSWATCH_X" in environ. docker-compose.yml and the Makefile: ${NEWSWATCH_X...}, $(NEWSWATCH_X).
# A name that only appears as a value written for a child process ({"NEWSWATCH_X": "..."},
# env["NEWSWATCH_X"] = ..., a compose service's `environment:` key) is not read there.
_PY_READS = (
    re.compile(r"""\b(?:env_[a-z]+|getenv|get)\(\s*["'](NEWSWATCH_[A-Z0-9_]+)["']"""),
    re.compile(r"""\benviron\[\s*["'](NEWSWATCH_[A-Z0-9_]+)["']\s*\](?!\s*=[^=])"""),
    re.compile(r"""["'](NEWSWATCH_[A-Z0-9_]+)["']\s+(?:not\s+)?in\s+(?:os\.)?environ\b"""),
)
_SHELL_READ = re.compile(r"\$[{(](NEWSWATCH_[A-Z0-9_]+)")
_NAME = re.compile(r"NEWSWATCH_[A-Z0-9_]+")


def _sources() -> list[Path]:
    python = [path for folder in ("plugins", "dags", "bench") for path in sorted((ROOT / folder).rglob("*.py"))]
    return [*python, ROOT / "docker-compose.yml", ROOT / "Makefile"]


def variables_read() -> dict[str, str]:
    """Each NEWSWATCH_* name the code reads -> the first place it is read (path:line)."""
    found: dict[str, str] = {}
    for path in _sources():
        text = path.read_text(encoding="utf-8")  # whole files: a call's arguments may span lines
        for pattern in _PY_READS if path.suffix == ".py" else (_SHELL_READ,):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.setdefault(match.group(1), f"{path.relative_to(ROOT)}:{line}")
    return found


def configuration_section(readme: str) -> str:
    """The README's configuration section: from the heading that names it to the next heading of
    the same or a higher level; the whole README when no heading names it."""
    lines = readme.splitlines()
    for i, line in enumerate(lines):
        heading = re.match(r"^(#{1,6})\s+.*\bconfiguration\b", line, re.IGNORECASE)
        if heading:
            level = len(heading.group(1))
            end = next(
                (j for j in range(i + 1, len(lines)) if re.match(rf"^#{{1,{level}}}\s", lines[j])),
                len(lines),
            )
            return "\n".join(lines[i:end])
    return readme


def documented(readme: str) -> set[str]:
    """The names in the configuration section's table rows."""
    rows = [line for line in configuration_section(readme).splitlines() if line.lstrip().startswith("|")]
    return {name for row in rows for name in _NAME.findall(row)}


def test_the_scan_finds_the_settings():
    # a broken pattern would make the test below pass on nothing
    read = variables_read()
    assert {"NEWSWATCH_FEEDS", "NEWSWATCH_FETCH_WORKERS", "NEWSWATCH_FULLTEXT", "NEWSWATCH_UI_BIND"} <= set(read)
    assert len(read) >= 30


def test_the_scan_tells_reading_from_writing():
    text = """
        raw = environ.get("NEWSWATCH_A") or env_number("NEWSWATCH_B", 1)
        if "NEWSWATCH_C" in os.environ: x = os.environ["NEWSWATCH_D"]
        env["NEWSWATCH_E"] = "1"; os.environ["NEWSWATCH_F"] = "2"
        extra_env = {"NEWSWATCH_G": "true"}
    """
    names = {name for pattern in _PY_READS for name in pattern.findall(text)}
    assert names == {"NEWSWATCH_A", "NEWSWATCH_B", "NEWSWATCH_C", "NEWSWATCH_D"}
    compose = "NEWSWATCH_FEEDS: /opt/x\n  - '${NEWSWATCH_UI_BIND:-127.0.0.1}:8080:8080'\n"
    assert _SHELL_READ.findall(compose) == ["NEWSWATCH_UI_BIND"]


def test_every_variable_read_is_in_the_readme_configuration_table():
    listed = documented((ROOT / "README.md").read_text(encoding="utf-8"))
    missing = {name: where for name, where in variables_read().items() if name not in listed}
    assert not missing, "read by the code but not in README.md's configuration table: " + ", ".join(
        f"{name} ({where})" for name, where in sorted(missing.items())
    )
