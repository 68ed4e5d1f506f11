"""`make eval`: precision and recall of the relevance rules and the story clustering on the
labelled development sets in tests/data/, relevance on the real labelled sets (realsets.py) and
full-text extraction on the real article pages (extraction_eval.py), both read from ../shared.

Each set is split by a hash of the item id: a fifth is held out. Tune rules on the "dev" part
only; the "held-out" figures tell whether the tuning generalises.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..config import PROJECT_ROOT
from ..fingerprints import fingerprint, same_story
from ..normalize import clean_summary, clean_title
from ..urls import canonicalize_url
from .precision_recall import PR

DATA = PROJECT_ROOT / "tests" / "data"
RELEVANCE_SET = DATA / "relevance_dev.jsonl"
STORY_SET = DATA / "story_pairs.jsonl"


def split_of(item_id: str) -> str:
    return "held-out" if int(hashlib.sha1(item_id.encode()).hexdigest()[:8], 16) % 5 == 0 else "dev"


def load_jsonl(path: Path) -> list[dict]:
    items = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: {exc}") from None
    return items


def evaluate_relevance(items: list[dict] | None = None, rules=None):
    """{(lang, split): PR} for the yes/no label, {(topic, split): PR} for tags, and the misses."""
    from ..relevance import load_rules

    rules = rules or load_rules()
    items = items if items is not None else load_jsonl(RELEVANCE_SET)
    labels: dict[tuple[str, str], PR] = {}
    topics: dict[tuple[str, str], PR] = {}
    misses = []
    for item in items:
        split = split_of(item["id"])
        result = rules.score(clean_title(item["title"]), clean_summary(item.get("summary", "")))
        for key in ((item["lang"], split), (item["lang"], "all")):
            labels.setdefault(key, PR()).add(result.is_relevant, bool(item["relevant"]))
        if result.is_relevant != bool(item["relevant"]):
            misses.append((item, result))
        if item["relevant"] and result.is_relevant:
            for topic in rules.topic_names:
                for key in ((topic, split), (topic, "all")):
                    topics.setdefault(key, PR()).add(topic in result.topics, topic in item["topics"])
    return labels, topics, misses


# --- story clustering on the labelled pairs -------------------------------------------------


def _fingerprint_of(side: dict):
    outlet = side.get("outlet") or ""
    url = side.get("url") or ""
    pointer = "news.google.com" in url
    title = clean_title(side.get("title"), [outlet], pointer=pointer)
    summary = "" if pointer else clean_summary(side.get("summary"))
    return fingerprint(title, summary)


def evaluate_story_pairs(pairs: list[dict]):
    """{(lang, split): PR} for the pairwise same-story decision, and the misses."""
    results: dict[tuple[str, str], PR] = {}
    misses = []
    for pair in pairs:
        a, b = _fingerprint_of(pair["a"]), _fingerprint_of(pair["b"])
        predicted, rule, overlap = same_story(a, b)
        if canonicalize_url(pair["a"]["url"]) == canonicalize_url(pair["b"]["url"]):
            # one article (a headline updated in place): dedupe makes it one row, one story
            predicted, rule = True, "same_url"
        split = split_of(pair["id"])
        for key in ((pair["lang"], split), ("all", split), ("all", "all")):
            results.setdefault(key, PR()).add(predicted, bool(pair["same_story"]))
        if predicted != bool(pair["same_story"]):
            misses.append((pair, rule, overlap))
    return results, misses


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="newswatch eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--misses", action="store_true", help="list the items the rules get wrong")
    parser.add_argument("--only", choices=["relevance", "real", "stories", "fulltext"], help="evaluate one thing")
    args = parser.parse_args(argv)
    status = 0
    if args.only in (None, "relevance"):
        labels, topics, misses = evaluate_relevance()
        print("Relevance (is this US–China relations coverage?)  targets: en P,R >= 0.97; zh >= 0.90")
        for lang in ("en", "zh"):
            for split in ("dev", "held-out", "all"):
                if (lang, split) in labels:
                    print(f"  {lang} {split:9s} {labels[(lang, split)].row()}")
        print("Topics (on items both labelled and predicted relevant)")
        for topic in sorted({t for t, _ in topics}):
            pr = topics[(topic, "all")]
            print(f"  {topic:22s} {pr.row()}")
        for split in ("dev", "held-out"):
            micro = PR()
            for (_topic, s), pr in topics.items():
                if s == split:
                    micro.tp, micro.fp, micro.fn, micro.tn = (
                        micro.tp + pr.tp,
                        micro.fp + pr.fp,
                        micro.fn + pr.fn,
                        micro.tn + pr.tn,
                    )
            print(f"  {'all topics, ' + split:22s} {micro.row()}")
        if args.misses:
            print("Misses:")
            for item, result in misses:
                print(
                    f"  {item['id']} want={item['relevant']} got={result.is_relevant} score={result.score} "
                    f"{item['title'][:90]!r} rules={result.terms['rules']} us={result.terms['us']} "
                    f"china={result.terms['china']} neg={result.terms['negative']}"
                )
    if args.only in (None, "real"):
        from .realsets import evaluate_real_sets, print_report

        print_report(evaluate_real_sets(), misses=args.misses)
    if args.only in (None, "stories"):
        results, misses = evaluate_story_pairs(load_jsonl(STORY_SET))
        print("Story clustering (pairwise: same story?)  targets: P >= 0.97, R >= 0.93")
        for key in sorted(results):
            print(f"  {key[0]:3s} {key[1]:9s} {results[key].row()}")
        if args.misses:
            print("Misses:")
            for pair, rule, overlap in misses:
                print(
                    f"  {pair['id']} {pair['kind']} want={pair['same_story']} rule={rule} "
                    f"overlap~{overlap:.2f} {pair['a']['title'][:60]!r} / {pair['b']['title'][:60]!r}"
                )
    if args.only in (None, "fulltext"):
        from .extraction_eval import print_fulltext_report

        print_fulltext_report(misses=args.misses)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
