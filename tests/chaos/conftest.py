"""The chaos suite's marker (declared in pyproject.toml) and its figures.

Every chaos test takes the `figures` fixture and fills in what it did and the counts it checked;
the outcome is added from the test report. At the end of the session the table is printed
(terminal summary) and written to artifacts/chaos/report.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.tiers import mark_tier

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "artifacts" / "chaos" / "report.md"


@pytest.hookimpl(tryfirst=True)  # before pytest's own hook deselects by -m
def pytest_collection_modifyitems(items):
    mark_tier(items, __file__, "chaos")  # every test under tests/chaos (tests/tiers.py)


@dataclass
class CaseFigures:
    case: str
    kind: str
    what: str = ""
    fetched: int | None = None  # entries the fetches saw (fetch_log.entries_seen)
    in_articles: int | None = None  # of those, merged into news.articles (new / updated / sighting)
    in_rejects: int | None = None  # of those, in news.rejects with a reason
    checked: str = ""  # the other figures the test asserted, in a few words
    result: str = "not run"
    seconds: float = 0.0

    def count(self, accounting) -> None:
        self.fetched, self.in_articles, self.in_rejects = (
            accounting.fetched,
            accounting.in_articles,
            accounting.in_rejects,
        )


_CASES: dict[str, CaseFigures] = {}
_STARTED = time.monotonic()


def _entry_for(item) -> CaseFigures:
    """The item's line in the report, made on first use. The test module names its kind
    (CHAOS_KIND); the case is the parameter id, or the test's name."""
    if item.nodeid not in _CASES:
        callspec = getattr(item, "callspec", None)
        case = callspec.id if callspec else item.name.removeprefix("test_")
        _CASES[item.nodeid] = CaseFigures(case=case, kind=getattr(item.module, "CHAOS_KIND", item.module.__name__))
    return _CASES[item.nodeid]


@pytest.fixture
def figures(request) -> CaseFigures:
    """This case's line in the report, for the test to fill in."""
    return _entry_for(request.node)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if item.get_closest_marker("chaos") is None:
        return report
    entry = _entry_for(item)  # also for a test whose fixtures failed before it asked for its figures
    if call.when in ("setup", "call"):
        entry.seconds += call.duration  # a module's shared preparation counts for its first case
    if report.when == "call" or report.failed or report.skipped:
        if hasattr(report, "wasxfail"):
            entry.result = "known bug (xfail)" if report.skipped else "FIXED? (xpass)"
        elif report.failed:
            entry.result = "FAILED" if report.when == "call" else f"ERROR in {report.when}"
        elif report.skipped:
            entry.result = "skipped"
        elif entry.result == "not run":
            entry.result = "passed"
        if call.excinfo is not None and not entry.checked:
            entry.checked = "stopped at: " + _first_line(call.excinfo.value)
    return report


def _first_line(exc: BaseException, limit: int = 160) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(value) -> str:
    """A Markdown table cell: pipes escaped, and angle brackets too (the cases quote markup such
    as <link></link>, which a Markdown viewer would otherwise take for HTML)."""
    if value is None:
        return "–"
    text = str(value).replace("\n", " ").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|")


def _table(entries: list[CaseFigures]) -> list[str]:
    header = ["case", "kind", "what was done", "fetched", "in articles", "in rejects", "also checked", "result", "s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for e in entries:
        lines.append(
            "| "
            + " | ".join(
                _cell(v)
                for v in (
                    e.case,
                    e.kind,
                    e.what,
                    e.fetched,
                    e.in_articles,
                    e.in_rejects,
                    e.checked,
                    e.result,
                    f"{e.seconds:.1f}",
                )
            )
            + " |"
        )
    return lines


def pytest_terminal_summary(terminalreporter):
    entries = list(_CASES.values())
    if not entries:
        return
    elapsed = time.monotonic() - _STARTED
    tally: dict[str, int] = {}
    for e in entries:
        tally[e.result] = tally.get(e.result, 0) + 1
    totals = ", ".join(f"{n} {result}" for result, n in sorted(tally.items()))
    terminalreporter.write_sep("=", "chaos figures")
    for e in entries:
        counts = (
            "" if e.fetched is None else (f" fetched {e.fetched}, articles {e.in_articles}, rejects {e.in_rejects};")
        )
        terminalreporter.write_line(f"{e.result:>18}  [{e.kind}] {e.case}:{counts} {e.checked}")
    terminalreporter.write_line(f"{len(entries)} cases in {elapsed:.0f}s: {totals}")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(
        "\n".join(
            [
                "# Chaos suite (`make chaos`)",
                "",
                f"{len(entries)} cases in {elapsed:.0f} s: {totals}.",
                "",
                (
                    "*fetched*: entries the fetches saw (`news.fetch_log.entries_seen`); *in articles*: of those, "
                    "merged as a new article, an update or a sighting; *in rejects*: in `news.rejects` with a "
                    "reason. For the killed merges the counts are the batch's staged entries."
                ),
                "",
                *_table(entries),
                "",
            ]
        )
    )
    terminalreporter.write_line(f"chaos report: {REPORT}")
