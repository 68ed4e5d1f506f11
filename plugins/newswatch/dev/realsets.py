"""Real, independently labelled feed entries for measuring the relevance rules.

Two sets, both kept OUTSIDE the repository (never copy them in):

- ``realdata-2023``: every entry 28 real feeds carried on two US–China news days of 2023
  (``../shared/realdata/<day>/*.json`` beside the project, labels in ``labels.tsv``). Entries
  with no label count as I (not relevant), as the set's README says.
- ``realfeeds-2026``: real feed documents of 2026 (``../shared/realfeeds/*.xml``) labelled in
  ``tests/data/realfeeds_labels.tsv`` (columns file, link, label, topics, reason, title; link is
  feedparser's ``entry.link``). Only the labelled entries are scored.

Each item is scored on exactly what the pipeline stores: the title through
``normalize.clean_title`` (outlet suffix removed) and the summary through
``normalize.clean_summary`` (HTML to text, boilerplate stripped, at most 2,000 characters).
B (borderline) labels are left out of precision and recall.

``evaluate_real_sets()`` returns one :class:`RealSetResult` per set (a set whose folder is
absent is reported as skipped, not an error); ``print_report()`` prints them for
``newswatch eval``. Dependencies: newswatch itself and feedparser only.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..config import PROJECT_ROOT, DevSettings
from .precision_recall import PR

REALFEEDS_LABELS = PROJECT_ROOT / "tests" / "data" / "realfeeds_labels.tsv"

# The labellers' topic names -> the rules' topic names (config/topics.yaml).
TOPIC_MAP = {
    "diplomacy": "diplomacy",
    "trade": "trade",
    "tech": "technology",
    "taiwan": "taiwan",
    "military": "military",
    "fentanyl": "fentanyl_law",
    "third_party": "russia_third_parties",
    "rights": "human_rights",
    "espionage": "espionage_cyber",
    "people": "people_exchanges",
    "climate_health": "climate_health",
    "sanctions": "sanctions",
}

# Display names of the 2023 feeds' publishers, so clean_title can drop " - BBC News" suffixes
# the way the pipeline does with feeds.yaml's outlet names.
_OUTLETS = {
    "abcnews": "ABC News",
    "bbci": "BBC News",
    "skynews": "Sky News",
    "cnn": "CNN",
    "nytimes": "The New York Times",
    "aljazeera": "Al Jazeera",
    "msn": "MSN",
    "dj": "The Wall Street Journal",
    "nbcnews": "NBC News",
    "washingtonpost": "The Washington Post",
    "foxnews": "Fox News",
    "politico": "Politico",
    "thehill": "The Hill",
    "bloomberg": "Bloomberg",
    "cnbc": "CNBC",
    "dailymail": "Daily Mail",
    "ft": "Financial Times",
    "lemonde": "Le Monde",
    "theepochtimes": "The Epoch Times",
    "theguardian": "The Guardian",
    "npr": "NPR",
}


# The realfeeds files served in 2026 (kagisearch/fastfeedparser batch, SOURCES.md); the other files
# in that folder are older fixtures (2016-2023) and are reported apart.
REALFEEDS_2026_FILES = frozenset(
    {
        "abc_australia_topstories.xml",
        "aljazeera_all.xml",
        "allafrica_latest.xml",
        "almonitor.xml",
        "bbc_news_world.xml",
        "bostoncom_world.xml",
        "cbsnews_world.xml",
        "csmonitor_all.xml",
        "dawn_world.xml",
        "elpais_english.xml",
        "foreignpolicy.xml",
        "japantoday_world.xml",
        "mercopress.xml",
        "ndtv_search.xml",
        "restofworld.xml",
        "theweek.xml",
        "time_tech.xml",
    }
)


@dataclass(frozen=True)
class RealItem:
    id: str  # "<day or file>|<link>", unique within a set
    group: str  # the 2023 day, or the realfeeds file
    subset: str  # what figures are reported by: the 2023 day, or "2026" / "older fixtures"
    link: str
    title: str  # as the pipeline stores it (clean_title)
    summary: str  # as the pipeline stores it (clean_summary)
    label: str  # R, I or B
    topics: tuple[str, ...]  # rule topic names (TOPIC_MAP applied)
    reason: str = ""


@dataclass
class Miss:
    kind: str  # "fp" (predicted relevant, labelled I) or "fn" (labelled R, missed)
    item: RealItem
    score: float
    evidence: dict


@dataclass
class RealSetResult:
    name: str
    available: bool
    note: str = ""
    items: int = 0
    labelled: int = 0
    relevance: PR = field(default_factory=PR)
    by_subset: dict = field(default_factory=dict)  # subset (2023 day, 2026 / older) -> PR
    topics: dict = field(default_factory=dict)  # topic -> PR (items labelled and predicted R)
    misses: list = field(default_factory=list)  # [Miss]
    topic_misses: list = field(default_factory=list)  # [(item, predicted topics)]

    @property
    def topics_micro(self) -> PR:
        micro = PR()
        for pr in self.topics.values():
            micro.tp += pr.tp
            micro.fp += pr.fp
            micro.fn += pr.fn
            micro.tn += pr.tn
        return micro


def _host_label(url: str | None) -> str:
    host = (urlsplit(url or "").hostname or "").lower()
    for prefix in ("www.", "rss.", "feeds.", "moxie.", "amp.", "m."):
        host = host.removeprefix(prefix)
    return host.rsplit(".", 1)[0] if "." in host else host


def _outlet_names(*urls: str | None) -> list[str]:
    names = []
    for url in urls:
        label = _host_label(url)
        if not label:
            continue
        names.append(label)
        for key, name in _OUTLETS.items():
            if key in label.split("."):
                names.append(name)
    return names


def _topics(text: str) -> tuple[str, ...]:
    out = []
    for raw in (text or "").replace(";", ",").split(","):
        name = raw.strip().lower()
        if name:
            out.append(TOPIC_MAP.get(name, name))
    return tuple(dict.fromkeys(out))


def _shared_dir(value: str | os.PathLike | None, default: Path) -> Path:
    if value is not None:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (PROJECT_ROOT / path)
    return default


# --- the 2023 set -------------------------------------------------------------------------------


def realdata_dir(path: str | os.PathLike | None = None) -> Path:
    """The 2023 folder: an argument, else $NEWSWATCH_REALDATA, else ../shared/realdata beside
    the project root (a relative argument is taken from the project root)."""
    return _shared_dir(path, DevSettings.from_env().realdata_dir)


def load_realdata_2023(path: str | os.PathLike | None = None) -> Iterator[RealItem]:
    """Every entry of every feed file of every day, labelled from labels.tsv (no label: I).

    Raises FileNotFoundError when the folder (or its labels.tsv) is absent."""
    from ..normalize import clean_summary, clean_title

    root = realdata_dir(path)
    labels_path = root / "labels.tsv"
    if not labels_path.is_file():
        raise FileNotFoundError(f"no real 2023 set at {root} (labels.tsv missing)")
    labels: dict[tuple[str, str], dict] = {}
    with open(labels_path, encoding="utf-8", newline="") as fh:
        for labelled in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            labels[(labelled["day"].strip(), labelled["link"].strip())] = labelled
    for day_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        day = day_dir.name
        for feed_file in sorted(day_dir.glob("*.json")):
            doc = json.loads(feed_file.read_text(encoding="utf-8"))
            entries = doc.get("entries", []) if isinstance(doc, dict) else doc
            for n, entry in enumerate(entries):
                link = (entry.get("link") or "").strip()
                row = labels.get((day, link))
                sources = _outlet_names(entry.get("source"), link)
                yield RealItem(
                    id=f"{day}|{feed_file.stem}|{n}",
                    group=day,
                    subset=day,
                    link=link,
                    title=clean_title(entry.get("title") or "", sources),
                    summary=clean_summary(
                        entry.get("description") or entry.get("summary") or "", entry.get("content") or None
                    ),
                    label=(row["label"].strip().upper() if row else "I"),
                    topics=_topics(row.get("topics", "")) if row else (),
                    reason=(row.get("reason") or "").strip() if row else "",
                )


# --- the 2026 set -------------------------------------------------------------------------------


def realfeeds_dir(path: str | os.PathLike | None = None) -> Path:
    """The 2026 feed documents: an argument, else $NEWSWATCH_REALFEEDS, else ../shared/realfeeds."""
    return _shared_dir(path, DevSettings.from_env().realfeeds_dir)


def _entry_content(entry) -> str | None:
    """The longest content block, as the labeller read it (tests/data/REALFEEDS_LABELS.md)."""
    values = [c.get("value") or "" for c in entry.get("content") or [] if isinstance(c, dict)]
    return max(values, key=len, default=None) or None


def load_realfeeds_2026(
    feeds: str | os.PathLike | None = None, labels: str | os.PathLike | None = None
) -> Iterator[RealItem]:
    """The entries of tests/data/realfeeds_labels.tsv, read from the feed documents with
    feedparser. Raises FileNotFoundError when the labels or the feed folder are absent."""
    import feedparser

    from ..normalize import clean_summary, clean_title

    root = realfeeds_dir(feeds)
    labels_path = Path(labels) if labels else REALFEEDS_LABELS
    if not labels_path.is_file():
        raise FileNotFoundError(f"no labels yet at {labels_path}")
    if not root.is_dir():
        raise FileNotFoundError(f"no real 2026 feeds at {root}")
    by_file: dict[str, dict[str, dict]] = {}
    with open(labels_path, encoding="utf-8", newline="") as fh:
        for labelled in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if not (labelled.get("file") and labelled.get("link")):
                continue
            by_file.setdefault(labelled["file"].strip(), {})[labelled["link"].strip()] = labelled
    for name in sorted(by_file):
        path = root / name
        if not path.is_file():
            continue
        parsed = feedparser.parse(path.read_bytes())
        feed_title = parsed.feed.get("title") or ""
        seen = set()
        for entry in parsed.entries:
            link = (entry.get("link") or entry.get("id") or "").strip()
            row = by_file[name].get(link)
            if row is None or link in seen:
                continue
            seen.add(link)
            source = entry.get("source") or {}
            sources = [feed_title, source.get("title") or "", *_outlet_names(source.get("href"), link)]
            yield RealItem(
                id=f"{name}|{link}",
                group=name,
                subset="2026" if name in REALFEEDS_2026_FILES else "older fixtures",
                link=link,
                title=clean_title(entry.get("title") or "", sources),
                summary=clean_summary(entry.get("summary") or entry.get("description") or "", _entry_content(entry)),
                label=row["label"].strip().upper(),
                topics=_topics(row.get("topics", "")),
                reason=(row.get("reason") or "").strip(),
            )


# --- evaluation ---------------------------------------------------------------------------------


def score_items(items: Iterable[RealItem], rules=None, name: str = "set") -> RealSetResult:
    """Precision/recall of the yes/no label (B left out), per group and overall; topic tags on
    items both labelled and predicted relevant; the misses with their evidence."""
    from ..relevance import load_rules

    rules = rules or load_rules()
    result = RealSetResult(name=name, available=True)
    for item in items:
        result.items += 1
        scored = rules.score(item.title, item.summary)
        if item.label == "B":
            continue
        result.labelled += 1
        actual = item.label == "R"
        result.relevance.add(scored.is_relevant, actual)
        result.by_subset.setdefault(item.subset, PR()).add(scored.is_relevant, actual)
        if scored.is_relevant != actual:
            result.misses.append(Miss("fp" if scored.is_relevant else "fn", item, scored.score, scored.terms))
        if actual and scored.is_relevant:
            wrong = False
            for topic in rules.topic_names:
                predicted, wanted = topic in scored.topics, topic in item.topics
                result.topics.setdefault(topic, PR()).add(predicted, wanted)
                wrong = wrong or predicted != wanted
            if wrong:
                result.topic_misses.append((item, scored.topics))
    return result


def evaluate_real_sets(
    rules=None,
    realdata: str | os.PathLike | None = None,
    realfeeds: str | os.PathLike | None = None,
    realfeeds_labels: str | os.PathLike | None = None,
) -> list[RealSetResult]:
    """One result per real set; a set whose data is absent comes back with available=False and
    a note saying why (nothing is raised)."""
    from ..relevance import load_rules

    rules = rules or load_rules()
    results = []
    for name, loader in (
        ("realdata-2023", lambda: load_realdata_2023(realdata)),
        ("realfeeds-2026", lambda: load_realfeeds_2026(realfeeds, realfeeds_labels)),
    ):
        try:
            items = list(loader())
        except FileNotFoundError as exc:
            results.append(RealSetResult(name=name, available=False, note=f"skipped: {exc}"))
            continue
        results.append(score_items(items, rules, name))
    return results


def _short(text: str, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def print_report(results: list[RealSetResult], misses: bool = False, file=None) -> None:
    import sys

    out = file or sys.stdout
    print(
        "Real sets (feed entries nobody here wrote; B left out)  targets: P,R >= 0.95; topics micro P,R >= 0.90",
        file=out,
    )
    for res in results:
        if not res.available:
            print(f"  {res.name}: {res.note}", file=out)
            continue
        print(f"  {res.name} ({res.items} entries, {res.labelled} labelled R/I)", file=out)
        for subset in sorted(res.by_subset):
            print(f"    {subset[:34]:34s} {res.by_subset[subset].row()}", file=out)
        print(f"    {'all':34s} {res.relevance.row()}", file=out)
        print(f"    {'topics, micro':34s} {res.topics_micro.row()}", file=out)
        for topic in sorted(res.topics):
            pr = res.topics[topic]
            if pr.tp + pr.fp + pr.fn:
                print(f"      {topic:32s} {pr.row()}", file=out)
        if misses:
            for miss in res.misses:
                ev = miss.evidence
                print(
                    f"    {miss.kind} score={miss.score:.3f} [{miss.item.group[:24]}] {_short(miss.item.title, 90)!r}",
                    file=out,
                )
                print(
                    f"        rules={ev.get('rules')} us={ev.get('us')} china={ev.get('china')} "
                    f"bilateral={ev.get('bilateral')} where={ev.get('where', {})} "
                    f"neg={ev.get('negative')} kind={ev.get('kind')}"
                    + (f" connection={ev['connection']}" if "connection" in ev else ""),
                    file=out,
                )
                if miss.item.reason:
                    print(f"        label: {miss.item.reason}", file=out)
            for item, predicted in res.topic_misses:
                print(
                    f"    topics want={sorted(item.topics)} got={sorted(predicted)} {_short(item.title, 80)!r}",
                    file=out,
                )


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m newswatch.dev.realsets",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--misses", action="store_true", help="list false positives/negatives")
    args = parser.parse_args(argv)
    print_report(evaluate_real_sets(), misses=args.misses)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
